"""Execution that completes plain fields without graphql-core's per-field machinery.

Why (issue 9): a national listing over GraphQL (~60,000 rows, ~250,000 lines, ~40 fields a row)
spent ~7 µs per field in graphql-core and strawberry: a ``Path``, a ``ResolveInfo`` of fourteen
items, strawberry's resolver wrapper and ``complete_value``'s type dispatch, for what is one
attribute read and one scalar coercion. The listing took 7.96 s over HTTP against a target of 3 s.

``LeanExecutor.execute_fields`` sorts the fields of each selection once per query (graphql-core
memoises the grouped field set per type and selection, so the plan is keyed by its identity) into:

- **plain**: a field strawberry itself resolves by reading an attribute (no resolver, no
  permission classes or other field extensions, no arguments) whose type is
  - a scalar or an enum: the value is read with strawberry's own default resolver and coerced by
    the GraphQL type's own ``coerce_output_value`` (the same two steps the full path takes; a
    ``str``, ``bool`` or 32-bit ``int`` that coercion returns as it is, and an enum member already
    seen, are answered without the call);
  - an object type (not an interface or union, no ``is_type_of``) whose selection is all plain,
    or a list of such objects: each object's selection is completed the same way, inline;
- **everything else** (resolvers, permissions, interfaces, nested lists): the full path, unchanged.

Anything unusual about a plain field's value (``None`` where the type is non-null, a value the
coercion refuses, an exception or an awaitable in the attribute, a list that is not a list) sends
the whole field down the full path: nothing was recorded on the way (no error collected), so errors,
null propagation and their messages and paths are graphql-core's own. It reads the attribute
again; an awaitable read first is closed, not left pending. The fast path is off when a schema
extension resolves fields (graphql-core middleware): every field must then pass through it.
Long lists are completed with the cyclic collector paused (``complete_list_value``).
``tests/graphql/test_lean_executor.py`` checks answers against graphql-core's own executor.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    is_leaf_type,
)
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from staffing.pause import collection_paused

__all__ = ["LeanExecutor"]

#: items from which a list is completed with the collector paused
LONG_LIST = 1_000

#: values that cannot be awaitable: the awaitable check is skipped for them
_PLAIN_VALUES = frozenset({str, int, bool, float, date, datetime})

#: a scalar or enum field read and coerced inline (``_leaf``): (attribute, read, the class of the
#: values its coercion returns as they are or None, the coercion, non-null, the awaitable check)
_Leaf = tuple[str, Any, type | None, Callable[[Any], Any], bool, Callable[[Any], bool]]
#: a plan entry: (response name, completion, leaf): a leaf field's ``_Leaf``, else its completion,
#: which returns the field's completed value from its source object, or ``_FULL_PATH``; both None:
#: the full path from the start
_Entry = tuple[str, Callable[[Any], Any] | None, _Leaf | None]


def _basic(field_def: Any, first_node: Any) -> Any:
    """The strawberry field when strawberry resolves ``field_def`` by reading an attribute, else None."""
    strawberry_field = (field_def.extensions or {}).get("strawberry-definition")
    if (strawberry_field is None or not getattr(field_def.resolve, "_is_default", False)
            or not strawberry_field.is_basic_field or field_def.args or first_node.arguments):
        return None
    return strawberry_field


def _unwrapped(kind: Any) -> tuple[Any, bool]:
    return (kind.of_type, True) if isinstance(kind, GraphQLNonNull) else (kind, False)


class LeanExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with plain fields completed inline (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[str, int], tuple[Any, list[_Entry] | None]] = {}
        manager = self.middleware_manager
        self._lean = manager is None or manager.get_field_resolver(_probe) is _probe

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Entry] | None:
        """The plan of one selection on one type, or None when no field of it is plain."""
        key = (parent_type.name, id(grouped_field_set))
        cached = self._plans.get(key)
        if cached is not None:
            return cached[1]
        entries: list[_Entry] = []
        for response_name, field_details_list in grouped_field_set.items():
            first_node = field_details_list[0].node
            field_def = self.schema.get_field(parent_type, first_node.name.value)
            basic = _basic(field_def, first_node) if field_def is not None else None
            if field_def is None or basic is None:
                entries.append((response_name, None, None))
            else:
                entries.append((response_name, *self._completion(basic, field_def.type, field_details_list)))
        plan = entries if any(completion is not None or leaf is not None for _, completion, leaf in entries) else None
        self._plans[key] = (grouped_field_set, plan)  # keeps the set alive: its id is the key
        return plan

    def _completion(self, basic: Any, kind: Any, field_details_list: Any
                    ) -> tuple[Callable[[Any], Any] | None, _Leaf | None]:
        """How to complete a basic field inline: (completion, None) for an object or a list, (None, leaf)
        for a scalar or an enum, (None, None) when its type or selection needs the full path.

        Inline: a scalar or enum; an object whose selection is itself all inline; a list of such
        objects (one level). Interfaces, unions, types with ``is_type_of``, nested lists and deferred
        selections take the full path.
        """
        attribute, read, is_awaitable = basic.python_name, basic.default_resolver, self.is_awaitable
        kind, non_null = _unwrapped(kind)
        if is_leaf_type(kind):
            same, coerce = _coercion(kind)
            return None, (attribute, read, same, coerce, non_null, is_awaitable)
        listed, item_non_null = False, False
        if isinstance(kind, GraphQLList):
            listed = True
            kind, item_non_null = _unwrapped(kind.of_type)
        if not isinstance(kind, GraphQLObjectType) or kind.is_type_of is not None:
            return None, None
        grouped_field_set, defer_usages, _ = self.collect_subfields(kind, field_details_list)
        inner = self._plan(kind, grouped_field_set)
        if defer_usages or inner is None or any(completion is None and leaf is None for _, completion, leaf in inner):
            return None, None
        if listed:
            return (lambda source: _complete_list(source, attribute, read, non_null, item_non_null, inner,
                                                  is_awaitable)), None
        return (lambda source: _complete_object(_read(source, attribute, read, non_null, is_awaitable), inner)), None

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Path | None,
                       grouped_field_set: Any, position_context: Any) -> Any:
        plan = self._plan(parent_type, grouped_field_set) if self._lean else None
        if plan is None:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        results: dict[str, Any] = {}
        awaiting: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for response_name, completion, leaf in plan:
                if leaf is not None or completion is not None:
                    completed = _leaf(source_value, leaf) if leaf is not None else completion(source_value)  # type: ignore[misc]
                    if completed is not _FULL_PATH:
                        results[response_name] = completed
                        continue
                result = self.execute_field(parent_type, source_value, grouped_field_set[response_name],
                                            Path(path, response_name, parent_type.name), position_context)
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaiting.append(response_name)
        except Exception:
            if awaiting:
                self.settle_in_background([results[name] for name in awaiting])
            raise
        if not awaiting:
            return results
        return self._gathered(results, awaiting)

    def complete_list_value(self, return_type: Any, field_details_list: Any, info: Any, path: Path, result: Any,
                            position_context: Any) -> Any:
        """A long list is completed with the cyclic collector paused (``staffing.pause``): its
        completion allocates a dict per item and per object inside, and a collector that walks the
        growing heap every few hundred allocations cost a third of a national listing."""
        if isinstance(result, list) and len(result) >= LONG_LIST:
            with collection_paused():
                return super().complete_list_value(return_type, field_details_list, info, path, result,
                                                   position_context)
        return super().complete_list_value(return_type, field_details_list, info, path, result, position_context)

    async def _gathered(self, results: dict[str, Any], awaiting: list[str]) -> dict[str, Any]:
        """The results with the awaitable ones awaited (as graphql-core's own ``execute_fields``)."""
        from graphql.pyutils import gather_with_cancel

        if len(awaiting) == 1:
            results[awaiting[0]] = await results[awaiting[0]]
        else:
            done = await gather_with_cancel(*(results[name] for name in awaiting))
            results.update(zip(awaiting, done, strict=True))
        return results


class _FullPath:
    """The marker for "complete this field by the full path"."""


_FULL_PATH = _FullPath()


def _read(source: Any, attribute: str, read: Any, non_null: bool, is_awaitable: Callable[[Any], bool]) -> Any:
    """A basic field's value; ``_FULL_PATH`` for anything the full path must see (an exception in
    the read, ``None`` where the type is non-null, an exception or an awaitable as the value)."""
    try:
        value = read(source, attribute)
    except Exception:
        return _FULL_PATH
    return _checked(value, non_null, is_awaitable)


def _checked(value: Any, non_null: bool, is_awaitable: Callable[[Any], bool]) -> Any:
    """``value`` as read, or ``_FULL_PATH`` for what the full path must see: ``None`` where the type
    is non-null, an exception or an awaitable as the value."""
    if value is None:
        return _FULL_PATH if non_null else None
    if value.__class__ not in _PLAIN_VALUES and not isinstance(value, enum.Enum):
        if is_awaitable(value):
            if isinstance(value, Coroutine):
                value.close()  # the full path reads the attribute again and awaits what it gets
            return _FULL_PATH
        if isinstance(value, Exception):
            return _FULL_PATH
    return value


def _leaf(source: Any, leaf: _Leaf) -> Any:
    """A scalar or enum field, coerced by its GraphQL type, or ``_FULL_PATH``: ``_read`` and the
    coercion in one call, and a value of the class the coercion returns as it is (a ``str`` for String
    and ID, a ``bool``, an ``int`` within Int's 32 bits) taken without the coercion's call."""
    same: Any
    value: Any
    attribute, read, same, coerce, non_null, is_awaitable = leaf
    try:
        value = read(source, attribute)
    except Exception:
        return _FULL_PATH
    if value.__class__ is same and (same is not int or _MIN_INT <= value <= _MAX_INT):
        return value
    value = _checked(value, non_null, is_awaitable)
    if value is None or value is _FULL_PATH:
        return value
    try:
        coerced = coerce(value)
    except Exception:
        return _FULL_PATH
    if coerced is None or coerced is Undefined:
        return _FULL_PATH
    return coerced


def _coercion(kind: Any) -> tuple[type | None, Callable[[Any], Any]]:
    """(the class of values the leaf type's ``coerce_output_value`` returns as they are, the coercion):
    ``str`` for String and ID, ``bool``, ``int`` for Int (within its 32 bits, checked by ``_leaf``).
    An enum's coercion remembers the names it found (strawberry's walks the enum's values)."""
    coerce = kind.coerce_output_value
    if kind is GraphQLString or kind is GraphQLID:
        return str, coerce
    if kind is GraphQLBoolean:
        return bool, coerce
    if kind is GraphQLInt:
        return int, coerce
    if isinstance(kind, GraphQLEnumType):
        names: dict[enum.Enum, Any] = {}

        def coerce_enum(value: Any) -> Any:
            found = names.get(value) if isinstance(value, enum.Enum) else None
            if found is None:
                found = coerce(value)
                if isinstance(value, enum.Enum):
                    names[value] = found
            return found

        return None, coerce_enum
    return None, coerce


#: GraphQL's Int: a signed 32-bit integer
_MIN_INT, _MAX_INT = -(2**31), 2**31 - 1


def _complete_object(value: Any, inner: list[_Entry]) -> Any:
    """An object's selection (every field inline), or ``_FULL_PATH`` if any field needs the full path:
    nothing has been recorded by then (no error collected), so the full path starts afresh."""
    if value is None or value is _FULL_PATH:
        return value
    completed = {}
    for response_name, completion, leaf in inner:
        found = _leaf(value, leaf) if leaf is not None else completion(value)  # type: ignore[misc]
        if found is _FULL_PATH:
            return _FULL_PATH
        completed[response_name] = found
    return completed


def _complete_list(source: Any, attribute: str, read: Any, non_null: bool, item_non_null: bool,
                   inner: list[_Entry], is_awaitable: Callable[[Any], bool]) -> Any:
    """A list of objects (a Python list or tuple), each completed by ``_complete_object``."""
    value = _read(source, attribute, read, non_null, is_awaitable)
    if value is None or value is _FULL_PATH:
        return value
    if not isinstance(value, list | tuple):
        return _FULL_PATH
    completed: list[Any] = []
    for item in value:
        if item is None:
            if item_non_null:
                return _FULL_PATH
            completed.append(None)
            continue
        if isinstance(item, Exception):
            return _FULL_PATH
        found = _complete_object(item, inner)
        if found is _FULL_PATH:
            return _FULL_PATH
        completed.append(found)
    return completed


def _probe(*_args: Any, **_kwargs: Any) -> None:
    """A resolver the middleware check passes through: returned unchanged means no middleware."""
