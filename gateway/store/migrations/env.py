"""Alembic environment: the engine comes from gateway.store.migrate(), never from a URL here."""

from alembic import context

from gateway.store import metadata

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
