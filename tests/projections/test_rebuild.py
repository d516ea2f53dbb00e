"""Rebuilding the read models from the log gives exactly what incremental projection gave.

The comparison covers every read-model table, row by row, ordered on every column but the
surrogate ``row_id`` (the only thing allowed to differ between a one-pass rebuild and a history of
small incremental batches).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url

from staffing.application import EstablishUnit, RecruitPerson
from staffing.bootstrap import Ledger
from staffing.projections import tables as t
from staffing.projections.db import ViewEngines, make_engines
from staffing.projections.projector import Projector
from staffing.projections.rebuild import NotFresh, SwapRefused, rebuild, swap_in
from staffing.projections.series import SeriesBatch
from tests.builders import assign_quota, establish
from tests.projections.history import generate_history
from tests.support import FakeClock, act, drop_pg_schema, new_pg_schema

TABLES = [table for table in t.metadata.sorted_tables]


def contents(engines: ViewEngines) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model table's rows, without ``row_id``, in a total order."""
    out = {}
    with engines.read.connect() as conn:
        for table in TABLES:
            columns = [c for c in table.columns if c.name != "row_id"]
            out[table.name] = [tuple(r) for r in conn.execute(select(*columns).order_by(*columns))]
    return out


@pytest.fixture
def fresh_target(ledger: Ledger, tmp_path: Path) -> Iterator[Any]:
    """A factory of empty read-model databases on the ledger's backend."""
    made: list[tuple[ViewEngines, str | None]] = []

    def make() -> ViewEngines:
        if ledger.engines.is_sqlite:
            engines = make_engines(make_url(f"sqlite:///{tmp_path / f'rebuilt-{len(made)}.sqlite'}"))
            made.append((engines, None))
        else:
            schema = new_pg_schema()
            engines = make_engines(ledger.settings.views_url, schema)
            made.append((engines, schema))
        return engines

    yield make
    for engines, schema in made:
        engines.dispose()
        if schema:
            drop_pg_schema(schema)


def test_a_rebuild_reproduces_the_incrementally_maintained_read_models(ledger: Ledger, clock: FakeClock,
                                                                      fresh_target: Any) -> None:
    generate_history(ledger, clock, seed=5, steps=160)
    expected = contents(ledger.engines)
    assert all(expected[name] for name in ("unit_versions", "person_versions", "quota_versions", "facts"))
    last = ledger.store.recorder.max_notification_id()
    for batch_size in (37, 10_000):  # many batches sharing one in-memory series state, and one batch
        target = fresh_target()
        assert rebuild(ledger.store, target, batch_size=batch_size) == last
        assert Projector(ledger.store, target).position() == last
        rebuilt = contents(target)
        for table in TABLES:
            assert rebuilt[table.name] == expected[table.name], f"{table.name} differs (batch size {batch_size})"


def test_a_rebuild_of_an_empty_log_leaves_empty_read_models(ledger: Ledger, fresh_target: Any) -> None:
    target = fresh_target()
    assert rebuild(ledger.store, target) == 0
    assert Projector(ledger.store, target).position() == 0
    assert contents(target)["facts"] == []


def test_a_rebuild_refuses_a_target_that_already_holds_events(ledger: Ledger, clock: FakeClock) -> None:
    generate_history(ledger, clock, seed=2, steps=5)
    with pytest.raises(NotFresh):
        rebuild(ledger.store, ledger.engines)


def test_catching_up_again_never_applies_an_event_twice(ledger: Ledger, clock: FakeClock) -> None:
    generate_history(ledger, clock, seed=3, steps=60)
    before = contents(ledger.engines)
    assert ledger.projector.catch_up() == 0
    assert ledger.projector.catch_up() == 0
    second = Projector(ledger.store, ledger.engines, batch_size=7)
    assert second.catch_up() == 0
    assert contents(ledger.engines) == before
    assert second.position() == ledger.store.recorder.max_notification_id()


def test_a_second_projector_continues_where_the_first_stopped(ledger: Ledger, clock: FakeClock,
                                                             fresh_target: Any) -> None:
    """Projectors on the same read models share one tracking position: whichever runs next
    applies only what the others have not."""
    ledger.service.on_commit.clear()  # no inline projection: the log runs ahead of the read models
    generate_history(ledger, clock, seed=4, steps=40)
    first, second = ledger.projector, Projector(ledger.store, ledger.engines, batch_size=5)
    seen = first.catch_up()
    assert seen == ledger.store.recorder.max_notification_id()
    unit = ledger.service.execute(EstablishUnit(code="MOI", name="Xã Mới", kind="PROVINCE", parent_id=None, effective_on=date(2025, 7, 1), act=act())).unit_id
    ledger.service.execute(RecruitPerson(full_name="Trần Văn Bảo", birth_date=date(1990, 3, 3), gender="MALE", category="CIVIL_SERVANT", unit_id=unit, effective_on=date(2025, 7, 1), act=act()))
    total = ledger.store.recorder.max_notification_id() or 0
    assert second.catch_up() == total - seen
    assert first.catch_up() == 0 and second.catch_up() == 0
    target = fresh_target()
    rebuild(ledger.store, target)
    assert contents(ledger.engines) == contents(target)


# ---------------------------------------------------------------------- swapping in
def _tamper(ledger: Ledger) -> None:
    """Damage the live read models so that a swap visibly replaces them."""
    with ledger.engines.write.begin() as conn:
        conn.execute(delete(t.unit_versions))
        conn.execute(delete(t.facts))


def _count(ledger: Ledger, table: Any) -> int:
    with ledger.engines.read.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_swap_in_replaces_the_live_read_models_with_a_rebuild(ledger: Ledger, clock: FakeClock) -> None:
    generate_history(ledger, clock, seed=6, steps=60)
    expected = contents(ledger.engines)
    _tamper(ledger)
    assert _count(ledger, t.facts) == 0
    if ledger.engines.is_sqlite:
        ledger.engines.dispose()  # SQLite: the server stops (or disposes its engines) first
    applied = swap_in(ledger.settings, store=ledger.store)
    assert applied == ledger.store.recorder.max_notification_id()
    assert contents(ledger.engines) == expected
    # the ledger carries on: new facts land in the swapped-in read models
    unit = ledger.service.execute(EstablishUnit(code="SAU-SWAP", name="Xã Sau Hoán Đổi", kind="PROVINCE", parent_id=None, effective_on=date(2025, 7, 1), act=act())).unit_id
    with ledger.queries.connect() as conn:
        view = ledger.queries.unit(conn, unit, date(2025, 7, 1), ledger.queries.knowledge_position(conn, None))
    assert view is not None and view.name == "Xã Sau Hoán Đổi"
    assert ledger.projector.position() == ledger.store.recorder.max_notification_id()


def test_swap_in_while_the_read_models_are_open_is_refused_on_sqlite_and_seen_at_once_on_postgres(
        ledger: Ledger, clock: FakeClock) -> None:
    generate_history(ledger, clock, seed=7, steps=10)
    expected = contents(ledger.engines)
    query = select(func.count()).select_from(t.facts)
    with ledger.engines.read.connect() as conn:  # a server still holding a connection
        for _ in range(8):  # often enough for psycopg to prepare the statement server-side
            count = conn.execute(query).scalar_one()
            conn.commit()
        if ledger.engines.is_sqlite:
            with pytest.raises(SwapRefused):
                swap_in(ledger.settings, store=ledger.store)
            assert contents(ledger.engines) == expected
            return
        _tamper(ledger)
        assert conn.execute(query).scalar_one() == 0
        conn.commit()
        swap_in(ledger.settings, store=ledger.store)
        assert conn.execute(query).scalar_one() == count  # the same connection reads the rebuilt tables
    assert contents(ledger.engines) == expected


def test_swap_in_can_keep_the_previous_read_models(ledger: Ledger, clock: FakeClock) -> None:
    generate_history(ledger, clock, seed=8, steps=20)
    _tamper(ledger)
    if ledger.engines.is_sqlite:
        ledger.engines.dispose()
        swap_in(ledger.settings, store=ledger.store, keep_previous=True)
        views = Path(str(ledger.settings.views_url.database))
        previous = make_engines(make_url(f"sqlite:///{views.with_name(views.name + '.previous')}"))
    else:
        swap_in(ledger.settings, store=ledger.store, keep_previous=True)
        previous = make_engines(ledger.settings.views_url, f"{ledger.settings.schema}_previous")
    try:
        with previous.read.connect() as conn:
            assert conn.execute(select(func.count()).select_from(t.facts)).scalar_one() == 0  # the tampered copy
    finally:
        previous.dispose()
        if not ledger.engines.is_sqlite:
            drop_pg_schema(f"{ledger.settings.schema}_previous")
    assert _count(ledger, t.facts) > 0


def test_a_deferred_catch_up_reads_the_series_of_each_batch_together_and_agrees_with_a_rebuild(
        ledger: Ledger, clock: FakeClock, fresh_target: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each batch names the series its events will read (``SeriesBatch.preload``): one read per 500
    keys instead of two per series. The hint must never change what is projected."""
    ledger.service.on_commit.clear()
    generate_history(ledger, clock, seed=8, steps=160)
    singles: list[str] = []
    together: list[int] = []
    real_load, real_many = SeriesBatch._load, SeriesBatch._load_many
    monkeypatch.setattr(SeriesBatch, "_load", lambda self, series, key: singles.append(f"{series}:{key}") or real_load(self, series, key))
    monkeypatch.setattr(SeriesBatch, "_load_many",
                        lambda self, series, keys: together.append(len(keys)) or real_many(self, series, keys))

    assert Projector(ledger.store, ledger.engines, batch_size=40).catch_up() > 0

    assert sum(together) > 5 * max(1, len(singles))  # nearly every series a batch read was loaded together
    target = fresh_target()
    rebuild(ledger.store, target)
    assert contents(ledger.engines) == contents(target)


def test_a_rebuild_with_bounded_memory_reads_series_back_and_gives_the_same_read_models(
        ledger: Ledger, clock: FakeClock, fresh_target: Any) -> None:
    """A national log does not fit in memory: past ``max_states`` the rebuild forgets what it holds
    after each batch and reads it back when touched again. Same rows as the in-memory rebuild."""
    generate_history(ledger, clock, seed=9, steps=160)
    expected = contents(ledger.engines)
    target = fresh_target()
    assert rebuild(ledger.store, target, batch_size=25, max_states=3) == ledger.store.recorder.max_notification_id()
    assert contents(target) == expected


def test_a_new_projector_process_finds_the_units_of_quota_ledgers_opened_before_it_started(
        ledger: Ledger, fresh_target: Any) -> None:
    """A catch-up in a new process knows no quota ledger yet: their units are looked up together
    (one read per 500 ledgers, by the ``ix_facts_aggregate`` index) before the batch is applied."""
    ledger.service.on_commit.clear()
    communes = [establish(ledger.service, code=f"X{i}", name=f"Xã {i}", kind="PROVINCE") for i in range(3)]
    for commune in communes:
        assign_quota(ledger.service, commune, 10)
    assert ledger.projector.catch_up() > 0
    for commune in communes:  # new figures on ledgers opened (and projected) earlier
        assign_quota(ledger.service, commune, 12, effective_on=date(2021, 1, 1))
    new_process = Projector(ledger.store, ledger.engines)
    assert new_process.catch_up() > 0
    assert set(new_process._ledger_units.values()) == set(communes)
    with ledger.engines.read.connect() as conn:
        amounts = {r.unit_id: r.amount for r in conn.execute(select(t.quota_versions).where(
            t.quota_versions.c.valid_from == date(2021, 1, 1), t.quota_versions.c.rec_to == t.OPEN_POSITION))}
    assert amounts == dict.fromkeys(communes, 12)
    target = fresh_target()
    rebuild(ledger.store, target)
    assert contents(ledger.engines) == contents(target)
