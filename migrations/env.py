"""Alembic environment: the models' metadata, the URL from nettverk's settings."""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool, text
from sqlmodel import SQLModel

import nettverk.models  # noqa: F401  (registers every table on SQLModel.metadata)

config = context.config
if config.config_file_name is not None and not config.attributes.get("quiet"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = SQLModel.metadata
MIGRATION_LOCK = 7_146_200_117  # any fixed number: the PostgreSQL advisory lock key of schema migrations


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            # Two `nettverk db upgrade` at once (two deploys, two containers): the second waits here until the
            # first is done, then reads the new revision and finds nothing to do.
            # The lock belongs to the connection: it outlives this commit and ends when the connection closes
            # (NullPool: at the end of this block, also after a failed migration).
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()
        # batch mode lets ALTER TABLE work on SQLite (it copies the table)
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
