"""Bulk reads with the cyclic garbage collector paused (issues 9 and 11).

A national report or listing creates millions of objects that live until it is built (unit rows,
figure vectors, report lines). CPython's cyclic collector runs every few hundred allocations and,
as the heap grows, walks everything tracked so far: measured on the national ledger, ~0.7 s of a
3 s whole-country report and ~0.2 s of the listing. None of those objects form cycles, so reference
counting frees them all; pausing the collector for the build loses nothing.

Process-wide, so nested and concurrent pauses are counted: the collector resumes when the last one
ends, and only if it was running when the first began.
"""

from __future__ import annotations

import functools
import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ClassVar, ParamSpec, TypeVar

__all__ = ["CollectEvery", "FullCollections", "collection_paused", "paused"]

_lock = threading.Lock()
_depth = 0
_resume = False
_budgeted = 0  # runs inside ``FullCollections`` now
_budget_froze = False  # one of them froze survivors (``FullCollections(freeze=True)``): the last exit unfreezes
_thresholds: tuple[int, int, int] = (700, 10, 10)  # the collector's thresholds found by the first of them

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def collection_paused() -> Iterator[None]:
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()


def paused(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` run with the collector paused (a function that returns, not a generator: a paused
    generator left unfinished would keep the collector off)."""

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        with collection_paused():
            return fn(*args, **kwargs)

    return call


class FullCollections:
    """The collector's full (oldest-generation) collections on a time budget, for a long bulk run.

    Why (issue 9): an import of the national history holds ~2 GB of live objects (the aggregates it
    carries from batch to batch). CPython collects the oldest generation whenever the objects promoted
    into it since the last full collection exceed a quarter of it, and a cache that keeps replacing its
    aggregates keeps promoting them; each such collection walks every object held. Sampled on the
    national import (benchmarks/RESULTS.md section 22): 15% of the importer's time in
    ``gc_collect_main``. The import does create reference cycles (a province import left ~10 unreachable
    objects per command when nothing was collected), so collections cannot simply stop: the young
    generations are still collected as usual (cheap; a cycle made and dropped between two young
    collections is freed there), and the full collection runs from ``tick`` only once CPython's own rule
    is due *and* the run has gone on for ``1/share`` times as long as the last full collection took, so
    full collections take at most ``share`` of the run, never come more often than CPython's rule lets
    them (one per ``threshold`` young collections), and memory held by old cycles stays bounded by the
    garbage of that stretch.

    The import ran this way until RESULTS section 61, which turned its collector off instead
    (``importer._collector``); it stays as that benchmark's settings.

    With ``freeze``, what survives each full collection is moved out of the collector's sight
    (``gc.freeze``), as a rebuild's ``CollectEvery`` does, so the next one walks only what was made
    since instead of every carried aggregate again; the last run to exit unfreezes it all. An object
    frozen and later dropped is freed by its count as usual; only one in a cycle waits for the
    unfreeze. Why: sampled on the national import (section 61), the budget's full collections took
    their whole 5% share, each walking the ~2 GB the import carries.

    Process-wide (``gc.set_threshold``, ``gc.freeze``), so runs at once (imports in two server threads)
    are counted: the automatic full collections are held off from the first entry and given back, with
    the thresholds found then, at the last exit, which also unfreezes what any of them froze.
    """

    #: never collect in full more often than this (seconds): a small heap takes microseconds
    MIN_INTERVAL = 5.0

    def __init__(self, share: float = 0.05, freeze: bool = False) -> None:
        self.share = share
        self.freeze = freeze
        self.collections = 0
        self.seconds = 0.0
        self._last_end = 0.0
        self._last_took = 0.0

    def __enter__(self) -> FullCollections:
        global _budgeted, _thresholds
        with _lock:
            if _budgeted == 0:
                _thresholds = gc.get_threshold()
                gc.set_threshold(_thresholds[0], _thresholds[1], 2**31 - 1)  # oldest: only from ``tick``
            _budgeted += 1
        self._last_end = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        global _budgeted, _budget_froze
        with _lock:
            _budgeted -= 1
            if _budgeted == 0:
                gc.set_threshold(*_thresholds)
                if _budget_froze:
                    gc.unfreeze()
                    _budget_froze = False

    def tick(self) -> bool:
        """Collect in full if CPython's own rule has come due and the budget allows it now; True if
        it did.

        Due: as many young (generation 1) collections since the last full one as the oldest generation's
        threshold asks (``gc.get_count()[2]``; CPython also waits until the objects promoted since make
        up a quarter of the oldest generation, which Python cannot see). So the budget removes full
        collections and adds none beyond what that count allows: measured on the first 7.6 M entries of
        a national rebuild (benchmarks/RESULTS.md section 23), collecting whenever the budget allowed
        ran 47 full collections (20.9 s) where CPython's rule ran 4 (1.9 s)."""
        global _budget_froze
        if gc.get_count()[2] < _thresholds[2]:
            return False
        now = time.perf_counter()
        if now - self._last_end < max(self.MIN_INTERVAL, self._last_took / self.share):
            return False
        gc.collect()
        if self.freeze:
            with _lock:
                gc.freeze()
                _budget_froze = True
        self._last_end = time.perf_counter()
        self._last_took = self._last_end - now
        self.collections += 1
        self.seconds += self._last_took
        return True


class CollectEvery:
    """A full collection each time ``every`` more entries have been applied, for a long load that
    runs with the collector off (``collection_paused``: a catch-up, a rebuild): the load makes few
    cycles, and this bounds what they hold until it ends.

    With ``freeze`` (a rebuild), what survives each collection is moved out of the collector's sight
    (``gc.freeze``) until the load ends (``close``: ``gc.unfreeze``), so the next collection walks
    only what was made since. Why (issue 9): a national rebuild holds ~1.5 GB of objects (the series
    kept, the roll-up's roots) and its full collections walked them all, ~4-6 s each, ~7% of its
    flow's samples (RESULTS section 42). Nothing is lost: a frozen object freed by its count is freed
    as usual, and a frozen cycle made garbage meanwhile is collected once the load unfreezes it.
    Process-wide like the pause: another thread's objects are frozen with the load's for as long as it
    runs, and a frozen load that ends unfreezes theirs too (which only gives the collector back its
    usual work)."""

    #: told of each full collection: the unreachable objects it found and its seconds (None: no one).
    #: A benchmark's probe (``benchmarks.rebuild_once --time-collections``, RESULTS section 52)
    observer: ClassVar[Callable[[int, float], None] | None] = None

    def __init__(self, every: int, freeze: bool = False) -> None:
        self.every = every
        self.freeze = freeze
        self.frozen = False  # this load froze what survived a collection (``close`` unfreezes it)
        self._since = 0  # entries applied since the last full collection

    def applied(self, entries: int) -> None:
        self._since += entries
        if self._since >= self.every:
            started = time.perf_counter()
            found = gc.collect()
            if CollectEvery.observer is not None:
                CollectEvery.observer(found, time.perf_counter() - started)
            if self.freeze:
                gc.freeze()
                self.frozen = True
            self._since = 0

    def close(self) -> None:
        """Give the frozen objects back to the collector (the load has ended)."""
        if self.frozen:
            gc.unfreeze()
            self.frozen = False
