"""The SQLite recorder's one-executemany insert checks that a transaction's events got consecutive
row ids (``ChainedSQLiteRecorder._insert_rows``); if they did not, the command fails whole.

Nothing in the ledger can make SQLite skip ids while a transaction holds the write lock, so the
test makes it: a trigger inserts a row of its own after each event, between the command's events.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date

import pytest
from sqlalchemy import func, select

from staffing.application import EstablishUnit
from staffing.bootstrap import Ledger
from staffing.projections import tables as t
from tests.support import act

BACKENDS = ("sqlite",)


def _count(path: str) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT count(*) FROM stored_events").fetchone()[0])


def test_events_given_scattered_row_ids_fail_the_command_and_write_nothing(ledger: Ledger) -> None:
    store_file = str(ledger.settings.data_dir / "ledger.sqlite")
    ledger.service.execute(EstablishUnit(code="01", name="Tỉnh Một", kind="PROVINCE", parent_id=None,
                                         effective_on=date(2020, 1, 1), act=act()))
    before = _count(store_file)
    with closing(sqlite3.connect(store_file)) as db, db:
        db.execute("CREATE TRIGGER scatter AFTER INSERT ON stored_events WHEN NEW.topic NOT LIKE 'scatter%' BEGIN "
                   "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
                   "VALUES (NEW.originator_id, NEW.originator_version + 1000000, 'scatter', x'00'); END")
    with pytest.raises(RuntimeError, match="row ids up to"):
        ledger.service.execute(EstablishUnit(code="02", name="Tỉnh Hai", kind="PROVINCE", parent_id=None,
                                             effective_on=date(2020, 1, 1), act=act()))
    assert _count(store_file) == before  # the whole transaction rolled back, the trigger's rows too
    with closing(sqlite3.connect(store_file)) as db, db:
        db.execute("DROP TRIGGER scatter")
    ledger.service.execute(EstablishUnit(code="02", name="Tỉnh Hai", kind="PROVINCE", parent_id=None,
                                         effective_on=date(2020, 1, 1), act=act()))
    with ledger.queries.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.unit_versions)).scalar_one() == 2
