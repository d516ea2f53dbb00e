"""A PostgreSQL rebuild target is loaded with its commits not waited for and handed back with the
server's defaults (issue 9).

PostgreSQL only: the settings are the server's (``synchronous_commit``, ``maintenance_work_mem``);
SQLite's counterpart (no journal) is ``test_rebuild_sqlite``.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, event

from staffing.bootstrap import Ledger
from staffing.projections import rebuild as rebuild_module
from staffing.projections.projector import Projector
from staffing.projections.rebuild import rebuild
from tests.projections.history import generate_history
from tests.projections.test_rebuild import contents, fresh_target  # noqa: F401 (a fixture)
from tests.support import FakeClock

BACKENDS = ("postgres",)


def _settings(conn: Connection) -> tuple[str, str]:
    return (str(conn.exec_driver_sql("SHOW synchronous_commit").scalar()),
            str(conn.exec_driver_sql("SHOW maintenance_work_mem").scalar()))


def test_a_postgres_rebuild_loads_without_waiting_for_commits_and_hands_its_connections_back_with_defaults(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Every batch of the load and every finisher's index and ``ANALYZE`` run with commits not waited
    for and 256 MB to sort (``TARGET_SETTINGS``: the target is disposable until the swap's own
    synchronous commit); afterwards the target's pooled connections have the server's defaults
    again, so the projector's later commits are waited for, and the rebuilt read models equal the
    ledger's."""
    generate_history(ledger, clock, seed=13, steps=40)
    target = fresh_target()
    with target.write.connect() as conn:
        defaults = _settings(conn)
    assert defaults[0] == "on"
    during_load: list[tuple[str, str]] = []
    real_apply = Projector._apply_decoded

    def apply(self: Projector, conn: Any, *args: Any, **kwargs: Any) -> tuple[int, int]:
        during_load.append(_settings(conn))
        return real_apply(self, conn, *args, **kwargs)

    analyzed: list[tuple[str, str]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.startswith("ANALYZE"):
            cursor.execute("SHOW synchronous_commit")
            commit = cursor.fetchone()[0]
            cursor.execute("SHOW maintenance_work_mem")
            analyzed.append((commit, cursor.fetchone()[0]))

    monkeypatch.setattr(Projector, "_apply_decoded", apply)
    event.listen(target.write, "before_cursor_execute", before)
    try:
        rebuild(ledger.store, target)
    finally:
        event.remove(target.write, "before_cursor_execute", before)
    assert during_load and set(during_load) == {("off", "256MB")}
    assert analyzed and set(analyzed) == {("off", "256MB")}
    assert len(analyzed) >= rebuild_module.FINISHERS  # (every table analyzed: more tables than finishers)
    held = [target.write.connect() for _ in range(1 + rebuild_module.FINISHERS)]  # every pooled connection
    try:
        assert [_settings(conn) for conn in held] == [defaults] * len(held)
    finally:
        for conn in held:
            conn.close()
    assert contents(target) == contents(ledger.engines)
