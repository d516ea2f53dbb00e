"""The collector pause around bulk reads: counted, so nested and overlapping pauses resume it once,
and only when it was running before."""

from __future__ import annotations

import gc
import threading

from staffing.pause import collection_paused, paused


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
