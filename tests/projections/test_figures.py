"""``unit_figures`` equals what it pre-aggregates (issue 9).

A person row ACTIVE over [a, b) believed over [p, q) is a rectangle in (valid time x knowledge);
the figures visible at (D, P) must be the sum of the rectangles containing (D, P). Checked three
ways: random rectangles against a brute-force sum; a generated history's live figures against a
GROUP BY over its person rows and a sum over its quota rows; and the migration's backfill (from
those rows alone) against what incremental projection maintained.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, func, insert, select

from staffing.bootstrap import Ledger
from staffing.projections import figures as figures_module
from staffing.projections import tables as t
from staffing.projections.figures import FIGURE_COLUMNS, HEADCOUNT, QUOTA, FigureBatch, backfill
from staffing.projections.queries import Queries, category_figures, category_vectors, visible
from staffing.projections.tables import END_OF_TIME, OPEN_POSITION
from staffing.reports.staffing_report import CATEGORIES
from tests.projections.history import generate_history
from tests.support import FakeClock

START = date(2015, 1, 1)


def _memory_conn() -> Any:
    engine = create_engine("sqlite://")
    t.metadata.create_all(engine)
    return engine.connect()


def _figures(conn: Any, units: list[str], as_of: date, position: int) -> dict[str, tuple[int, ...]]:
    found = Queries(None).figure_rows(conn, units, as_of, position)  # type: ignore[arg-type]
    return {u: v for u, v in found.items() if any(v)}


@pytest.mark.parametrize(("carried", "rows_kept"), [(False, 8), (True, 1), (True, 8)],
                         ids=["fresh-batches", "carried-and-forgotten-to-1", "carried-and-forgotten-to-8"])
def test_random_rectangles_sum_exactly_whatever_the_order_and_batching(
        carried: bool, rows_kept: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Figures equal the rectangles' sums at random (as of, known at), whether each batch starts
    from nothing held (catch-up) or one batch holds units across flushes and forgets them at random
    (a long catch-up or a rebuild) down to their last row or last rows (``ROWS_KEPT``): a unit read
    back holds only the rows from the first day it is touched, and a later fact about an earlier day
    first reads its older rows back."""
    monkeypatch.setattr(figures_module, "ROWS_KEPT", rows_kept)
    rng = random.Random(5)
    units = ["u1", "u2", "u3"]
    rectangles = []  # (unit, column, amount, valid_from, valid_to, rec_from, rec_to)
    for _ in range(400):
        a = START + timedelta(days=rng.randrange(0, 3000))
        b = END_OF_TIME if rng.random() < 0.5 else a + timedelta(days=rng.randrange(1, 900))
        p = rng.randrange(1, 300)
        q = OPEN_POSITION if rng.random() < 0.6 else p + rng.randrange(0, 80)
        rectangles.append((rng.choice(units), rng.randrange(len(FIGURE_COLUMNS)), rng.choice([1, 1, 3, 40]),
                           a, b, p, q))
    changes: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for unit, col, amount, a, b, p, q in rectangles:
        changes[p].append((unit, col, amount, a, b))
        if q != OPEN_POSITION:
            changes[q].append((unit, col, -amount, a, b))
    with _memory_conn() as conn:
        positions = sorted(changes)
        cut = 0
        batch = FigureBatch(conn, fresh=False)
        while cut < len(positions):  # flush in batches of random size
            step = rng.randrange(1, 40)
            if not carried:
                batch = FigureBatch(conn, fresh=False)
            for p in positions[cut:cut + step]:
                for unit, col, amount, a, b in changes[p]:
                    batch.contribute(unit, col, amount, a, b, p)
            batch.flush()
            if rng.random() < 0.2:
                batch.forget()
            cut += step
        last = max(positions)  # projected up to here: questions at it take the "known now" index path
        conn.execute(insert(t.tracking).values(name="ledger", position=last, recorded_us=0))
        for i, unit in enumerate(units):  # the units, in force throughout (the whole-country read joins them)
            conn.execute(insert(t.unit_versions).values(
                unit_id=unit, code=f"U{i}", name=unit, name_folded=unit, kind="COMMUNE", parent_id=None,
                status="ACTIVE", valid_from=START - timedelta(days=30),
                valid_to=END_OF_TIME, rec_from=0, rec_to=OPEN_POSITION))
        for i in range(300):
            as_of = START + timedelta(days=rng.randrange(-10, 4000))
            position = last if i % 3 == 0 else rng.randrange(0, last)
            want: dict[str, list[int]] = {}
            for unit, col, amount, a, b, p, q in rectangles:
                if a <= as_of < b and p <= position < q:
                    want.setdefault(unit, [0] * len(FIGURE_COLUMNS))[col] += amount
            expected = {u: tuple(v) for u, v in want.items() if any(v)}
            assert _figures(conn, units, as_of, position) == expected, (as_of, position)
            rows, country = Queries(None).country_rows(conn, as_of, position)  # type: ignore[arg-type]
            assert {u: v for u, v in country.items() if any(v)} == expected, ("whole country", as_of, position)
            assert sorted(r.unit_id for r in rows) == (units if as_of >= START - timedelta(days=30) else [])


def test_forget_keeps_each_units_last_rows_and_reads_back_only_a_change_before_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``forget`` keeps a unit's last ``ROWS_KEPT`` rows (within a year the acts come in no order of
    their days): a change dated within them reads nothing back, one dated before them reads the
    older rows back once, and the figures stay the sums of what was contributed."""
    column = HEADCOUNT["CADRE"]
    with _memory_conn() as conn:
        batch = FigureBatch(conn, fresh=False)
        for i in range(20):  # twenty recruitments, one a month: twenty rows
            batch.contribute("u", column, 1, START + timedelta(days=30 * i), END_OF_TIME, i + 1)
        batch.flush()
        batch.forget()
        kept = batch.units["u"]
        assert figures_module.ROWS_KEPT > 1 and len(kept) == figures_module.ROWS_KEPT
        assert [r.valid_from for r in kept] == [START + timedelta(days=30 * i) for i in range(12, 20)]
        reads: list[dict[str, date]] = []
        real = FigureBatch._read_believed

        def counted(self: FigureBatch, since: Any, until: Any = None) -> Any:
            reads.append(dict(since))
            return real(self, since, until)

        monkeypatch.setattr(FigureBatch, "_read_believed", counted)
        batch.contribute("u", column, 1, START + timedelta(days=30 * 13 + 5), END_OF_TIME, 30)  # within the kept rows
        batch.flush()
        assert reads == []
        batch.contribute("u", column, 1, START + timedelta(days=30 * 2 + 5), END_OF_TIME, 31)  # before them
        batch.flush()
        assert reads == [{"u": START + timedelta(days=30 * 2 + 5)}]
        for day, expected in ((30 * 2 + 4, 3), (30 * 2 + 5, 4), (30 * 13 + 5, 16), (30 * 19, 22)):
            assert _figures(conn, ["u"], START + timedelta(days=day), 31)["u"][column] == expected


def test_a_departure_recorded_in_date_order_touches_only_the_last_row() -> None:
    with _memory_conn() as conn:
        batch = FigureBatch(conn, fresh=False)
        column = HEADCOUNT["CADRE"]
        for i in range(50):  # fifty recruitments, one a month, each its own log position
            batch.contribute("u", column, 1, START + timedelta(days=30 * i), END_OF_TIME, i + 1)
        batch.flush()
        f = t.unit_figures
        rows_before = conn.execute(select(func.count()).select_from(f)).scalar_one()
        closed_before = conn.execute(select(func.count()).where(f.c.rec_to != OPEN_POSITION)).scalar_one()
        # the first recruit leaves on day 2000: their open row is closed and [start, day 2000) created
        leave = START + timedelta(days=2000)
        batch = FigureBatch(conn, fresh=False)
        batch.contribute("u", column, -1, START, END_OF_TIME, 51)
        batch.contribute("u", column, 1, START, leave, 51)
        batch.flush()
        rows_after = conn.execute(select(func.count()).select_from(f)).scalar_one()
        closed_after = conn.execute(select(func.count()).where(f.c.rec_to != OPEN_POSITION)).scalar_one()
        assert (rows_after - rows_before, closed_after - closed_before) == (2, 1)  # last row split in two
        assert len(batch.units["u"]) == 2  # only the last row was read back (50 rows stand before it)
        assert _figures(conn, ["u"], leave, 51)["u"][column] == 49
        assert _figures(conn, ["u"], leave, 50)["u"][column] == 50  # known before: unchanged


def _group_by(conn: Any, as_of: date, position: int) -> dict[str, list[int]]:
    p, q = t.person_versions, t.quota_versions
    out: dict[str, list[int]] = defaultdict(lambda: [0] * len(FIGURE_COLUMNS))
    heads = (select(p.c.unit_id, p.c.category, func.count())
             .where(visible(p, as_of, position), p.c.status == "ACTIVE").group_by(p.c.unit_id, p.c.category))
    for unit, category, n in conn.execute(heads):
        out[unit][HEADCOUNT[category]] += n
    quota = (select(q.c.unit_id, q.c.category, q.c.kind, func.sum(q.c.amount))
             .where(visible(q, as_of, position), q.c.amount > 0).group_by(q.c.unit_id, q.c.category, q.c.kind))
    for unit, category, kind, amount in conn.execute(quota):
        out[unit][QUOTA[(category, kind)]] += amount
    return {u: v for u, v in out.items() if any(v)}


def test_live_figures_equal_a_group_by_over_rows_and_the_backfill_agrees(ledger: Ledger, clock: FakeClock) -> None:
    """At every position a question can be asked at (the last one recorded by some moment: the log
    clock's rows), the figures kept per unit equal a GROUP BY over the person and quota rows, and so
    do the figures derived from those rows alone (``backfill``, one version per position). Between two
    entries of one recording moment the kept figures may lag the rows (one version per run)."""
    generate_history(ledger, clock, seed=23, steps=220)
    ledger.projector.catch_up()
    rng = random.Random(23)
    with ledger.queries.connect() as conn, _memory_conn() as copy:
        units = list(conn.execute(select(t.unit_versions.c.unit_id).distinct()).scalars())
        knowable = list(conn.execute(select(t.log_clock.c.position)).scalars())
        last = max(knowable)
        persons = conn.execute(select(t.person_versions)).mappings().all()
        quotas = conn.execute(select(t.quota_versions)).mappings().all()
        copy.execute(insert(t.person_versions), [dict(r) for r in persons])
        copy.execute(insert(t.quota_versions), [dict(r) for r in quotas])
        backfill(copy, conn.execute(select(t.person_versions)).all(), conn.execute(select(t.quota_versions)).all())
        dates = sorted({r["valid_from"] for r in persons} | {r["valid_from"] for r in quotas})
        checked = 0
        for _ in range(60):
            position = rng.choice([last, rng.choice(knowable)])
            as_of = rng.choice(dates) + timedelta(days=rng.choice([0, 0, 1, -1]))
            want = {u: tuple(v) for u, v in _group_by(conn, as_of, position).items()}
            assert _figures(conn, units, as_of, position) == want, (as_of, position)
            assert _figures(copy, units, as_of, position) == want, (as_of, position)
            checked += sum(1 for v in want.values() if any(v))
        assert checked > 100


def test_category_vectors_read_a_vector_as_category_figures_does() -> None:
    """The report's and the listing's fast reading of a figure vector (``category_vectors``) gives
    the same quota and headcount per category, in the same order, as ``category_figures``."""
    rng = random.Random(11)
    for _ in range(200):
        vector = tuple(rng.randrange(0, 1000) for _ in FIGURE_COLUMNS)
        lines = category_figures(vector)
        quota, heads = category_vectors(vector)
        assert quota == tuple(q for _, q, _ in lines) and heads == tuple(h for _, _, h in lines)
        assert [c for c, _, _ in lines] == list(HEADCOUNT) == list(CATEGORIES)  # the report's column order
