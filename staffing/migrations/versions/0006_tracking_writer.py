"""Who wrote the last projected batch (issue 9): ``projection_tracking.writer``.

A projector keeps the series it has just written in memory for its next batch instead of
reading them back, which is only sound while nothing else has written the read models since.
Each batch stores a fresh token here; a projector that reads back its own token knows that.
Rows that predate the column hold NULL, which matches no projector: the next batch reads back.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 00:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('projection_tracking') as batch:
        batch.add_column(sa.Column('writer', sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('projection_tracking') as batch:
        batch.drop_column('writer')
