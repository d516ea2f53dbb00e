"""Execution that completes plain scalar fields without graphql-core's per-field machinery.

Why (issue 9): a national listing over GraphQL (~54,000 rows × ~40 fields) spent ~7 µs per field
in graphql-core and strawberry: a ``Path``, a ``ResolveInfo`` of fourteen items, strawberry's
resolver wrapper and ``complete_value``'s type dispatch, for what is one attribute read and one
scalar coercion. The listing took 7.96 s over HTTP against a target of 3 s.

``LeanExecutor.execute_fields`` sorts the fields of each selection once per query (graphql-core
memoises the grouped field set per type and selection, so the plan is keyed by its identity) into:

- **plain**: a field strawberry itself resolves by reading an attribute (no resolver, no
  permission classes or other field extensions, no arguments) whose type is a scalar or an enum,
  nullable or not. Its value is read with strawberry's own default resolver and coerced by the
  GraphQL type's own ``coerce_output_value``: the same two steps the full path takes;
- **everything else** (resolvers, permissions, objects, lists): the full path, unchanged.

Anything unusual about a plain field's value (``None`` where the type is non-null, a value the
coercion refuses, an exception or an awaitable in the attribute) sends *that field* down the full
path too, so errors, null propagation and their messages and paths are graphql-core's own (it
reads the attribute again: an awaitable read first is closed, not left pending). The
fast path is off when a schema extension resolves fields (graphql-core middleware): every field
must then pass through it. ``tests/graphql/test_lean_executor.py`` checks answers against
graphql-core's own executor, field for field.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Any

from graphql import GraphQLLeafType, GraphQLNonNull, GraphQLObjectType, is_leaf_type
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

__all__ = ["LeanExecutor"]

#: values that cannot be awaitable: the awaitable check is skipped for them
_PLAIN_VALUES = frozenset({str, int, bool, float, date, datetime})

#: a plan entry: (response name, None, None, None, None) for the full path, or
#: (response name, attribute, read, coerce, non-null) for a plain field
_Entry = tuple[str, str | None, Callable[[Any, str], Any] | None, Callable[[Any], Any] | None, bool]


def _plain(field_def: Any, first_node: Any) -> tuple[str, Callable[[Any, str], Any], GraphQLLeafType, bool] | None:
    """(attribute, read, leaf type, non-null) when the field is plain, else None."""
    strawberry_field = (field_def.extensions or {}).get("strawberry-definition")
    if (strawberry_field is None or not getattr(field_def.resolve, "_is_default", False)
            or not strawberry_field.is_basic_field or field_def.args or first_node.arguments):
        return None
    kind, non_null = field_def.type, False
    if isinstance(kind, GraphQLNonNull):
        kind, non_null = kind.of_type, True
    if not is_leaf_type(kind):
        return None
    return strawberry_field.python_name, strawberry_field.default_resolver, kind, non_null


class LeanExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with plain scalar fields completed inline (see the module docstring)."""

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
            plain = _plain(field_def, first_node) if field_def is not None else None
            if plain is None:
                entries.append((response_name, None, None, None, False))
            else:
                attribute, read, leaf, non_null = plain
                entries.append((response_name, attribute, read, leaf.coerce_output_value, non_null))
        plan = entries if any(e[1] is not None for e in entries) else None
        self._plans[key] = (grouped_field_set, plan)  # keeps the set alive: its id is the key
        return plan

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Path | None,
                       grouped_field_set: Any, position_context: Any) -> Any:
        plan = self._plan(parent_type, grouped_field_set) if self._lean else None
        if plan is None:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        results: dict[str, Any] = {}
        awaiting: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for response_name, attribute, read, coerce, non_null in plan:
                if attribute is not None:
                    completed = _complete_plain(source_value, attribute, read, coerce, non_null, is_awaitable)
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


def _complete_plain(source: Any, attribute: str, read: Any, coerce: Any, non_null: bool,
                    is_awaitable: Callable[[Any], bool]) -> Any:
    """The completed value of a plain field, or ``_FULL_PATH`` for anything the full path must see."""
    try:
        value = read(source, attribute)
    except Exception:
        return _FULL_PATH
    if value is None:
        return _FULL_PATH if non_null else None
    if value.__class__ not in _PLAIN_VALUES and not isinstance(value, enum.Enum):
        if is_awaitable(value):
            if isinstance(value, Coroutine):
                value.close()  # the full path reads the attribute again and awaits what it gets
            return _FULL_PATH
        if isinstance(value, Exception):
            return _FULL_PATH
    try:
        coerced = coerce(value)
    except Exception:
        return _FULL_PATH
    if coerced is None or coerced is Undefined:
        return _FULL_PATH
    return coerced


def _probe(*_args: Any, **_kwargs: Any) -> None:
    """A resolver the middleware check passes through: returned unchanged means no middleware."""
