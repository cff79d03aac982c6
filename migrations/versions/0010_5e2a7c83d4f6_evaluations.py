"""evaluations after a gathering: personal links and answers

Revision ID: 5e2a7c83d4f6
Revises: 4d1f8b62c3e5
Create Date: 2026-11-23 18:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '5e2a7c83d4f6'
down_revision = '4d1f8b62c3e5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evaluation_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('registration_id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('evaluation_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_invitation_event_id'), ['event_id'], unique=False)

    op.create_table('evaluation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('overall', sa.Integer(), nullable=False),
    sa.Column('usefulness', sa.Integer(), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('overall BETWEEN 1 AND 5', name='ck_evaluation_overall'),
    sa.CheckConstraint('usefulness BETWEEN 1 AND 5', name='ck_evaluation_usefulness'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], ),
    sa.ForeignKeyConstraint(['invitation_id'], ['evaluation_invitation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invitation_id')
    )
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_event_id'), ['event_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_event_id'))
    op.drop_table('evaluation')

    with op.batch_alter_table('evaluation_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_invitation_event_id'))
    op.drop_table('evaluation_invitation')
