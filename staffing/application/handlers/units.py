"""Handlers for facts about one unit: establish, rename, move, change model, adjust functions."""

from __future__ import annotations

from staffing.application.commands import (
    AdjustUnitFunctions,
    ChangeUnitModel,
    EstablishUnit,
    MoveUnit,
    NewUnit,
    RenameUnit,
)
from staffing.application.handlers.common import claim_code, establish, fact_id, fact_of, latest_fact
from staffing.application.registry import handles
from staffing.application.results import UnitRecorded
from staffing.application.work import Work
from staffing.domain.unit import Unit
from staffing.domain.values import ChangeKind

__all__: list[str] = []


@handles(EstablishUnit, UnitRecorded)
def establish_unit(cmd: EstablishUnit, work: Work) -> UnitRecorded:
    spec = NewUnit(code=cmd.code, name=cmd.name, kind=cmd.kind, parent_id=cmd.parent_id, autonomy=cmd.autonomy,
                   id=cmd.id)
    unit = establish(work, spec, ChangeKind.ESTABLISH, [], cmd.effective_on, cmd.act, field="")
    return UnitRecorded(unit_id=str(unit.id), fact_id=fact_id(unit.id, 1))


@handles(RenameUnit, UnitRecorded)
def rename_unit(cmd: RenameUnit, work: Work) -> UnitRecorded:
    unit = work.unit(cmd.unit_id)
    unit.rename(name=cmd.name, code=cmd.code, effective_on=cmd.effective_on, act=cmd.act, at=work.at)
    if cmd.code is not None:
        claim_code(work, unit.code, unit.id)
    return UnitRecorded(unit_id=str(unit.id), fact_id=fact_of(unit, Unit.Renamed))


@handles(MoveUnit, UnitRecorded)
def move_unit(cmd: MoveUnit, work: Work) -> UnitRecorded:
    unit = work.unit(cmd.unit_id)
    new_parent = work.unit(cmd.new_parent_id, "newParentId") if cmd.new_parent_id else None
    old_parent = work.unit(unit.parent_id, "parentId") if unit.parent_id else None
    ancestors = sorted(work.ancestor_ids(new_parent, cmd.effective_on)) if new_parent else []
    unit.move(old_parent=old_parent, new_parent=new_parent, new_parent_ancestor_ids=ancestors,
              effective_on=cmd.effective_on, act=cmd.act, at=work.at)
    return UnitRecorded(unit_id=str(unit.id), fact_id=fact_of(unit, Unit.Moved))


@handles(ChangeUnitModel, UnitRecorded)
def change_unit_model(cmd: ChangeUnitModel, work: Work) -> UnitRecorded:
    unit = work.unit(cmd.unit_id)
    unit.change_model(kind=cmd.kind, autonomy=cmd.autonomy, effective_on=cmd.effective_on, act=cmd.act, at=work.at)
    return UnitRecorded(unit_id=str(unit.id), fact_id=latest_fact(unit))


@handles(AdjustUnitFunctions, UnitRecorded)
def adjust_unit_functions(cmd: AdjustUnitFunctions, work: Work) -> UnitRecorded:
    unit = work.unit(cmd.unit_id)
    unit.adjust_functions(functions=cmd.functions, effective_on=cmd.effective_on, act=cmd.act, at=work.at)
    return UnitRecorded(unit_id=str(unit.id), fact_id=latest_fact(unit))
