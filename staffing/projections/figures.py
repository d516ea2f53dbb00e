"""Pre-aggregated, bitemporal figures per unit: headcount by category, quota by category and kind.

Why (issue 9): at national size a roll-up that counts person rows reads millions of them (15 s for
the national summary). ``unit_figures`` holds, per unit, the *sum* of what the person and quota
series say, as bitemporal rows like every other read model: each row is a valid-time interval
``[valid_from, valid_to)`` of one unit's figures believed over log positions ``[rec_from, rec_to)``.

The rule that makes it exact: a person row ACTIVE in unit U over ``[a, b)``, believed over
``[p, q)``, adds 1 to U's headcount of its category over exactly that rectangle of (valid time ×
knowledge); a quota row adds its amount to its (category, kind) the same way. So the figures
visible at (as of D, known at position P) are the number of person rows (and the quota in force)
visible at (D, P) — what ``Queries`` used to count row by row, and what the replay oracle and the
invariant tests check, at every knowledge position P (the last one recorded by some moment: no
question is asked between two entries of one moment, see ``contribute``). Zero-length person rows
(several facts of one day) are never visible and add nothing.

Maintenance: ``SeriesBatch`` reports every row it creates (+ at its ``rec_from``) and closes (− at
its ``rec_to``), moved to the end of the writer's transaction it was made in. Contributions are
netted per (unit, log position) into a step function over valid time, and only where that function
is nonzero are rows touched: each overlapped row is closed at the position and replaced. A
departure recorded in date order nets to −1 from its date on (its open row closed, the same row up
to the departure date created), so it touches the unit's last row, not the whole past. Each unit's
believed rows always partition ``[first date, END_OF_TIME)``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import product
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, func, select

from staffing.domain.values import PersonnelCategory, QuotaKind
from staffing.projections.bulk import chunks, close_rows, insert_tuples, key_in
from staffing.projections.tables import END_OF_TIME, OPEN_POSITION, unit_figures

__all__ = ["FIGURE_COLUMNS", "HEADCOUNT", "HEADS_OF", "QUOTA", "QUOTAS_OF", "FigureBatch", "gap"]

CATEGORY_NAMES = tuple(c.value for c in PersonnelCategory)
KIND_NAMES = tuple(k.value for k in QuotaKind)
#: column index of each category's headcount, and of each (category, kind) quota figure
HEADCOUNT = {c: i for i, c in enumerate(CATEGORY_NAMES)}
QUOTA = {ck: len(HEADCOUNT) + i for i, ck in enumerate(product(CATEGORY_NAMES, KIND_NAMES))}
FIGURE_COLUMNS = tuple(c.name for c in unit_figures.c if c.name.startswith(("h_", "q_")))
WIDTH = len(FIGURE_COLUMNS)
_COLUMNS = ("row_id", "unit_id", "valid_from", "valid_to", "rec_from", "rec_to", *FIGURE_COLUMNS)
ZERO = (0,) * WIDTH
#: a unit's last figure rows ``FigureBatch.forget`` keeps (see there)
ROWS_KEPT = 8

assert len(FIGURE_COLUMNS) == len(HEADCOUNT) + len(QUOTA), "unit_figures columns and categories disagree"
#: a figure vector's headcounts (category order) and quota figures (category, then kind order)
HEADS_OF, QUOTAS_OF = itemgetter(*HEADCOUNT.values()), itemgetter(*QUOTA.values())


def gap(vector: Sequence[int]) -> int:
    """Headcount minus quota of one unit's figure vector (positive: surplus; negative: vacancy)."""
    return sum(HEADS_OF(vector)) - sum(QUOTAS_OF(vector))


@dataclass(eq=False, slots=True)
class _Row:
    row_id: int
    unit_id: str
    valid_from: date
    valid_to: date
    values: tuple[int, ...]
    rec_from: int
    rec_to: int = OPEN_POSITION
    stored: bool = False
    dirty: bool = False


def _valid_from(row: _Row) -> date:
    return row.valid_from


class FigureBatch:
    """The touched units' believed figure rows, and the contributions of one batch of series rows."""

    def __init__(self, conn: Connection, fresh: bool) -> None:
        self.conn = conn
        #: a unit not held has no rows (the table was empty at start, a rebuild; ``forget`` keeps every
        #: unit held, from a later day): only a held unit's rows before its held day are ever read
        self.fresh = fresh
        self.units: dict[str, list[_Row]] = {}
        #: per unit held, the day after which all its believed rows are held: every row ending after it
        #: (``date.min``: all of them). Facts arrive mostly in date order and touch a unit's last rows,
        #: so a unit read back holds only the rows from its earliest day touched (issue 9: at national
        #: size each unit has ten years of figure rows and reading them all back was a quarter of a
        #: rebuild's reform phase).
        self.held_from: dict[str, date] = {}
        #: per (log position, unit), the step function of its contributions: day -> {column: amount}
        self.pending: dict[tuple[int, str], dict[date, dict[int, int]]] = {}
        #: the last position of each writer's transaction in the batch being flushed (``contribute``);
        #: empty: each contribution stands at its own position (``backfill``)
        self.transaction_ends: Sequence[int] = ()
        self._created: list[_Row] = []
        self._closed: list[_Row] = []
        #: the connection older rows are read back on (None: ``conn``): ``SeriesBatch.read_back_on``
        self.reader: Connection | None = None
        #: the units the last flush wrote rows of, whose rows ``forget`` keeps while ``reader`` is set
        self._written: set[str] = set()
        self.next_row_id = 1 if fresh else int(
            conn.execute(select(func.coalesce(func.max(unit_figures.c.row_id), 0))).scalar_one()) + 1

    def forget(self) -> None:
        """Drop the units' rows held (all written) but each unit's last ``ROWS_KEPT``: the older ones
        are read back when a change reaches them.

        Why keep the last rows (issue 9): facts come mostly in date order, so a unit's next change
        starts within its last rows; a national rebuild forgets every ~200,000 series and then read
        back the figure rows of each unit the next batch touched (5–7% of the yearly flow's time on
        PostgreSQL). One row kept was not enough: within a year the acts come in no order of their
        days (a quota act signed in December counts from 1 January, a retirement two weeks after its
        act), and counted on the national rebuild's yearly flow (RESULTS section 43) 55,912 units
        still had older rows read back in ~130 s; keeping 2, 4 or 8 rows would have spared 64%, 96%
        and 99.9% of them; with 8 kept the national rebuild peaked at 1.86 GB against 1.53 GB. A unit held from the
        start of its first row kept holds every row ending after that day (``held_from``), so a
        change before it reads the older rows, as for any unit held. With a ``reader``, the units the
        last flush wrote keep all their rows (what is read back on it must be committed:
        ``SeriesBatch.read_back_on``)."""
        recent = self._written if self.reader is not None else set()
        for unit, rows in self.units.items():
            if unit in recent:
                continue
            if len(rows) > ROWS_KEPT:
                del rows[:-ROWS_KEPT]
            if rows:
                self.held_from[unit] = max(self.held_from[unit], rows[0].valid_from)

    # ------------------------------------------------------------------ contributions
    def contribute(self, unit_id: str, column: int, amount: int, valid_from: date, valid_to: date,
                   position: int) -> None:
        """Add ``amount`` to ``column`` of ``unit_id`` over ``[valid_from, valid_to)`` from ``position`` on,
        or from the end of the writer's transaction ``position`` is in (``transaction_ends``).

        Why (issue 9): no question can be asked between two entries recorded at one moment (a knowledge
        position is the last one recorded by a moment, and a batch ends where a run of one moment ends,
        ``Projector.apply_runs``), so a unit's figures need one row version per transaction, not one
        per entry. A merger moving a hundred people, or an import transaction of hundreds of
        recruitments, changed a unit's figure rows once per person, every version but the last never
        visible; summed at the transaction's end, a person row made and closed within it cancels out.
        A transaction is a stretch of entries with one own recording moment (its writer's clock read
        once), not a run of the log's running-maximum moment: a writer whose clock lags joins the run
        before it, and a projector that saw that run end before the lagging writer committed would
        otherwise have summed it differently from a rebuild."""
        if amount == 0 or valid_from >= valid_to:
            return
        ends = self.transaction_ends
        if ends:
            k = bisect_left(ends, position)
            if k < len(ends):
                position = ends[k]
        steps = self.pending.setdefault((position, unit_id), {})
        self._step(steps, valid_from, column, amount)
        if valid_to != END_OF_TIME:
            self._step(steps, valid_to, column, -amount)

    @staticmethod
    def _step(steps: dict[date, dict[int, int]], day: date, column: int, amount: int) -> None:
        """Sparse: a step holds the few columns it changes (a person row changes one of ``WIDTH``)."""
        vector = steps.get(day)
        if vector is None:
            steps[day] = {column: amount}
        else:
            vector[column] = vector.get(column, 0) + amount

    # ------------------------------------------------------------------ applying
    def flush(self) -> tuple[list[_Row], list[_Row]]:
        """Apply the pending contributions in log order and write the rows they create and close;
        returns those rows (created, closed), for the roll-up (``staffing.projections.rollup``)."""
        if not self.pending:
            return [], []
        earliest: dict[str, date] = {}  # per unit, the first day a contribution changes (``_apply``)
        for (_, unit), steps in self.pending.items():
            day = min((day for day, vector in steps.items() if any(vector.values())), default=END_OF_TIME)
            if day < earliest.get(unit, END_OF_TIME):
                earliest[unit] = day
        self._hold(earliest)
        for position, unit in sorted(self.pending):
            self._apply(unit, position, self.pending[(position, unit)])
        self.pending.clear()
        changed = (list(self._created), list(self._closed))
        self._write()
        return changed

    def open_rows(self, since: Mapping[str, date]) -> dict[str, list[_Row]]:
        """Each unit's believed rows that end after its day in ``since`` (read back for units not held,
        without holding them; a unit held from a later day first holds its older rows too, since the
        rows held of a unit must be all those ending after its held day, see ``_hold``)."""
        self._hold({unit: day for unit, day in since.items() if unit in self.units})
        found = {unit: [r for r in self.units[unit] if r.valid_to > day] for unit, day in since.items()
                 if unit in self.units}
        missing = {unit: day for unit, day in since.items() if unit not in self.units}
        if not self.fresh:
            for row in self._read_believed(missing):
                found.setdefault(row.unit_id, []).append(row)
        return {unit: found.get(unit, []) for unit in since}

    def _hold(self, earliest: Mapping[str, date]) -> None:
        """Make every believed row ending after each unit's day in ``earliest`` held: read back the
        rows of units not held, and the older rows of units held from a later day."""
        wanted = {unit: day for unit, day in earliest.items() if day < self.held_from.get(unit, END_OF_TIME)}
        if not wanted:
            return
        if self.fresh:  # a unit not held has no rows: it holds them all (none) from the start
            for unit in [unit for unit in wanted if unit not in self.units]:
                self.units[unit] = []
                self.held_from[unit] = date.min
                del wanted[unit]
            if not wanted:
                return
        # older rows end where the first row held starts (a row held may end on or before its held day)
        until = {unit: self.units[unit][0].valid_from for unit in wanted if self.units.get(unit)}
        older: dict[str, list[_Row]] = {unit: [] for unit in wanted}
        for row in self._read_believed(wanted, until):
            older[row.unit_id].append(row)
        for unit, rows in older.items():
            rows.sort(key=_valid_from)
            self.units[unit] = rows + self.units.get(unit, [])
            self.held_from[unit] = wanted[unit]

    def _read_believed(self, since: Mapping[str, date], until: Mapping[str, date] | None = None) -> Iterator[_Row]:
        """The believed rows of the units of ``since`` that end after its day for them (and, for a unit
        in ``until``, no later than its day there), read from the table 500 units at a time."""
        f = unit_figures
        columns = [f.c[name] for name in FIGURE_COLUMNS]
        until = until or {}
        conn = self.reader or self.conn
        for chunk in chunks(since):
            query = select(f.c.row_id, f.c.unit_id, f.c.valid_from, f.c.valid_to, f.c.rec_from, *columns).where(
                key_in(conn, f.c.unit_id, chunk), f.c.rec_to == OPEN_POSITION, f.c.valid_to > min(since[u] for u in chunk))
            for r in conn.execute(query):
                if since[r.unit_id] < r.valid_to <= until.get(r.unit_id, END_OF_TIME):
                    yield _Row(r.row_id, r.unit_id, r.valid_from, r.valid_to, tuple(r[5:]), r.rec_from, stored=True)

    def _apply(self, unit: str, position: int, steps: dict[date, dict[int, int]]) -> None:
        """Add the step function ``steps`` to the unit's rows: one piece per constant stretch (the rows
        held from the function's first nonzero day on, ``flush``; none when it is zero throughout)."""
        rows = self.units.get(unit, [])
        days = sorted(steps)
        running: dict[int, int] = {}
        for i, day in enumerate(days):
            for column, amount in steps[day].items():
                running[column] = running.get(column, 0) + amount
            delta = [(column, amount) for column, amount in running.items() if amount]
            if delta:
                end = days[i + 1] if i + 1 < len(days) else END_OF_TIME
                self._add(unit, rows, day, end, delta, position)

    def _add(self, unit: str, rows: list[_Row], start: date, end: date, delta: list[tuple[int, int]],
             position: int) -> None:
        """Add the sparse ``delta`` (column, amount) to the unit's figures over ``[start, end)``."""
        if not rows:
            rows.append(self._new(unit, start, END_OF_TIME, ZERO, position))
        elif start < rows[0].valid_from:
            rows.insert(0, self._new(unit, start, rows[0].valid_from, ZERO, position))
        i = self._split(unit, rows, start, position)
        if end != END_OF_TIME:
            self._split(unit, rows, end, position)
        while i < len(rows) and rows[i].valid_from < end:
            row = rows[i]
            changed = list(row.values)
            for column, amount in delta:
                changed[column] += amount
            rows[i] = self._replace(row, row.valid_from, row.valid_to, tuple(changed), position)
            i += 1

    def _split(self, unit: str, rows: list[_Row], day: date, position: int) -> int:
        """Make a row start on ``day`` (the partition covers it); returns that row's index."""
        k = bisect_right(rows, day, key=_valid_from) - 1
        row = rows[k]
        if row.valid_from == day:
            return k
        right = self._new(unit, day, row.valid_to, row.values, position)
        rows[k:k + 1] = [self._replace(row, row.valid_from, day, row.values, position), right]
        return k + 1

    def _new(self, unit: str, valid_from: date, valid_to: date, values: tuple[int, ...], position: int) -> _Row:
        row = _Row(self.next_row_id, unit, valid_from, valid_to, values, position)
        self.next_row_id += 1
        self._created.append(row)
        return row

    def _replace(self, row: _Row, valid_from: date, valid_to: date, values: tuple[int, ...], position: int) -> _Row:
        """The row as changed at ``position``: edited in place when it was itself created there."""
        if row.rec_from == position:
            row.valid_from, row.valid_to, row.values = valid_from, valid_to, values
            return row
        row.rec_to, row.dirty = position, True
        self._closed.append(row)
        return self._new(row.unit_id, valid_from, valid_to, values, position)

    # ------------------------------------------------------------------ writing
    def _write(self) -> None:
        close_rows(self.conn, unit_figures, [(r.rec_to, r.row_id) for r in self._closed if r.stored and r.dirty])
        insert_tuples(self.conn, unit_figures, _COLUMNS, [
            (r.row_id, r.unit_id, r.valid_from, r.valid_to, r.rec_from, r.rec_to, *r.values) for r in self._created])
        for row in self._created:
            row.stored = True
        for row in self._closed:
            row.dirty = False
        self._written = {row.unit_id for row in self._created} | {row.unit_id for row in self._closed}
        self._created.clear()
        self._closed.clear()


def person_contribution(status: str | None, unit_id: str, category: str) -> tuple[str, int] | None:
    """(unit, column) a person row counts in, or None when it does not count (not ACTIVE)."""
    if status != "ACTIVE":
        return None
    return unit_id, HEADCOUNT[category]


def quota_contribution(unit_id: str, category: str, kind: str, amount: int) -> tuple[str, int, int] | None:
    """(unit, column, amount) of a quota row; figures of 0 or less are not in force (as ``Queries`` reads them)."""
    if amount <= 0:
        return None
    return unit_id, QUOTA[(category, kind)], amount


def backfill(conn: Connection, person_rows: Iterable[Any], quota_rows: Iterable[Any]) -> None:
    """Derive ``unit_figures`` from existing person and quota rows (the migration that adds the table).

    Each row's rectangle is contributed as the projector would have: + at ``rec_from``, − at
    ``rec_to`` when closed; applied in log order, the result is the one incremental projection
    gives.
    """
    batch = FigureBatch(conn, fresh=True)
    for r in person_rows:
        found = person_contribution(r.status, r.unit_id, r.category)
        if found is not None:
            _both(batch, found[0], found[1], 1, r)
    for r in quota_rows:
        found_q = quota_contribution(r.unit_id, r.category, r.kind, r.amount)
        if found_q is not None:
            _both(batch, found_q[0], found_q[1], found_q[2], r)
    batch.flush()


def _both(batch: FigureBatch, unit: str, column: int, amount: int, r: Any) -> None:
    batch.contribute(unit, column, amount, r.valid_from, r.valid_to, r.rec_from)
    if r.rec_to != OPEN_POSITION:
        batch.contribute(unit, column, -amount, r.valid_from, r.valid_to, r.rec_to)
