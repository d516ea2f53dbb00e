"""Batches end where a run of one recording moment ends, and a unit's figures change once per
transaction (issue 9).

No question can be asked between two entries recorded at one moment: a knowledge position is the
last position recorded by some moment. So a projector's batch stops at the end of a run (the
positions it is tracked at are all answerable), and ``unit_figures`` keeps one version per stretch of
entries of one writer's transaction instead of one per entry: the versions in between were never
visible. Checked here: where batches end, how many figure versions a transaction of many
recruitments leaves, and that the read models do not depend on where batches are cut.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from staffing.application import Item, Mode, RecruitPerson
from staffing.bootstrap import Ledger
from staffing.projections import projector as projector_module
from staffing.projections import readahead as readahead_module
from staffing.projections import tables as t
from staffing.projections.projector import Projector, _whole_runs
from staffing.projections.rebuild import rebuild
from tests.builders import establish
from tests.projections.test_rebuild import contents, fresh_target  # noqa: F401 - the fixture
from tests.support import FakeClock, act


def test_whole_runs_stops_before_a_run_the_next_entry_goes_on_with() -> None:
    # own moments of five entries after a batch that ended at moment 10
    assert _whole_runs([11, 11, 12, 12, 12], 10, None) == 5  # nothing follows yet: all of them
    assert _whole_runs([11, 11, 12, 12, 12], 10, 13) == 5  # the next entry starts a run of its own
    assert _whole_runs([11, 11, 12, 12, 12], 10, 12) == 2  # it goes on with the run at 12: stop before it
    assert _whole_runs([11, 11, 12, 12, 12], 10, 9) == 2  # a lagging clock's entry joins that run too
    assert _whole_runs([11, 13, 12], 10, 13) == 1  # the running maximum: 12 recorded at 13, in its run
    assert _whole_runs([12, 12], 10, 12) == 0  # one unfinished run: nothing (give more entries)
    assert _whole_runs([9, 10], 10, 10) == 0  # entries going on with the previous batch's last run
    assert _whole_runs([], 10, 12) == 0


def _transactions(ledger: Ledger, clock: FakeClock, unit: str, sizes: list[int], gap: timedelta = timedelta(minutes=5),
                  ) -> None:
    """One transaction of ``size`` recruitments into ``unit`` for each size (one recording moment each,
    the clock moved on by ``gap`` after each; ``-1 s``: the next gets the same moment)."""
    for size in sizes:
        ledger.service.run([Item(RecruitPerson(full_name=f"Người {size}-{i}", birth_date=date(1990, 1, 1),
                                               gender="FEMALE", category="CADRE", unit_id=unit,
                                               effective_on=date(2021, 1, 1) + timedelta(days=i), act=act()))
                            for i in range(size)], Mode.ATOMIC)
        clock.now += gap


def test_batches_end_where_runs_end_and_give_the_read_models_a_rebuild_gives(
        ledger: Ledger, clock: FakeClock, fresh_target: Any) -> None:  # noqa: F811
    """Batches of 7 entries over transactions of up to ~60: a batch is read on until it holds a run
    whole and cut back to the last run it holds whole, so every tracked position is a knowledge
    position, and the read models equal a rebuild's in one batch."""
    ledger.service.on_commit.clear()  # projected later, in small batches
    unit = establish(ledger.service, kind="COMMUNE", effective_on=date(2020, 1, 1))
    _transactions(ledger, clock, unit, [30, 2, 1, 12, 25])
    projector = Projector(ledger.store, ledger.engines, batch_size=7)
    tracked: list[int] = []
    while projector._run_batch():
        tracked.append(projector.position())
    last = ledger.store.recorder.max_notification_id()
    assert tracked[-1] == last
    with ledger.engines.read.connect() as conn:
        ends = set(conn.execute(select(t.log_clock.c.position)).scalars())
    assert set(tracked) <= ends, "a batch ended inside a run of one recording moment"
    assert len(tracked) >= 3 and tracked[1] - tracked[0] > 7  # a run longer than a batch was taken whole
    target = fresh_target()
    assert rebuild(ledger.store, target, batch_size=10_000) == last
    assert contents(target) == contents(ledger.engines)


def _counting_reads(monkeypatch: Any) -> list[int]:
    """The positions of every entry the projector reads from the log from now on (it reads through
    ``persistence.select_entries``, which falls back to the recorder's own read: both counted; a
    rebuild through its read-ahead, ``projections.readahead``)."""
    read: list[int] = []
    real = projector_module.select_entries

    def select_entries(recorder: Any, start: int, limit: int) -> Any:
        window = real(recorder, start, limit)
        read.extend(n.id for n in window)
        return window

    monkeypatch.setattr(projector_module, "select_entries", select_entries)
    monkeypatch.setattr(readahead_module, "select_entries", select_entries)  # a rebuild's reads
    return read


def test_a_run_cut_off_a_batch_is_not_read_or_decoded_again(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: Any) -> None:  # noqa: F811
    """A batch reads one entry past its end and cuts back to the last run it holds whole; what it
    read and decoded but left (the cut run, the entry after it) begins the next batch instead of
    being read and decoded again (issue 9: 20% of the province rebuild's reads). Each stored entry
    is read once by a catch-up in batches of 7 and by a rebuild in batches of 10, and the read
    models are the same as ever."""
    ledger.service.on_commit.clear()  # projected later, in small batches
    unit = establish(ledger.service, kind="COMMUNE", effective_on=date(2020, 1, 1))
    _transactions(ledger, clock, unit, [30, 2, 1, 12, 25, 3])
    last = ledger.store.recorder.max_notification_id()
    read = _counting_reads(monkeypatch)
    projector = Projector(ledger.store, ledger.engines, batch_size=7)
    decoded = 0
    real_decode = projector._decode

    def decode(notifications: Any) -> Any:
        nonlocal decoded
        decoded += len(notifications)
        return real_decode(notifications)

    monkeypatch.setattr(projector, "_decode", decode)
    batches = 0
    while projector._run_batch():
        batches += 1
    assert projector.position() == last and batches >= 3
    assert sorted(read) == list(range(1, last + 1)), "an entry was read twice (or not at all)"
    assert decoded == last
    read.clear()
    target = fresh_target()
    assert rebuild(ledger.store, target, batch_size=10) == last
    assert sorted(read) == list(range(1, last + 1))
    assert contents(target) == contents(ledger.engines)


def test_a_transaction_of_many_recruitments_changes_its_units_figures_once(ledger: Ledger, clock: FakeClock) -> None:
    """Forty recruitments dated on forty days, in one transaction, make the unit's figure rows once:
    one row per stretch between those days, none closed; a second such transaction closes the rows
    it changes once and adds one version of each. One version per entry made 79 rows, 39 closed."""
    unit = establish(ledger.service, kind="COMMUNE", effective_on=date(2020, 1, 1))
    f = t.unit_figures

    def rows() -> tuple[int, int]:
        with ledger.queries.connect() as conn:
            every = conn.execute(select(func.count()).select_from(f).where(f.c.unit_id == unit)).scalar_one()
            closed = conn.execute(select(func.count()).select_from(f)
                                  .where(f.c.unit_id == unit, f.c.rec_to != t.OPEN_POSITION)).scalar_one()
        return int(every), int(closed)

    _transactions(ledger, clock, unit, [40])
    assert rows() == (40, 0)  # [day 1, day 2), ... [day 40, end of time): one version each
    _transactions(ledger, clock, unit, [40])  # forty more on the same forty days
    assert rows() == (80, 40)
    with ledger.queries.connect() as conn:
        position = ledger.queries.knowledge_position(conn, None)
        figures = ledger.queries.figure_rows(conn, [unit], date(2021, 2, 9), position)[unit]
    assert sum(figures) == 80  # (headcount only: the unit has no quota)


def test_two_transactions_at_one_own_moment_answer_alike_projected_apart_or_rebuilt(
        ledger: Ledger, clock: FakeClock, fresh_target: Any) -> None:  # noqa: F811
    """Two writers' transactions recorded at the very same moment (their entries look like one
    transaction's): projected one at a time their figures change twice, rebuilt once; the rows may
    differ, but every answer at every knowledge position and date is the same, and equals the
    person rows' own count."""
    unit = establish(ledger.service, kind="COMMUNE", effective_on=date(2020, 1, 1))
    _transactions(ledger, clock, unit, [5], gap=-timedelta(seconds=1))  # the next one's clock gives the same moment
    _transactions(ledger, clock, unit, [4, 3])
    target = fresh_target()
    rebuild(ledger.store, target)
    p = t.person_versions
    days = [date(2020, 12, 31) + timedelta(days=d) for d in range(7)]
    with ledger.engines.read.connect() as live, target.read.connect() as rebuilt:
        knowable = list(live.execute(select(t.log_clock.c.position)).scalars())
        assert knowable == list(rebuilt.execute(select(t.log_clock.c.position)).scalars())
        assert len(knowable) == 3  # the unit, the two transactions at one moment, the last one
        f = t.unit_figures
        versions = [conn.execute(select(func.count()).select_from(f).where(f.c.unit_id == unit)).scalar_one()
                    for conn in (live, rebuilt)]
        assert versions[0] > versions[1]  # projected apart, the figures changed once more
        for position in knowable:
            for day in days:
                rows = live.execute(select(func.count()).select_from(p).where(
                    p.c.unit_id == unit, p.c.status == "ACTIVE", p.c.valid_from <= day, p.c.valid_to > day,
                    p.c.rec_from <= position, p.c.rec_to > position)).scalar_one()
                figures = [sum(ledger.queries.figure_rows(conn, [unit], day, position).get(unit, ()))
                           for conn in (live, rebuilt)]
                assert figures == [rows, rows], (position, day)
    assert sum(figures) == 2 * 12
