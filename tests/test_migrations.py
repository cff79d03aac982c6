"""The schema comes from Alembic migrations only: the migrated database must equal the models, every migration
can be undone (downgrade), and the files' names show their order."""

import json
import os
import re

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import own_postgres_database
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

import nettverk.models  # noqa: F401
from nettverk.cli import ROOT, alembic_config


def test_migrations_match_the_models(app):
    engine = app.extensions["nettverk.engine"]
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def _chain() -> list[str]:
    """The revisions from the first to the head (one line: a second head fails here)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, f"more than one head: {script.get_heads()}"
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def test_migration_files_sort_in_upgrade_order():
    """NNNN_<revision>_<slug>.py, numbered 0001, 0002, … along the chain (`nettverk db revision` names them)."""
    names = sorted(path.name for path in (ROOT / "migrations" / "versions").glob("*.py"))
    chain = _chain()
    assert [re.match(r"(\d{4})_([0-9a-f]+)_\w+\.py$", name).groups() for name in names] == [
        (f"{number:04d}", revision) for number, revision in enumerate(chain, start=1)
    ]


@pytest.fixture
def empty_database(tmp_path):
    """An empty database of this test's own, never the suite's: a file on SQLite; on PostgreSQL (when
    NETTVERK_TEST_DATABASE_URL names one) <that database>_<worker>_migrations on the same server."""
    url = os.environ.get("NETTVERK_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    with own_postgres_database(url, "migrations") as own:
        yield own


def _plain(reflected: dict, name: bool = True) -> str:
    """A reflected index, key or check as text (a partial index's WHERE clause as its SQL), with its name or not."""
    return json.dumps({**reflected, "name": reflected["name"] if name else None}, sort_keys=True, default=str)


def _schema(url: str) -> dict:
    """Everything a migration makes, in a form two databases can be compared by: tables with their columns,
    keys, indexes and checks, and (PostgreSQL) sequences, functions and triggers, (SQLite) triggers."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = inspect(connection)
            # SQLite's batch mode must name a key it adds back, where the table it gives back had it unnamed.
            named = engine.dialect.name != "sqlite"
            schema: dict = {
                table: {
                    "columns": sorted(
                        (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                        for c in found.get_columns(table)
                    ),
                    "primary key": found.get_pk_constraint(table)["constrained_columns"],
                    "foreign keys": sorted(_plain(key, named) for key in found.get_foreign_keys(table)),
                    "indexes": sorted(map(_plain, found.get_indexes(table))),
                    "unique": sorted(_plain(unique, named) for unique in found.get_unique_constraints(table)),
                    "checks": sorted(map(_plain, found.get_check_constraints(table))),
                }
                for table in found.get_table_names()
                if table != "alembic_version"
            }
            if engine.dialect.name == "postgresql":
                schema["sequences"] = sorted(found.get_sequence_names())
                schema["functions"] = connection.execute(
                    text(
                        "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p "
                        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema() ORDER BY 1"
                    )
                ).all()
                schema["triggers"] = connection.execute(
                    text("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal ORDER BY 2")
                ).all()
            else:
                schema["triggers"] = connection.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
                ).all()
    finally:
        engine.dispose()
    return schema


# The one difference a downgrade may leave, by design: an answer's link to its invitation is gone for good, so
# evaluation.invitation_id comes back nullable.
COMES_BACK_NULLABLE = {"9e8a4b69c7f1": ("evaluation", "invitation_id")}


def test_every_migration_can_be_undone(empty_database):
    """Step by step from the first to the head: upgrading one step and downgrading it again gives back the schema
    before it; then down to nothing (no table, function or trigger left) and up to the head again, equal to
    the models."""
    config = alembic_config(empty_database)
    command.upgrade(config, "base")
    nothing = _schema(empty_database)
    before = nothing
    for revision in _chain():
        command.upgrade(config, revision)
        after = _schema(empty_database)
        command.downgrade(config, "-1")
        undone = _schema(empty_database)
        if revision in COMES_BACK_NULLABLE:
            table, column = COMES_BACK_NULLABLE[revision]
            undone[table]["columns"] = sorted(
                (name, kind, nullable and name != column, default)
                for name, kind, nullable, default in undone[table]["columns"]
            )
        assert undone == before, f"downgrading {revision} does not give back the schema before it"
        command.upgrade(config, revision)
        before = after
    command.downgrade(config, "base")
    assert _schema(empty_database) == nothing
    command.upgrade(config, "head")
    assert _schema(empty_database) == before
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    engine.dispose()
