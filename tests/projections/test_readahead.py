"""Reading the log ahead of a rebuild (``projections.readahead``, issue 9): each answer is the log's
own, whatever the order of the reads and however the log grows; the acts a window cites are cached
before it is decoded; a read that fails on the thread fails the rebuild."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from staffing import acts as acts_module
from staffing.bootstrap import Ledger
from staffing.domain.values import LegalAct
from staffing.persistence import select_entries
from staffing.projections import readahead as readahead_module
from staffing.projections.readahead import ReadAhead
from staffing.projections.rebuild import rebuild
from tests.builders import establish
from tests.projections.history import generate_history
from tests.projections.test_rebuild import BOTH, contents, fresh_target  # noqa: F401 - a fixture
from tests.support import FakeClock


def _cited(entries: Any) -> set[str]:
    from staffing.acts import _REFERENCE

    return {m.decode() for e in entries for m in _REFERENCE.findall(e.state)}


def test_every_answer_is_the_logs_own_in_any_order_of_reads(ledger: Ledger, clock: FakeClock) -> None:
    generate_history(ledger, clock, seed=3, steps=60)
    recorder = ledger.store.recorder
    last = recorder.max_notification_id()
    assert last > 120
    reader = ReadAhead(ledger.store, size=13)
    try:
        position = 1
        for limit in (5, 13, 1, 30, 13, 7, 26):  # forwards, windows smaller and larger than a read ahead
            given = reader.entries(position, limit)
            assert list(given) == list(select_entries(recorder, position, limit)) and len(given) == limit
            position = given[-1].id + 1
        for start, limit in ((3, 10), (last - 5, 40), (last + 1, 10), (1, 2 * last), (last - 3, 2)):  # jumps
            assert list(reader.entries(start, limit)) == list(select_entries(recorder, start, limit))
        assert reader._pending is not None
        reader._pending[1].result()  # the read ahead from ``last - 1`` has found the end of the log ...
        establish(ledger.service, kind="COMMUNE")  # ... and the log grows
        grown = recorder.max_notification_id()
        assert grown > last
        given = reader.entries(last - 1, 100)
        assert list(given) == list(select_entries(recorder, last - 1, 100)) and given[-1].id == grown
    finally:
        reader.close()


def test_the_acts_a_window_cites_are_cached_before_it_is_decoded(ledger: Ledger, clock: FakeClock) -> None:
    generate_history(ledger, clock, seed=4, steps=60)
    acts = ledger.store.acts
    acts._start_again()  # nothing cached
    recorder = ledger.store.recorder
    second = select_entries(recorder, 21, 20)
    assert _cited(second), "the second window cites no act: the history is too small to tell"
    reader = ReadAhead(ledger.store, size=20)
    try:
        first = reader.entries(1, 20)  # ... and the next 20 are read ahead, with their acts
        assert _cited(first) <= acts.by_key.keys()
        assert not (_cited(second) - _cited(first)) & acts.by_key.keys(), "cached before handed out"
        assert list(reader.entries(21, 20)) == list(second)
        assert _cited(second) <= acts.by_key.keys()
    finally:
        reader.close()
    assert acts.read_missing(e.state for e in second) == []  # all cached: nothing to read
    acts._start_again()
    rows = acts.read_missing(e.state for e in second)
    assert {row[0] for row in rows} == _cited(second) and not acts.by_key
    acts.remember_rows(rows)
    assert {key: acts.by_key[key] for key in _cited(second)} == {
        key: LegalAct(number, issuer, date.fromisoformat(signed_on)) for key, number, issuer, signed_on in rows}


def test_a_rebuild_whose_act_cache_starts_again_never_reads_an_act_alone(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: Any) -> None:  # noqa: F811
    """The projector decodes what the read-ahead hands out without looking for its acts, so every
    act those entries cite must be cached, also when the bounded cache starts again between a
    window's read and its decoding (the entries still held have their acts read again)."""
    generate_history(ledger, clock, seed=8, steps=150)
    expected_target = fresh_target()
    rebuild(ledger.store, expected_target, batch_size=10)
    acts = ledger.store.acts
    alone, restarts = [], []
    real_loader, real_again = acts.loader, acts._start_again

    def loader(key: str) -> Any:
        alone.append(key)
        return real_loader(key)

    def start_again() -> None:
        restarts.append(len(acts.by_key))
        real_again()

    monkeypatch.setattr(acts_module, "MAX_CACHED", 24)  # a window of 11 entries cites at most 11
    monkeypatch.setattr(acts, "loader", loader)
    monkeypatch.setattr(acts, "_start_again", start_again)
    acts._start_again()
    restarts.clear()
    target = fresh_target()
    assert rebuild(ledger.store, target, batch_size=10, overlaps=BOTH) == ledger.store.recorder.max_notification_id()
    assert len(restarts) >= 3, "the cache never started again: the test shows nothing"
    assert alone == [], "an act was read on its own while decoding"
    assert contents(target) == contents(expected_target)


def test_a_read_that_fails_ahead_fails_the_rebuild(ledger: Ledger, clock: FakeClock, fresh_target: Any,  # noqa: F811
                                                   monkeypatch: Any, tmp_path: Path) -> None:
    generate_history(ledger, clock, seed=5, steps=40)
    real, calls = readahead_module.select_entries, []

    def failing(recorder: Any, start: int, limit: int) -> Any:
        calls.append(start)
        if len(calls) == 3:
            raise ConnectionError("the event store went away")
        return real(recorder, start, limit)

    monkeypatch.setattr(readahead_module, "select_entries", failing)
    with pytest.raises(ConnectionError, match="went away"):
        rebuild(ledger.store, fresh_target(), batch_size=10, overlaps=BOTH)
