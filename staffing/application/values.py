"""Typed, frozen values for the write side, and the one routine that turns input into them.

Every command (and every spec inside one: a new unit, a split part, a quota figure) is a frozen
keyword-only dataclass. On construction its fields are *coerced* by their annotations: ids given
as text become ``UUID`` (so a unit id given as text or as a UUID is the same command), enum names
become enum members, ISO dates become dates, lists become tuples, mappings become nested values.
Whatever cannot be coerced is refused with ``InvalidInput`` naming the field as the API spells it
(``parts[0].unit.kind``). The same routine serves Python callers, GraphQL inputs and the JSON Lines
import, so all three accept and refuse exactly the same things.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any, ClassVar, TypeVar, Union
from uuid import UUID

from staffing.domain.base import as_uuid
from staffing.domain.errors import InvalidInput
from staffing.domain.values import LegalAct, parse_enum

__all__ = ["Value", "camel", "coerce", "from_data", "snake"]

V = TypeVar("V")


def camel(name: str) -> str:
    """``effective_on`` → ``effectiveOn``: field names as the API spells them."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """``effectiveOn`` → ``effective_on``."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = typing.get_type_hints(cls)
    return found


def _legal_act(value: Any, path: str) -> LegalAct:
    if isinstance(value, LegalAct):
        return value
    if not isinstance(value, Mapping):
        raise InvalidInput(path, "give the legal act as {number, issuer, signedOn}")
    data = {snake(k): v for k, v in value.items()}
    unknown = set(data) - {"number", "issuer", "signed_on"}
    if unknown:
        raise InvalidInput(_join(path, camel(sorted(unknown)[0])), "unknown field of a legal act")
    for name in ("number", "issuer", "signed_on"):
        if data.get(name) is None:
            raise InvalidInput(_join(path, camel(name)), "this field of the legal act is required")
    number = coerce(data["number"], str, _join(path, "number"))
    issuer = coerce(data["issuer"], str, _join(path, "issuer"))
    signed_on = coerce(data["signed_on"], date, _join(path, "signedOn"))
    try:
        return LegalAct(number, issuer, signed_on)
    except InvalidInput as error:  # re-anchor the field under this path
        raise InvalidInput(_join(path, (error.field or "").removeprefix("act.")), error.message) from None


def coerce(value: Any, hint: Any, path: str) -> Any:
    """Turn ``value`` into the type ``hint`` names, or refuse it naming ``path``."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return coerce(value, options[0], path)
    if origin is tuple:
        item_hint = typing.get_args(hint)[0]
        if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
            raise InvalidInput(path, "expected a list")
        return tuple(coerce(item, item_hint, f"{path}[{i}]") for i, item in enumerate(value))
    if value is None:
        raise InvalidInput(path, "this field is required")
    if hint is UUID:
        return as_uuid(value, path)
    if hint is LegalAct:
        return _legal_act(value, path)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return parse_enum(hint, value.value if isinstance(value, Enum) else value, path)  # type: ignore[type-var]
    if hint is date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise InvalidInput(path, f"{value!r} is not a date; write it as YYYY-MM-DD")
    if hint is bool:
        if not isinstance(value, bool):
            raise InvalidInput(path, f"expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(path, f"expected a whole number, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise InvalidInput(path, f"expected a text, got {value!r}")
        return value
    if isinstance(hint, type) and issubclass(hint, Value):
        if isinstance(value, hint):
            return value
        if isinstance(value, Mapping):
            return from_data(hint, value, path)
        raise InvalidInput(path, f"expected an object with the fields of {hint.__name__}")
    raise TypeError(f"no coercion for {hint!r}")  # a programming error, not bad input


def from_data(cls: type[V], data: Mapping[str, Any], path: str = "") -> V:
    """Build ``cls`` from a mapping keyed by API names (camelCase) or Python names (snake_case).

    Unknown keys are refused (a misspelt field must not be silently ignored); missing required
    fields are refused by name; every value is coerced with its full path.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput(path or None, f"expected an object with the fields of {cls.__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = _hints(cls)
    names = {key: snake(key) if isinstance(key, str) else key for key in data}
    for key, name in names.items():  # a misspelt field is named before any value is judged
        if name not in fields or not fields[name].init:
            raise InvalidInput(_join(path, str(key)), f"{cls.__name__} has no field {key!r}")
    values = {names[key]: coerce(raw, hints[names[key]], _join(path, camel(names[key]))) for key, raw in data.items()}
    for name, f in fields.items():
        if name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise InvalidInput(_join(path, camel(name)), "this field is required")
    return cls(**values)


class Value:
    """Base of commands and their specs: coerces its fields on construction (see module docstring)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            current = getattr(self, f.name)
            coerced = coerce(current, hints[f.name], camel(f.name))
            if coerced is not current:
                object.__setattr__(self, f.name, coerced)
