"""Every connection of the SQLite event store keeps SQLite's defaults (a larger page cache measured
no gain on the national import's writes, ``benchmarks/RESULTS.md`` section 55) and the library's
durability (``synchronous=FULL``: a commit is on disk when its caller is told)."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import date

from staffing.application import EstablishUnit
from staffing.bootstrap import Ledger
from tests.support import act

BACKENDS = ("sqlite",)


def test_each_connection_the_store_opens_keeps_the_default_page_cache_and_full_durability(ledger: Ledger) -> None:
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
            assert cursor.fetchone()[0] == -2000  # SQLite's default, 2 MiB
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 2  # FULL
