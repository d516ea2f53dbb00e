"""The read shortcuts of issue 9 answer exactly what the slow paths answer."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from staffing.application import EstablishUnit, Item, Mode, RecruitPerson
from staffing.bootstrap import Ledger
from staffing.domain.request import request_id
from staffing.persistence import select_entries
from staffing.projections.projector import _recorded_us, to_us
from tests.support import FakeClock, act


def test_existing_tells_recorded_ids_from_new_ones_in_one_call(ledger: Ledger) -> None:
    unit = ledger.service.execute(EstablishUnit(code="01", name="Xã Một", kind="COMMUNE", parent_id=None,
                                                effective_on=date(2020, 1, 1), act=act()), request_key="k-1").unit_id
    unit = UUID(str(unit))
    fresh = [uuid4() for _ in range(1200)]  # more than one chunk of 500
    assert ledger.store.existing([unit, request_id("k-1"), *fresh]) == {unit, request_id("k-1")}
    assert ledger.store.existing([]) == set()


def test_a_batch_with_new_chosen_ids_and_a_repeated_key_behaves_as_one_at_a_time(ledger: Ledger) -> None:
    unit = ledger.service.execute(EstablishUnit(code="01", name="Xã Một", kind="COMMUNE", parent_id=None,
                                                effective_on=date(2020, 1, 1), act=act())).unit_id
    chosen = uuid4()
    recruit = RecruitPerson(id=chosen, full_name="Lò Thị Mai", birth_date=date(1990, 1, 1), gender="FEMALE",
                            category="CADRE", unit_id=unit, effective_on=date(2021, 1, 1), act=act())
    first = ledger.service.run([Item(recruit, "r-1")], Mode.ATOMIC)
    assert first.recorded and str(first.results[0].person_id) == str(chosen)
    again = ledger.service.run([Item(recruit, "r-1"), Item(recruit, "r-1")], Mode.ATOMIC)  # both replayed
    assert not again.errors and again.replayed == 2 and not again.recorded
    taken = ledger.service.run([Item(recruit, "r-2"), Item(recruit, "r-3")], Mode.PREFIX)  # the id is taken
    assert 0 in taken.errors and taken.errors[0].field == "id"


def test_the_recording_moment_read_off_stored_json_equals_the_decoded_timestamp(ledger: Ledger) -> None:
    ledger.service.execute(EstablishUnit(code="01", name="Xã Một", kind="COMMUNE", parent_id=None,
                                         effective_on=date(2020, 1, 1), act=act()), request_key="k")
    notifications = ledger.store.recorder.select_notifications(start=1, limit=100)
    assert notifications
    for n in notifications:
        assert _recorded_us(n.state) == to_us(ledger.store.mapper.to_domain_event(n).timestamp)
    assert _recorded_us(b'{"originator_topic": "x", "timestamp": 1}') is None  # another form: decoded instead


def _transcoders_and_log(ledger: Ledger, clock: FakeClock, seed: int) -> tuple[Any, Any, list[Any]]:
    """A random history recorded; the ledger's transcoder, the library's ``JSONTranscoder`` with the
    same transcodings, and every stored event."""
    from eventsourcing.persistence import JSONTranscoder

    from staffing.transcoding import OrjsonTranscoder
    from tests.projections.history import generate_history

    generate_history(ledger, clock, seed=seed, steps=200)
    ours = ledger.store.mapper.transcoder
    assert isinstance(ours, OrjsonTranscoder)
    library = JSONTranscoder()
    ledger.store.register_transcodings(library)
    notifications = ledger.store.recorder.select_notifications(start=1, limit=100_000)
    assert len(notifications) > 300
    return ours, library, notifications


def test_orjson_decoding_gives_every_stored_event_exactly_as_the_library_parser_does(ledger: Ledger,
                                                                                    clock: FakeClock) -> None:
    """``OrjsonTranscoder`` replaces the standard library's parser on every read of the
    log: each stored event of a random history (every kind of event, nested acts, tuples of ids,
    dates and timestamps) decodes to the same values, types included, as the library's own
    ``JSONTranscoder`` with the same transcodings."""
    ours, library, notifications = _transcoders_and_log(ledger, clock, seed=21)
    for n in notifications:
        mine, theirs = ours.decode(n.state), library.decode(n.state)
        assert mine == theirs
        assert {k: type(v) for k, v in mine.items()} == {k: type(v) for k, v in theirs.items()}
    big = b'{"amount":123456789012345678901234567890,"when":{"_type_":"date_iso","_data_":"2025-07-01"}}'
    assert ours.decode(big) == library.decode(big)  # orjson would round it to a float: the library's parser
    assert ours.decode(big)["amount"] == 123456789012345678901234567890
    assert ours.decode(b'{"ratio":0.5,"n":[1,2.5]}') == {"ratio": 0.5, "n": [1, 2.5]}


def test_orjson_encoding_writes_every_event_byte_for_byte_as_the_library_encoder(ledger: Ledger,
                                                                                 clock: FakeClock) -> None:
    """``OrjsonTranscoder.encode`` writes what the library's ``JSONTranscoder`` writes, byte for
    byte, for every event of a random history (so the stored format, the hash chain and every
    reader are unchanged), and does it on its own fast path, not by falling back."""
    ours, library, notifications = _transcoders_and_log(ledger, clock, seed=22)
    kinds = set()
    for n in notifications:
        state = library.decode(n.state)  # what the mapper handed the encoder, as the library reads it back
        kinds.add(n.topic)
        assert ours._tagged(state) is not None  # the fast path takes it (raises _NotExact otherwise)
        assert ours.encode(state) == library.encode(state) == n.state
    assert len(kinds) >= 10


def test_orjson_encoding_matches_the_library_on_every_code_point_and_hands_it_what_it_cannot_vouch_for() -> None:
    """Strings: every code point outside the surrogates, written inside a text, gives the same bytes
    as the standard library (escapes included). Values orjson writes differently or refuses (floats,
    integers beyond 64 bits, enums, non-string keys) go to the library's encoder, so the bytes are
    still the library's; an unregistered type is refused with the library's own error."""
    from enum import StrEnum

    import pytest
    from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError, UUIDAsHex

    from staffing.transcoding import DateAsISO, OrjsonTranscoder

    ours, library = OrjsonTranscoder(), JSONTranscoder()
    for transcoder in (ours, library):
        transcoder.register(DateAsISO())
        transcoder.register(UUIDAsHex())
    text = "".join(chr(c) for c in range(0x11000) if not 0xD800 <= c < 0xE000) + "\U0001F600\U0010FFFF"
    assert ours.encode({"t": text}) == library.encode({"t": text})

    class Kind(StrEnum):
        COMMUNE = "COMMUNE"

    tricky = [
        {"ratio": 0.1, "big": 1e16},
        {"n": 2**64 + 1},
        {"kind": Kind.COMMUNE},
        {"by": {1: "a"}},
        {"nested": [{"id": uuid4(), "on": date(2025, 7, 1)}, (1, None, True, -(2**63))]},
    ]
    for value in tricky:
        assert ours.encode(value) == library.encode(value)
    with pytest.raises(TranscodingNotRegisteredError):
        ours.encode({"x": object()})


def test_the_projectors_lean_read_of_the_log_gives_what_the_library_reads(ledger: Ledger, clock: FakeClock) -> None:
    """``select_entries`` (plain rows, the originator's id as text) gives the same entries as the
    recorder's ``select_notifications``, from any position and up to any limit, and the mapper
    decodes them into the same domain events (the id a UUID again)."""
    from tests.projections.history import generate_history

    generate_history(ledger, clock, seed=3, steps=60)
    recorder, mapper = ledger.store.recorder, ledger.store.mapper
    last = recorder.max_notification_id()
    assert last > 100
    for start, limit in ((1, 10**6), (1, 1), (37, 25), (last, 10), (last + 1, 10)):
        lean = select_entries(recorder, start, limit)
        library = recorder.select_notifications(start=start, limit=limit)
        assert [(e.id, UUID(e.originator_id), e.originator_version, e.topic, e.state) for e in lean] == [
            (n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in library]
        assert all(type(e.state) is bytes and type(e.originator_id) is str for e in lean)
        for e, n in zip(lean, library, strict=True):
            decoded, expected = mapper.to_domain_event(e), mapper.to_domain_event(n)
            assert type(decoded) is type(expected) and vars(decoded) == vars(expected)
            assert isinstance(decoded.originator_id, UUID)
