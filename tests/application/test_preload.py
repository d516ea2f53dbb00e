"""A reorganisation reads the people, positions and child units it moves together (``Work.preload``),
not one query each: at national size a commune consolidated in 2025 moves hundreds of people."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest

from staffing.application import MergeUnits, NewUnit, SplitPart, SplitUnit
from staffing.bootstrap import Ledger
from staffing.domain.values import UnitKind
from tests.application.helpers import person, unit
from tests.builders import Province, an_act, establish_province

ON = date(2025, 7, 1)


def _reads_one_by_one(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> list[UUID]:
    """The ids the store is asked for one at a time from here on (the service's carried aggregates
    dropped first, as a server's are for anything it has not touched lately)."""
    ledger.service.warm.clear()
    asked: list[UUID] = []
    repository = ledger.store.repository
    one = repository.get

    def counted(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        asked.append(aggregate_id)
        return one(aggregate_id, *args, **kwargs)

    monkeypatch.setattr(repository, "get", counted)
    return asked


def _contents(province: Province) -> set[UUID]:
    return {UUID(i) for c in province.communes for i in (*c.position_ids, *c.person_ids)}


def test_a_consolidation_reads_what_it_moves_together(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    province = establish_province(ledger.service, communes=3, positions_per_commune=2, people_per_commune=4)
    asked = _reads_one_by_one(ledger, monkeypatch)

    merged = ledger.service.execute(MergeUnits(
        source_unit_ids=tuple(UUID(c) for c in province.commune_ids), effective_on=ON, act=an_act(),  # type: ignore[arg-type]
        new_unit=NewUnit(code="X-NEW", name="Xã Minh Thanh", kind=UnitKind.COMMUNE, parent_id=UUID(province.id))))

    assert not _contents(province) & set(asked), "moved one by one"
    monkeypatch.undo()
    moved = unit(ledger, merged.unit_id)
    assert moved.member_ids == {UUID(p) for c in province.communes for p in c.person_ids}
    assert all(person(ledger, p).placement.unit_id == moved.id for p in moved.member_ids)


def test_a_split_reads_the_original_units_people_together(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    province = establish_province(ledger.service, communes=1, positions_per_commune=2, people_per_commune=5)
    commune = province.communes[0]
    asked = _reads_one_by_one(ledger, monkeypatch)

    parts = (SplitPart(unit=NewUnit(code="S-1", name="Xã Một", kind=UnitKind.COMMUNE),
                       person_ids=(UUID(commune.person_ids[0]),), position_ids=(UUID(commune.position_ids[0]),)),
             SplitPart(unit=NewUnit(code="S-2", name="Xã Hai", kind=UnitKind.COMMUNE), rest=True))
    ledger.service.execute(SplitUnit(unit_id=UUID(commune.id), parts=parts, effective_on=ON, act=an_act()))  # type: ignore[arg-type]

    assert not _contents(province) & set(asked), "read one by one"
    monkeypatch.undo()
    assert {person(ledger, p).placement.unit_id for p in commune.person_ids} != {UUID(commune.id)}

