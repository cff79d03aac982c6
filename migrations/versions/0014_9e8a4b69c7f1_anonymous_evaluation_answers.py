"""evaluations: an answer no longer points to the invitation (so to the person) it came through; the invitation
only says it has been answered, which is how one answer per participant is kept

Revision ID: 9e8a4b69c7f1
Revises: 8c6e2f47a5d9
Create Date: 2026-11-23 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '9e8a4b69c7f1'
down_revision = '8c6e2f47a5d9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('evaluation_invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE evaluation_invitation SET answered = TRUE "
               "WHERE id IN (SELECT invitation_id FROM evaluation)")
    # SQLite cannot drop a column that is in a UNIQUE constraint: batch mode copies the table without it.
    with op.batch_alter_table('evaluation', schema=None, recreate='auto') as batch_op:
        batch_op.drop_column('invitation_id')


def downgrade() -> None:
    # The links are gone for good: answers made after the upgrade stay unlinked (NULL), so the column comes back
    # nullable. The constraints get the names PostgreSQL gave them in 5e2a7c83d4f6 (which left them unnamed).
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invitation_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('evaluation_invitation_id_fkey', 'evaluation_invitation', ['invitation_id'], ['id'])
        batch_op.create_unique_constraint('evaluation_invitation_id_key', ['invitation_id'])
    with op.batch_alter_table('evaluation_invitation', schema=None) as batch_op:
        batch_op.drop_column('answered')
