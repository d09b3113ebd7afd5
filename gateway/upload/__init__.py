"""Provincial 好差评 upload: every rating, through a durable outbox, to the province over HTTPS.

config.py (address, credentials, the field and level mapping), tables.py (the outbox),
outbox.py (enqueue inside the ingest transaction, reconciliation), sender.py (HTTP, retries with
exponential backoff, idempotency keys), cli.py (`yuping upload run|report|backfill|retry-failed`).
Levels travel as names everywhere else; numbers exist only here, in the province's direction.
"""
