"""Reading a series' believed rows back goes through the key's index (issue 9, found on the national history).

``unit_versions`` has an index on ``(rec_to, valid_from)`` besides the one on ``(unit_id, ...)``.
Without statistics SQLite's planner took the first for ``unit_id = ? AND rec_to = ?``, so every
unit read back scanned every believed unit row of the country (~70,000 at national size): the
national catch-up fell to ~170 log entries/s through the 2025 mergers. The plans are checked on a
file that has both indexes, for every series and both ways of reading back (one key, many keys).
"""

from __future__ import annotations

from sqlalchemy import Connection

from staffing.bootstrap import Ledger
from staffing.projections.projector import SERIES
from staffing.projections.series import SeriesBatch, believed_rows
from tests.builders import establish

BACKENDS = ("sqlite",)


def _plan(conn: Connection, statement: object, params: dict[str, object] | None = None) -> str:
    compiled = statement.compile(conn, compile_kwargs={"literal_binds": params is None})  # type: ignore[attr-defined]
    sql = str(compiled)
    values = compiled.construct_params(params) if params else {}
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, tuple(values[k] for k in compiled.positiontup or ()))
    return " / ".join(str(r[-1]) for r in rows)


def test_every_series_reads_its_believed_rows_back_through_its_key_index(ledger: Ledger) -> None:
    for i in range(3):
        establish(ledger.service, code=f"0{i}", name=f"Xã {i}")
    with ledger.engines.write.connect() as conn:
        batch = SeriesBatch(conn, SERIES)
        for spec in SERIES:
            key_index = spec.key_index or next(
                ix.name for ix in spec.table.indexes if [c.name for c in ix.columns][0] == spec.key_columns[0])
            many = _plan(conn, believed_rows(spec, ["a", "b"]))
            one = _plan(conn, batch._statements(spec.name)[1], {f"b_{c}": "a" for c in spec.key_columns})
            for plan in (many, one):
                assert key_index in plan, f"{spec.name}: {plan}"
    assert "ix_unit_versions_rec" in {ix.name for ix in SERIES[0].table.indexes}  # the index that misled it
