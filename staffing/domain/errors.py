"""Every refusal the ledger can give, as a typed error.

Hierarchy::

    StaffingError                  code, field, message (what is wrong and how to fix it)
    ├── InvalidInput               malformed or out-of-range input
    ├── NotFound                   an id that names nothing (or the wrong kind of thing)
    ├── RuleViolation              a business rule refuses the command
    │   ├── UnitEnded              the unit has already ended (absorbed, split, dissolved ...)
    │   ├── EffectiveBeforeStart   effective date before the unit/person/position existed
    │   ├── OutOfOrderFact         dated before a later fact already on record
    │   ├── HierarchyCycle         a unit would become its own ancestor
    │   ├── UnitNotEmpty           dissolving a unit that still has people, positions or units
    │   ├── AllocationIncomplete   a split that leaves people/positions/units unallocated
    │   ├── PersonNotActive        the person has left the service
    │   ├── PositionUnavailable    abolished position, or one in another unit
    │   ├── DuplicateCode          a unit code already held by a live unit
    │   └── NotRetractable         reorganisations are reversed by new acts, not retracted
    ├── IdempotencyConflict        a request key reused for a different command
    └── ConcurrencyConflict        retries exhausted under contention (safe to resubmit)

The GraphQL layer maps ``code``/``field``/``message`` straight into payload ``errors``.
"""

from __future__ import annotations

__all__ = [
    "AllocationIncomplete",
    "ConcurrencyConflict",
    "DuplicateCode",
    "EffectiveBeforeStart",
    "HierarchyCycle",
    "IdempotencyConflict",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "NotRetractable",
    "OutOfOrderFact",
    "PersonNotActive",
    "PositionUnavailable",
    "RuleViolation",
    "StaffingError",
    "UnitEnded",
    "UnitNotEmpty",
]


class StaffingError(Exception):
    code = "STAFFING_ERROR"

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class InvalidInput(StaffingError):
    code = "INVALID_INPUT"


class NotFound(StaffingError):
    code = "NOT_FOUND"


class RuleViolation(StaffingError):
    code = "RULE_VIOLATION"


class UnitEnded(RuleViolation):
    code = "UNIT_ENDED"


class EffectiveBeforeStart(RuleViolation):
    code = "EFFECTIVE_BEFORE_START"


class OutOfOrderFact(RuleViolation):
    code = "OUT_OF_ORDER_FACT"


class HierarchyCycle(RuleViolation):
    code = "HIERARCHY_CYCLE"


class UnitNotEmpty(RuleViolation):
    code = "UNIT_NOT_EMPTY"


class AllocationIncomplete(RuleViolation):
    code = "ALLOCATION_INCOMPLETE"


class PersonNotActive(RuleViolation):
    code = "PERSON_NOT_ACTIVE"


class PositionUnavailable(RuleViolation):
    code = "POSITION_UNAVAILABLE"


class DuplicateCode(RuleViolation):
    code = "DUPLICATE_CODE"


class NotRetractable(RuleViolation):
    code = "NOT_RETRACTABLE"


class Forbidden(StaffingError):
    """The caller's role or scope does not allow what the command would do (nothing is written)."""

    code = "FORBIDDEN"


class IdempotencyConflict(StaffingError):
    code = "IDEMPOTENCY_CONFLICT"


class ConcurrencyConflict(StaffingError):
    code = "CONCURRENCY_CONFLICT"
