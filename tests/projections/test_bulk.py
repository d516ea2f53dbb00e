"""The projector's bulk writes straight to the driver (``staffing.projections.bulk``), on both backends."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from staffing.bootstrap import Ledger
from staffing.projections.bulk import close_rows, insert_tuples
from staffing.projections.tables import END_OF_TIME, OPEN_POSITION, unit_roots

COLUMNS = ("row_id", "unit_id", "root_id", "valid_from", "valid_to", "rec_from", "rec_to")


def test_close_rows_closes_exactly_the_rows_named_each_at_its_own_position(ledger: Ledger) -> None:
    """``close_rows`` sets ``rec_to`` of the rows named, each to its own value, and of no other row
    (the driver's executemany of one ``UPDATE`` per row, on either backend)."""
    rows = [(1_000_000 + i, f"u{i}", "root", date(2020, 1, 1), END_OF_TIME, 5, OPEN_POSITION) for i in range(600)]
    with ledger.engines.write.connect() as conn, conn.begin() as transaction:
        insert_tuples(conn, unit_roots, COLUMNS, rows)
        closings = [(10 + i, 1_000_000 + i) for i in range(0, 600, 2)]  # every other row, a position each
        close_rows(conn, unit_roots, closings)
        close_rows(conn, unit_roots, [])  # nothing to close: no statement, no error
        found = {r.row_id: r.rec_to for r in conn.execute(select(unit_roots.c.row_id, unit_roots.c.rec_to)
                                                         .where(unit_roots.c.row_id >= 1_000_000))}
        transaction.rollback()
    assert found == {1_000_000 + i: (10 + i if i % 2 == 0 else OPEN_POSITION) for i in range(600)}
