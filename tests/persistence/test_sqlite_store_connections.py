"""Every connection of the SQLite event store gets the store's settings (``chain.STORE_PRAGMAS``, the
hook ``benchmarks/bench_store_writes.py`` measures settings through), and the library's durability
stays (``synchronous=FULL``: a commit is on disk when its caller is told)."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import date
from pathlib import Path

import pytest

import staffing.chain as chain
from staffing.application import EstablishUnit
from staffing.bootstrap import Ledger, build
from tests.support import act, settings_for

BACKENDS = ("sqlite",)


def test_each_connection_the_store_opens_has_the_store_settings_and_full_durability(
        backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain, "STORE_PRAGMAS", ("cache_size=-12345",))
    settings, _ = settings_for(backend, tmp_path)
    ledger: Ledger = build(settings)
    try:
        ledger.service.execute(EstablishUnit(code="01", name="Tỉnh Một", kind="PROVINCE", parent_id=None,
                                             effective_on=date(2020, 1, 1), act=act()))
        recorders = (ledger.store.recorder, ledger.store.snapshots.recorder)  # type: ignore[union-attr]
        with ExitStack() as held:  # three at once: the pool must make new ones, not hand one out again
            connections = [held.enter_context(recorders[i % 2].datastore.get_connection(commit=False))
                           for i in range(3)]
            assert len({id(c) for c in connections}) == 3
            for connection in connections:
                cursor = connection.cursor()
                cursor.execute("PRAGMA cache_size")
                assert cursor.fetchone()[0] == -12345
                cursor.execute("PRAGMA synchronous")
                assert cursor.fetchone()[0] == 2  # FULL
    finally:
        ledger.close()
