"""The schema: query and mutation roots, with validation limits built once (cached validation)."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import AddValidationRules, MaskErrors, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from staffing.graphql.executor import LeanExecutor
from staffing.graphql.hardening import CostLimiter, ErrorCodes, give_code
from staffing.graphql.mutations import Mutation
from staffing.graphql.queries import Query

__all__ = ["build_schema", "production_schema", "schema"]

_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_date(value: object) -> date:
    """``YYYY-MM-DD`` only: Python's ``fromisoformat`` would also take week dates (``2025-W27-1``),
    ordinal and compact forms, which no personnel department means to send."""
    if not isinstance(value, str) or not _PLAIN_DATE.match(value):
        raise StrawberryInputCoercionError(f'Value cannot represent a Date: "{str(value)[:40]}"; write it as '
                                           "YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise StrawberryInputCoercionError(f'Value cannot represent a Date: "{value}" is not a real date') from None


PLAIN_DATE = strawberry.scalar(name="Date", description="Date (isoformat)", serialize=date.isoformat,
                               parse_value=_parse_date)

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5_000
log = logging.getLogger("staffing.graphql")


def _should_mask(error: GraphQLError) -> bool:
    """Mask unexpected failures only: validation errors and our typed errors keep their message."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class LedgerSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """One log line per refused request (a client's mistake is not a server fault and needs no
        traceback); an unexpected failure is logged whole, since that is a bug to fix."""
        for error in errors:
            original = error.original_error
            if original is not None and not isinstance(original, GraphQLError):
                log.error("internal error at %s", error.path, exc_info=original)
            else:
                give_code(error)
                log.info("refused %s: %s", (error.extensions or {}).get("code"), error.message[:300])


def build_schema(production: bool = True) -> strawberry.Schema:
    """``production``: no introspection and no field suggestions (see ``serve`` and ``serve --dev``)."""
    # the rule classes are built once and shared, so graphql-core's validation stays cacheable;
    # strawberry wants a factory per request for the extension objects themselves
    rules: list[Any] = [depth_rule(MAX_DEPTH, None, None), max_aliases_rule(MAX_ALIASES)]
    if production:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Any] = [
        # a client repeats the same few query texts: parse and validate each once (bounded LRU)
        lambda: ParserCache(maxsize=256),
        lambda: MaxTokensLimiter(MAX_TOKENS),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=256),
        CostLimiter,
        lambda: MaskErrors(should_mask_error=_should_mask, error_message="Internal error; it has been logged"),
    ]
    extensions.append(lambda: ErrorCodes(suggestions=not production))
    return LedgerSchema(query=Query, mutation=Mutation, config=StrawberryConfig(scalar_map={date: PLAIN_DATE}),
                        extensions=extensions, execution_context_class=LeanExecutor)


#: the development schema (introspection on): the SDL, tests and tools use it
schema = build_schema(production=False)
production_schema = build_schema(production=True)
