"""mail rate limits (hardening, issue 17)

Revision ID: d1e7a0000003
Revises: d1e7a0000002
Create Date: 2026-12-07 23:00:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = 'd1e7a0000003'
down_revision = 'd1e7a0000002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
