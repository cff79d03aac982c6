"""index registrations by e-mail and status (personal feeds, «mine påmeldinger»: a full scan of 400,000 rows before)

Revision ID: 6f3b9c14e2a7
Revises: 5e2a7c83d4f6
Create Date: 2026-11-23 16:45:00
"""

from alembic import op

revision = '6f3b9c14e2a7'
down_revision = '5e2a7c83d4f6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_registration_email_status', 'registration', ['email', 'status'])


def downgrade() -> None:
    op.drop_index('ix_registration_email_status', table_name='registration')
