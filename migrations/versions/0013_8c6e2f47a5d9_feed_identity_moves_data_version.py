"""feeds: two data versions. Besides what a public feed shows (events, memberships), a change of its name (a
base, network or municipality) moves the first; a change of what only personal feeds show or check (a
registration, a network member, a calendar token, a role, a user's e-mail, name or active flag) moves the
second. A worker may then answer a known poll from memory while the versions it depends on stand still, and
a registration, the most frequent change, leaves every public feed's answer standing.

Revision ID: 8c6e2f47a5d9
Revises: 7a4c0d25f3b8
Create Date: 2026-11-23 19:40:00
"""

from alembic import op

revision = '8c6e2f47a5d9'
down_revision = '7a4c0d25f3b8'
branch_labels = None
depends_on = None

# Tables that move the first version (7a4c0d25f3b8's triggers on event, network_base, base_membership and
# municipalitychange stay as they are), and tables that move the second instead.
SHARED = ("competence_base", "network", "municipality")
PERSONAL = ("registration", "network_member", "calendar_token", "role_assignment")
MOVED = ("registration", "network_member")  # from the first version (7a4c0d25f3b8) to the second
# A user's row changes at every login (last_login_at): only what a personal feed shows or checks moves it.
USER_COLUMNS = "email, name, is_active"

PG_PERSONAL_FUNCTION = """
CREATE FUNCTION calendar_people_changed() RETURNS trigger AS $$
BEGIN
    PERFORM nextval('calendar_people_version_seq');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""


def _sqlite_bump(row: int) -> str:
    """SQLite: calendar_data_version's row 1 is the first version, row 2 the second."""
    return (f"BEGIN INSERT INTO calendar_data_version (id, version) VALUES ({row}, 1) "
            "ON CONFLICT (id) DO UPDATE SET version = version + 1; END")


def _sqlite_triggers(tables, row: int) -> None:
    for table in tables:
        for action in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER calendar_data_changed_{table}_{action.lower()} AFTER {action} ON {table} "
                       f"{_sqlite_bump(row)}")


def _sqlite_drop(tables) -> None:
    for table in tables:
        for action in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS calendar_data_changed_{table}_{action}")


def _pg_triggers(tables, function: str, events: str = "INSERT OR UPDATE OR DELETE OR TRUNCATE") -> None:
    for table in tables:
        op.execute(f"CREATE TRIGGER calendar_data_changed AFTER {events} ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")


def _pg_drop(tables) -> None:
    for table in tables:
        op.execute(f"DROP TRIGGER IF EXISTS calendar_data_changed ON {table}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE calendar_people_version_seq")
        op.execute(PG_PERSONAL_FUNCTION)
        _pg_drop(MOVED)
        _pg_triggers(SHARED, "calendar_data_changed")
        _pg_triggers(PERSONAL, "calendar_people_changed")
        _pg_triggers(["user_account"], "calendar_people_changed", f"UPDATE OF {USER_COLUMNS} OR DELETE")
        return
    op.execute("INSERT INTO calendar_data_version (id, version) VALUES (2, 1)")
    _sqlite_drop(MOVED)
    _sqlite_triggers(SHARED, 1)
    _sqlite_triggers(PERSONAL, 2)
    op.execute(f"CREATE TRIGGER calendar_data_changed_user_account_update AFTER UPDATE OF {USER_COLUMNS} "
               f"ON user_account {_sqlite_bump(2)}")
    op.execute(f"CREATE TRIGGER calendar_data_changed_user_account_delete AFTER DELETE ON user_account "
               f"{_sqlite_bump(2)}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_drop((*SHARED, *PERSONAL, "user_account"))
        op.execute("DROP FUNCTION IF EXISTS calendar_people_changed()")
        op.execute("DROP SEQUENCE IF EXISTS calendar_people_version_seq")
        _pg_triggers(MOVED, "calendar_data_changed")
        return
    _sqlite_drop((*SHARED, *PERSONAL, "user_account"))
    op.execute("DELETE FROM calendar_data_version WHERE id = 2")
    _sqlite_triggers(MOVED, 1)
