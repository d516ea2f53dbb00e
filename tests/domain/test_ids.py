"""Ids minted in order (``staffing.domain.ids``) and the names of request records."""

from __future__ import annotations

import time
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest

from staffing.domain.ids import sequenced, uuid7
from staffing.domain.request import request_id


def test_ids_minted_one_after_another_sort_in_that_order_and_are_version_7() -> None:
    before = time.time_ns() // 1_000_000
    ids = [uuid7() for _ in range(20_000)]  # many within one millisecond: the counter keeps them apart
    after = time.time_ns() // 1_000_000
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert {i.version for i in ids} == {7} and {i.variant for i in ids} == {"specified in RFC 4122"}
    assert before <= ids[0].int >> 80 <= ids[-1].int >> 80 <= after + 1


def test_a_sequenced_id_leads_with_its_sequence_and_keeps_the_rest_of_its_tail() -> None:
    tail = uuid5(NAMESPACE_URL, "x").int
    ids = [sequenced(n, tail) for n in (1, 2, 300, 2**47)]
    assert ids == sorted(ids) and [i.int >> 80 for i in ids] == [1, 2, 300, 2**47]
    assert {i.version for i in ids} == {7} and {i.variant for i in ids} == {"specified in RFC 4122"}
    assert all(i.int & ((1 << 62) - 1) == tail & ((1 << 62) - 1) for i in ids)
    assert sequenced(5, tail) != sequenced(5, uuid5(NAMESPACE_URL, "y").int)
    with pytest.raises(ValueError, match="outside"):
        sequenced(2**48, tail)


def test_a_request_key_keeps_the_id_it_always_had_and_a_sequenced_one_sorts_by_its_place() -> None:
    namespace = uuid5(NAMESPACE_URL, "urn:staffing-ledger:request")
    assert request_id("client-key") == uuid5(namespace, "client-key")  # records kept before stay found
    assert request_id("import:ab", 7) == request_id("import:ab", 7) != request_id("import:cd", 7)
    ordered = [request_id(f"import:{n}", n) for n in range(1, 500)]
    assert ordered == sorted(ordered) and isinstance(ordered[0], UUID)
