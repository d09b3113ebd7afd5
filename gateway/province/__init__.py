"""The province tier: many halls on one central broker (EMQX cluster, Mosquitto in tests) and
one PostgreSQL store, served by N interchangeable ingest workers.

`bridge`  the Mosquitto bridge a hall broker runs to reach the centre (`yuping provision bridge`)
`locks`   hall ownership: one PostgreSQL session advisory lock per hall
`hall`    a hall's gateway living inside a worker, sharing its MQTT connection and store
`worker`  the worker: an MQTT 5 shared subscription, claiming halls and feeding their ingest

See docs/deployment.md for how the pieces are deployed and what happens while a link is down.
"""
