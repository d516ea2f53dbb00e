"""PostgreSQL's planner statistics are kept fresh by the ledger itself (``staffing.planner``).

Why it matters: a large event table never analyzed was read by parallel sequential scans (14 s per
batch of the national import, 29x slower than after one ANALYZE). The CI server runs with
autovacuum off, so nothing but the ledger analyzes these tables here: each test below fails if the
ledger stops doing it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import psycopg
import pytest

from staffing import planner
from staffing.bootstrap import Ledger
from staffing.planner import Pacer, analyze_stale
from staffing.projections import rebuild as rebuild_module
from staffing.projections import tables as t
from staffing.projections.rebuild import _secondary_indexes, rebuild
from tests.builders import establish, recruit
from tests.projections.test_rebuild import fresh_target  # noqa: F401 (a fixture)
from tests.support import PG_URL, drop_pg_schema, new_pg_schema

BACKENDS = ("postgres",)  # SQLite's planner uses no statistics unless asked: nothing to keep fresh


def _analyzed(schema: str) -> dict[str, bool]:
    """Each table of ``schema``: whether it has ever been analyzed."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        return {name: when is not None for name, when in conn.execute(
            "SELECT relname, last_analyze FROM pg_stat_user_tables WHERE schemaname = %s", (schema,))}


def _eventually(check: Callable[[], bool], nudge: Callable[[], None], seconds: float = 15.0) -> bool:
    """Whether ``check`` holds, calling ``nudge`` (more writes) between looks: the statistics collector
    counts another session's writes only after that session reports them (up to a second later)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
        nudge()
    return check()


@pytest.fixture
def scratch() -> Iterator[str]:
    schema = new_pg_schema()
    yield schema
    drop_pg_schema(schema)


def test_a_table_is_analyzed_once_enough_of_it_was_written_and_not_before(scratch: str,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planner, "MINIMUM", 100)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{scratch}".small (a int)')
        conn.execute(f'CREATE TABLE "{scratch}".grown (a int)')
        conn.execute(f'INSERT INTO "{scratch}".small SELECT generate_series(1, 50)')
        conn.execute(f'INSERT INTO "{scratch}".grown SELECT generate_series(1, 500)')
        conn.execute("SELECT pg_stat_force_next_flush()")
    with psycopg.connect(PG_URL, autocommit=True) as conn, conn.cursor() as cursor:
        assert _eventually(lambda: bool(analyze_stale(cursor, scratch)), lambda: None)
        assert _analyzed(scratch) == {"small": False, "grown": True}  # 50 rows: under the floor
        (estimate,) = conn.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                                   (f'"{scratch}".grown',)).fetchone()  # type: ignore[misc]
        assert estimate == 500
        assert analyze_stale(cursor, scratch) == []  # fresh now: nothing written since
        assert sorted(analyze_stale(cursor, scratch, everything=True)) == ["grown", "small"]
        conn.execute(f'INSERT INTO "{scratch}".grown SELECT generate_series(1, 300)')  # +60% of it
        conn.execute("SELECT pg_stat_force_next_flush()")
        assert _eventually(lambda: _modified(conn, scratch, "grown") == 300, lambda: None)
        assert analyze_stale(cursor, scratch, fraction=1.0) == []  # grown by less than its whole size
        assert analyze_stale(cursor, scratch, fraction=0.5) == ["grown"]


def _modified(conn: Any, schema: str, table: str) -> int:
    (count,) = conn.execute("SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE schemaname = %s "
                            "AND relname = %s", (schema, table)).fetchone()
    return int(count)


def test_the_event_store_analyzes_its_tables_as_it_grows(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planner, "MINIMUM", 5)
    ledger.store.pacer = Pacer(every=1)  # look after every save
    schema = ledger.settings.schema
    assert schema is not None
    events = ledger.store.recorder.events_table_name
    assert not _analyzed(schema).get(events)
    unit = establish(ledger.service, kind="COMMUNE", effective_on=date(2020, 1, 1))
    assert _eventually(lambda: _analyzed(schema).get(events, False),
                       lambda: [recruit(ledger.service, unit, effective_on=date(2021, 1, 1)) for _ in range(3)])


def test_catching_up_analyzes_the_read_models_as_they_grow(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planner, "MINIMUM", 5)
    ledger.projector.pacer = Pacer(every=1)  # look after every batch
    schema = ledger.settings.schema
    assert schema is not None
    assert not _analyzed(schema).get(t.facts.name)
    unit = establish(ledger.service, kind="COMMUNE", effective_on=date(2020, 1, 1))
    assert _eventually(lambda: _analyzed(schema).get(t.facts.name, False),
                       lambda: [recruit(ledger.service, unit, effective_on=date(2021, 1, 1)) for _ in range(3)])


def _schema_of(engines: Any) -> str:
    """The scratch schema a ``fresh_target`` of PostgreSQL read models lives in."""
    with engines.read.connect() as conn:
        return str(conn.exec_driver_sql("SELECT current_schema()").scalar_one())


def _some_history(ledger: Ledger, people: int = 3) -> None:
    unit = establish(ledger.service, kind="COMMUNE", effective_on=date(2020, 1, 1))
    for _ in range(people):
        recruit(ledger.service, unit, effective_on=date(2021, 1, 1))


def test_a_rebuild_leaves_every_read_model_table_analyzed_and_indexed(
        ledger: Ledger, fresh_target: Any) -> None:  # noqa: F811
    """The last indexes and the statistics are made on two connections at once (``FINISHERS``), a
    table at a time: every table of the target ends analyzed, and every secondary index exists."""
    _some_history(ledger)
    target = fresh_target()
    target_schema = _schema_of(target)
    rebuild(ledger.store, target)
    analyzed = _analyzed(target_schema)
    assert set(analyzed) >= {table.name for table in t.metadata.sorted_tables}
    assert all(analyzed.values()), [name for name, done in analyzed.items() if not done]
    with psycopg.connect(PG_URL) as conn:
        indexes = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s",
                                                  (target_schema,))}
    assert {str(ix.name) for ix in _secondary_indexes()} <= indexes


def test_a_rebuild_analyzes_during_its_load_only_once_it_reads_back(
        ledger: Ledger, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """While a rebuild holds every series it reads nothing back, so nothing needs planning: no
    ``ANALYZE`` before its load is over (it was ~6% of a province rebuild). Once it starts forgetting
    (``max_states``), the read-backs that follow are planned from statistics: every table is analyzed
    at once, then as it grows (its ``Pacer``)."""
    _some_history(ledger, people=6)
    looks: list[bool] = []
    real = rebuild_module.refresh_statistics

    fractions: list[float] = []
    monkeypatch.setattr(rebuild_module, "STATISTICS_FRACTION", 0.75)

    def watched(conn: Any, everything: bool = False, **options: Any) -> list[str]:
        looks.append(everything)
        if not everything:
            fractions.append(options["fraction"])
        return real(conn, everything=everything, **options)

    monkeypatch.setattr(rebuild_module, "refresh_statistics", watched)
    monkeypatch.setattr(rebuild_module, "Pacer", lambda: Pacer(every=1))  # looks after every batch if asked
    last = ledger.store.recorder.max_notification_id()
    assert rebuild(ledger.store, fresh_target(), batch_size=2) == last
    assert looks == []
    assert rebuild(ledger.store, fresh_target(), batch_size=2, max_states=1) == last
    assert looks[0] is True and False in looks[1:], looks
    assert fractions and set(fractions) == {rebuild_module.STATISTICS_FRACTION}  # the rebuild's own rule


def test_a_failing_analysis_never_fails_the_command_it_follows(ledger: Ledger, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_: Any, **__: Any) -> list[str]:
        raise psycopg.OperationalError("the server went away")

    monkeypatch.setattr("staffing.persistence.analyze_stale", broken)
    monkeypatch.setattr("staffing.projections.bulk.analyze_stale", broken)
    ledger.store.pacer = Pacer(every=1)
    ledger.projector.pacer = Pacer(every=1)
    unit = establish(ledger.service, kind="COMMUNE", effective_on=date(2020, 1, 1))
    person = recruit(ledger.service, unit, effective_on=date(2021, 1, 1))  # recorded and projected all the same
    with ledger.queries.connect() as conn:
        assert ledger.queries.knowledge_position(conn, None) == ledger.store.recorder.max_notification_id()
    assert person and "planner statistics failed" in caplog.text
