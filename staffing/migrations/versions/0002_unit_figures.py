"""Pre-aggregated unit figures (issue 9): headcount by category, quota by category and kind.

Creates ``unit_figures`` and fills it from the person and quota rows already projected (each
row's rectangle of valid time x knowledge contributed in log order, as the projector does), so
a database projected before this revision answers the same figures without a rebuild.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 07:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

CATEGORIES = ("cadre", "civil_servant", "public_employee", "contract_worker")
KINDS = ("assigned", "temporary", "supplementary")


def upgrade() -> None:
    op.create_table(
        'unit_figures',
        sa.Column('row_id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('unit_id', sa.String(length=36), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_to', sa.Date(), nullable=False),
        sa.Column('rec_from', sa.BigInteger(), nullable=False),
        sa.Column('rec_to', sa.BigInteger(), nullable=False),
        *[sa.Column(f'h_{c}', sa.Integer(), nullable=False) for c in CATEGORIES],
        *[sa.Column(f'q_{c}_{k}', sa.Integer(), nullable=False) for c in CATEGORIES for k in KINDS],
        sa.PrimaryKeyConstraint('row_id', name=op.f('pk_unit_figures')),
    )
    with op.batch_alter_table('unit_figures', schema=None) as batch_op:
        batch_op.create_index('ix_unit_figures_unit', ['unit_id', 'valid_from', 'rec_from', 'rec_to'], unique=False)
        batch_op.create_index('ix_unit_figures_open', ['unit_id', 'rec_to', 'valid_from'], unique=False)

    from staffing.projections import tables as t
    from staffing.projections.figures import backfill

    conn = op.get_bind()
    p, q = t.person_versions, t.quota_versions
    backfill(conn,
             conn.execute(sa.select(p.c.unit_id, p.c.category, p.c.status, p.c.valid_from, p.c.valid_to,
                                    p.c.rec_from, p.c.rec_to)).all(),
             conn.execute(sa.select(q.c.unit_id, q.c.category, q.c.kind, q.c.amount, q.c.valid_from, q.c.valid_to,
                                    q.c.rec_from, q.c.rec_to)).all())


def downgrade() -> None:
    with op.batch_alter_table('unit_figures', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_figures_open')
        batch_op.drop_index('ix_unit_figures_unit')
    op.drop_table('unit_figures')
