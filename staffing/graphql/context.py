"""Per-request context: the ledger's service and queries, and DataLoaders that batch look-ups
(each batch read runs in a worker thread, off the event loop)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from staffing.application import StaffingService
from staffing.graphql.auth import Principal
from staffing.projections.figures import HEADCOUNT
from staffing.projections.queries import LineageEntry, PersonView, Queries, UnitView

__all__ = ["Context", "Loaders"]

K = TypeVar("K")
G = TypeVar("G")


def _grouped(keys: Sequence[K], group: Callable[[K], G]) -> dict[G, list[K]]:
    out: dict[G, list[K]] = defaultdict(list)
    for key in keys:
        out[group(key)].append(key)
    return out


@dataclass
class Loaders:
    queries: Queries
    unit: DataLoader[tuple[str, date, int], UnitView | None] = field(init=False)
    children: DataLoader[tuple[str, date, int], list[UnitView]] = field(init=False)
    lineage: DataLoader[tuple[str, int], tuple[list[LineageEntry], list[LineageEntry]]] = field(init=False)
    last_known: DataLoader[tuple[str, int], UnitView | None] = field(init=False)
    lifetime: DataLoader[tuple[str, int], tuple[date | None, date | None]] = field(init=False)
    headcount: DataLoader[tuple[str, date, int], int] = field(init=False)
    staff: DataLoader[tuple[str, date, int], list[PersonView]] = field(init=False)
    posts: DataLoader[tuple[str, date, int], list[tuple[Any, list[PersonView]]]] = field(init=False)
    subtree: DataLoader[tuple[str, date, int], frozenset[str]] = field(init=False)
    names: DataLoader[str, dict[str, str] | None] = field(init=False)

    def __post_init__(self) -> None:
        self.headcount = DataLoader(load_fn=self._by_units(self._headcounts, 0))
        self.staff = DataLoader(load_fn=self._by_units(self.queries.staff_of, []))
        self.posts = DataLoader(load_fn=self._by_units(self.queries.positions_of, []))
        self.subtree = DataLoader(load_fn=self._subtrees)
        self.names = DataLoader(load_fn=self._names)
        self.unit = DataLoader(load_fn=self._units)
        self.children = DataLoader(load_fn=self._children)
        self.lineage = DataLoader(load_fn=self._lineage)
        self.last_known = DataLoader(load_fn=self._last_known)
        self.lifetime = DataLoader(load_fn=self._lifetimes)

    async def _units(self, keys: Sequence[tuple[str, date, int]]) -> list[UnitView | None]:
        return await asyncio.to_thread(self._units_now, keys)

    def _units_now(self, keys: Sequence[tuple[str, date, int]]) -> list[UnitView | None]:
        found: dict[tuple[str, date, int], UnitView | None] = {}
        with self.queries.connect() as conn:
            for (as_of, position), group in _grouped(keys, lambda k: (k[1], k[2])).items():
                views = self.queries.units_by_id(conn, [k[0] for k in group], as_of, position)
                for key in group:
                    found[key] = views.get(key[0])
        return [found[k] for k in keys]

    async def _children(self, keys: Sequence[tuple[str, date, int]]) -> list[list[UnitView]]:
        return await asyncio.to_thread(self._children_now, keys)

    def _children_now(self, keys: Sequence[tuple[str, date, int]]) -> list[list[UnitView]]:
        found: dict[tuple[str, date, int], list[UnitView]] = {}
        with self.queries.connect() as conn:
            for (as_of, position), group in _grouped(keys, lambda k: (k[1], k[2])).items():
                views = self.queries.children_of(conn, [k[0] for k in group], as_of, position)
                for key in group:
                    found[key] = views.get(key[0], [])
        return [found[k] for k in keys]

    def _by_units(self, read: Callable[[Any, list[str], date, int], dict[str, Any]], empty: Any
                  ) -> Callable[[Sequence[tuple[str, date, int]]], Any]:
        """A batch function for (unit, as of, position) keys: one ``read`` of many units per (date, position)."""
        async def load(keys: Sequence[tuple[str, date, int]]) -> list[Any]:
            def now() -> list[Any]:
                found: dict[tuple[str, date, int], Any] = {}
                with self.queries.connect() as conn:
                    for (as_of, position), group in _grouped(keys, lambda k: (k[1], k[2])).items():
                        values = read(conn, [k[0] for k in group], as_of, position)
                        for key in group:
                            found[key] = values.get(key[0], empty)
                return [found[k] for k in keys]
            return await asyncio.to_thread(now)
        return load

    def _headcounts(self, conn: Any, unit_ids: list[str], as_of: date, position: int) -> dict[str, int]:
        vectors = self.queries.figure_rows(conn, unit_ids, as_of, position)
        return {unit: sum(vector[i] for i in HEADCOUNT.values()) for unit, vector in vectors.items()}

    async def _names(self, keys: Sequence[str]) -> list[dict[str, str] | None]:
        def now() -> list[dict[str, str] | None]:
            with self.queries.connect() as conn:
                found = self.queries.names_of(conn, keys)
            return [found.get(k) for k in keys]
        return await asyncio.to_thread(now)

    async def _subtrees(self, keys: Sequence[tuple[str, date, int]]) -> list[frozenset[str]]:
        def now() -> list[frozenset[str]]:
            with self.queries.connect() as conn:
                return [frozenset(self.queries.subtree_ids(conn, *key)) for key in keys]
        return await asyncio.to_thread(now)

    async def _lineage(self, keys: Sequence[tuple[str, int]]) -> list[tuple[list[LineageEntry], list[LineageEntry]]]:
        def now() -> list[tuple[list[LineageEntry], list[LineageEntry]]]:
            with self.queries.connect() as conn:
                return [self.queries.lineage(conn, unit_id, position) for unit_id, position in keys]
        return await asyncio.to_thread(now)

    async def _lifetimes(self, keys: Sequence[tuple[str, int]]) -> list[tuple[date | None, date | None]]:
        def now() -> list[tuple[date | None, date | None]]:
            found: dict[tuple[str, int], tuple[date | None, date | None]] = {}
            with self.queries.connect() as conn:
                for position, group in _grouped(keys, lambda k: k[1]).items():
                    spans = self.queries.lifetimes(conn, [k[0] for k in group], position)
                    for key in group:
                        found[key] = spans.get(key[0], (None, None))
            return [found[k] for k in keys]
        return await asyncio.to_thread(now)

    async def _last_known(self, keys: Sequence[tuple[str, int]]) -> list[UnitView | None]:
        def now() -> list[UnitView | None]:
            with self.queries.connect() as conn:
                return [self.queries.last_known_unit(conn, unit_id, position) for unit_id, position in keys]
        return await asyncio.to_thread(now)


@dataclass
class Context:
    service: StaffingService
    queries: Queries
    loaders: Loaders
    principal: Principal | None = None
    auth_problem: str | None = None  # why the caller is not authenticated (told in UNAUTHENTICATED errors)
    _positions: dict[datetime | None, int] = field(default_factory=dict)
    request: Any = None
    response: Any = None

    def position(self, known_at: datetime | None) -> int:
        """The log position known at ``known_at``, resolved once per request."""
        if known_at not in self._positions:
            with self.queries.connect() as conn:
                self._positions[known_at] = self.queries.knowledge_position(conn, known_at)
        return self._positions[known_at]
