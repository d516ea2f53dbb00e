"""The collector pause around bulk reads: counted, so nested and overlapping pauses resume it once,
and only when it was running before."""

from __future__ import annotations

import gc
import threading

import pytest

from staffing import pause
from staffing.pause import CollectEvery, FullCollections, collection_paused, paused


def test_nested_and_overlapping_pauses_resume_the_collector_once_at_the_end() -> None:
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still runs
    assert gc.isenabled()

    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with collection_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with collection_paused():
        thread.start()
        inside.wait(5)
    assert not gc.isenabled()  # the other thread's pause outlives this one
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off_and_a_paused_function_returns_its_result() -> None:
    gc.disable()
    try:
        assert paused(lambda x: x * 2)(21) == 42
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert paused(lambda: gc.isenabled())() is False and gc.isenabled()


def test_full_collections_run_only_on_their_time_budget_and_the_thresholds_come_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A long bulk run (the national import) holds off the collector's automatic full collections
    and collects in full only once the run has gone on ``1/share`` times as long as the last one
    took (and at least ``MIN_INTERVAL``); nested runs give the thresholds back once, at the last exit."""
    now = [1000.0]
    collected: list[float] = []

    def collect(generation: int = 2) -> int:
        assert generation == 2
        collected.append(now[0])
        now[0] += 2.0  # each full collection takes 2 s
        return 0

    monkeypatch.setattr(pause.time, "perf_counter", lambda: now[0])
    monkeypatch.setattr(pause.gc, "collect", collect)
    monkeypatch.setattr(pause.gc, "get_count", lambda: (0, 0, 10**6))  # CPython's own rule always due
    before = gc.get_threshold()
    with FullCollections(share=0.05) as full:
        assert gc.get_threshold()[:2] == before[:2] and gc.get_threshold()[2] >= 2**30  # no automatic ones
        with FullCollections():
            pass
        assert gc.get_threshold()[2] >= 2**30  # the outer run still holds them off
        now[0] += FullCollections.MIN_INTERVAL - 1
        assert not full.tick() and collected == []
        now[0] += 1
        assert full.tick() and collected == [1005.0]
        now[0] += 39.0  # 2 s at 5%: the next one not before 40 s after the last ended
        assert not full.tick()
        now[0] += 1.0
        assert full.tick() and len(collected) == 2
        assert full.collections == 2 and full.seconds == 4.0
    assert gc.get_threshold() == before


def test_the_budget_never_collects_before_cpythons_own_rule_is_due(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tick collects only once as many young collections have run since the last full one as the
    oldest generation's threshold asks, however long ago the last one was: the budget removes full
    collections, never more often than CPython's count lets them (a rebuild ran 47 where CPython ran 4,
    RESULTS section 23)."""
    now = [1000.0]
    young = [0]
    collected: list[float] = []
    monkeypatch.setattr(pause.time, "perf_counter", lambda: now[0])
    monkeypatch.setattr(pause.gc, "collect", lambda generation=2: collected.append(now[0]) or 0)
    monkeypatch.setattr(pause.gc, "get_count", lambda: (0, 0, young[0]))
    threshold = gc.get_threshold()[2]
    with FullCollections(share=0.05) as full:
        now[0] += 3600.0  # the budget has long allowed one
        young[0] = threshold - 1
        assert not full.tick() and collected == []
        young[0] = threshold
        assert full.tick() and collected == [4600.0]


def test_collect_every_freezes_what_survives_only_when_asked_and_close_gives_it_back() -> None:
    """A rebuild's collections freeze their survivors (the next collection walks only what was made
    since) until ``close``; a catch-up's (no ``freeze``) leave nothing frozen."""
    assert gc.get_freeze_count() == 0
    plain = CollectEvery(10)
    plain.applied(9)
    plain.applied(1)
    assert gc.get_freeze_count() == 0 and not plain.frozen
    frozen = CollectEvery(10, freeze=True)
    frozen.applied(9)
    assert gc.get_freeze_count() == 0  # not yet: 9 of 10 entries
    try:
        frozen.applied(1)
        assert frozen.frozen and gc.get_freeze_count() > 0
    finally:
        frozen.close()
    assert gc.get_freeze_count() == 0 and not frozen.frozen
    frozen.close()  # closing twice does nothing
    assert gc.get_freeze_count() == 0


def test_collect_every_tells_its_observer_what_each_collection_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """A benchmark's probe (``rebuild_once --time-collections``) hears of each full collection, with the
    cyclic garbage it found and its seconds, and of nothing between them."""
    heard: list[tuple[int, float]] = []
    monkeypatch.setattr(CollectEvery, "observer", lambda found, seconds: heard.append((found, seconds)))
    collections = CollectEvery(10)
    collections.applied(9)
    assert heard == []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    enabled = gc.isenabled()
    gc.disable()  # (as a load runs: only its full collections free cycles)
    try:
        for _ in range(5):
            Cycle()  # (garbage only a collection frees)
        collections.applied(1)
    finally:
        if enabled:
            gc.enable()
    assert len(heard) == 1 and heard[0][0] >= 5 and heard[0][1] >= 0.0


def test_full_collections_freeze_their_survivors_only_when_asked_until_the_last_run_ends(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An import's budgeted full collections freeze what survives them (the next one walks only what
    was made since, RESULTS section 61); a run without ``freeze`` leaves nothing frozen; an outer run
    still going keeps an inner run's survivors frozen, and the last exit gives them back."""
    now = [1000.0]
    monkeypatch.setattr(pause.time, "perf_counter", lambda: now[0])
    monkeypatch.setattr(pause.gc, "get_count", lambda: (0, 0, 10**6))  # CPython's own rule always due
    assert gc.get_freeze_count() == 0
    with FullCollections() as plain:
        now[0] += FullCollections.MIN_INTERVAL
        assert plain.tick() and gc.get_freeze_count() == 0
    def seen(thing: object) -> bool:  # in the collector's generations (a frozen object is not)
        return any(o is thing for o in gc.get_objects())

    survivor = [1000]
    with FullCollections() as outer:
        with FullCollections(freeze=True) as inner:
            now[0] += FullCollections.MIN_INTERVAL
            assert inner.tick() and gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0 and not seen(survivor)  # the outer run still goes on
        newer = [2000]  # made after the freeze: the next collection walks it
        assert seen(newer)
    assert gc.get_freeze_count() == 0 and outer.collections == 0 and seen(survivor)

