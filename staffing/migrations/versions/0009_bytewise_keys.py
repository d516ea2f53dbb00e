"""Identifiers and codes compared bytewise on PostgreSQL (issue 9): ``COLLATE "C"`` on those columns.

The read models' ids (units, people, positions, facts, series keys, roots) and codes (categories,
kinds, statuses) are only compared for equality, grouped or looked up, never sorted for a reader.
Under the database's language collation PostgreSQL 15 compares them through ``strcoll`` (even under
``C.UTF-8``) and builds their indexes without abbreviated keys; ``"C"`` compares bytes. The columns
are listed here, not read from ``tables.Key``, as a migration must not change when the code does.
Nothing changes on SQLite, whose text comparison is already bytewise.

Changing only a column's collation does not rewrite its table; PostgreSQL rebuilds the indexes
that name the column (one ``ALTER TABLE`` per table, so each index once), holding the table's lock
meanwhile: minutes on a national schema, so upgrade one that large in a quiet hour, or rebuild
beside it and swap (``python -m staffing rebuild``), which creates the tables so. Hand-written SQL
over these tables: a recursive query whose first term is a bound parameter must take the id from
a column (or write ``COLLATE "C"``), as PostgreSQL wants one collation for each column of a
recursive query (``benchmarks/bench_personnel.py``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 17:30:00
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

#: table -> [(column, length)]: the columns ``tables.Key`` declares as of this revision
KEYS: dict[str, list[tuple[str, int]]] = {
    'projection_tracking': [('name', 64)],
    'facts': [('fact_id', 64), ('aggregate_id', 36), ('type', 64), ('unit_id', 36), ('other_unit_id', 36),
              ('person_id', 36), ('retraction_fact_id', 64)],
    'series_facts': [('series', 16), ('key', 128)],
    'unit_versions': [('unit_id', 36), ('kind', 32), ('autonomy', 48), ('parent_id', 36), ('status', 16)],
    'person_versions': [('person_id', 36), ('unit_id', 36), ('position_id', 36), ('category', 32), ('status', 16),
                        ('cause', 32), ('fact_id', 64)],
    'position_versions': [('position_id', 36), ('unit_id', 36), ('group', 32), ('status', 16)],
    'quota_versions': [('unit_id', 36), ('category', 32), ('kind', 16), ('reason', 32), ('fact_id', 64)],
    'excess_versions': [('unit_id', 36), ('fact_id', 64)],
    'lineage': [('unit_id', 36), ('related_unit_id', 36), ('direction', 16), ('change', 16), ('fact_id', 64)],
    'persons': [('person_id', 36), ('gender', 8)],
    'unit_figures': [('unit_id', 36)],
    'unit_roots': [('unit_id', 36), ('root_id', 36)],
    'root_deltas': [('root_id', 36)],
    'root_checkpoints': [('root_id', 36)],
}


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, columns in KEYS.items():
        changes = ', '.join(f'ALTER COLUMN "{column}" TYPE varchar({length}) {collation}' for column, length in columns)
        op.execute(f'ALTER TABLE "{table}" {changes}')


def upgrade() -> None:
    _collate('COLLATE "C"')


def downgrade() -> None:
    _collate('COLLATE "default"')
