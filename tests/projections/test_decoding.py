"""The projector's lean decoding (``staffing.projections.decoding``): the mapper's events, ids as text."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest

from staffing.bootstrap import Ledger
from staffing.domain.quota import StaffingQuota
from staffing.domain.values import LegalAct
from staffing.persistence import Entry, select_entries
from staffing.projections.decoding import LeanDecoder, id_text
from tests.projections.history import generate_history
from tests.support import FakeClock

BACKENDS = ("sqlite",)


def _as_text(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list):
        return [_as_text(item) for item in value]
    return value


def _entries(ledger: Ledger) -> list[Any]:
    entries = list(select_entries(ledger.store.recorder, 1, 1_000_000))
    ledger.store.acts.prefetch(entry.state for entry in entries)
    return entries


class _Counting:
    """The store's mapper, counting the events handed to it whole."""

    def __init__(self, mapper: Any) -> None:
        self.mapper, self.transcoder, self.topics = mapper, mapper.transcoder, Counter[str]()

    def to_domain_event(self, entry: Any) -> Any:
        self.topics[entry.topic] += 1
        return self.mapper.to_domain_event(entry)


def test_every_stored_event_decodes_as_the_mapper_decodes_it_with_its_ids_as_text(
        ledger: Ledger, clock: FakeClock) -> None:
    """A random history's every entry: the same class and the same fields as the library's mapper
    gives, each ``UUID`` as ``str(uuid)``; only events with a nested object go to the mapper."""
    generate_history(ledger, clock, seed=11, steps=160)
    mapper = _Counting(ledger.store.mapper)
    decoder = LeanDecoder(mapper)
    kinds = Counter[str]()
    for entry in _entries(ledger):
        handed = mapper.topics.total()
        expected, got = ledger.store.mapper.to_domain_event(entry), decoder.event(entry)
        assert type(got) is type(expected)
        kinds[type(got).__qualname__] += 1
        if mapper.topics.total() > handed:  # (a nested object: the mapper's event as it is, ids as UUIDs)
            assert vars(got) == vars(expected), entry.topic
            continue
        assert vars(got) == {key: _as_text(value) for key, value in vars(expected).items()}, entry.topic
        assert not any(isinstance(v, UUID) for v in vars(got).values()), entry.topic  # decoded here: ids as text
        assert isinstance(got.originator_id, str)
    assert {"Unit.Established", "Person.Recruited", "Person.Transferred", "StaffingQuota.FigureSet"} <= set(kinds)
    lean = sum(kinds.values()) - sum(mapper.topics.values())
    assert lean > 0.9 * sum(kinds.values()), mapper.topics  # (requests carry a nested result: the mapper's)


def _stored(topic: str, state: dict[str, Any]) -> Entry:
    return Entry(1, str(uuid4()), 3, topic, orjson.dumps(state))


def test_an_event_stored_at_an_older_class_version_is_upcast_as_the_mapper_upcasts_it(ledger: Ledger) -> None:
    """``StaffingQuota.FigureSet`` version 1 had neither ``delta`` nor ``inherits``: its upcaster adds them."""
    topic = f"{StaffingQuota.FigureSet.__module__}:{StaffingQuota.FigureSet.__qualname__}"
    state = {"timestamp": {"_type_": "datetime_iso", "_data_": "2025-07-01T08:00:00+00:00"},
             "effective_on": {"_type_": "date_iso", "_data_": "2025-07-01"},
             "act": {"_type_": "legal_act_ref",
                     "_data_": ledger.store.acts.key_for(LegalAct("1/QĐ", "Bộ Nội vụ", date(2025, 6, 30)))},
             "category": "CIVIL_SERVANT", "kind": "ASSIGNED", "amount": 12, "reason": "ASSIGN"}
    entry = _stored(topic, state)
    expected = ledger.store.mapper.to_domain_event(entry)
    got = LeanDecoder(ledger.store.mapper).event(entry)
    assert vars(got) == {key: _as_text(value) for key, value in vars(expected).items()}
    assert got.delta is None and got.inherits == [] and got.effective_on == date(2025, 7, 1)
    assert got.act.number == "1/QĐ" and got.act.signed_on == date(2025, 6, 30)


@pytest.mark.parametrize("odd", [{"amount": 1.5}, {"nested": [[1]]}, {"deep": {"a": {"b": 1}}},
                                 {"tagged": {"_type_": "decimal_str", "_data_": "1.5"}}])
def test_what_it_does_not_read_itself_goes_whole_to_the_stores_mapper(ledger: Ledger, odd: dict[str, Any]) -> None:
    """A float (orjson reads some differently from the library's parser), a nested list or object,
    a tag without a function here: the store's own mapper decodes the whole event."""
    topic = f"{StaffingQuota.Opened.__module__}:{StaffingQuota.Opened.__qualname__}"
    unit = uuid4()
    entry = _stored(topic, {"timestamp": {"_type_": "datetime_iso", "_data_": "2025-07-01T08:00:00+00:00"},
                            "unit_id": {"_type_": "uuid_hex", "_data_": unit.hex}, **odd})
    mapper = _Counting(ledger.store.mapper)
    got = LeanDecoder(mapper).event(entry)
    assert mapper.topics == Counter({topic: 1})
    assert got.unit_id == unit  # (the mapper's: a UUID)


def test_an_id_reads_as_str_of_its_uuid_in_every_form_uuid_reads() -> None:
    some = uuid4()
    for form in (some.hex, some.hex.upper(), str(some), str(some).upper(), some, "{" + str(some) + "}"):
        assert id_text(form) == str(some)
    with pytest.raises(ValueError):
        id_text("not an id")


def test_a_store_that_compresses_or_encrypts_its_events_is_decoded_by_its_mapper(ledger: Ledger,
                                                                                   clock: FakeClock) -> None:
    """Its stored states are not JSON as written: nothing is parsed here, however it happens to read."""
    generate_history(ledger, clock, seed=12, steps=10)
    entries = _entries(ledger)
    for setting in ("compressor", "cipher"):
        mapper = _Counting(ledger.store.mapper)
        setattr(mapper, setting, object())
        decoder = LeanDecoder(mapper)
        for entry in entries:
            decoder.event(entry)
        assert sum(mapper.topics.values()) == len(entries)
