"""A rebuild writes one batch on a thread while it reads and decodes the next
(``projections.writebehind``, issue 9): the two overlap, nothing touches the target or the held
series while a batch's writes are being made, the read models are the same, and a failed write fails
the rebuild."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from staffing.bootstrap import Ledger
from staffing.projections import rebuild as rebuild_module
from staffing.projections.projector import Projector
from staffing.projections.rebuild import rebuild
from staffing.projections.series import SeriesBatch
from staffing.projections.writebehind import WriteBehind
from tests.projections.history import generate_history
from tests.projections.test_rebuild import contents, fresh_target  # noqa: F401 - a fixture
from tests.support import FakeClock


def test_a_batch_is_written_while_the_next_is_decoded_and_never_touched_meanwhile(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: Any) -> None:  # noqa: F811
    generate_history(ledger, clock, seed=6, steps=120)
    writing, decoded = threading.Event(), threading.Event()
    flushes: list[bool] = []  # per batch written: whether the next window was decoded while it was
    touched_while_writing: list[str] = []
    real_flush, real_decode, real_preload = Projector._flush, Projector._decode, SeriesBatch.preload
    real_submit = WriteBehind.submit

    def submit(self: WriteBehind, writes: Any) -> None:
        real_submit(self, writes)
        decoded.clear()  # (before the caller goes on to decode: only a decode from now on counts)

    def flush(self: Projector, batch: Any, ends: Any = ()) -> None:
        writing.set()
        try:
            flushes.append(decoded.wait(1.0))  # a slow server: writes the batch until the next is decoded
            real_flush(self, batch, ends)
        finally:
            writing.clear()

    def decode(self: Projector, notifications: Any, prefetch: bool = True) -> Any:
        decoded.set()
        return real_decode(self, notifications, prefetch)

    def preload(self: SeriesBatch, wanted: Any) -> int:
        name = threading.current_thread().name  # (the writes themselves read back, on their thread)
        if writing.is_set() and not name.startswith("staffing-write-behind"):
            touched_while_writing.append(name)
        return real_preload(self, wanted)

    monkeypatch.setattr(WriteBehind, "submit", submit)
    monkeypatch.setattr(Projector, "_flush", flush)
    monkeypatch.setattr(Projector, "_decode", decode)
    monkeypatch.setattr(SeriesBatch, "preload", preload)
    target = fresh_target()
    last = ledger.store.recorder.max_notification_id()
    assert rebuild(ledger.store, target, batch_size=40) == last
    assert len(flushes) >= 5
    assert flushes[:-1] == [True] * (len(flushes) - 1), "a window was decoded only after the batch before it was written"
    assert flushes[-1] is False  # (nothing follows the last batch)
    assert not touched_while_writing, "a batch was applied while the one before it was still being written"
    monkeypatch.undo()
    assert contents(target) == contents(ledger.engines)


def test_a_write_that_fails_behind_fails_the_rebuild(ledger: Ledger, clock: FakeClock, fresh_target: Any,  # noqa: F811
                                                     monkeypatch: Any) -> None:
    generate_history(ledger, clock, seed=7, steps=40)
    real, calls = rebuild_module._track, []

    def failing(conn: Any, position: int, recorded_us: int) -> None:
        calls.append(threading.current_thread().name)
        if len(calls) == 3:
            raise OSError("the disk is full")
        real(conn, position, recorded_us)

    monkeypatch.setattr(rebuild_module, "_track", failing)
    target = fresh_target()
    with pytest.raises(OSError, match="disk is full"):
        rebuild(ledger.store, target, batch_size=10)
    assert all(name.startswith("staffing-write-behind") for name in calls)
    assert Projector(ledger.store, target).position() < ledger.store.recorder.max_notification_id()
