"""The schema: query and mutation roots, with validation limits built once (cached validation)."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, MaskErrors, ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from staffing.graphql.mutations import Mutation
from staffing.graphql.queries import Query

__all__ = ["build_schema", "schema"]

MAX_DEPTH = 12
MAX_ALIASES = 30


def _should_mask(error: GraphQLError) -> bool:
    """Mask unexpected failures only: validation errors and our typed errors keep their message."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def build_schema() -> strawberry.Schema:
    # the rule classes are built once and shared, so graphql-core's validation stays cacheable;
    # strawberry wants a factory per request for the extension objects themselves
    rules = [depth_rule(MAX_DEPTH, None, None), max_aliases_rule(MAX_ALIASES)]
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[
            # a client repeats the same few query texts: parse and validate each once (bounded LRU)
            lambda: ParserCache(maxsize=256),
            lambda: AddValidationRules(rules),  # type: ignore[arg-type]
            lambda: ValidationCache(maxsize=256),
            lambda: MaskErrors(should_mask_error=_should_mask, error_message="Internal error; it has been logged"),
        ],
    )


schema = build_schema()
