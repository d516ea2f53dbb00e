"""GraphQL-level limits (issue 10): query cost, no field suggestions in production, one log line
per refused request.

Cost. strawberry bounds depth, aliases and tokens but not how much work a query asks for: thirty
aliases of ``units(first: 500)`` with nested lineage is a small text and a large answer. Before
execution the operation is priced: every field costs 1, times the number of items its parents
stand for. A field with a ``first`` argument stands for ``first`` items (its literal, its
variable's value, or its default) — the connection's ``edges`` below it are those same items — and
any other list field for ``LIST_ESTIMATE`` items. An operation over ``MAX_COST`` is refused with
code QUERY_TOO_COSTLY and its price, before anything runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

__all__ = ["LIST_ESTIMATE", "MAX_COST", "CostLimiter", "ErrorCodes", "give_code", "price"]

MAX_COST = 20_000
LIST_ESTIMATE = 10
DEFAULT_FIRST = 50
log = logging.getLogger("staffing.graphql")


def _unwrap(type_: Any) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


def _first(node: FieldNode, variables: dict[str, Any]) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return given if isinstance(given, int) else DEFAULT_FIRST
    return None


def price(schema: Any, document: Any, operation_name: str | None, variables: dict[str, Any] | None) -> int:
    """The cost of the operation to run (see the module docstring)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = next((o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)),
                  None)
    if chosen is None:
        return 0
    root = {OperationType.QUERY: schema.query_type, OperationType.MUTATION: schema.mutation_type}.get(
        chosen.operation)
    if root is None:
        return 0
    return _selection(schema, root, chosen.selection_set, 1, fragments, variables or {}, set(), in_connection=False)


def _selection(schema: Any, parent: Any, selection: SelectionSetNode | None, times: int,
               fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any], seen: set[str],
               in_connection: bool) -> int:
    if selection is None or not isinstance(parent, GraphQLObjectType):
        return 0
    total = 0
    for node in selection.selections:
        if isinstance(node, FieldNode):
            definition = parent.fields.get(node.name.value)
            if definition is None:  # __typename and introspection: priced as one
                total += times
                continue
            child, is_list = _unwrap(definition.type)
            first = _first(node, variables)
            inner = times
            if first is not None:
                inner = times * max(first, 1)
            elif is_list and not (in_connection and node.name.value == "edges"):
                inner = times * LIST_ESTIMATE
            total += times + _selection(schema, child, node.selection_set, inner, fragments, variables, seen,
                                        in_connection=first is not None)
        elif isinstance(node, InlineFragmentNode):
            target = schema.get_type(node.type_condition.name.value) if node.type_condition else parent
            total += _selection(schema, target, node.selection_set, times, fragments, variables, seen, in_connection)
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            if name in seen or name not in fragments:  # a cycle is refused by validation anyway
                continue
            fragment = fragments[name]
            target = schema.get_type(fragment.type_condition.name.value)
            total += _selection(schema, target, fragment.selection_set, times, fragments, variables, seen | {name},
                                in_connection)
    return total


class CostLimiter(SchemaExtension):
    """Refuses an operation priced over ``MAX_COST`` before it runs."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            cost = price(context.schema._schema, context.graphql_document, context.operation_name,  # noqa: SLF001
                         context.variables)
            if cost > MAX_COST:
                context.result = ExecutionResult(data=None, errors=[GraphQLError(
                    f"this query would cost {cost:,} (limit {MAX_COST:,}): ask for fewer items (`first`), fewer "
                    "aliases or fewer nested lists, and page through the rest",
                    extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": MAX_COST})])
        yield


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class ErrorCodes(SchemaExtension):
    """Every error carries ``extensions.code``: graphql-core's own (a malformed query, a variable of
    the wrong type) get GRAPHQL_VALIDATION_FAILED or BAD_USER_INPUT, as a client expects.
    ``suggestions=False`` (production mode) also drops "Did you mean ...?": it maps the schema for
    someone who may not see it (introspection is off there too)."""

    def __init__(self, *, suggestions: bool = True) -> None:
        self.suggestions = suggestions

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        seen = [*(getattr(context.result, "errors", None) or ()), *(context.pre_execution_errors or ())]
        for error in seen:
            if not self.suggestions and "Did you mean" in error.message:
                error.message = _SUGGESTION.sub("", error.message)
            give_code(error)


def give_code(error: GraphQLError) -> None:
    """``extensions.code`` for graphql-core's own errors. Called from the schema's ``process_errors``
    too: a query that does not parse (or passes the token limit) never reaches ``on_operation``'s end."""
    if not (error.extensions or {}).get("code"):
        code = ("BAD_USER_INPUT" if error.message.startswith("Variable '") else
                "GRAPHQL_PARSE_FAILED" if error.message.startswith("Syntax Error") else "GRAPHQL_VALIDATION_FAILED")
        error.extensions = {**(error.extensions or {}), "code": code}
