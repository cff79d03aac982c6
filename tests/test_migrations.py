"""The schema comes from Alembic migrations only: the migrated database must equal the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import nettverk.models  # noqa: F401


def test_migrations_match_the_models(app):
    engine = app.extensions["nettverk.engine"]
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
