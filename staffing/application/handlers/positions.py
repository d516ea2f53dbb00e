"""Handlers for job positions (vị trí việc làm): create in a unit, abolish."""

from __future__ import annotations

from staffing.application.commands import AbolishPosition, CreatePosition
from staffing.application.handlers.common import fact_id, fact_of, settle_position
from staffing.application.registry import handles
from staffing.application.results import PositionRecorded
from staffing.application.work import Work
from staffing.domain.position import Position

__all__: list[str] = []


@handles(CreatePosition, PositionRecorded)
def create_position(cmd: CreatePosition, work: Work) -> PositionRecorded:
    unit = work.unit(cmd.unit_id)
    unit.require_active_on(cmd.effective_on, "unitId")
    position = work.add(Position.create(position_id=work.fresh_id(cmd.id, "id"), unit_id=unit.id, title=cmd.title,
                                        group=cmd.group, rank=cmd.rank, effective_on=cmd.effective_on, act=cmd.act,
                                        at=work.at))
    settle_position(work, position, None, cmd.effective_on, cmd.act, cmd.split_parts)
    return PositionRecorded(position_id=str(position.id), fact_id=fact_id(position.id, 1))


@handles(AbolishPosition, PositionRecorded)
def abolish_position(cmd: AbolishPosition, work: Work) -> PositionRecorded:
    position = work.position(cmd.position_id)
    before = position.unit_id if position.is_open else None
    position.abolish(effective_on=cmd.effective_on, act=cmd.act, at=work.at)
    fact = fact_of(position, Position.Abolished)
    settle_position(work, position, before, cmd.effective_on, cmd.act)
    return PositionRecorded(position_id=str(position.id), fact_id=fact)
