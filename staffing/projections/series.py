"""Bitemporal series: from dated facts to [valid) × [recorded) rows, in batches.

A *series* is the state of one thing over valid time (a unit, a person, a position, one quota
figure, one unit's excess exception). Its facts are deltas, each effective from its date; the
value on day D is the fold of every fact still on record with ``effective_on <= D``, in
(effective date, log position) order — the latest fact for each attribute wins.

When a fact arrives or is retracted at log position p, the series is re-folded and compared with
the rows currently believed: rows that no longer hold get ``rec_to = p``; new rows are inserted
with ``rec_from = p``. Nothing else is ever changed, so every past belief stays answerable.

``SeriesBatch`` keeps the touched series in memory for a whole batch of events and writes the
result with a handful of executemany statements (row ids are allocated here, so a row created and
superseded within one batch is written once, already closed).
"""

from __future__ import annotations

import pickle
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, Select, Table, bindparam, func, select

from staffing.projections.bulk import chunks, close_rows, insert_rows, insert_tuples, key_in, update_rows
from staffing.projections.figures import FigureBatch, person_contribution, quota_contribution
from staffing.projections.rollup import Rollup
from staffing.projections.tables import END_OF_TIME, OPEN_POSITION, series_facts

__all__ = ["SeriesBatch", "SeriesSpec", "believed_rows", "fold_intervals"]


@dataclass(frozen=True)
class SeriesSpec:
    name: str
    table: Table
    key_columns: tuple[str, ...]
    value_columns: tuple[str, ...]
    date_columns: frozenset[str] = frozenset()  # stored as ISO text in the JSON deltas
    #: a state lacking this column has not begun (e.g. a person whose recruitment was retracted while
    #: a later fact of theirs is still being withdrawn in the same transaction): no row for it
    required: str | None = None
    keep_same_day: bool = False  # see ``fold_intervals``
    #: the index a load of believed rows must use on SQLite (None: the planner finds it): see ``_rows_by_key``
    key_index: str | None = None
    #: read its facts back with its rows (``SeriesBatch._load_many``): a series whose read-backs mostly
    #: fold again (a unit's: ~2 in 3 at province size, the 2025 reform giving several facts a day),
    #: where reading them later would take a round trip per series
    facts_with_rows: bool = False

    def complete(self, values: tuple[Any, ...]) -> bool:
        return self.required is None or values[self.value_columns.index(self.required)] is not None

    def typed(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        if not self.date_columns:
            return values
        return tuple(
            date.fromisoformat(v) if c in self.date_columns and isinstance(v, str) else v
            for c, v in zip(self.value_columns, values, strict=True)
        )

    def key_values(self, key: str) -> dict[str, str]:
        return dict(zip(self.key_columns, key.split("|"), strict=True))


def believed_rows(conn: Connection, spec: SeriesSpec, firsts: list[str]) -> Select[Any]:
    """The rows believed now of every series whose key starts with one of ``firsts`` (key columns first),
    to be read on ``conn`` (``key_in``: the keys as one array parameter on PostgreSQL)."""
    t = spec.table
    return _rows_by_key(spec, select(*[t.c[c] for c in spec.key_columns], t.c.row_id, t.c.valid_from,
                                     t.c.valid_to, t.c.rec_from, *[t.c[c] for c in spec.value_columns])
                        .where(key_in(conn, t.c[spec.key_columns[0]], firsts), t.c.rec_to == OPEN_POSITION))


def _rows_by_key(spec: SeriesSpec, query: Select[Any]) -> Select[Any]:
    """A load of the rows believed now (``rec_to`` open) of some keys, through the key's index.

    Why: ``unit_versions`` also has an index on ``(rec_to, valid_from)``, and SQLite's planner, with
    no statistics, took it for ``unit_id = ? AND rec_to = ?``: every believed unit row of the country
    scanned for each unit read back. On the national history each of the 2025 mergers re-derives the
    roots of a thousand units, one read each, and the catch-up fell to ~170 log entries/s there.
    """
    if spec.key_index is None:
        return query
    return query.with_hint(spec.table, f"INDEXED BY {spec.key_index}", "sqlite")


def _row_columns(spec: SeriesSpec) -> tuple[str, ...]:
    return ("row_id", "valid_from", "valid_to", "rec_from", "rec_to", *spec.key_columns, *spec.value_columns)


@dataclass
class _Fact:
    position: int
    effective_on: date
    delta: dict[str, Any]
    retracted_pos: int | None = None
    stored: bool = False  # already in series_facts
    dirty: bool = False  # retracted_pos changed since load


@dataclass
class _Row:
    row_id: int
    valid_from: date
    valid_to: date
    values: tuple[Any, ...]
    rec_from: int
    rec_to: int = OPEN_POSITION
    stored: bool = False
    dirty: bool = False


@dataclass
class _State:
    facts: list[_Fact] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)  # currently believed rows (rec_to open)
    #: where the last fold of the active facts ended: the first day of its last interval and that
    #: interval's values, untyped — or typed, taken from its row by a read-back (None: not known)
    tail: tuple[date, tuple[Any, ...]] | None = None
    #: read back without its stored facts (``SeriesBatch._load_many``): ``facts`` holds only those
    #: added since, every one at a later log position than any stored then (``SeriesBatch._complete``)
    partial: bool = False


class _Spilled:
    """Series states packed into bytes by ``SeriesBatch.forget``, while they fit in ``budget`` bytes.

    A state is packed only after its batch was flushed, so every fact and row in it is stored and
    clean; unpacking gives the state a read-back from the tables would give (facts in log order,
    rows in id order, all marked stored). ``pickle`` of plain tuples: ~670 bytes a person against
    ~3.1 KB live, ~14 µs to pack and ~5 µs to unpack; the bytes never leave the process.

    Packed lean (given the ``tail`` its rows give, ``_open_tail``): only the rows and that tail,
    as ``SeriesBatch._load_many`` reads such a series back (``_State.partial``): its facts are all
    stored, so ``_complete`` reads them when something needs them. Why (issue 9): a
    person's facts (their JSON deltas) were most of its bytes and of its packing time, which made
    packing the ~2.2 million people of a national setup cost more than it saved (section 31).
    """

    #: what a packed entry costs beyond its bytes, counted against the budget: its key (a tuple and a
    #: 36-character id, ~140 bytes), the bytes object's header and the dict's slot (~100), measured
    OVERHEAD = 240

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self.packed: dict[tuple[str, str], bytes] = {}

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self.packed

    def add(self, key: tuple[str, str], state: _State, tail: tuple[date, tuple[Any, ...]] | None = None) -> bool:
        """Pack ``state`` (with ``tail``, its rows' ``_open_tail``: lean, without its facts, see the
        class); False when the budget is spent (nothing packed)."""
        if self.used >= self.budget:
            return False
        rows = [(r.row_id, r.valid_from, r.valid_to, r.values, r.rec_from) for r in state.rows]
        if tail is not None:
            blob = pickle.dumps(((), rows, tail, True), protocol=pickle.HIGHEST_PROTOCOL)
        else:
            blob = pickle.dumps(([(f.position, f.effective_on, f.delta, f.retracted_pos) for f in state.facts], rows,
                                 state.tail if state.partial else None, state.partial),
                                protocol=pickle.HIGHEST_PROTOCOL)
        self.packed[key] = blob
        self.used += len(blob) + self.OVERHEAD
        return True

    def take(self, key: tuple[str, str]) -> _State | None:
        """The state packed under ``key``, unpacked and no longer held here (None when none is)."""
        blob = self.packed.pop(key, None)
        if blob is None:
            return None
        self.used -= len(blob) + self.OVERHEAD
        facts, rows, tail, partial = pickle.loads(blob)
        return _State([_Fact(p, d, delta, retracted, stored=True) for p, d, delta, retracted in facts],
                      [_Row(i, a, b, values, rec_from, stored=True) for i, a, b, values, rec_from in rows],
                      tail, partial)


def _open_tail(spec: SeriesSpec, rows: Sequence[_Row]) -> tuple[date, tuple[Any, ...]] | None:
    """The fold's last interval as a series' believed rows give it: the one row open to the end of
    time (None: none or several, so the rows alone do not give it, or a series read with its facts,
    ``SeriesSpec.facts_with_rows``). ``_load_many`` and a lean pack both take a series' tail from
    here, so a state read back and one unpacked fold alike."""
    if spec.facts_with_rows:
        return None
    open_ended = [row for row in rows if row.valid_to == END_OF_TIME]
    if len(open_ended) != 1:
        return None
    return open_ended[0].valid_from, open_ended[0].values


def fold_intervals(
    facts: Iterable[tuple[date, int, dict[str, Any]]], columns: tuple[str, ...], keep_same_day: bool = False
) -> list[tuple[date, date, tuple[Any, ...]]]:
    """The valid-time partition a series' active facts produce: [(from, to, values)].

    Several facts on one day leave the state after the last of them. With ``keep_same_day`` each
    earlier state of that day is kept too, as a zero-length row [d, d): no as-of question sees it,
    but the movements read from consecutive rows show every fact of the day, in recorded order.
    """
    ordered = sorted(facts, key=lambda f: (f[0], f[1]))
    state: dict[str, Any] = {}
    points: list[tuple[date, tuple[Any, ...]]] = []
    for effective_on, _, delta in ordered:
        state.update(delta)
        snapshot = tuple(state.get(c) for c in columns)
        if points and points[-1][0] == effective_on and (not keep_same_day or points[-1][1] == snapshot):
            points[-1] = (effective_on, snapshot)
        else:
            points.append((effective_on, snapshot))
    return [
        (start, points[i + 1][0] if i + 1 < len(points) else END_OF_TIME, values)
        for i, (start, values) in enumerate(points)
    ]


class SeriesBatch:
    """In-memory working set of series for one batch, or carried from batch to batch (a whole
    rebuild, when ``fresh``; a projector's catch-up, see ``rebind``)."""

    def __init__(self, conn: Connection, specs: Iterable[SeriesSpec], fresh: bool = False,
                 spill_bytes: int = 0) -> None:
        self.conn = conn
        self.specs = {s.name: s for s in specs}
        #: every series with rows in the tables is held here (live or packed): nothing to load; true of
        #: empty tables (a rebuild) until ``forget`` drops a state it could not pack
        self.fresh = fresh
        self.states: dict[tuple[str, str], _State] = {}
        #: the states ``forget`` packed instead of dropping, up to ``spill_bytes`` (see ``forget``)
        self.spilled = _Spilled(spill_bytes)
        #: series given or retracted a fact since the last flush (a dict: in the order touched)
        self._touched: dict[tuple[str, str], None] = {}
        self._closed: list[tuple[str, str, _Row]] = []
        self._created: list[tuple[str, str, _Row]] = []
        self.next_row_id = {name: self._max_row_id(spec) + 1 for name, spec in self.specs.items()}
        self._prepared: dict[str, tuple[Any, Any]] = {}
        #: the per-unit sums of the person and quota rows, kept with them (same batch, same transaction)
        self.figures = FigureBatch(conn, fresh)
        #: the national summary's roll-up of the figures by top-level unit, kept with them
        self.rollup = Rollup(conn, fresh)
        #: the connection series are read back on (None: ``conn``): see ``read_back_on``
        self.reader: Connection | None = None
        #: the series given or retracted a fact in the last flush (a batch's one flush: its transaction's
        #: writes), which ``forget`` keeps while ``reader`` is set
        self._flushed: Collection[tuple[str, str]] = ()

    def read_back_on(self, reader: Connection) -> None:
        """Read forgotten series back on ``reader``, a second connection to the same tables that sees
        what ``conn`` has committed, instead of on ``conn``.

        Why (issue 9): a PostgreSQL rebuild queues each batch's writes and its commit behind the
        process (``writebehind``), and any statement on ``conn`` first waits for that queue. Past
        ``max_states`` it forgets what it holds after each batch, so the next batch's first read-back
        waited for the whole previous batch to be written, every batch: the process and the server
        took turns through the yearly flow instead of overlapping. On ``reader`` a read-back waits
        for nothing. It is sound because ``forget`` then keeps every series written at the last
        flush (a batch flushes once): a series read back was last written a batch or more before
        the last forget, and that batch's commit was made before the next was queued
        (``WriteQueue.commit``: at most one commit behind), so ``reader`` sees all its rows and
        facts. The units' figure rows are read back on it the same way (``FigureBatch.forget``
        keeps every row of the units the last flush wrote); the roll-up's few reads (units a
        re-rooting walks, done through ``preload``, aside) stay on ``conn``, after the queue."""
        self.reader = reader
        self.figures.reader = reader

    def rebind(self, conn: Connection) -> None:
        """Go on in another transaction with the states held (a projector carrying them to its next
        batch: valid only while no one else has written the read models, see ``Projector``)."""
        self.conn = conn
        self.figures.conn = conn
        self.rollup.conn = conn

    def forget(self, keep: Collection[str] = ()) -> None:
        """Drop every state held (call after ``flush``): a series used again is read back from the
        tables. A rebuild or a projector calls this when it holds too many, so its memory stays
        bounded; the next row ids are kept.

        With ``spill_bytes``, each state is first packed into bytes (``_Spilled``, ~5x smaller than
        the live objects) while they fit, and a series used again is unpacked instead of read back:
        issue 9, a national rebuild forgets ~2 million people's series and reads each back from the
        database when its next fact comes (~67 µs a series on PostgreSQL, against ~20 µs to pack and
        unpack). Sound for the same reason the held states are: the states are what was written, and
        nothing else writes these tables while this batch object lives (a rebuild's target; a
        projector's carried series, checked by its token). While every state forgotten fits, a
        rebuild still holds every series it wrote (``fresh``): one it never saw is new, not read.
        A rebuild packs only when asked (``rebuild.SPILL_BYTES``: measured to cost more than it saves).

        ``keep``: the kinds of series whose states stay held (few and touched again and again, so
        forgetting them only means reading them back at the next batch: ``rebuild.KEEP_SERIES``).
        With a ``reader`` (``read_back_on``), the series written at the last flush stay held too."""
        packed_all = True
        recent = self._flushed if self.reader is not None else ()  # (see ``read_back_on``)
        kept = ({key: state for key, state in self.states.items() if key[0] in keep or key in recent}
                if keep or recent else {})
        for key, state in self.states.items():
            if key not in kept and not self.spilled.add(key, state, _open_tail(self.specs[key[0]], state.rows)):
                packed_all = False
                break
        self.states.clear()
        self.states.update(kept)
        self.fresh = self.fresh and packed_all
        self.figures.forget()  # (the roll-up keeps its root rows: a few per unit)

    def _max_row_id(self, spec: SeriesSpec) -> int:
        if self.fresh:
            return 0
        return int(self.conn.execute(select(func.coalesce(func.max(spec.table.c.row_id), 0))).scalar_one())

    # ------------------------------------------------------------------ loading
    def _state(self, series: str, key: str, new: bool = False) -> _State:
        """The series' working state; ``new`` when the fact creates the thing (nothing to load)."""
        state = self.states.get((series, key))
        if state is None:
            state = self.spilled.take((series, key))
            if state is None:
                state = _State() if self.fresh or new else self._load(series, key)
            self.states[(series, key)] = state
        return state

    def preload(self, wanted: Iterable[tuple[str, str]]) -> int:
        """Load the states of many series together (one read per 500 keys and table instead of two
        per series); returns how many were loaded. A hint: a series not named here still loads on
        first use, one by one, so a projector that misses a key is slower, never wrong."""
        if self.fresh:
            return 0
        by_series: dict[str, set[str]] = {}
        for series, key in wanted:
            if (series, key) not in self.states and (series, key) not in self.spilled:
                by_series.setdefault(series, set()).add(key)
        loaded = 0
        for series, keys in by_series.items():
            for chunk in chunks(keys):
                loaded += self._load_many(series, chunk)
        return loaded

    def _load_many(self, series: str, keys: list[str]) -> int:
        """Read the states of ``keys`` back: their believed rows, and the stored facts only of those
        whose fold's last interval has no row (``_State.partial``).

        Why (issue 9): past ``max_states`` a national rebuild reads back ~1.4 million people's
        series, and reading their facts was ~10% of the yearly flow's time (PostgreSQL), though
        a fact dated after every fact of its series needs none of them: ``_append`` needs only the
        fold's last interval, and that is the believed row open to the end of time (its day and
        values). The facts are read when something needs them all (``_complete``)."""
        spec = self.specs[series]
        states = {key: _State() for key in keys}
        conn = self.reader or self.conn
        firsts = sorted({key.split("|")[0] for key in keys})
        width = len(spec.key_columns)
        found = conn.execute(believed_rows(conn, spec, firsts))
        for v in found:
            state = states.get("|".join(str(x) for x in v[:width]))
            if state is not None:  # (a multi-column key: other series of the same unit are not wanted)
                state.rows.append(_Row(v[width], v[width + 1], v[width + 2],
                                       tuple(v[width + 4 + i] for i in range(len(spec.value_columns))),
                                       v[width + 3], stored=True))
        eager = []
        for key, state in states.items():
            state.rows.sort(key=lambda row: row.row_id)
            tail = _open_tail(spec, state.rows)
            if tail is not None:
                state.tail, state.partial = tail, True
            else:  # (no row ends the fold: its last interval is not complete, or nothing is stored)
                eager.append(key)
            self.states[(series, key)] = state
        if eager:
            for key, facts in self._stored_facts(conn, series, eager).items():
                states[key].facts = facts
        return len(states)

    def _stored_facts(self, conn: Connection, series: str, keys: list[str],
                      before: int | None = None) -> dict[str, list[_Fact]]:
        """The stored facts of ``keys`` (those at log positions before ``before``), in log order."""
        sf = series_facts
        query = select(sf.c.key, sf.c.position, sf.c.effective_on, sf.c.delta, sf.c.retracted_pos).where(
            sf.c.series == series, key_in(conn, sf.c.key, keys))
        if before is not None:
            query = query.where(sf.c.position < before)
        facts: dict[str, list[_Fact]] = {key: [] for key in keys}
        for r in conn.execute(query):
            facts[r.key].append(_Fact(r.position, r.effective_on, orjson.loads(r.delta), r.retracted_pos, stored=True))
        for found in facts.values():
            found.sort(key=lambda f: f.position)
        return facts

    def _complete(self, series: str, key: str, state: _State) -> None:
        """Give a state read back without its facts (``_State.partial``) its stored facts before those
        added since. Those were stored when it was read back, and none has changed since: a stored
        fact changes only by a retraction, which completes the state first. So the connection it
        was read on still shows them (``read_back_on``: committed then)."""
        if not state.partial:
            return
        first = min((fact.position for fact in state.facts), default=None)
        stored = self._stored_facts(self.reader or self.conn, series, [key], first)[key]
        state.facts = stored + state.facts
        state.partial = False

    def _statements(self, series: str) -> tuple[Any, Any]:
        """The two look-ups of ``_load``, built once per series kind (bound parameters, cached compile)."""
        found = self._prepared.get(series)
        if found is None:
            spec = self.specs[series]
            t = spec.table
            facts = (select(series_facts.c.position, series_facts.c.effective_on, series_facts.c.delta,
                            series_facts.c.retracted_pos)
                     .where(series_facts.c.series == bindparam("b_series"), series_facts.c.key == bindparam("b_key")))
            rows = _rows_by_key(spec, select(t.c.row_id, t.c.valid_from, t.c.valid_to, t.c.rec_from,
                                             *[t.c[c] for c in spec.value_columns])
                                .where(*[t.c[col] == bindparam(f"b_{col}") for col in spec.key_columns],
                                       t.c.rec_to == OPEN_POSITION))
            found = self._prepared[series] = (facts, rows)
        return found

    def _load(self, series: str, key: str) -> _State:
        spec = self.specs[series]
        state = _State()
        facts, rows = self._statements(series)
        conn = self.reader or self.conn
        for r in conn.execute(facts, {"b_series": series, "b_key": key}):
            state.facts.append(_Fact(r.position, r.effective_on, orjson.loads(r.delta), r.retracted_pos, stored=True))
        params = {f"b_{col}": value for col, value in spec.key_values(key).items()}
        for r in conn.execute(rows, params):
            state.rows.append(_Row(r.row_id, r.valid_from, r.valid_to,
                                   tuple(r[4 + i] for i in range(len(spec.value_columns))), r.rec_from, stored=True))
        return state

    # ------------------------------------------------------------------ changes
    def add_fact(self, series: str, key: str, position: int, effective_on: date, delta: dict[str, Any],
                 new: bool = False) -> None:
        """Add a fact; ``new`` when it creates the thing the series is about (its first fact)."""
        state = self._state(series, key, new)
        self._touched[(series, key)] = None
        state.facts.append(_Fact(position, effective_on, delta))
        tail = state.tail
        if tail is None or effective_on <= tail[0] or not self._append(series, key, state, position, effective_on,
                                                                      delta, tail):
            self._refold(series, key, state, position)

    def _append(self, series: str, key: str, state: _State, position: int, effective_on: date,
                delta: dict[str, Any], tail: tuple[date, tuple[Any, ...]]) -> bool:
        """``_refold`` for a fact dated after every active fact of its series, without folding them again.

        Why: a history recorded in date order gives each series its facts in date order, and a full
        fold per fact costs each series' whole history again (~8% of a province rebuild's samples).
        Such a fact only ends the last interval of the fold (``tail``) the day it takes effect and
        opens a new one from there with the last values updated by it; every earlier interval stays.
        So the row of the last interval, if it was one, is closed at ``position`` and the two rows
        the new fold ends with are created, in the order ``_refold`` would close and create them
        (the same row ids). Returns False, changing nothing, when the believed rows do not end with
        that interval's row: the caller then folds the whole series (``test_series_append``).
        """
        spec = self.specs[series]
        start, values = tail
        merged = dict(zip(spec.value_columns, values, strict=True))
        merged.update(delta)
        snapshot = tuple(merged.get(c) for c in spec.value_columns)
        ended = None
        if spec.complete(values):
            last = spec.typed(values)
            ended = next((row for row in state.rows
                          if row.valid_to == END_OF_TIME and row.valid_from == start and row.values == last), None)
            if ended is None:
                return False
            ended.rec_to, ended.dirty = position, True
            self._closed.append((series, key, ended))
            state.rows = [row for row in state.rows if row is not ended]
        wanted = [(start, effective_on, values), (effective_on, END_OF_TIME, snapshot)]
        for valid_from, valid_to, row_values in wanted:
            if spec.complete(row_values):
                row_id = self.next_row_id[series]
                self.next_row_id[series] = row_id + 1
                new = _Row(row_id, valid_from, valid_to, spec.typed(row_values), position)
                state.rows.append(new)
                self._created.append((series, key, new))
        state.tail = (effective_on, snapshot)
        return True

    def retract_fact(self, series: str, key: str, fact_position: int, at_position: int) -> bool:
        """Retract the series fact recorded at ``fact_position``; False when the series has none."""
        state = self._state(series, key)
        self._complete(series, key, state)
        for fact in state.facts:
            if fact.position == fact_position and fact.retracted_pos is None:
                fact.retracted_pos, fact.dirty = at_position, True
                self._touched[(series, key)] = None
                self._refold(series, key, state, at_position)
                return True
        return False

    def current_value(self, series: str, key: str) -> dict[str, Any] | None:
        """The value the latest-dated row currently believed holds (used for 'from where' look-ups)."""
        state = self._state(series, key)
        if not state.rows:
            return None
        last = max(state.rows, key=lambda r: (r.valid_from, r.valid_to))
        return dict(zip(self.specs[series].value_columns, last.values, strict=True))

    def _refold(self, series: str, key: str, state: _State, position: int) -> None:
        spec = self.specs[series]
        self._complete(series, key, state)
        intervals = fold_intervals(((f.effective_on, f.position, f.delta) for f in state.facts
                                    if f.retracted_pos is None), spec.value_columns, spec.keep_same_day)
        state.tail = (intervals[-1][0], intervals[-1][2]) if intervals else None
        wanted = [(start, end, spec.typed(values)) for start, end, values in intervals if spec.complete(values)]
        wanted_set = set(wanted)
        kept: list[_Row] = []
        for row in state.rows:
            if (row.valid_from, row.valid_to, row.values) in wanted_set:
                kept.append(row)
                wanted_set.discard((row.valid_from, row.valid_to, row.values))
            else:
                row.rec_to, row.dirty = position, True
                self._closed.append((series, key, row))
        for valid_from, valid_to, values in wanted:
            if (valid_from, valid_to, values) in wanted_set:
                row_id = self.next_row_id[series]
                self.next_row_id[series] = row_id + 1
                new = _Row(row_id, valid_from, valid_to, values, position)
                kept.append(new)
                self._created.append((series, key, new))
        state.rows = kept

    # ------------------------------------------------------------------ writing
    def _contribute(self) -> None:
        """Report each person and quota row created (+ from its rec_from) or closed (− from its rec_to)."""
        person = self.specs["person"].value_columns
        at_status, at_unit, at_category = person.index("status"), person.index("unit_id"), person.index("category")
        for rows, sign in ((self._created, 1), (self._closed, -1)):
            for series, key, row in rows:
                at = row.rec_from if sign == 1 else row.rec_to
                if series == "person":
                    values = row.values
                    found = person_contribution(values[at_status], values[at_unit], values[at_category])
                    if found is not None:
                        self.figures.contribute(found[0], found[1], sign, row.valid_from, row.valid_to, at)
                elif series == "quota":
                    unit_id, category, kind = key.split("|")
                    quota = quota_contribution(unit_id, category, kind, row.values[0])
                    if quota is not None:
                        self.figures.contribute(quota[0], quota[1], sign * quota[2], row.valid_from, row.valid_to, at)

    def flush(self, transaction_ends: Sequence[int] = ()) -> None:
        """Write everything changed since the last flush (rows, their closings, the facts, the figures);
        ``transaction_ends``, the last position of each writer's transaction among those flushed (a
        stretch of entries with one own recording moment): the figures change once per transaction
        (``FigureBatch.contribute``)."""
        self.figures.transaction_ends = transaction_ends
        self._contribute()
        created_figures, closed_figures = self.figures.flush()
        inserts: dict[str, list[tuple[Any, ...]]] = {}
        for series, key, row in self._created:  # tuples in ``_row_columns`` order
            inserts.setdefault(series, []).append((row.row_id, row.valid_from, row.valid_to, row.rec_from, row.rec_to,
                                                   *key.split("|"), *row.values))
            row.stored, row.dirty = True, False
        updates: dict[str, list[tuple[int, int]]] = {}
        for series, _, row in self._closed:
            if row.stored and row.dirty:
                updates.setdefault(series, []).append((row.rec_to, row.row_id))
                row.dirty = False
        for series, closings in updates.items():
            close_rows(self.conn, self.specs[series].table, closings)
        for series, records in inserts.items():
            spec = self.specs[series]
            insert_tuples(self.conn, spec.table, _row_columns(spec), records)
        new_facts, changed = [], []
        for series, key in self._touched:  # held states not touched have nothing unwritten
            for fact in self.states[(series, key)].facts:
                if not fact.stored:
                    new_facts.append({"series": series, "key": key, "position": fact.position,
                                      "effective_on": fact.effective_on, "delta": orjson.dumps(fact.delta).decode(),
                                      "retracted_pos": fact.retracted_pos})
                    fact.stored, fact.dirty = True, False
                elif fact.dirty:
                    changed.append((fact.retracted_pos, series, key, fact.position))
                    fact.dirty = False
        if new_facts:
            insert_rows(self.conn, series_facts, new_facts)
        update_rows(self.conn, series_facts, ("retracted_pos",), ("series", "key", "position"), changed)
        self._roll_up(created_figures, closed_figures)
        self._closed.clear()
        self._created.clear()
        self._flushed = set(self._touched)
        self._touched.clear()

    def _roll_up(self, created_figures: list[Any], closed_figures: list[Any]) -> None:
        """Hand the roll-up this flush's unit rows and figure rows (``staffing.projections.rollup``)."""
        created = [(key, row) for series, key, row in self._created if series == "unit"]
        closed = [(key, row) for series, key, row in self._closed if series == "unit"]
        closed_units: dict[str, list[_Row]] = {}
        for key, row in closed:
            closed_units.setdefault(key, []).append(row)

        def unit_rows(unit: str) -> list[_Row]:
            return [*self._state("unit", unit).rows, *closed_units.get(unit, ())]

        self.rollup.flush(created, closed, unit_rows, created_figures, closed_figures, self.figures.open_rows,
                          lambda units: self.preload(("unit", unit) for unit in units))
