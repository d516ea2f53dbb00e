"""A SQLite rebuild target is built without a journal and handed back journalled (issue 9).

SQLite only: a PostgreSQL target is a fresh schema swapped in by ``swap_in``; journal modes are
SQLite's.
"""

from __future__ import annotations

from typing import Any

import pytest

from staffing.bootstrap import Ledger
from staffing.projections.projector import Projector
from staffing.projections.rebuild import rebuild
from tests.projections.history import generate_history
from tests.projections.test_rebuild import contents, fresh_target  # noqa: F401 (a fixture)
from tests.support import FakeClock

BACKENDS = ("sqlite",)


def test_a_sqlite_rebuild_target_is_written_unjournalled_and_handed_back_journalled(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The disposable target skips the journal while it is built (issue 9: each page written once);
    afterwards its connections are in WAL mode with normal syncs like every other, so later writes
    through them can roll back."""
    generate_history(ledger, clock, seed=13, steps=40)
    seen: list[str] = []
    real_apply = Projector.apply

    def apply(self: Projector, conn: Any, *args: Any, **kwargs: Any) -> int:
        seen.append(str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()))
        return real_apply(self, conn, *args, **kwargs)

    monkeypatch.setattr(Projector, "apply", apply)
    target = fresh_target()
    rebuild(ledger.store, target)
    assert seen and set(seen) == {"off"}
    with target.write.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    assert contents(target) == contents(ledger.engines)
