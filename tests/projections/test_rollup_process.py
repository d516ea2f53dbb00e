"""A PostgreSQL rebuild's roll-up computed by a child process (``projections.rollup_process``, issue 9):
the child answers the roll-up's two questions (a unit's believed rows, its believed figure rows
ending after a day) from the rows it was sent, as the load would; the rebuild's rows are the
in-memory rebuild's though the load's own ``Rollup`` never runs (PostgreSQL, and a SQLite file beside
its writer process); a failure in the child, or its death, is raised at the load's end, saying to
rebuild into a fresh target."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from staffing.bootstrap import migrate
from staffing.projections import tables as t
from staffing.projections.db import ViewEngines, make_engines
from staffing.projections.projector import SERIES
from staffing.projections.rebuild import rebuild
from staffing.projections.rollup import Rollup
from staffing.projections.rollup_process import Believed, RollupEnded, RollupFailed, rolled_up_by_process
from staffing.projections.series import SeriesBatch
from staffing.projections.tables import END_OF_TIME, OPEN_POSITION
from tests.projections.history import generate_history
from tests.projections.test_rebuild import contents, fresh_target  # noqa: F401 (a fixture)
from tests.support import PG_URL, FakeClock, drop_pg_schema, new_pg_schema, require_postgres

BOTH = ("read-ahead", "write-behind", "commit-behind")
D1, D2, D3 = date(2020, 1, 1), date(2021, 1, 1), date(2022, 1, 1)


class _Row:
    """A load's row as ``RollupProcess.flush`` reads it (a series row, or a figure row with its unit)."""

    def __init__(self, row_id: int, valid_from: date, valid_to: date, rec_from: int, rec_to: int = OPEN_POSITION,
                 values: tuple[Any, ...] = (), unit_id: str = "") -> None:
        self.row_id, self.valid_from, self.valid_to, self.values = row_id, valid_from, valid_to, values
        self.rec_from, self.rec_to, self.unit_id = rec_from, rec_to, unit_id


def test_the_child_answers_the_roll_ups_questions_from_the_rows_it_was_sent() -> None:
    """What the load's series and figures would say: the rows believed after each flush (closed ones
    gone) and those closed in it; a row created and closed in one flush is one object in both lists;
    figure rows by the day they end after, in day order."""
    held = Believed()
    created_u, closed_u, unit_rows, created_f, closed_f, open_figures = held.take(
        [("u1", 1, D1, END_OF_TIME, 10, OPEN_POSITION, None, "ACTIVE"), ("u2", 2, D1, END_OF_TIME, 10, 12, "u1", "ACTIVE")],
        [("u2", 2, 12)],
        [(7, "u1", D2, END_OF_TIME, 10, OPEN_POSITION, (1, 0)), (6, "u1", D1, D2, 10, OPEN_POSITION, (2, 0))], [])
    assert [(key, r.values[5:], r.rec_to) for key, r in created_u] == [("u1", (None, "ACTIVE"), OPEN_POSITION),
                                                                         ("u2", ("u1", "ACTIVE"), 12)]
    assert closed_u[0][1] is created_u[1][1]  # (one object, as in the load)
    assert unit_rows("u2") == [created_u[1][1]] and unit_rows("u1") == [created_u[0][1]]
    assert [r.values for r in open_figures({"u1": date.min})["u1"]] == [(2, 0), (1, 0)]  # (by day)
    assert [r.values for r in open_figures({"u1": D2})["u1"]] == [(1, 0)]
    assert open_figures({"u9": D1}) == {"u9": []} and closed_f == []

    _, closed_u, unit_rows, created_f, closed_f, open_figures = held.take(
        [], [("u1", 1, 20)], [(8, "u1", D2, END_OF_TIME, 20, OPEN_POSITION, (3, 0))], [(7, "u1", 20)])
    assert closed_u[0][1].rec_to == 20 and unit_rows("u1") == [closed_u[0][1]]  # (closed in this flush: still asked)
    assert closed_f[0].rec_to == 20 and closed_f[0].values == (1, 0)
    assert [r.values for r in open_figures({"u1": D1})["u1"]] == [(2, 0), (3, 0)]  # (7 closed: gone)
    assert held.take([], [], [], [])[2]("u1") == []  # (closed before: gone)


@pytest.fixture
def target() -> Iterator[ViewEngines]:
    require_postgres()
    schema = new_pg_schema()
    engines = make_engines(make_url(PG_URL), schema)
    migrate(engines)
    yield engines
    engines.dispose()
    drop_pg_schema(schema)


def _units_flush(series: Any) -> None:
    """One flush: a province and a commune under it, each with a figure row."""
    province = _Row(1, D1, END_OF_TIME, 5, values=("P", "P", "p", "PROVINCE", None, None, "ACTIVE"))
    commune = _Row(2, D1, END_OF_TIME, 5, values=("C", "C", "c", "COMMUNE", None, "p1", "ACTIVE"))
    figures = [_Row(1, D1, END_OF_TIME, 5, values=(3,) + (0,) * 22, unit_id="c1")]
    series.rollup.flush([("p1", province), ("c1", commune)], [], None, figures, [], None)


def test_a_failure_in_the_child_is_raised_at_the_end_naming_it(target: ViewEngines) -> None:
    with target.write.connect() as conn:
        conn.exec_driver_sql("DROP TABLE root_deltas")  # (the child's first delta fails)
        conn.commit()
        series = SeriesBatch(conn, SERIES, fresh=True)
        own = series.rollup
        with pytest.raises(RollupFailed, match=r"root_deltas.*rebuild again into a fresh one"), \
                rolled_up_by_process(conn, series):
            _units_flush(series)
        assert series.rollup is own  # (the load's own again after the block)


def test_a_dead_child_is_said_plainly(target: ViewEngines) -> None:
    with target.write.connect() as conn:
        series = SeriesBatch(conn, SERIES, fresh=True)
        with pytest.raises(RollupEnded, match=r"ended with exit code -9 before it answered"), \
                rolled_up_by_process(conn, series) as process:
            os.kill(process.pid, signal.SIGKILL)
            _units_flush(series)


def test_the_child_writes_the_roll_up(target: ViewEngines) -> None:
    with target.write.connect() as conn:
        series = SeriesBatch(conn, SERIES, fresh=True)
        with rolled_up_by_process(conn, series):
            _units_flush(series)
        roots = conn.execute(select(t.unit_roots.c.unit_id, t.unit_roots.c.root_id).order_by(t.unit_roots.c.unit_id))
        assert [tuple(r) for r in roots] == [("c1", "p1"), ("p1", "p1")]
        deltas = conn.execute(select(t.root_deltas.c.root_id, t.root_deltas.c.day, t.root_deltas.c.position))
        assert sorted(tuple(r) for r in deltas) == [("p1", D1, 5)]


def test_a_rebuild_whose_roll_up_a_child_makes_gives_the_in_memory_rebuilds_rows(
        ledger: Any, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The load's own ``Rollup`` never runs (it would fail here), yet the roll-up's rows are there and
    every row equals the ledger's own, with the series forgotten and read back."""
    generate_history(ledger, clock, seed=9, steps=160)
    expected = contents(ledger.engines)

    real = Rollup.flush

    def not_here(self: Rollup, created_units: Any, closed_units: Any, unit_rows: Any, created_figures: Any,
                 closed_figures: Any, *rest: Any) -> None:
        if created_units or closed_units or created_figures or closed_figures:  # (a migration's empty backfill runs)
            raise AssertionError("the roll-up was made by the load's process")
        real(self, created_units, closed_units, unit_rows, created_figures, closed_figures, *rest)

    monkeypatch.setattr(Rollup, "flush", not_here)
    target = fresh_target()
    overlaps = ("write-process", "rollup-process") if target.is_sqlite else (*BOTH, "rollup-process")
    assert rebuild(ledger.store, target, batch_size=25, max_states=3,
                   overlaps=overlaps) == ledger.store.recorder.max_notification_id()
    rebuilt = contents(target)
    assert rebuilt["root_deltas"] and rebuilt["unit_roots"]
    assert rebuilt == expected
