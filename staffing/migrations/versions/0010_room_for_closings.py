"""Room on each page for the closing of its rows (issue 9): ``fillfactor`` 90 on the series tables
whose closings change no indexed column, on PostgreSQL.

A believed row stops being believed by an UPDATE of its ``rec_to`` alone (``bulk.close_rows``).
PostgreSQL writes every updated row as a new version; when that version fits on the same page and no
indexed column changed, the update is "HOT": no index gets an entry for it. Pages filled to 100% (the
default, and what a load's COPY leaves) have no room, so each closing went to another page and
into every index of the table, unless the page had been pruned since. With a tenth of each page
left free when rows are inserted, most closings stay on their page (the old versions are pruned
as the page is read again). Measured (benchmarks/RESULTS.md section 44): on 1 M person rows with
30% closed in batches, 99.9% of the closings HOT against 78%, the closings 1.34x faster
(``benchmarks/bench_closings.py``); in the whole national rebuild, 84% of the person rows' closings
HOT against 69%, and 23.5% of the quota rows' against 1.3% (their rows are wider, and a yearly
act closes a unit's rows together, so a lower fill may suit them better).

Only the tables no index of which names ``rec_to``: a unit's figure and root rows are found by an
index on it (``ix_unit_figures_open``, ``ix_unit_roots_unit``), and ``unit_versions`` has one for
queries (``ix_unit_versions_rec``), so their closings can never be HOT. Existing pages keep their
fill until the table is rewritten (a rebuild writes new tables); new pages get the room. SQLite has
no such setting: nothing changes there.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 17:40:00
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

#: the tables given room, as of this revision (``tables.ROOM_FOR_CLOSINGS`` names the same)
TABLES = ('person_versions', 'position_versions', 'quota_versions', 'excess_versions')
FILLFACTOR = 90


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f'ALTER TABLE "{table}" SET (fillfactor = {FILLFACTOR})')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f'ALTER TABLE "{table}" RESET (fillfactor)')
