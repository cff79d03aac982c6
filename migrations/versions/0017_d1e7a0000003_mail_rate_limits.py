"""mail rate limits (hardening, issue 17): mail_request counts the mail anyone can ask for, per address and client

Revision ID: d1e7a0000003
Revises: d1e7a0000002
Create Date: 2026-12-07 23:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = 'd1e7a0000003'
down_revision = 'd1e7a0000002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mail_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mail_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_request_recipient'), ['recipient'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_request_client'), ['client'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_request_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mail_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_request_at'))
        batch_op.drop_index(batch_op.f('ix_mail_request_client'))
        batch_op.drop_index(batch_op.f('ix_mail_request_recipient'))
    op.drop_table('mail_request')
