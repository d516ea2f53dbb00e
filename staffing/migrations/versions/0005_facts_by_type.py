"""Facts found by their kind and date (issue 11 at issue 9's scale): ``ix_facts_type``.

The reform statistics count a period's facts of one kind (units ended and established, people
downsized), and the auditors' history narrows by kind and date. Without an index each count was a
scan of every fact: at national size (millions of facts) most of the statistics' time.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 19:40:00
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_facts_type', 'facts', ['type', 'effective_on'], unique=False, if_not_exists=True)


def downgrade() -> None:
    op.drop_index('ix_facts_type', table_name='facts')
