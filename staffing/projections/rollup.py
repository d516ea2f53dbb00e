"""The national summary's roll-up: per top-level unit, append-only bitemporal deltas (issue 9).

Why: the national summary (one row per province and central body, each summed over its subtree)
read every unit of the country and one figure row per unit: ~60,000 index seeks, 1-2 s. Section 6
of ``benchmarks/RESULTS.md`` tried state rows per ancestor and rejected them: a fact dated d
rewrites every later row of every ancestor. Here nothing is rewritten.

The rule that makes it exact. A unit's contribution to the summary on day D as known at position P
is its figure row visible at (D, P), attributed to its *root* at (D, P): the top-level unit it lies
under (walking up while the parent is in force on D, as ``Queries``' tree walk does). Both are
bitemporal rows: ``unit_figures`` rows (F) and ``unit_roots`` rows (R, kept here: one per stretch of
days a unit is in force under one root). For each pair (F, R) of one unit, F's vector counts for R's
root over the intersection of their rectangles, ``[max a, min b) x [max p, min q)``. A rectangle is
four corner deltas (+ at its low day and position, - at its high day, - at its high position, + at
both highs), so a root's totals at (D, P) are the sum of its deltas with ``day <= D`` and
``position <= P``. A pair's opening corners are written when the later of its two rows is created,
its closing corners when the first is closed: every delta is written at the position being
projected, never before, so the deltas are append-only and an answer known at a past position
never changes. Each R row also adds 1 to ``units`` over its own rectangle, so the roots in force at
(D, P) are those whose ``units`` is positive (no walk of the tree). Gross surplus and vacancy (each
unit alone) are computed per F row, so they add up like the rest.

Reading a root needs, besides its deltas, *marks*: every ``EPOCH`` log positions, the sum of each
root's deltas dated before each *bound* (the 2nd, 9th, 16th and 23rd of every month) is stored as of the
mark's position (``root_checkpoints``, a row only where it changed). A summary at (D, P) is the
checkpoint of the last bound on or before D + 1 at the last mark before P, plus the deltas recorded
after that mark, plus the deltas dated from that bound to D: at most a week's. Bounds fall the day
after the 1st because the great days of a record are 1sts (a reform's 01/07/2025, a year's quota
acts on 01/01): D on such a day reads the bound after it, whose checkpoint holds that whole day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from operator import add, itemgetter
from typing import Any

from sqlalchemy import Connection, func, select

from staffing.projections.bulk import chunks, close_rows, insert_rows, insert_tuples, key_in
from staffing.projections.figures import WIDTH, gap
from staffing.projections.tables import (
    END_OF_TIME,
    OPEN_POSITION,
    ROLLUP_COLUMNS,
    rollup_marks,
    root_checkpoints,
    root_deltas,
    unit_roots,
    unit_versions,
)

__all__ = ["EPOCH", "RWIDTH", "SURPLUS", "UNITS", "VACANCY", "Rollup", "bound_for", "is_summary", "next_bound"]

RWIDTH = len(ROLLUP_COLUMNS)
SURPLUS, VACANCY, UNITS = WIDTH, WIDTH + 1, WIDTH + 2
#: log positions between two marks: a summary sums at most the deltas of this many after its mark
EPOCH = 20_000
#: the last bound a mark stores (later dates read its checkpoint and the deltas after it)
LAST_BOUND = date(2100, 1, 2)
_BOUND_DAYS = (2, 9, 16, 23)
MAX_DEPTH = 64  # as ``Queries``: deeper than any administrative tree; a cycle is cut
_PARENT, _STATUS = 5, 6  # in a unit row's values (the unit series' value columns)
_UNIT_ONLY = ((UNITS, 1),)  # a root row's own contribution: one unit in force (sparse, as ``extended``)
_DELTA_COLUMNS = ("root_id", "day", "position", *ROLLUP_COLUMNS)
_CHECKPOINT_COLUMNS = ("root_id", "bound", "position", *ROLLUP_COLUMNS)
_BY_POSITION = itemgetter(2, 0, 1)  # a delta's (position, root, day)


def is_summary(root_id: str | None, depth: int | None, rolled: bool) -> bool:
    """Whether a report asks for what the roll-up answers: the national summary (no root, one level,
    each row rolled up over its subtree). The report and the downloads both ask here."""
    return root_id is None and depth == 1 and rolled


@lru_cache(maxsize=1 << 16)  # (a mark walks the bounds after each delta's day: called per bound, per root)
def bound_floor(day: date) -> date:
    """The last bound on or before ``day``."""
    for d in reversed(_BOUND_DAYS):
        if day.day >= d:
            return day.replace(day=d)
    previous = day.replace(day=1) - timedelta(days=1)
    return previous.replace(day=_BOUND_DAYS[-1])


@lru_cache(maxsize=1 << 16)
def next_bound(bound: date) -> date:
    """The bound after ``bound`` (itself a bound)."""
    i = _BOUND_DAYS.index(bound.day)
    if i + 1 < len(_BOUND_DAYS):
        return bound.replace(day=_BOUND_DAYS[i + 1])
    return date(bound.year + 1, 1, 2) if bound.month == 12 else date(bound.year, bound.month + 1, 2)


def first_bound_after(day: date) -> date:
    """The first bound whose checkpoint counts a delta dated ``day`` (sums are of days before a bound)."""
    return next_bound(bound_floor(day))


def bound_for(as_of: date) -> date:
    """The checkpoint a summary on ``as_of`` starts from: the last bound on or before the next day."""
    return bound_floor(as_of + timedelta(days=1)) if as_of < date.max else bound_floor(as_of)


def extended(values: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """The nonzero (column, amount) pairs of a figure vector with its gross surplus and gross vacancy
    (``ROLLUP_COLUMNS``). Sparse: a unit's vector has a few nonzero figures of 23 columns, and a
    flush adds each to several corners."""
    found = gap(values)
    pairs = [(i, x) for i, x in enumerate(values) if x]
    if found:
        pairs.append((SURPLUS, found) if found > 0 else (VACANCY, -found))
    return tuple(pairs)


@dataclass(eq=False, slots=True)
class RootRow:
    row_id: int
    unit_id: str
    root_id: str
    valid_from: date
    valid_to: date
    rec_from: int
    rec_to: int = OPEN_POSITION
    stored: bool = False


class Rollup:
    """The roll-up's working state: the held units' believed root rows, and the deltas since the last mark."""

    def __init__(self, conn: Connection, fresh: bool) -> None:
        self.conn = conn
        self.fresh = fresh  # the tables are empty at start (a rebuild): nothing to read back
        #: every unit's believed root rows, once held (kept so by ``_retree``), for as long as this
        #: object lives: a few per unit, so a projector that forgets its series keeps these (issue 9)
        self.roots: dict[str, list[RootRow]] = {}
        #: parent -> units that had it as parent in some row seen here (complete while fresh)
        self.children: dict[str, set[str]] = defaultdict(set)
        self.next_row_id = 1 if fresh else int(
            conn.execute(select(func.coalesce(func.max(unit_roots.c.row_id), 0))).scalar_one()) + 1
        self.marks = _Marks(fresh)

    # ------------------------------------------------------------------ one flush
    def flush(self, created_units: Sequence[tuple[str, Any]], closed_units: Sequence[tuple[str, Any]],
              unit_rows: Callable[[str], list[Any]], created_figures: Sequence[Any], closed_figures: Sequence[Any],
              open_figures: Callable[[Mapping[str, date]], dict[str, list[Any]]],
              hold_units: Callable[[set[str]], object] | None = None) -> None:
        """Derive the deltas of one flush of the series: the unit rows created and closed in it (key,
        row); ``unit_rows(u)`` a unit's rows believed at some position of the flush; the figure rows
        created and closed; ``open_figures(since)`` each unit's believed figure rows that end after its
        day; ``hold_units(units)``, a hint, reads the rows of every unit a re-rooting walks together,
        before ``unit_rows`` asks for them one by one."""
        changes = [(unit, row.rec_from) for unit, row in created_units]
        changes += [(unit, row.rec_to) for unit, row in closed_units]
        positions = [p for _, p in changes] + [r.rec_from for r in created_figures]
        positions += [r.rec_to for r in closed_figures]
        if not positions:
            return
        after = min(positions) - 1  # every row alive before this flush was created at or before it
        for unit, row in created_units:
            parent = row.values[_PARENT]
            if parent is not None:
                self.children[parent].add(unit)
        created_roots, closed_roots = self._retree(changes, unit_rows, after, hold_units)
        figures_by_unit: dict[str, list[Any]] = defaultdict(list)
        for r in created_figures:
            figures_by_unit[r.unit_id].append(r)
        for r in closed_figures:
            if r.rec_from <= after:  # (one created in this flush is among those created already)
                figures_by_unit[r.unit_id].append(r)
        changed: set[int] = set()
        roots_by_unit: dict[str, list[RootRow]] = defaultdict(list)
        for r in (*created_roots, *closed_roots):
            if id(r) not in changed:
                changed.add(id(r))
                roots_by_unit[r.unit_id].append(r)
        self._load_roots(set(figures_by_unit) - set(self.roots))
        terms: dict[tuple[str, date, int, tuple[int, ...] | None], int] = defaultdict(int)
        self._pair_figures(terms, figures_by_unit, roots_by_unit, after)
        changed.update(id(f) for unit in roots_by_unit for f in figures_by_unit.get(unit, ()))
        changed_since = {unit: _changed_since(rows, after) for unit, rows in roots_by_unit.items()}
        believed_figures = open_figures({unit: day for unit, day in changed_since.items() if day is not None})
        for unit, r_changed in roots_by_unit.items():
            f_rows = _union(believed_figures.get(unit, ()), figures_by_unit.get(unit, ()))
            r_rows = _union(self.roots.get(unit, ()), r_changed)
            for f in f_rows:
                f_is_changed = id(f) in changed
                for r in r_rows:
                    if f_is_changed or id(r) in changed:
                        _corners(terms, r.root_id, f.values, max(f.valid_from, r.valid_from),
                                 min(f.valid_to, r.valid_to), max(f.rec_from, r.rec_from), min(f.rec_to, r.rec_to),
                                 after)
            for r in r_changed:
                _corners(terms, r.root_id, None, r.valid_from, r.valid_to, r.rec_from, r.rec_to, after)
        self._write(created_roots, closed_roots, _deltas(terms))

    def _pair_figures(self, terms: dict[tuple[str, date, int, tuple[int, ...] | None], int],
                      figures_by_unit: Mapping[str, list[Any]], roots_by_unit: Mapping[str, list[RootRow]],
                      after: int) -> None:
        """The corners (``_corners``, inlined: this is the flow's every figure row) of each figure row
        changed in this flush of a unit whose root rows did not change: each of those is believed at
        every position of the flush (created before it, closed at none), so a pair's positions are the
        figure row's own and only its days are clipped to the root row's."""
        for unit, f_changed in figures_by_unit.items():
            if unit in roots_by_unit:
                continue
            for r in self.roots[unit]:
                root, r_from, r_to = r.root_id, r.valid_from, r.valid_to
                for f in f_changed:
                    low = f.valid_from if f.valid_from > r_from else r_from
                    high = f.valid_to if f.valid_to < r_to else r_to
                    values, start, end = f.values, f.rec_from, f.rec_to
                    if low >= high or start >= end:
                        continue
                    if start > after:
                        terms[(root, low, start, values)] += 1
                        if high != END_OF_TIME:
                            terms[(root, high, start, values)] -= 1
                    if end < OPEN_POSITION:  # (closed in this flush: after ``after``)
                        terms[(root, low, end, values)] -= 1
                        if high != END_OF_TIME:
                            terms[(root, high, end, values)] += 1

    # ------------------------------------------------------------------ the roots
    def _retree(self, changes: Sequence[tuple[str, int]], unit_rows: Callable[[str], list[Any]],
                after: int, hold_units: Callable[[set[str]], object] | None = None
                ) -> tuple[list[RootRow], list[RootRow]]:
        """Re-derive, at each position where a unit row changed, the root rows of that unit and of every
        unit below it (as the rows believed at that position place them); returns the rows created and
        closed."""
        by_position: dict[int, set[str]] = defaultdict(set)
        for unit, position in changes:
            by_position[position].add(unit)
        if not by_position:
            return [], []
        below = self._descendants({u for units in by_position.values() for u in units}, after)
        walked = {u for units in by_position.values() for u in units for u in below[u]}
        if hold_units is not None:  # the walk below asks for each of these units' rows (issue 9: a
            hold_units(walked)  # merger re-roots thousands of units; one read each on a long log)
        self._load_roots(walked - set(self.roots))
        created: list[RootRow] = []
        closed: list[RootRow] = []
        for position in sorted(by_position):
            memo: dict[str, list[tuple[date, date, str | None]] | None] = {}
            affected = {u for unit in by_position[position] for u in below[unit]}
            for unit in sorted(affected):
                wanted = {(a, b, root) for a, b, root in _stretches(unit, position, unit_rows, memo, 0)
                          if root is not None}
                kept = []
                for row in self.roots.get(unit, []):
                    key = (row.valid_from, row.valid_to, row.root_id)
                    if key in wanted:
                        wanted.discard(key)
                        kept.append(row)
                    elif row.rec_from == position:  # created at this very position: never believed
                        created.remove(row)
                    else:
                        row.rec_to = position
                        closed.append(row)
                for a, b, root in sorted(wanted, key=lambda w: w[0]):
                    row = RootRow(self.next_row_id, unit, root, a, b, position)  # type: ignore[arg-type]
                    self.next_row_id += 1
                    kept.append(row)
                    created.append(row)
                self.roots[unit] = kept
        return created, closed

    def _descendants(self, units: set[str], after: int) -> dict[str, set[str]]:
        """Each unit with every unit that had it as an ancestor in a row believed after ``after``."""
        children: dict[str, set[str]] = {}
        frontier = set(units)
        while frontier:
            for parent in frontier:
                children[parent] = set(self.children.get(parent, ()))
            if not self.fresh:
                v = unit_versions
                for chunk in chunks(frontier):
                    for child, parent in self.conn.execute(
                            select(v.c.unit_id, v.c.parent_id).distinct()
                            .where(key_in(self.conn, v.c.parent_id, chunk), v.c.rec_to > after)):
                        children[parent].add(child)
            frontier = {c for p in frontier for c in children[p]} - set(children)
        out: dict[str, set[str]] = {}
        for unit in units:
            found, stack = {unit}, [unit]
            while stack:
                for child in children.get(stack.pop(), ()):
                    if child not in found:
                        found.add(child)
                        stack.append(child)
            out[unit] = found
        return out

    def _load_roots(self, units: set[str]) -> None:
        for unit in units:
            self.roots[unit] = []
        if self.fresh or not units:
            return
        r = unit_roots
        for chunk in chunks(units):
            for row in self.conn.execute(select(r.c.row_id, r.c.unit_id, r.c.root_id, r.c.valid_from, r.c.valid_to,
                                                r.c.rec_from).where(key_in(self.conn, r.c.unit_id, chunk),
                                                                   r.c.rec_to == OPEN_POSITION)):
                self.roots[row.unit_id].append(RootRow(*row, stored=True))

    # ------------------------------------------------------------------ writing
    def _write(self, created: list[RootRow], closed: list[RootRow],
               deltas: dict[tuple[str, date, int], list[int]]) -> None:
        close_rows(self.conn, unit_roots, [(r.rec_to, r.row_id) for r in closed if r.stored])
        insert_rows(self.conn, unit_roots, [
            {"row_id": r.row_id, "unit_id": r.unit_id, "root_id": r.root_id, "valid_from": r.valid_from,
             "valid_to": r.valid_to, "rec_from": r.rec_from, "rec_to": r.rec_to} for r in created])
        for r in created:
            r.stored = True
        # (in position order, then root and day: each key once, so the vectors are never compared)
        found = sorted(((root, day, position, tuple(vector)) for (root, day, position), vector in deltas.items()
                        if any(vector)), key=_BY_POSITION)
        insert_tuples(self.conn, root_deltas, _DELTA_COLUMNS, [(r, d, p, *v) for r, d, p, v in found])
        self.marks.add(self.conn, found)


def _union(first: Iterable[Any], second: Iterable[Any]) -> list[Any]:
    seen: set[int] = set()
    out = []
    for r in (*first, *second):
        if id(r) not in seen:
            seen.add(id(r))
            out.append(r)
    return out


def _corners(terms: dict[tuple[str, date, int, tuple[int, ...] | None], int], root: str,
             values: tuple[int, ...] | None, low: date, high: date, start: int, end: int, after: int) -> None:
    """The corners of a figure row's ``values`` (None: a root row's one unit) over days ``[low, high)``
    x positions ``[start, end)`` not yet written (those at positions after ``after``), counted per
    (root, day, position, values): ``_deltas`` turns them into vectors."""
    if low >= high or start >= end:
        return
    if start > after:
        terms[(root, low, start, values)] += 1
        if high != END_OF_TIME:
            terms[(root, high, start, values)] -= 1
    if after < end < OPEN_POSITION:
        terms[(root, low, end, values)] -= 1
        if high != END_OF_TIME:
            terms[(root, high, end, values)] += 1


def _deltas(terms: Mapping[tuple[str, date, int, tuple[int, ...] | None], int]
            ) -> dict[tuple[str, date, int], list[int]]:
    """The delta vector per (root, day, position) of the corners counted in ``terms``.

    Why count first (issue 9): a figure row changed at a position is closed and replaced by rows that
    mostly carry the same values from the same day (a departure splits the unit's last row: the old
    values up to its day, the new ones after), so most corners cancel exactly; counted per values,
    only those left are extended (gross surplus and vacancy) and added, once per distinct values."""
    deltas: dict[tuple[str, date, int], list[int]] = {}
    vectors: dict[tuple[int, ...], tuple[tuple[int, int], ...]] = {}
    for (root, day, position, values), count in terms.items():
        if not count:
            continue
        if values is None:
            vector = _UNIT_ONLY
        else:
            vector = vectors.get(values)  # type: ignore[assignment]
            if vector is None:
                vector = vectors[values] = extended(values)
        _add(deltas, (root, day, position), vector, count)
    return deltas


def _changed_since(rows: Iterable[RootRow], after: int) -> date | None:
    """The first day on which one unit's root rows created or closed after ``after`` do not cancel out
    (None: they cancel everywhere).

    Why (issue 9): a merger on 01/07/2025 closes each re-rooted unit's root row ``[a, END)`` and opens
    ``[a, 01/07/2025)`` under the same root and ``[01/07/2025, END)`` under the new one, at one
    position. Paired with a figure row that ends before 01/07/2025, the closed and the reopened row
    give opposite corners at the same days and position: nothing. So only the figure rows ending after
    this day need pairing with the changed root rows; reading back every figure row of thousands of
    re-rooted units (ten years of intervals each) was ~70% of the national rebuild's reform phase.
    Counted per (position, root): +1 over the days of a row created there, -1 over a row closed there.
    """
    steps: dict[tuple[int, str], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        for position, sign in ((r.rec_from, 1), (r.rec_to, -1)):
            if after < position < OPEN_POSITION:
                step = steps[(position, r.root_id)]
                step[r.valid_from] += sign
                step[r.valid_to] -= sign
    first: date | None = None
    for step in steps.values():
        running = 0
        for day in sorted(step):
            running += step[day]
            if running:
                first = day if first is None else min(first, day)
                break
    return first


def _add(deltas: dict[tuple[str, date, int], list[int]], key: tuple[str, date, int],
         vector: Sequence[tuple[int, int]], sign: int) -> None:
    found = deltas.get(key)
    if found is None:
        found = deltas[key] = [0] * RWIDTH
    for i, x in vector:
        found[i] += sign * x


def _stretches(unit: str, position: int, unit_rows: Callable[[str], list[Any]],
               memo: dict[str, list[tuple[date, date, str | None]] | None], depth: int,
               cuts: list[str] | None = None) -> list[tuple[date, date, str | None]]:
    """(from, to, root) for each stretch of days ``unit`` is in force, as believed at ``position``.

    The root is the unit itself where it has no parent or its parent is not in force that day (the
    tree walk's top level), else its parent's root. None: above it the parents run in a cycle (which
    the write side forbids): the tree walk reaches no such unit, so it is in no root.

    A walk that comes back to a unit still being walked is cut there (``cuts`` names it). Parents
    change with the dates, so that need not be a cycle: a commune once under a district may have that
    district re-homed under it years later. Each stretch is intersected with its parent's, so the
    cut's None survives only on days the whole path holds at once (a true cycle), but what a unit
    *below* the cut unit found is only right for this walk: it is memoised once the cut unit is done.
    """
    if cuts is None:
        cuts = []
    if unit in memo:
        found = memo[unit]
        if found is None:
            cuts.append(unit)
            return [(date.min, END_OF_TIME, None)]
        return found
    if depth > MAX_DEPTH:
        return [(date.min, END_OF_TIME, None)]
    memo[unit] = None  # a walk back to here is cut
    first_cut = len(cuts)
    out: list[tuple[date, date, str | None]] = []
    rows = sorted((r for r in unit_rows(unit) if r.rec_from <= position < r.rec_to
                   and r.values[_STATUS] == "ACTIVE" and r.valid_from < r.valid_to), key=lambda r: r.valid_from)
    for row in rows:
        a, b, parent = row.valid_from, row.valid_to, row.values[_PARENT]
        if parent is None:
            out.append((a, b, unit))
            continue
        cursor = a
        for pa, pb, root in _stretches(parent, position, unit_rows, memo, depth + 1, cuts):
            low, high = max(a, pa), min(b, pb)
            if low >= high:
                continue
            if low > cursor:
                out.append((cursor, low, unit))
            out.append((low, high, root))
            cursor = high
        if cursor < b:
            out.append((cursor, b, unit))
    merged: list[tuple[date, date, str | None]] = []
    for a, b, root in out:
        if merged and merged[-1][1] == a and merged[-1][2] == root:
            merged[-1] = (merged[-1][0], b, root)
        else:
            merged.append((a, b, root))
    cuts[first_cut:] = [c for c in cuts[first_cut:] if c != unit]  # cuts at this unit are settled now
    if len(cuts) > first_cut:
        del memo[unit]  # cut at a unit above, still being walked: right for this walk only
    else:
        memo[unit] = merged
    return merged


class _Marks:
    """Makes a mark at the first position with deltas ``EPOCH`` positions or more after the last one.

    A rebuild (``fresh``) holds the epoch's deltas and every checkpoint in memory (its tables have no
    secondary index until the end). Otherwise the first mark reads the epoch's deltas by position and
    the checkpoints of the bounds it may change by bound, through their indexes, and later marks use
    what is held: a projector or a preview that starts pays a one-row read (the last mark)."""

    def __init__(self, fresh: bool) -> None:
        self.loaded = fresh
        self.position = 0  # of the last mark (0: none yet)
        self.extent: date | None = None
        self.epoch: list[tuple[str, date, int, tuple[int, ...]]] | None = [] if fresh else None
        #: each root's checkpoint per bound at the last mark, for the bounds from ``values_from`` on (those
        #: read back so far, then kept up to date here: a projector reads each stored row once)
        self.values: dict[tuple[str, date], tuple[int, ...]] = {}
        #: the roots ``values`` holds a checkpoint of (kept with it: a mark walks each, and ``values``
        #: holds one per bound, hundreds per root)
        self.value_roots: set[str] = set()
        self.values_from: date | None = date.min if fresh else None

    def load(self, conn: Connection) -> None:
        """Read the last mark (once)."""
        if self.loaded:
            return
        last = conn.execute(select(rollup_marks.c.position, rollup_marks.c.extent)
                            .order_by(rollup_marks.c.position.desc()).limit(1)).first()
        if last is not None:
            self.position, self.extent = int(last.position), last.extent
        self.loaded = True

    def add(self, conn: Connection, found: list[tuple[str, date, int, tuple[int, ...]]]) -> None:
        """Take deltas in position order (already in the table), marking after the first position at least
        ``EPOCH`` past the last mark (never inside one position: a mark covers every delta up to its
        position). Positions, not a count of deltas, decide: nothing to count when a projector starts."""
        self.load(conn)
        for i, delta in enumerate(found):
            if self.epoch is not None:
                self.epoch.append(delta)
            if delta[2] - self.position >= EPOCH and (i + 1 == len(found) or found[i + 1][2] != delta[2]):
                self._mark(conn, delta[2])

    def _deltas(self, conn: Connection, position: int) -> list[tuple[str, date, int, tuple[int, ...]]]:
        if self.epoch is not None:
            return self.epoch
        d = root_deltas
        return [(r[0], r[1], int(r[2]), tuple(r[3:])) for r in conn.execute(
            select(d.c.root_id, d.c.day, d.c.position, *[d.c[n] for n in ROLLUP_COLUMNS])
            .where(d.c.position > self.position, d.c.position <= position))]

    def _checkpoints(self, conn: Connection, first: date) -> dict[tuple[str, date], tuple[int, ...]]:
        """Each root's checkpoint at the last mark, held for the bounds from ``first`` on at least: the
        bounds before those already held are read back (the latest version of each), once."""
        if self.values_from is None or first < self.values_from:
            c = root_checkpoints
            query = select(c.c.root_id, c.c.bound, *[c.c[n] for n in ROLLUP_COLUMNS]).where(c.c.bound >= first)
            if self.values_from is not None:
                query = query.where(c.c.bound < self.values_from)
            for r in conn.execute(query.order_by(c.c.position)):
                self.values[(r[0], r[1])] = tuple(r[2:])
                self.value_roots.add(r[0])
            self.values_from = first
        return self.values

    def _mark(self, conn: Connection, position: int) -> None:
        """Store each root's sums per bound as of ``position``, where they changed."""
        epoch = self._deltas(conn, position)
        by_root: dict[str, list[tuple[date, tuple[int, ...]]]] = defaultdict(list)
        for root, day, _, vector in epoch:
            by_root[root].append((day, vector))
        old = self.extent
        extent = min(max([first_bound_after(max(day for _, day, _, _ in epoch)),
                          *([old] if old is not None else [])]), LAST_BOUND)
        first = first_bound_after(min(day for _, day, _, _ in epoch))  # (it never decreases with the day)
        values = self._checkpoints(conn, min(first, old) if old is not None else first)
        zero = (0,) * RWIDTH
        rows = []
        for root in sorted(self.value_roots | by_root.keys()):
            dated = sorted(by_root.get(root, ()), key=lambda x: x[0])
            start = first_bound_after(dated[0][0]) if dated else extent
            if old is not None and old < extent:
                start = min(start, next_bound(old))
            running = [0] * RWIDTH
            i = 0
            bound = start
            # beyond the old extent, the old sums equal the extent's (read before it is updated below)
            beyond = values.get((root, old), zero) if old is not None else zero
            while bound <= extent:
                while i < len(dated) and dated[i][0] < bound:
                    running = list(map(add, running, dated[i][1]))  # (RWIDTH each: no zip, no frames)
                    i += 1
                within = old is not None and bound <= old
                if not any(running) and (within or not any(beyond)):
                    # nothing to write here (the sums stay as they were, or zero): on to the bound of
                    # the next dated delta, or past the old extent (where each bound is written anew)
                    following = [next_bound(old)] if within and old is not None else []
                    if i < len(dated):
                        following.append(first_bound_after(dated[i][0]))
                    if not following:
                        break
                    bound = max(min(following), next_bound(bound))
                    continue
                before = values.get((root, bound), zero) if within else beyond
                new = tuple(map(add, before, running))
                if new != before if within else any(new):
                    values[(root, bound)] = new
                    self.value_roots.add(root)
                    rows.append((root, bound, position, *new))
                bound = next_bound(bound)
        insert_tuples(conn, root_checkpoints, _CHECKPOINT_COLUMNS, rows)
        insert_rows(conn, rollup_marks, [{"position": position, "extent": extent}])
        self.position, self.extent, self.epoch = position, extent, []


@dataclass(eq=False)
class _Stored:
    """A unit or figure row as read back for ``backfill`` (the fields ``Rollup.flush`` reads)."""

    unit_id: str
    valid_from: date
    valid_to: date
    rec_from: int
    rec_to: int
    values: tuple[Any, ...]


def backfill(conn: Connection) -> None:
    """Derive the roll-up from the unit and figure rows already projected (the migration that adds it,
    and read-model tables filled without the projector): every row is handed to ``Rollup.flush`` as
    created at its ``rec_from`` and closed at its ``rec_to``, which gives what projecting them in log
    order gives."""
    from staffing.projections.figures import FIGURE_COLUMNS
    from staffing.projections.tables import unit_figures

    v, f = unit_versions, unit_figures
    units: dict[str, list[_Stored]] = defaultdict(list)
    changes = []
    for r in conn.execute(select(v.c.unit_id, v.c.valid_from, v.c.valid_to, v.c.rec_from, v.c.rec_to,
                                 v.c.parent_id, v.c.status)):
        row = _Stored(r.unit_id, r.valid_from, r.valid_to, int(r.rec_from), int(r.rec_to),
                      (None,) * _PARENT + (r.parent_id, r.status))
        units[r.unit_id].append(row)
        changes.append((r.unit_id, row))
    figures = [_Stored(r[0], r[1], r[2], int(r[3]), int(r[4]), tuple(r[5:])) for r in conn.execute(
        select(f.c.unit_id, f.c.valid_from, f.c.valid_to, f.c.rec_from, f.c.rec_to,
               *[f.c[n] for n in FIGURE_COLUMNS]))]
    rollup = Rollup(conn, fresh=True)
    rollup.flush(changes, [c for c in changes if c[1].rec_to != OPEN_POSITION], lambda unit: units.get(unit, []),
                 figures,
                 [r for r in figures if r.rec_to != OPEN_POSITION], lambda wanted: {u: [] for u in wanted})
