"""Reading a series' believed rows back goes through the key's index (issue 9, found on the national history).

``unit_versions`` has an index on ``(rec_to, valid_from)`` besides the one on ``(unit_id, ...)``.
Without statistics SQLite's planner took the first for ``unit_id = ? AND rec_to = ?``, so every
unit read back scanned every believed unit row of the country (~70,000 at national size): the
national catch-up fell to ~170 log entries/s through the 2025 mergers. The plans are checked on a
file that has both indexes, for every series and both ways of reading back (one key, many keys).
And the units a re-rooting walks are read back together, not one read each (issue 9), and a series
packed in memory instead of dropped unpacks to what a read-back gives.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from staffing.application.commands import MoveUnit
from staffing.bootstrap import Ledger
from staffing.domain.values import UnitKind
from staffing.projections.projector import SERIES
from staffing.projections.series import SeriesBatch, _open_tail, _Spilled, believed_rows
from staffing.projections.tables import OPEN_POSITION, series_facts, unit_roots
from tests.builders import an_act, establish
from tests.projections.history import generate_history
from tests.support import FakeClock

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
            many = _plan(conn, believed_rows(conn, spec, ["a", "b"]))
            one = _plan(conn, batch._statements(spec.name)[1], {f"b_{c}": "a" for c in spec.key_columns})
            for plan in (many, one):
                assert key_index in plan, f"{spec.name}: {plan}"
    assert "ix_unit_versions_rec" in {ix.name for ix in SERIES[0].table.indexes}  # the index that misled it


def test_a_re_rooting_reads_the_units_it_walks_together_not_one_by_one(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """Moving a district re-derives the roots of every commune under it (``Rollup._retree``), and
    the walk asks for each one's unit rows. With nothing held (a projector whose states were
    dropped, a rebuild past ``max_states``), those units are read back together before the walk
    (``hold_units``) instead of one read each: on the national history each 2025 merger re-roots
    thousands of units."""
    a = establish(ledger.service, kind=UnitKind.PROVINCE, name="Tỉnh A")
    b = establish(ledger.service, kind=UnitKind.PROVINCE, name="Tỉnh B")
    district = establish(ledger.service, parent_id=a, kind=UnitKind.DISTRICT, name="Huyện C")
    communes = {establish(ledger.service, parent_id=district, kind=UnitKind.COMMUNE, name=f"Xã {i}")
                for i in range(6)}
    ledger.projector._carried = None  # nothing held: every series touched is read back
    one_by_one: list[tuple[str, str]] = []
    original = SeriesBatch._load

    def counted(self: SeriesBatch, series: str, key: str) -> object:
        one_by_one.append((series, key))
        return original(self, series, key)

    monkeypatch.setattr(SeriesBatch, "_load", counted)
    ledger.service.execute(MoveUnit(unit_id=district, new_parent_id=b, effective_on=date(2025, 7, 1), act=an_act()))
    walked = {key for series, key in one_by_one if series == "unit"}
    assert walked & communes == set(), f"read one by one: {len(walked & communes)} of the 6 communes"
    with ledger.engines.read.connect() as conn:  # and the move did re-root them
        roots = {(r.unit_id, r.root_id) for r in conn.execute(
            select(unit_roots.c.unit_id, unit_roots.c.root_id).where(
                unit_roots.c.rec_to == OPEN_POSITION, unit_roots.c.valid_from == date(2025, 7, 1)))}
    assert {(c, b) for c in communes} <= roots


def test_a_packed_series_unpacks_to_the_state_a_read_back_gives(ledger: Ledger, clock: FakeClock) -> None:
    """``SeriesBatch.forget`` may pack a state instead of dropping it (``spill_bytes``, issue 9); what
    it unpacks must be what reading the series back from the tables gives, fact for fact and row for
    row (retracted facts, closed and zero-length rows included), or a rebuild would fold from it
    differently. Every series of a generated history with retractions, packed and unpacked."""
    generate_history(ledger, clock, seed=5, steps=120)
    with ledger.engines.write.connect() as conn:
        keys = [(r.series, r.key) for r in conn.execute(select(series_facts.c.series, series_facts.c.key).distinct())]
        assert {series for series, _ in keys} >= {"unit", "person", "quota"}
        read = SeriesBatch(conn, SERIES)
        read.preload(keys)  # (rows, and facts only where no row ends the fold: ``_State.partial``)
        whole = {key: read._load(*key) for key in keys}  # (every fact)
        for states in (read.states, whole):
            packed = _Spilled(budget=1 << 30)
            for key in keys:
                assert packed.add(key, states[key])
            assert packed.used > 0
            for key in keys:
                unpacked = packed.take(key)
                assert unpacked == states[key], key
                assert key not in packed
            assert packed.used == 0 and packed.take(keys[0]) is None  # taken once, then read back again
        assert any(read.states[key].partial for key in keys)
        assert any(f.retracted_pos is not None for key in keys for f in whole[key].facts)


def test_a_lean_pack_unpacks_to_the_state_a_read_back_without_facts_gives(ledger: Ledger, clock: FakeClock) -> None:
    """Packed lean (``_Spilled.add`` given the tail, issue 9: what a rebuild packs of a series read back
    without its facts), a state, whole or itself read back without its facts, unpacks to exactly
    what ``preload`` reads back: its rows, the fold's tail from the row open to the end of time and
    no facts (``_State.partial``), or, where no single row is open to the end (nothing to fold on
    from), every fact as before. Every series of a generated history with retractions; a unit's
    (``facts_with_rows``) is never packed lean by ``forget``, and that is checked too."""
    generate_history(ledger, clock, seed=5, steps=120)
    with ledger.engines.write.connect() as conn:
        keys = [(r.series, r.key) for r in conn.execute(select(series_facts.c.series, series_facts.c.key).distinct())]
        specs = {spec.name: spec for spec in SERIES}
        lean_keys = [key for key in keys if not specs[key[0]].facts_with_rows]
        read = SeriesBatch(conn, SERIES)
        read.preload(lean_keys)
        whole = {key: read._load(*key) for key in lean_keys}
        for state in whole.values():
            state.rows.sort(key=lambda row: row.row_id)  # (``_load`` reads them in any order)
        for states in (whole, read.states):
            packed = _Spilled(budget=1 << 30)
            for key in lean_keys:
                assert packed.add(key, states[key], _open_tail(specs[key[0]], states[key].rows))
            for key in lean_keys:
                assert packed.take(key) == read.states[key], key
        without_facts = [key for key in lean_keys if read.states[key].partial]
        assert without_facts and all(not read.states[key].facts for key in without_facts)
        assert len(without_facts) < len(lean_keys)  # (some have no row open to the end: kept whole)
        batch = SeriesBatch(conn, SERIES, spill_bytes=1 << 30)
        batch.preload([key for key in keys if key[0] == "unit"])
        assert batch.states
        batch.forget()
        assert all(not batch.spilled.take(key).partial for key in keys if key[0] == "unit")  # type: ignore[union-attr]


@pytest.mark.parametrize("change", ["dated after", "dated before", "retraction"])
def test_a_series_read_back_without_its_facts_changes_as_one_read_back_whole(
        ledger: Ledger, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    """Reading many series back (``preload``) reads each one's believed rows and, where a row is open
    to the end of time, none of its facts (issue 9: ~10% of the national yearly flow): a fact dated
    after all of them folds from that row alone, without reading them; a fact dated earlier, or a
    retraction, reads them first. Either way the rows closed and created, and the state after, are
    those of the same series read back whole (``_load``): every series of a generated history."""
    generate_history(ledger, clock, seed=5, steps=120)
    facts_read: list[str] = []
    stored_facts = SeriesBatch._stored_facts

    def counted(self: SeriesBatch, conn: Connection, series: str, keys: list[str], before: int | None = None) -> Any:
        facts_read.extend(keys)
        return stored_facts(self, conn, series, keys, before)

    monkeypatch.setattr(SeriesBatch, "_stored_facts", counted)
    folded = without_facts = 0
    with ledger.engines.write.connect() as conn:
        keys = [(r.series, r.key) for r in conn.execute(select(series_facts.c.series, series_facts.c.key).distinct())]
        position = int(conn.execute(select(func.max(series_facts.c.position))).scalar_one()) + 100
        for series, key in keys:
            whole = SeriesBatch(conn, SERIES)
            state = whole.states[(series, key)] = whole._load(series, key)
            active = [f for f in state.facts if f.retracted_pos is None]
            if not active:
                continue
            lazy = SeriesBatch(conn, SERIES)
            facts_read.clear()
            lazy.preload([(series, key)])
            partial = lazy.states[(series, key)].partial
            for batch in (whole, lazy):
                if change == "retraction":
                    assert batch.retract_fact(series, key, active[-1].position, position)
                else:
                    day = (max(f.effective_on for f in active) + timedelta(days=1) if change == "dated after"
                           else min(f.effective_on for f in active))
                    batch.add_fact(series, key, position, day, dict(active[0].delta))
            assert [(s, k, r.row_id, r.rec_to) for s, k, r in lazy._closed] == \
                [(s, k, r.row_id, r.rec_to) for s, k, r in whole._closed], key
            assert [(r.valid_from, r.valid_to, r.values, r.rec_from) for _, _, r in lazy._created] == \
                [(r.valid_from, r.valid_to, r.values, r.rec_from) for _, _, r in whole._created], key
            done = lazy.states[(series, key)]
            lazy._complete(series, key, done)
            assert done.facts == sorted(state.facts, key=lambda f: f.position), key
            assert done.rows == sorted(state.rows, key=lambda r: r.row_id), key  # (``_load`` reads in any order)
            folded += 1
            if partial and change == "dated after":
                assert key not in facts_read[1:]  # (its one read: completing it for the comparison)
                without_facts += 1
            elif partial:
                assert facts_read.count(key) == 1  # read once, when the change needed them
        conn.rollback()
    assert folded > 20 and (without_facts > 20 or change != "dated after")


def test_packing_stops_at_its_budget_and_the_batch_then_reads_back(ledger: Ledger, clock: FakeClock) -> None:
    """Past ``spill_bytes`` a forgotten state is dropped, not packed, and the batch no longer counts as
    holding every series it wrote (``fresh``): one it did not pack is read back from the tables."""
    generate_history(ledger, clock, seed=5, steps=40)
    with ledger.engines.write.connect() as conn:
        keys = [(r.series, r.key) for r in conn.execute(select(series_facts.c.series, series_facts.c.key).distinct())]
        batch = SeriesBatch(conn, SERIES, spill_bytes=2_000)
        batch.preload(keys)
        batch.fresh = True  # as a rebuild's batch is
        batch.forget()
        assert 0 < len(batch.spilled.packed) < len(keys)
        assert not batch.fresh
        dropped = next(key for key in keys if key not in batch.spilled)
        assert batch._state(*dropped).facts  # read back, not taken for new
