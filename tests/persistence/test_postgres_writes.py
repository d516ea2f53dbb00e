"""The event store's writes on PostgreSQL avoid psycopg's pipeline mode (``ChainedPostgresRecorder.insert_events``).

Why: a pipelined insert of a large transaction hung for good on the national import (the server
waiting to read, the client waiting for results, the table lock held).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
import pytest

from staffing.bootstrap import Ledger
from staffing.chain import verify
from tests.builders import establish, recruit

BACKENDS = ("postgres",)


def test_the_event_store_records_and_chains_events_without_pipeline_mode(ledger: Ledger,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("the event store entered psycopg's pipeline mode")

    monkeypatch.setattr(psycopg.Connection, "pipeline", refuse)
    unit = establish(ledger.service, kind="COMMUNE", effective_on=date(2020, 1, 1))
    people = [recruit(ledger.service, unit, effective_on=date(2021, 1, 1)) for _ in range(3)]
    assert len(set(people)) == 3
    logged = ledger.store.recorder.max_notification_id()
    assert logged and logged >= 4
    report = verify(ledger.store.recorder)
    assert report.ok and report.events == logged
