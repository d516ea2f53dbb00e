"""Reads see writes made elsewhere (another process, projections not inline) and a failed batch
leaves the read models exactly where they were."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from staffing.application import EstablishUnit, RecruitPerson, RenameUnit
from staffing.bootstrap import Ledger, build
from staffing.graphql.app import create_app
from tests.support import act, drop_pg_schema, ledger_bearer, settings_for


@pytest.fixture
def writer_and_reader(backend: str, tmp_path: Path) -> Iterator[tuple[Ledger, Ledger]]:
    settings, schema = settings_for(backend, tmp_path)
    writer = build(settings, inline_projection=False)  # like a batch import in another process
    reader = build(settings)
    yield writer, reader
    writer.close()
    reader.close()
    if schema:
        drop_pg_schema(schema)


def test_a_query_sees_a_write_made_by_another_process(writer_and_reader: tuple[Ledger, Ledger]) -> None:
    writer, reader = writer_and_reader
    unit = writer.service.execute(EstablishUnit(code="HY", name="Tỉnh Hưng Yên", kind="PROVINCE", parent_id=None, effective_on=date(2020, 1, 1), act=act())).unit_id
    assert reader.projector.position() < (writer.store.recorder.max_notification_id() or 0)
    client = TestClient(create_app(reader), headers=ledger_bearer(reader))
    body = client.post("/graphql", json={"query": f'{{ unit(id: "{unit}", asOf: "2021-01-01") {{ name }} }}'}).json()
    client.close()
    assert body["data"]["unit"]["name"] == "Tỉnh Hưng Yên"


def test_a_batch_that_fails_midway_leaves_no_trace_and_a_retry_applies_everything(
        writer_and_reader: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch) -> None:
    writer, reader = writer_and_reader
    svc = writer.service
    unit = svc.execute(EstablishUnit(code="TB", name="Tỉnh Thái Bình", kind="PROVINCE", parent_id=None, effective_on=date(2020, 1, 1), act=act())).unit_id
    for i in range(5):
        svc.execute(RecruitPerson(full_name=f"Đặng Văn {i}", birth_date=date(1980, 1, 1), gender="MALE", category="CIVIL_SERVANT", unit_id=unit, effective_on=date(2020, 1, 1), act=act()))
    projector = reader.projector
    original = projector._handlers
    calls = {"n": 0}

    def crash_on_third(batch, event, position):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return original[type(event)](batch, event, position)

    monkeypatch.setattr(projector, "_handlers", {k: crash_on_third for k in original})
    with pytest.raises(RuntimeError, match="power cut"):
        projector.catch_up()
    assert projector.position() == 0
    with reader.queries.connect() as conn:
        assert reader.queries.unit(conn, unit, date(2021, 1, 1), 2**61) is None
    monkeypatch.setattr(projector, "_handlers", original)
    assert projector.catch_up() == writer.store.recorder.max_notification_id()
    with reader.queries.connect() as conn:
        figures = reader.queries.staffing(conn, unit, date(2021, 1, 1), 2**61)
    assert figures is not None and figures.total_headcount == 5


def test_now_is_pinned_to_the_projected_position_for_a_consistent_snapshot(
        writer_and_reader: tuple[Ledger, Ledger]) -> None:
    writer, reader = writer_and_reader
    unit = writer.service.execute(EstablishUnit(code="NB", name="Tỉnh Ninh Bình", kind="PROVINCE", parent_id=None, effective_on=date(2020, 1, 1), act=act())).unit_id
    reader.projector.catch_up()
    with reader.queries.connect() as conn:
        pinned = reader.queries.knowledge_position(conn, None)
    assert pinned == writer.store.recorder.max_notification_id()
    writer.service.execute(RenameUnit(unit_id=unit, name="Tỉnh Ninh Bình mới", effective_on=date(2021, 1, 1), act=act()))
    reader.projector.catch_up()
    with reader.queries.connect() as conn:
        snapshot = reader.queries.unit(conn, unit, date(2022, 1, 1), pinned)
        now = reader.queries.unit(conn, unit, date(2022, 1, 1), reader.queries.knowledge_position(conn, None))
    assert snapshot is not None and snapshot.name == "Tỉnh Ninh Bình"
    assert now is not None and now.name == "Tỉnh Ninh Bình mới"


def test_a_catch_up_with_nothing_new_takes_no_write_transaction(writer_and_reader: tuple[Ledger, Ledger],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    writer, reader = writer_and_reader
    writer.service.execute(EstablishUnit(code="HY", name="Tỉnh Hưng Yên", kind="PROVINCE", parent_id=None,
                                         effective_on=date(2020, 1, 1), act=act()))
    assert reader.projector.catch_up() > 0  # something new: projected
    batches: list[int] = []
    original = reader.projector._run_batch
    monkeypatch.setattr(reader.projector, "_run_batch", lambda: batches.append(1) or original())
    assert reader.projector.catch_up() == 0 and batches == []  # nothing new: answered from two reads
    writer.service.execute(EstablishUnit(code="HD", name="Tỉnh Hải Dương", kind="PROVINCE", parent_id=None,
                                         effective_on=date(2020, 1, 1), act=act()))
    assert reader.projector.catch_up() > 0 and batches  # a write elsewhere: the next catch-up applies it
