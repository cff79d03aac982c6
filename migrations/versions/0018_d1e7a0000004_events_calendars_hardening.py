"""events calendars hardening (hardening, issue 17)

Revision ID: d1e7a0000004
Revises: d1e7a0000003
Create Date: 2026-12-07 23:00:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = 'd1e7a0000004'
down_revision = 'd1e7a0000003'
branch_labels = None
depends_on = None


# calendar_rendered_event is a cache (each event's rendered VEVENT, calendars.queries.components): a feed renders
# a missing row again, so it is made anew, keyed also by `busy` (an all-day event is OPAQUE in the feed of a
# person who attends it, TRANSPARENT in a public feed: two renderings of one event side by side).


def _rendered_event(busy: bool) -> None:
    op.drop_table('calendar_rendered_event')
    columns = [sa.Column('event_id', sa.Integer(), nullable=False),
               sa.Column('alarm_minutes', sa.Integer(), nullable=False)]
    if busy:
        columns.append(sa.Column('busy', sa.Boolean(), nullable=False))
    op.create_table(
        'calendar_rendered_event', *columns,
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('event_id', 'alarm_minutes', *(['busy'] if busy else [])),
    )


def upgrade() -> None:
    _rendered_event(busy=True)


def downgrade() -> None:
    _rendered_event(busy=False)
