"""evaluation answers unlinkable (hardening, issue 17): an answer has no time any more, and the answers
already stored are written anew in random order (fresh ids, one xmin), as every answer is from now on

Revision ID: d1e7a0000001
Revises: 9e8a4b69c7f1
Create Date: 2026-12-07 23:00:00
"""

import secrets

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = 'd1e7a0000001'
down_revision = '9e8a4b69c7f1'
branch_labels = None
depends_on = None


EVALUATION = sa.table('evaluation', sa.column('event_id', sa.Integer), sa.column('overall', sa.Integer),
                      sa.column('usefulness', sa.Integer), sa.column('comment', sa.String))


def upgrade() -> None:
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.drop_column('created_at')
    # The old answers' ids and order follow the order they came in, and their xmin is their invitation's.
    bind = op.get_bind()
    rows = [dict(row._mapping) for row in bind.execute(sa.select(EVALUATION))]
    if rows:
        secrets.SystemRandom().shuffle(rows)
        bind.execute(sa.delete(EVALUATION))
        bind.execute(sa.insert(EVALUATION), rows)
    # Their change-log lines carry the moment each invitation was answered; they served nothing else.
    op.execute("DELETE FROM activity_log WHERE action = 'evaluation.answered'")


def downgrade() -> None:
    # The times are gone for good: the answers get the time of the downgrade, through a default that is then
    # dropped (the column had none). SQLite takes that default only in a new table: recreate there; on PostgreSQL
    # a recreated table would keep its temporary sequence (_alembic_tmp_evaluation_id_seq), so alter in place.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    with op.batch_alter_table('evaluation', schema=None, recreate='always' if sqlite else 'auto') as batch_op:
        batch_op.add_column(sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False,
                                      server_default=sa.func.now()))
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.alter_column('created_at', server_default=None)
