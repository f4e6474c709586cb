"""Alembic environment. smallretail_llm.db.migrate opens the connection (and its lock and
transaction) and passes it in ``config.attributes``; this file only runs the scripts on it."""

from alembic import context

from smallretail_llm.db.migrate import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through smallretail_llm.db.migrate (no connection was given)")

context.configure(
    connection=connection,
    target_metadata=metadata(),
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
