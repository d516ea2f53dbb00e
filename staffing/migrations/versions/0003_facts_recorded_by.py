"""Who recorded each fact (issue 10): ``facts.recorded_by``, the name in the caller's token.

Facts projected before this revision have none (their events carry no name either), so the
column is simply added; nothing is backfilled.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 11:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_by', sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('facts', schema=None) as batch_op:
        batch_op.drop_column('recorded_by')
