"""What a handler returns: typed, frozen, and storable (a request key replays the first result).

Ids are given as text, the form every reader (GraphQL, the read models, files) uses.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from staffing.application.values import snake

__all__ = ["PersonRecorded", "PositionRecorded", "Result", "Retraction", "UnitRecorded", "UnitsRecorded"]


_IMMUTABLE = frozenset({str, int, bool, type(None), tuple})  # tuples here hold only strings (unit ids)


_NAMES: dict[type, tuple[str, ...]] = {}


def _names(cls: type) -> tuple[str, ...]:
    found = _NAMES.get(cls)
    if found is None:
        found = _NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return found


@dataclass(frozen=True)
class Result:
    fact_id: str

    @property
    def ids(self) -> tuple[str, ...]:
        """The ids the command created or touched, for a plan's ``ids`` list."""
        raise NotImplementedError

    def stored(self) -> dict[str, Any]:
        """The fields as a dict, as ``dataclasses.asdict`` gives them, copying only what is mutable (a
        payout): its deep copy of every field was a tenth of deciding a command."""
        out = {}
        for name in _names(type(self)):
            value = getattr(self, name)
            out[name] = value if type(value) in _IMMUTABLE else copy.deepcopy(value)
        return out

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> Result:
        """Read a stored result back; results stored before commands were typed used camelCase keys."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {snake(k): v for k, v in data.items() if snake(k) in names}
        for f in dataclasses.fields(cls):
            if f.name not in values and f.default is dataclasses.MISSING:
                values[f.name] = "" if f.type in ("str", str) else None
        if "unit_ids" in values:
            values["unit_ids"] = tuple(values["unit_ids"] or ())
        return cls(**values)


@dataclass(frozen=True)
class UnitRecorded(Result):
    unit_id: str

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.unit_id,)


@dataclass(frozen=True)
class UnitsRecorded(Result):
    unit_ids: tuple[str, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return self.unit_ids


@dataclass(frozen=True)
class PositionRecorded(Result):
    position_id: str

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.position_id,)


@dataclass(frozen=True)
class PersonRecorded(Result):
    person_id: str
    decree: str | None = None
    payout: dict[str, Any] | None = None  # a downsizing: {"rule", "total", "breakdown": [{"item", "amount"}]}

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.person_id,)


@dataclass(frozen=True)
class Retraction(Result):
    """``fact_id`` is the retraction's own fact; the person or unit it affected is named too."""

    retracted_fact_id: str
    person_id: str | None = None
    unit_id: str | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(i for i in (self.person_id, self.unit_id) if i)
