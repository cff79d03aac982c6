"""feeds: each event's rendered VEVENT and each feed's fingerprint, shared by the workers, and a data version
moved by triggers on the tables a fingerprint reads (a poll recomputes the fingerprint only when it moved)

Revision ID: 7a4c0d25f3b8
Revises: 6f3b9c14e2a7
Create Date: 2026-11-23 17:10:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '7a4c0d25f3b8'
down_revision = '6f3b9c14e2a7'
branch_labels = None
# Comes after 3c0e9a71b2d4, which rebuilds the event table on SQLite (batch mode copies a table to change a
# foreign key, and the copy has no triggers). A later migration that rebuilds one of TABLES on SQLite must
# create its triggers again: tests/test_feed_data_version.py fails otherwise.
depends_on = None


# The tables a feed's fingerprint (nettverk/calendars/queries.py) depends on.
TABLES = ("event", "registration", "network_member", "network_base", "base_membership", "municipalitychange")

# PostgreSQL: a sequence, moved once per statement. nextval takes no lock that lasts to the commit, so
# writers to these tables never wait for each other on it (a counter row would serialise them and could
# deadlock with the row locks of lock_for_update). A reader may see the new value a moment before the
# writer's commit; the workers therefore also recompute a fingerprint older than a minute
# (calendars.queries.FINGERPRINT_TTL).
PG_FUNCTION = """
CREATE FUNCTION calendar_data_changed() RETURNS trigger AS $$
BEGIN
    PERFORM nextval('calendar_data_version_seq');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""


def _triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE calendar_data_version_seq")
        op.execute(PG_FUNCTION)
        for table in TABLES:
            op.execute(f"CREATE TRIGGER calendar_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION calendar_data_changed()")
    else:
        # SQLite has one writer at a time anyway: a counter row, moved in the writer's own transaction
        # (made again if someone emptied the table).
        op.execute("INSERT INTO calendar_data_version (id, version) VALUES (1, 1)")
        for table in TABLES:
            for action in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER calendar_data_changed_{table}_{action.lower()} AFTER {action} ON {table} "  # noqa: S608 - fixed table names
                           "BEGIN INSERT INTO calendar_data_version (id, version) VALUES (1, 1) "
                           "ON CONFLICT (id) DO UPDATE SET version = version + 1; END")


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS calendar_data_changed ON {table}")
        op.execute("DROP FUNCTION IF EXISTS calendar_data_changed()")
        op.execute("DROP SEQUENCE IF EXISTS calendar_data_version_seq")
    else:
        for table in TABLES:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS calendar_data_changed_{table}_{action}")


def upgrade() -> None:
    op.create_table(
        'calendar_rendered_event',
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('alarm_minutes', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('event_id', 'alarm_minutes'),
    )
    op.create_table(
        'calendar_data_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'calendar_fingerprint',
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('computed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('valid_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('etag', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('last_modified', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('key'),
    )
    _triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_table('calendar_fingerprint')
    op.drop_table('calendar_data_version')
    op.drop_table('calendar_rendered_event')
