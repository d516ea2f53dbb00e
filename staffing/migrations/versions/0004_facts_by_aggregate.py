"""Facts found by their aggregate (issue 9): ``ix_facts_aggregate``.

The projector finds the unit of a quota ledger by the fact that opened it (``aggregate_id``). Without
an index that was a scan of every fact, once per ledger a process had not seen yet: at national
size (millions of facts, tens of thousands of ledgers, yearly quota acts) it brought a catch-up
down to a few hundred events per second. ``if_not_exists``: a ledger that was given the index by
hand while a long catch-up ran keeps it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 16:50:00
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_facts_aggregate', 'facts', ['aggregate_id'], unique=False, if_not_exists=True)


def downgrade() -> None:
    op.drop_index('ix_facts_aggregate', table_name='facts')
