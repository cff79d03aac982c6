"""planned mergers (hardening, issue 17)

Revision ID: d1e7a0000002
Revises: d1e7a0000001
Create Date: 2026-12-07 23:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = 'd1e7a0000002'
down_revision = 'd1e7a0000001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('planned_merger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('successor_id', sa.Integer(), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.ForeignKeyConstraint(['successor_id'], ['municipality.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('planned_merger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_planned_merger_effective_date'), ['effective_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_planned_merger_successor_id'), ['successor_id'], unique=False)

    op.create_table('planned_merger_part',
    sa.Column('merger_id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['merger_id'], ['planned_merger.id'], ),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], ),
    sa.PrimaryKeyConstraint('merger_id', 'municipality_id')
    )
    with op.batch_alter_table('planned_merger_part', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_planned_merger_part_municipality_id'), ['municipality_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('planned_merger_part', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_planned_merger_part_municipality_id'))
    op.drop_table('planned_merger_part')
    with op.batch_alter_table('planned_merger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_planned_merger_successor_id'))
        batch_op.drop_index(batch_op.f('ix_planned_merger_effective_date'))
    op.drop_table('planned_merger')
