"""one event per network cadence occurrence

Revision ID: b7d2c41f9a10
Revises: aec44ce30ed0
Create Date: 2026-11-23 13:20:00
"""

from alembic import op

revision = 'b7d2c41f9a10'
down_revision = 'aec44ce30ed0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('uq_event_network_series_date', 'event', ['network_id', 'series_date'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_event_network_series_date', table_name='event')
