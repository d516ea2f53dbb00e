"""The national summary's roll-up (issue 9): ``unit_roots``, ``root_deltas``, ``root_checkpoints``, ``rollup_marks``.

Creates the tables and derives them from the unit and figure rows already projected (as projecting
them in log order would: ``staffing.projections.rollup.backfill``), so a database projected before
this revision answers the national summary from the roll-up without a rebuild.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

CATEGORIES = ("cadre", "civil_servant", "public_employee", "contract_worker")
KINDS = ("assigned", "temporary", "supplementary")
COLUMNS = (*[f'h_{c}' for c in CATEGORIES], *[f'q_{c}_{k}' for c in CATEGORIES for k in KINDS],
           'gross_surplus', 'gross_vacancy', 'units')


def upgrade() -> None:
    op.create_table(
        'unit_roots',
        sa.Column('row_id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('unit_id', sa.String(length=36), nullable=False),
        sa.Column('root_id', sa.String(length=36), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_to', sa.Date(), nullable=False),
        sa.Column('rec_from', sa.BigInteger(), nullable=False),
        sa.Column('rec_to', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('row_id', name=op.f('pk_unit_roots')),
    )
    op.create_index('ix_unit_roots_unit', 'unit_roots', ['unit_id', 'rec_to'], unique=False)
    _rollup_table('root_deltas', 'day')
    op.create_index('ix_root_deltas_position', 'root_deltas', ['position'], unique=False)
    op.create_index('ix_root_deltas_day', 'root_deltas', ['day', 'position'], unique=False)
    _rollup_table('root_checkpoints', 'bound')
    op.create_index('ix_root_checkpoints_bound', 'root_checkpoints', ['bound', 'root_id', 'position', 'units'],
                    unique=False)
    op.create_table(
        'rollup_marks',
        sa.Column('position', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('extent', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('position', name=op.f('pk_rollup_marks')),
    )
    from staffing.projections.rollup import backfill

    backfill(op.get_bind())


def _rollup_table(name: str, day: str) -> None:
    op.create_table(
        name,
        sa.Column('row_id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('root_id', sa.String(length=36), nullable=False),
        sa.Column(day, sa.Date(), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        *[sa.Column(c, sa.Integer(), nullable=False) for c in COLUMNS],
        sa.PrimaryKeyConstraint('row_id', name=op.f(f'pk_{name}')),
    )


def downgrade() -> None:
    for table in ('rollup_marks', 'root_checkpoints', 'root_deltas', 'unit_roots'):
        op.drop_table(table)
