"""The national summary from the roll-up equals the tree walk's, at every knowledge position (issue 9).

The roll-up (``staffing.projections.rollup``) keeps, per top-level unit, append-only corner deltas of
every (figure row x root row) rectangle, and marks every ``EPOCH`` log positions. The summary read from it
must give exactly the rows, figures, gross surplus and vacancy, own surplus and exception deadline of
``staffing_report(None, depth=1, include_descendants=True)`` walked through the tree, which the
differential test holds to the oracle. Checked on random histories with mergers, splits, moves,
dissolutions, late facts and retractions, at every log position and many dates, with marks made
every few deltas so that checkpoints, the extent's clamp and the recent deltas are all exercised; and
after a rebuild and a backfill from the rows alone.
"""

from __future__ import annotations

import csv
import io
import random
from collections import namedtuple
from datetime import date, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, func, insert, inspect, select

from staffing.bootstrap import Ledger, alembic_config
from staffing.projections import rollup
from staffing.projections import tables as t
from staffing.projections.listing import HEADER, csv_lines
from staffing.projections.listing import _row as _listing_row
from staffing.projections.queries import StaffingFigures
from tests.projections.history import generate_history
from tests.support import FakeClock


def _row(f: StaffingFigures) -> Any:
    return (f.unit_id, f.level, [(line.category, line.quota, line.headcount, dict(line.by_kind)) for line in f.lines],
            f.excess_allowed_until, f.gross_surplus, f.gross_vacancy, f.own_surplus, f.exception_deadline,
            f.unit.code if f.unit else None)


def compare(ledger: Ledger, rng: random.Random, dates: int) -> int:
    """The roll-up's summary against the tree walk's at every log position (and now), ``dates`` dates each."""
    q = ledger.queries
    checks = 0
    with q.connect() as conn:
        last = int(conn.execute(select(func.max(t.log_clock.c.position))).scalar_one() or 0)
        days = sorted({r[0] for r in conn.execute(select(t.root_deltas.c.day))} | {date(2014, 12, 31)})
        for position in [*range(0, last + 1), q.knowledge_position(conn, None)]:
            for _ in range(dates):
                pick = rng.choice(days)
                as_of = pick + timedelta(days=rng.choice([-1, 0, 0, 1, 17]))
                got = [_row(f) for f in q.staffing_report(conn, None, as_of, position, depth=1,
                                                          include_descendants=True)]
                want = [_row(f) for f in q.staffing_report(conn, None, as_of, position, depth=1,
                                                           include_descendants=True, from_rollup=False)]
                assert got == want, f"as of {as_of}, known at position {position}"
                checks += 1
    return checks


@pytest.fixture
def small_epochs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Marks every few positions, so a test history crosses many of them."""
    monkeypatch.setattr(rollup, "EPOCH", 7)


@pytest.mark.parametrize("seed", [11, 23, 37])
def test_the_summary_from_the_roll_up_equals_the_tree_walk_at_every_position(
        ledger: Ledger, clock: FakeClock, small_epochs: None, seed: int) -> None:
    generate_history(ledger, clock, seed, steps=160)
    with ledger.queries.connect() as conn:
        marks = conn.execute(select(func.count()).select_from(t.rollup_marks)).scalar_one()
    assert marks > 5  # the checkpoints were exercised
    assert compare(ledger, random.Random(seed), dates=4) > 500


ROLLUP_TABLES = (t.unit_roots, t.root_deltas, t.root_checkpoints, t.rollup_marks)


def _rows(conn: Any, table: Any) -> list[tuple[Any, ...]]:
    columns = [c for c in table.columns if c.name != "row_id"]
    return [tuple(r) for r in conn.execute(select(*columns).order_by(*columns))]


def test_the_backfill_from_the_rows_alone_gives_the_incremental_roll_up_row_for_row(
        ledger: Ledger, clock: FakeClock, small_epochs: None) -> None:
    """What migration 0007 (and ``benchmarks.national_tables``) derive from the unit and figure rows is
    exactly what the projector kept batch by batch: the same root rows, deltas, checkpoints and marks."""
    generate_history(ledger, clock, 37, steps=160)
    engine = create_engine("sqlite://")
    t.metadata.create_all(engine)
    with ledger.queries.connect() as conn, engine.begin() as copy:
        for table in (t.unit_versions, t.unit_figures):
            copy.execute(insert(table), [dict(r) for r in conn.execute(select(table)).mappings()])
        rollup.backfill(copy)
        for table in ROLLUP_TABLES:
            kept = _rows(conn, table)
            assert kept, f"{table.name} is empty: nothing was compared"
            assert _rows(copy, table) == kept, table.name


def test_marks_hold_every_delta_up_to_their_position_and_none_after(ledger: Ledger, clock: FakeClock,
                                                                    small_epochs: None) -> None:
    """A checkpoint at a mark is the sum of the deltas dated before its bound and recorded up to the mark;
    no delta recorded by a mark is dated on or after its extent (what the summary's clamp relies on)."""
    generate_history(ledger, clock, 23, steps=120)
    c, d, m = t.root_checkpoints, t.root_deltas, t.rollup_marks
    checked = 0
    with ledger.queries.connect() as conn:
        for mark in conn.execute(select(m)).all():
            later = conn.execute(select(func.count()).select_from(d).where(
                d.c.position <= mark.position, d.c.day >= mark.extent)).scalar_one()
            assert later == 0, f"deltas dated after the extent of mark {mark.position}"
            for row in conn.execute(select(c).where(c.c.position == mark.position)).mappings():
                want = conn.execute(select(*[func.coalesce(func.sum(d.c[n]), 0) for n in t.ROLLUP_COLUMNS]).where(
                    d.c.root_id == row["root_id"], d.c.day < row["bound"], d.c.position <= mark.position)).one()
                assert tuple(row[n] for n in t.ROLLUP_COLUMNS) == tuple(want), (mark.position, row["bound"])
                checked += 1
    assert checked > 50


def test_bounds_cut_every_month_on_the_2nd_9th_16th_and_23rd() -> None:
    """Every day lies in exactly one stretch [bound, next bound); a summary on a 1st starts from the
    2nd (its checkpoint holds the whole 1st, the great day of reforms and yearly acts)."""
    day = date(2015, 1, 1)
    while day < date(2017, 3, 1):
        bound = rollup.bound_floor(day)
        assert bound.day in (2, 9, 16, 23) and bound <= day < rollup.next_bound(bound), day
        assert rollup.bound_for(day) == rollup.bound_floor(day + timedelta(days=1))
        assert rollup.first_bound_after(day) > day >= rollup.bound_floor(rollup.first_bound_after(day) - timedelta(1))
        day += timedelta(days=1)
    assert rollup.bound_for(date(2025, 7, 1)) == date(2025, 7, 2)
    assert rollup.bound_floor(date(2025, 1, 1)) == date(2024, 12, 23)
    assert rollup.next_bound(date(2024, 12, 23)) == date(2025, 1, 2)


def test_the_summary_download_from_the_roll_up_equals_the_tree_walks_rows(ledger: Ledger, clock: FakeClock,
                                                                          small_epochs: None) -> None:
    """``/downloads/staffing.csv?depth=1&rolled=true`` without a root is written from the roll-up: the same
    rows the tree walk's report data give."""
    generate_history(ledger, clock, 11, steps=120)
    q = ledger.queries
    rng = random.Random(5)
    with q.connect() as conn:
        last = int(conn.execute(select(func.max(t.log_clock.c.position))).scalar_one())
        days = sorted({r[0] for r in conn.execute(select(t.root_deltas.c.day))})
        checked = 0
        for _ in range(40):
            as_of, position = rng.choice(days) + timedelta(days=rng.choice([-1, 0, 3])), rng.randrange(1, last + 1)
            data = q.report_data(conn, None, as_of, position, 1, True)
            want = [[str(c) for c in _listing_row(r, level, data.total(r.unit_id), data.deadlines.get(r.unit_id),
                                                  as_of)] for r, level in data.shown]
            got = list(csv.reader(io.StringIO("".join(csv_lines(q, conn, None, as_of, position, True, 1)))))
            assert got[0] == list(HEADER) and got[1:] == want, (as_of, position)
            checked += len(want)
        assert checked > 40


def test_migration_0007_on_a_projected_database_derives_the_roll_up_the_projector_kept(
        ledger: Ledger, clock: FakeClock, small_epochs: None) -> None:
    """Down to 0006 (the roll-up's tables dropped) and up again on the ledger's own read models: the
    migration's backfill gives back every row the projector had written."""
    generate_history(ledger, clock, 23, steps=100)
    engines = ledger.engines
    with engines.read.connect() as conn:
        kept = {table.name: _rows(conn, table) for table in ROLLUP_TABLES}
    assert all(kept.values())
    with engines.write.connect() as conn:
        config = alembic_config(engines.write.url)
        config.attributes["connection"] = conn
        command.downgrade(config, "0006")
        conn.commit()
        assert not inspect(conn).has_table("root_deltas")
        command.upgrade(config, "head")
        conn.commit()
    with engines.read.connect() as conn:
        assert {table.name: _rows(conn, table) for table in ROLLUP_TABLES} == kept


def test_only_the_days_where_changed_root_rows_do_not_cancel_need_their_figure_rows() -> None:
    """A merger re-roots a unit from its date on: the root row closed and the one reopened up to that
    date cancel before it, so figure rows ending before it need no pairing (``_changed_since``)."""
    row = rollup.RootRow
    end, merged, founded = t.END_OF_TIME, date(2025, 7, 1), date(2015, 1, 1)
    old = row(1, "u", "province-a", founded, end, rec_from=5, rec_to=100)  # closed by the merger at 100
    kept = row(2, "u", "province-a", founded, merged, rec_from=100)
    new = row(3, "u", "province-b", merged, end, rec_from=100)
    assert rollup._changed_since([old, kept, new], after=99) == merged
    assert rollup._changed_since([kept, new], after=100) is None  # nothing changed after position 100
    moved = row(4, "u", "province-a", founded, end, rec_from=100)  # re-derived identically: cancels
    assert rollup._changed_since([old, moved], after=99) is None
    brief = row(5, "u", "province-b", date(2020, 3, 1), end, rec_from=100, rec_to=101)  # opened and closed
    assert rollup._changed_since([brief], after=99) == date(2020, 3, 1)


def test_a_unit_re_homed_under_its_former_child_keeps_its_root_whichever_unit_the_walk_starts_from() -> None:
    """Seed 1079 of the long differential run: a commune C left district D in 2025; in 2026 D's parent
    was absorbed into C and D was re-homed under it. Walking from a unit under C first came back to C
    through D's *earlier* stretch under C's chain; D's stretches were then kept with no root from 2026
    and D's people dropped out of the summary. Parents change with the dates: that was no cycle."""
    Row = namedtuple("Row", "rec_from rec_to valid_from valid_to values")
    left, rehomed = date(2025, 3, 1), date(2026, 3, 21)

    def row(start: date, end: date, parent: str | None) -> Any:
        return Row(1, 1 << 62, start, end, (None,) * 5 + (parent, "ACTIVE"))

    rows = {"P": [row(date(2019, 1, 1), t.END_OF_TIME, None)],
            "C": [row(date(2020, 1, 1), left, "D"), row(left, t.END_OF_TIME, "P")],
            "D": [row(date(2019, 1, 1), rehomed, "P"), row(rehomed, t.END_OF_TIME, "C")],
            "K": [row(date(2021, 1, 1), t.END_OF_TIME, "C")]}
    whole = [(date(2019, 1, 1), t.END_OF_TIME, "P")]
    for order in (["K", "D", "C"], ["D", "K", "C"], ["C", "D", "K"]):
        memo: dict[str, Any] = {}
        found = {unit: rollup._stretches(unit, 5, lambda u: rows[u], memo, 0) for unit in order}
        assert found["D"] == whole, order
        assert found["C"] == [(date(2020, 1, 1), t.END_OF_TIME, "P")], order
        assert found["K"] == [(date(2021, 1, 1), t.END_OF_TIME, "P")], order
    cyclic = {"A": [row(date(2020, 1, 1), t.END_OF_TIME, "B")], "B": [row(date(2020, 1, 1), t.END_OF_TIME, "A")]}
    assert rollup._stretches("A", 5, lambda u: cyclic[u], {}, 0) == [(date(2020, 1, 1), t.END_OF_TIME, None)]
