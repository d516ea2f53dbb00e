"""A quota ledger's unit found through a partial index (issue 9): ``ix_facts_ledger`` replaces ``ix_facts_aggregate``.

``ix_facts_aggregate`` (revision 0004) served one look-up, the unit of a quota ledger by the fact that
opened it, and held an entry for every fact: one random page of the index dirtied per fact recorded
(a recruitment writes one), ~13.8 M entries of 36-character keys at national size. The partial index
holds only the facts that open a ledger, a few per unit, and serves the same look-up, which names the
same condition (``projector.ledger_units``; the condition is copied here, as a migration must not
change when the code does).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 19:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

LEDGER_OPENED = "type = 'QuotaLedgerOpened'"


def upgrade() -> None:
    op.create_index('ix_facts_ledger', 'facts', ['aggregate_id', 'unit_id'], unique=False, if_not_exists=True,
                    sqlite_where=sa.text(LEDGER_OPENED), postgresql_where=sa.text(LEDGER_OPENED))
    op.drop_index('ix_facts_aggregate', table_name='facts', if_exists=True)


def downgrade() -> None:
    op.create_index('ix_facts_aggregate', 'facts', ['aggregate_id'], unique=False, if_not_exists=True)
    op.drop_index('ix_facts_ledger', table_name='facts', if_exists=True)
