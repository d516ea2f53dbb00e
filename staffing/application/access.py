"""Who may record what: the scope rule for writes (issue 10).

A ``personnel`` caller records facts only inside its unit's subtree *as the tree stands on each
fact's effective date*. The rule is checked on what a command actually does, not on the ids it
names: after a command is decided, every event it produced is attributed to the unit it concerns
(a unit's own events and roster changes, a quota ledger's unit, the unit a person or position
belongs to on that date), and each such unit must lie under the caller's unit on the event's
effective date, walking the parent chain as the command leaves it. So:

- a merge, transfer or move that touches a unit outside the subtree is refused: the outside unit
  (the merge target, the other end of a transfer, the old parent a moved unit leaves) gets an
  event of its own;
- a foreign unit cannot be pulled in by moving it under the caller's subtree: its old parent,
  outside, records the detachment;
- a late fact whose derived consequences reach a successor outside the subtree is refused too
  (every unit a command touches, as the issue says).

``ministry`` and ``auditor`` callers record nothing; ``admin`` records anywhere. ``None`` (a
trusted in-process caller: the CLI's import, the demo loader, tests) is not checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from staffing.domain.errors import Forbidden
from staffing.domain.person import Person
from staffing.domain.position import Position
from staffing.domain.quota import StaffingQuota
from staffing.domain.unit import Unit

if TYPE_CHECKING:
    from staffing.application.work import Work

__all__ = ["ROLES", "Principal", "check_scope", "parent_on"]

ROLES = ("personnel", "ministry", "auditor", "admin")
#: deeper than any real hierarchy (ministry → bureau → department → division → unit); a guard only
MAX_DEPTH = 64


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: its name (recorded with each fact it enters), role and scope."""

    name: str
    role: str
    unit_id: UUID | None = None

    @property
    def reads_everything(self) -> bool:
        return self.role != "personnel"

    @property
    def records(self) -> bool:
        return self.role in ("personnel", "admin")


def parent_on(unit: Unit, day: date) -> UUID | None:
    """The unit's parent in force on ``day`` (None: a root, or not yet established)."""
    in_force = [p for d, p in unit.parent_history if d <= day]
    return in_force[-1] if in_force else None


def _concerned_unit(aggregate: Any, day: date) -> UUID | None:
    if isinstance(aggregate, Unit):
        return aggregate.id  # type: ignore[no-any-return]
    if isinstance(aggregate, StaffingQuota):
        return aggregate.unit_id  # type: ignore[no-any-return]
    if isinstance(aggregate, Person):
        placement = aggregate.placement_on(day)
        return placement.unit_id if placement is not None else None
    if isinstance(aggregate, Position):
        return aggregate.unit_on(day)  # type: ignore[no-any-return]
    return None  # a request record: no unit


def within(work: Work, unit_id: UUID, root: UUID, day: date) -> bool:
    """Whether ``unit_id`` lies in ``root``'s subtree on ``day`` (the tree as ``work`` holds it)."""
    current: UUID | None = unit_id
    for _ in range(MAX_DEPTH):
        if current is None:
            return False
        if current == root:
            return True
        current = parent_on(work.unit(current), day)
    return False


def check_scope(principal: Principal | None, work: Work, events: Iterable[Any]) -> None:
    """Refuse (``Forbidden``) a command whose ``events`` reach outside the caller's scope."""
    if principal is None or principal.role == "admin":
        return
    if not principal.records:
        raise Forbidden(None, f"the role {principal.role} may read but not record facts")
    root = principal.unit_id
    checked: set[tuple[UUID, date]] = set()
    for event in events:
        day = getattr(event, "effective_on", None)
        if day is None:
            continue
        unit_id = _concerned_unit(work.loaded.get(event.originator_id), day)
        if unit_id is None or (unit_id, day) in checked:
            continue
        if root is None or not within(work, unit_id, root, day):
            raise Forbidden(None, f"this command touches unit {unit_id} on {day.isoformat()}, outside the subtree "
                                  f"of your unit ({root}); ask its personnel department or an administrator")
        checked.add((unit_id, day))
