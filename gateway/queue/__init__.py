"""The hall's queue (排队叫号): tickets, calling, announcements, printing, live status.

`engine` holds the pure state machine (no I/O), `config` the hall's services and windows,
`service` ties the engine to the store and the gateway's hooks. The fairness rule between
priority and normal tickets is documented in `picking`.
"""
