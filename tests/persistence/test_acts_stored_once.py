"""A legal act is stored once and referenced by the facts it decided (issue 10)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from eventsourcing.sqlite import SQLiteApplicationRecorder
from sqlalchemy import select
from sqlalchemy.engine import make_url

from staffing import acts as acts_module
from staffing.acts import act_key
from staffing.application import MergeUnits, NewUnit
from staffing.application.commands import EstablishUnit
from staffing.application.service import Item
from staffing.bootstrap import Ledger, build
from staffing.chain import load_acts, verify
from staffing.domain.unit import Unit
from staffing.domain.values import LegalAct, UnitKind
from staffing.persistence import EventStore, event_store_env
from staffing.projections import tables as t
from staffing.projections.db import make_engines
from staffing.projections.rebuild import rebuild
from tests.builders import establish, recruit

LONG_NUMBER = "1656/NQ-UBTVQH15 về việc sắp xếp các đơn vị hành chính cấp xã của tỉnh Tuyên Quang năm 2025"
MERGER_ACT = LegalAct(LONG_NUMBER, "Ủy ban Thường vụ Quốc hội", date(2025, 6, 16))


def _query(ledger: Ledger, sqlite_sql: str, postgres_sql: str) -> list[tuple[Any, ...]]:
    recorder: Any = ledger.store.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(sqlite_sql.format(events=recorder.events_table_name))
            return [tuple(r) for r in cursor.fetchall()]
    schema = recorder.datastore.schema
    with recorder.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as cursor:
        cursor.execute(postgres_sql.format(events=f'"{schema}"."{recorder.events_table_name}"',
                                           acts=f'"{schema}".legal_acts'))
        return [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in cursor.fetchall()] \
            if cursor.description else []


def _merge_many(ledger: Ledger) -> str:
    province = establish(ledger.service, code="T", name="Tỉnh Tuyên Quang")
    communes = [establish(ledger.service, parent_id=province, kind="COMMUNE", code=f"X{i}", name=f"Xã {i}")
                for i in range(3)]
    for commune in communes:
        for n in range(15):
            recruit(ledger.service, commune, full_name=f"Người {n}")
    result = ledger.service.execute(MergeUnits(
        source_unit_ids=tuple(communes), effective_on=date(2025, 7, 1), act=MERGER_ACT,
        new_unit=NewUnit(code="XM", name="Xã Hợp Nhất", kind="COMMUNE", parent_id=province)))
    return str(result.unit_id)


def test_a_reorganisation_stores_its_act_once_however_many_facts_cite_it(ledger: Ledger) -> None:
    _merge_many(ledger)
    states = [bytes(row[0]) for row in _query(ledger, "SELECT state FROM {events}", "SELECT state FROM {events}")]
    cite = [s for s in states if b"legal_act_ref" in s]
    assert len(cite) > 100  # the merge moved 45 people and closed three units: many events under one act
    assert not any(LONG_NUMBER.encode() in s or b"sap xep" in s for s in states)
    stored = _query(ledger, "SELECT number FROM legal_acts", "SELECT number FROM {acts}")
    assert [row[0] for row in stored].count(LONG_NUMBER) == 1


def test_a_fresh_process_reads_the_acts_back_from_the_table(ledger: Ledger) -> None:
    new_unit = _merge_many(ledger)
    other = EventStore(env={**event_store_env(ledger.settings), "CREATE_TABLE": "no"})
    try:
        assert not other.acts.by_key  # nothing cached: every act comes from the table
        unit = other.repository.get(__import__("uuid").UUID(new_unit))
        assert isinstance(unit, Unit)
        facts = other.recorder.select_notifications(start=1, limit=10**6)
        decoded = [other.mapper.to_domain_event(n) for n in facts]
        assert any(getattr(e, "act", None) == MERGER_ACT for e in decoded)
    finally:
        other.close()


def test_events_stored_with_the_whole_act_still_load(ledger: Ledger) -> None:
    old = (b'{"act":{"_type_":"legal_act","_data_":{"number":"12/QD","issuer":"UBND","signed_on":'
           b'{"_type_":"date_iso","_data_":"2019-12-01"}}}}')
    assert ledger.store.mapper.transcoder.decode(old)["act"] == LegalAct("12/QD", "UBND", date(2019, 12, 1))


def test_an_edited_act_is_detected_by_verify(ledger: Ledger) -> None:
    _merge_many(ledger)
    assert verify(ledger.store.recorder).ok
    _query(ledger, "UPDATE legal_acts SET number = number || ' (sửa)'",
           "UPDATE {acts} SET number = number || ' (sửa)'")
    report = verify(ledger.store.recorder)
    assert report.first_break is not None and report.first_break.kind == "act-altered"


def test_the_acts_are_written_in_the_events_transaction_also_on_import(ledger: Ledger, tmp_path: Any) -> None:
    """Every act an event cites is in the table, whichever path wrote the event."""
    from staffing.application.importer import ImportMode, import_lines
    from tests.application.test_import import as_lines, province_file

    assert import_lines(ledger.service, as_lines(province_file(communes=3, people=4)),
                        ImportMode.STOP_AT_FIRST_ERROR).ok
    fresh = build(ledger.settings, inline_projection=False)
    try:
        events = fresh.store.recorder.select_notifications(start=1, limit=10**6)
        assert all(fresh.store.mapper.to_domain_event(n) for n in events)  # no act missing from the table
    finally:
        fresh.close()


def test_a_fresh_projector_reads_the_acts_a_batch_cites_together_not_one_by_one(ledger: Ledger) -> None:
    """Rebuilding or catching up decodes thousands of events, most citing an act of their own."""
    province = establish(ledger.service, code="T", name="Tỉnh Tuyên Quang")
    acts = [LegalAct(f"{n}/QĐ-UBND", "UBND tỉnh Tuyên Quang", date(2020, 1, 1 + n)) for n in range(25)]
    for n, act in enumerate(acts):
        recruit(ledger.service, province, full_name=f"Người {n}", act=act)
    fresh = build(ledger.settings, inline_projection=False)
    try:
        singles: list[str] = []
        real = fresh.store.acts.loader
        assert real is not None and not fresh.store.acts.by_key
        fresh.store.acts.loader = lambda key: singles.append(key) or real(key)
        target = make_engines(make_url(f"sqlite:///{ledger.settings.data_dir}/rebuilt-acts.sqlite"))
        rebuild(fresh.store, target)
        with target.read.connect() as conn:
            numbers = {r[0] for r in conn.execute(select(t.facts.c.act_number))}
        target.dispose()
        assert {a.number for a in acts} <= numbers  # every act decoded into the read model ...
        assert singles == []  # ... without a single one-act read
    finally:
        fresh.close()


def test_the_acts_of_many_facts_are_read_together_past_one_statement_s_parameters(ledger: Ledger) -> None:
    """``load_acts`` (a projector's batch cites ~5,000 acts): every stored act among the keys asked,
    more than one SQLite statement's 500 parameters, and none of the keys never stored."""
    acts = [LegalAct(f"{n}/QĐ-UBND", "UBND tỉnh Tuyên Quang", date(2020, 1, 1) + timedelta(days=n)) for n in range(520)]
    ledger.service.run([Item(EstablishUnit(act=a, effective_on=date(2021, 1, 1), code=f"T{n}", name=f"Tỉnh {n}",
                                           kind=UnitKind.PROVINCE, parent_id=None)) for n, a in enumerate(acts)])
    keys = [ledger.store.acts.key_for(a) for a in acts]
    ledger.store.acts.take_pending()  # asked for keys only: nothing to write
    found = load_acts(ledger.store.recorder, [*keys, "never-stored"])
    assert sorted(found) == sorted((k, a.number, a.issuer, a.signed_on.isoformat()) for k, a in zip(keys, acts, strict=True))
    assert load_acts(ledger.store.recorder, []) == []


def test_acts_are_read_by_hex_keys_and_by_keys_a_damaged_event_might_hold(ledger: Ledger) -> None:
    """``load_acts`` sends hex digests (every act key) as one array literal on PostgreSQL, and any
    other key as a list: a reference a damaged event holds (a comma, a quote, a brace, a backslash)
    finds nothing and breaks nothing, and the acts asked beside it are found either way."""
    acts = [LegalAct(f"{n}/QĐ-UBND", "UBND tỉnh Tuyên Quang", date(2022, 1, 1) + timedelta(days=n)) for n in range(3)]
    ledger.service.run([Item(EstablishUnit(act=a, effective_on=date(2022, 6, 1), code=f"H{n}", name=f"Tỉnh {n}",
                                           kind=UnitKind.PROVINCE, parent_id=None)) for n, a in enumerate(acts)])
    keys = [ledger.store.acts.key_for(a) for a in acts]
    ledger.store.acts.take_pending()
    expected = sorted((k, a.number, a.issuer, a.signed_on.isoformat()) for k, a in zip(keys, acts, strict=True))
    assert sorted(load_acts(ledger.store.recorder, [*keys, "0" * 64])) == expected
    for damaged in ('a,b', 'ab,cd', '"}', "{x}", "a\\b", "NULL", ""):
        assert sorted(load_acts(ledger.store.recorder, [*keys, damaged])) == expected, damaged


def test_a_full_act_cache_starts_again_before_a_batch_s_acts_are_read_not_in_the_middle(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache is bounded (``MAX_CACHED``). When a batch's acts do not fit beside what it holds, it
    starts again *before* reading them, and reads every act the batch cites: clearing it while they
    were being remembered dropped acts just read or held, each then read again on its own as its
    event was decoded."""
    monkeypatch.setattr(acts_module, "MAX_CACHED", 10)
    acts = {act_key(f"{n}/QĐ", "UBND", "2020-01-01"): (f"{n}/QĐ", "UBND", "2020-01-01") for n in range(13)}
    keys = list(acts)
    store = acts_module.ActStore()
    singles: list[str] = []
    store.bulk_loader = lambda wanted: [(k, *acts[k]) for k in wanted]
    store.loader = lambda key: singles.append(key) or acts[key]

    def citing(cited: list[str]) -> list[bytes]:
        return [b'{"_type_":"legal_act_ref","_data_":"%s"}' % k.encode() for k in cited]

    assert store.prefetch(citing(keys[0:5])) == 5
    assert store.prefetch(citing(keys[5:10])) == 5  # the cache is full
    assert store.prefetch(citing(keys[8:13])) == 5  # 2 held, 3 new: it starts again and reads all 5
    assert [store.act(k).number for k in keys[8:13]] == [acts[k][0] for k in keys[8:13]]
    assert singles == []  # every act the batch cites came from its one read


def test_acts_read_back_in_bulk_are_the_acts_recorded_and_encode_to_their_keys() -> None:
    """Issue 9 (``ActStore._cache_read``): an act read from the table is made without ``LegalAct``'s
    checks and cached for decoding only, yet it equals, hashes like and shows as the act recorded,
    and encoding it (or an equal act) again gives its key; the cache still starts again when full."""
    store = acts_module.ActStore()
    recorded = [LegalAct(f"{i}/QĐ-UBND", "UBND tỉnh Tuyên Quang", date(2025, 7, 1) + timedelta(days=i)) for i in range(5)]
    rows = [(act_key(a.number, a.issuer, a.signed_on.isoformat()), a.number, a.issuer, a.signed_on.isoformat())
            for a in recorded]
    assert store.remember_rows(rows) is False
    for act, (key, *_rest) in zip(recorded, rows, strict=True):
        read = store.act(key)
        assert type(read) is LegalAct and read == act and hash(read) == hash(act) and repr(read) == repr(act)
        assert read.as_dict() == act.as_dict()
        assert store.key_for(read) == key and store.key_for(act) == key
    store.take_pending()
    again = acts_module.ActStore()
    again.bulk_loader = lambda keys: [row for row in rows if row[0] in keys]
    state = b"".join(b'{"_type_":"legal_act_ref","_data_":"%s"}' % key.encode() for key, *_ in rows)
    assert again.prefetch([state]) == len(rows)
    assert [again.act(key) for key, *_ in rows] == recorded


def test_the_acts_cache_starts_again_when_rows_read_back_fill_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(acts_module, "MAX_CACHED", 3)
    store = acts_module.ActStore()
    rows = [(f"{i:064x}", f"{i}/QĐ", "UBND", "2025-07-01") for i in range(3)]
    assert store.remember_rows(rows[:2]) is False
    assert store.remember_rows(rows[2:]) is False and len(store.by_key) == 3
    assert store.remember_rows([(f"{9:064x}", "9/QĐ", "UBND", "2025-07-02")]) is True
    assert list(store.by_key) == [f"{9:064x}"]


def _streamed(count: int) -> tuple[list[tuple[str, str, str, str]], acts_module.ActStore, list[str],
                                   acts_module.ActStream]:
    """``count`` stored acts (key, number, issuer, signed_on), row ids from 1; an empty cache that
    looks acts up by key among them, noting each key it looks up (the list); a stream over them."""
    stored = [(act_key(f"{n}/QĐ", "UBND", "2020-01-01"), f"{n}/QĐ", "UBND", "2020-01-01") for n in range(count)]
    store = acts_module.ActStore()
    by_key: list[str] = []
    store.bulk_loader = lambda wanted: by_key.extend(wanted) or [row for row in stored if row[0] in wanted]
    stream = acts_module.ActStream(lambda after, limit: [(i + 1, *row) for i, row in enumerate(stored)][after:after + limit])
    return stored, store, by_key, stream


def _citing(keys: list[str]) -> list[bytes]:
    """Stored event states citing the acts ``keys``."""
    return [b'{"_type_":"legal_act_ref","_data_":"%s"}' % k.encode() for k in keys]


def test_acts_cited_in_stored_order_come_from_the_stream_and_none_is_looked_up_by_key() -> None:
    """Issue 9 (``ActStream``): a rebuild's batches lack the acts next in stored order, so it reads
    them forwards as a range instead of one key at a time; one stored but never cited (the stream
    falls behind) is caught up by the row read beyond, and nothing is looked up by key."""
    stored, store, by_key, stream = _streamed(12)
    keys = [row[0] for row in stored]
    assert store.prefetch(_citing(keys[0:4]), stream) == 4  # reads 5: one ahead
    assert store.prefetch(_citing(keys[4:7] + keys[2:3]), stream) == 2  # k4 held already; k2 cited again
    assert store.prefetch(_citing(keys[8:10]), stream) == 2  # k7 never cited: the stream reads past it
    assert store.prefetch(_citing(keys[10:12]), stream) == 1
    assert by_key == [] and stream.looked_up == 0 and stream.read == 12
    assert [store.act(k).number for k in keys] == [row[1] for row in stored]


def test_acts_the_stream_does_not_give_are_looked_up_by_key() -> None:
    """An act cited out of its stored order, or again once the cache started over, is looked up by
    key: the stream is only a faster way to the same rows, never the only one."""
    stored, store, by_key, stream = _streamed(10)
    keys = [row[0] for row in stored]
    assert store.prefetch(_citing([keys[9], keys[0]]), stream) == 2  # the stream gives k0..k2; k9 is far ahead
    assert by_key == [keys[9]] and stream.looked_up == 1
    assert store.act(keys[9]).number == "9/QĐ"
    store._start_again()
    by_key.clear()
    assert store.prefetch(_citing([keys[0]]), stream) == 1  # k0 again: the stream has passed it
    assert by_key == [keys[0]] and stream.looked_up == 2
    assert store.act(keys[0]).number == "0/QĐ"


def test_a_full_cache_starts_again_before_the_stream_is_read_leaving_room_for_what_it_reads_ahead(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows read ahead count against the cache's bound as the acts wanted do: a batch whose
    acts and read-ahead would not fit starts the cache again before reading, so none just read is
    dropped and looked up again."""
    monkeypatch.setattr(acts_module, "MAX_CACHED", 8)
    stored, store, by_key, stream = _streamed(12)
    keys = [row[0] for row in stored]
    singles: list[str] = []
    store.loader = lambda key: singles.append(key) or next(row[1:] for row in stored if row[0] == key)
    assert store.prefetch(_citing(keys[0:4]), stream) == 4 and len(store.by_key) == 5
    assert store.prefetch(_citing(keys[5:8]), stream) == 3  # 5 held + 3 wanted + 4 ahead > 8: starts again
    assert set(store.by_key) == set(keys[5:9])
    assert [store.act(k).number for k in keys[5:8]] == [row[1] for row in stored[5:8]] and singles == []
    assert by_key == [] and stream.looked_up == 0
