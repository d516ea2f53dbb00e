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
import functools
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any, ClassVar, TypeVar, Union
from uuid import UUID

from staffing.application.hygiene import check_date_bounds, clean_text, parse_plain_date
from staffing.domain.base import as_uuid
from staffing.domain.errors import InvalidInput
from staffing.domain.values import LegalAct, parse_enum

__all__ = ["Value", "camel", "coerce", "from_data", "snake"]

V = TypeVar("V")


@functools.cache
def camel(name: str) -> str:
    """``effective_on`` → ``effectiveOn``: field names as the API spells them."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@functools.cache
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
    number = clean_text(_str(data["number"], _join(path, "number")), _join(path, "number"), "number")
    issuer = clean_text(_str(data["issuer"], _join(path, "issuer")), _join(path, "issuer"), "issuer")
    signed_on = coerce(data["signed_on"], date, _join(path, "signedOn"))
    try:
        return LegalAct(number, issuer, signed_on)
    except InvalidInput as error:  # re-anchor the field under this path
        raise InvalidInput(_join(path, (error.field or "").removeprefix("act.")), error.message) from None


def coerce(value: Any, hint: Any, path: str) -> Any:
    """Turn ``value`` into the type ``hint`` names, or refuse it naming ``path``."""
    return _coercer(hint)(value, path)


Coercer = Callable[[Any, str], Any]
_COERCERS: dict[Any, Coercer] = {}


def _coercer(hint: Any) -> Coercer:
    """The coercion routine for one annotation, worked out once per annotation (the import calls
    ``coerce`` for every field of every line: deciding what a hint means each time was a third
    of the import's time)."""
    found = _COERCERS.get(hint)
    if found is None:
        found = _COERCERS[hint] = _compile(hint)
    return found


def _compile(hint: Any) -> Coercer:  # noqa: C901 - one branch per kind of annotation
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        inner = _coercer([a for a in typing.get_args(hint) if a is not type(None)][0])
        return lambda value, path: None if value is None else inner(value, path)
    if origin is tuple:
        item = _coercer(typing.get_args(hint)[0])

        def many(value: Any, path: str) -> Any:
            if value is None:
                raise InvalidInput(path, "this field is required")
            if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
                raise InvalidInput(path, "expected a list")
            return tuple(item(one, f"{path}[{i}]") for i, one in enumerate(value))
        return many
    if hint is UUID:
        return _required(lambda value, path: value if type(value) is UUID else as_uuid(value, path))
    if hint is LegalAct:
        return _required(_legal_act)
    if isinstance(hint, type) and issubclass(hint, Enum):
        enum: Any = hint
        return _required(lambda value, path: value if type(value) is enum else
                         parse_enum(enum, value.value if isinstance(value, Enum) else value, path))
    if hint is date:
        return _required(_date)
    if hint is bool:
        return _required(_bool)
    if hint is int:
        return _required(_int)
    if hint is str:
        return _required(_str)
    if isinstance(hint, type) and issubclass(hint, Value):
        value_type: Any = hint

        def nested(value: Any, path: str) -> Any:
            if isinstance(value, value_type):
                return value
            if isinstance(value, Mapping):
                return from_data(value_type, value, path)
            raise InvalidInput(path, f"expected an object with the fields of {value_type.__name__}")
        return _required(nested)
    raise TypeError(f"no coercion for {hint!r}")  # a programming error, not bad input


def _required(inner: Coercer) -> Coercer:
    def required(value: Any, path: str) -> Any:
        if value is None:
            raise InvalidInput(path, "this field is required")
        return inner(value, path)
    return required


def _date(value: Any, path: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return check_date_bounds(value, path)
    if isinstance(value, str):
        return parse_plain_date(value, path)
    raise InvalidInput(path, f"{str(value)[:40]!r} is not a date; write it as YYYY-MM-DD")


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(path, f"expected true or false, got {value!r}")
    return value


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(path, f"expected a whole number, got {value!r}")
    return value


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(path, f"expected a text, got {str(value)[:40]!r}")
    return value


def _text_coercer(hint: Any, field: str) -> Coercer | None:
    """For a text field (``str`` or ``str | None``): type, hygiene and the field's length limit."""
    optional = typing.get_origin(hint) in (Union, types.UnionType) and type(None) in typing.get_args(hint)
    inner = [a for a in typing.get_args(hint) if a is not type(None)] if optional else [hint]
    if inner != [str]:
        return None

    def text(value: Any, path: str) -> Any:
        if value is None:
            if optional:
                return None
            raise InvalidInput(path, "this field is required")
        return clean_text(_str(value, path), path, field)
    return text


def from_data(cls: type[V], data: Mapping[str, Any], path: str = "") -> V:
    """Build ``cls`` from a mapping keyed by API names (camelCase) or Python names (snake_case).

    Unknown keys are refused (a misspelt field must not be silently ignored); missing required
    fields are refused by name; every value is coerced with its full path.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput(path or None, f"expected an object with the fields of {cls.__name__}")
    shape = _shape(cls)
    names = {key: snake(key) if isinstance(key, str) else key for key in data}
    for key, name in names.items():  # a misspelt field is named before any value is judged
        if name not in shape.coercers:
            raise InvalidInput(_join(path, str(key)), f"{cls.__name__} has no field {key!r}")
    values = {}
    for key, raw in data.items():
        name = names[key]
        values[name] = shape.coercers[name](raw, _join(path, camel(name)))
    for name in shape.required:
        if name not in values:
            raise InvalidInput(_join(path, camel(name)), "this field is required")
    return cls(**values)


class Value:
    """Base of commands and their specs: coerces its fields on construction (see module docstring)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    def __post_init__(self) -> None:
        for name, coercer, api_name in _shape(type(self)).fields:
            current = getattr(self, name)
            coerced = coercer(current, api_name)
            if coerced is not current:
                object.__setattr__(self, name, coerced)


@dataclasses.dataclass(frozen=True)
class _Shape:
    """What ``from_data`` and ``Value.__post_init__`` need of a value class, worked out once."""

    coercers: dict[str, Coercer]  # init fields only
    required: tuple[str, ...]
    fields: tuple[tuple[str, Coercer, str], ...]  # (name, coercer, API name), every field


_SHAPES: dict[type, _Shape] = {}


def _shape(cls: type) -> _Shape:
    found = _SHAPES.get(cls)
    if found is None:
        hints = _hints(cls)
        every = dataclasses.fields(cls)  # type: ignore[arg-type]
        coercers = {f.name: _text_coercer(hints[f.name], f.name) or _coercer(hints[f.name]) for f in every}
        found = _SHAPES[cls] = _Shape(
            coercers={f.name: coercers[f.name] for f in every if f.init},
            required=tuple(f.name for f in every if f.init and f.default is dataclasses.MISSING
                           and f.default_factory is dataclasses.MISSING),
            fields=tuple((f.name, coercers[f.name], camel(f.name)) for f in every))
    return found
