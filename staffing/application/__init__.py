"""The write side: typed commands, one handler each, one unit of work around them all.

- ``commands``: the vocabulary (frozen dataclasses; ``AssignQuota``, ``MergeUnits`` ...);
- ``handlers``: one function per command, registered in ``registry``;
- ``service``: ``StaffingService.execute(command)`` and ``run([...], mode)`` — load → decide → save
  in one transaction, retry on conflict, request keys, catch-up;
- ``plans``: dry-run and atomic plans; ``transfer``: JSON Lines import and export.
"""

from staffing.application.commands import *  # noqa: F403
from staffing.application.commands import __all__ as _commands
from staffing.application.handlers.common import fact_id, parse_fact_id
from staffing.application.results import (
    PersonRecorded,
    PositionRecorded,
    Result,
    Retraction,
    UnitRecorded,
    UnitsRecorded,
)
from staffing.application.service import Item, Mode, Outcome, StaffingService

__all__ = [
    *_commands, "Item", "Mode", "Outcome", "PersonRecorded", "PositionRecorded", "Result", "Retraction",
    "StaffingService", "UnitRecorded", "UnitsRecorded", "fact_id", "parse_fact_id",
]
