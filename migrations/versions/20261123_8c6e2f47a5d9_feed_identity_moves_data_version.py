"""feeds: a change of who a feed is for or what it is called (a base, network or municipality, a calendar
token, a user's e-mail, name or active flag, a role) moves the data version too, so a worker may answer a
known poll from memory while the version stands still

Revision ID: 8c6e2f47a5d9
Revises: 7a4c0d25f3b8
Create Date: 2026-11-23 19:40:00
"""

from alembic import op

revision = '8c6e2f47a5d9'
down_revision = '7a4c0d25f3b8'
branch_labels = None
depends_on = None

# Any change of these moves the version (rare: the registry, making or revoking a calendar link, roles).
TABLES = ("competence_base", "network", "municipality", "calendar_token", "role_assignment")
# A user's row changes at every login (last_login_at): only what a personal feed shows or checks moves it.
USER_COLUMNS = ("email", "name", "is_active")


def upgrade() -> None:
    columns = ", ".join(USER_COLUMNS)
    if op.get_bind().dialect.name == "postgresql":  # the function and sequence of 7a4c0d25f3b8
        for table in TABLES:
            op.execute(f"CREATE TRIGGER calendar_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION calendar_data_changed()")
        op.execute(f"CREATE TRIGGER calendar_data_changed AFTER UPDATE OF {columns} OR DELETE ON user_account "
                   "FOR EACH STATEMENT EXECUTE FUNCTION calendar_data_changed()")
        return
    bump = ("BEGIN INSERT INTO calendar_data_version (id, version) VALUES (1, 1) "
            "ON CONFLICT (id) DO UPDATE SET version = version + 1; END")
    for table in TABLES:
        for action in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER calendar_data_changed_{table}_{action.lower()} AFTER {action} ON {table} {bump}")
    op.execute(f"CREATE TRIGGER calendar_data_changed_user_account_update AFTER UPDATE OF {columns} ON user_account "
               f"{bump}")
    op.execute(f"CREATE TRIGGER calendar_data_changed_user_account_delete AFTER DELETE ON user_account {bump}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in (*TABLES, "user_account"):
            op.execute(f"DROP TRIGGER IF EXISTS calendar_data_changed ON {table}")
        return
    for table in TABLES:
        for action in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS calendar_data_changed_{table}_{action}")
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS calendar_data_changed_user_account_{action}")
