"""The lean executor answers exactly as graphql-core's own, field for field (issue 9).

``staffing.graphql.executor.LeanExecutor`` completes plain scalar fields inline. These tests run
the same documents through it and through strawberry's standard executor and require the same
data and the same errors (message, path, locations): on a small schema built to hit every edge
(null where the type forbids it, an attribute that raises, an awaitable, enums, custom scalars,
aliases, fragments, directives, permissions, a resolving extension) and on the demo ledger's real
queries over HTTP, byte for byte. One more test checks that the fast path is taken at all.
"""

from __future__ import annotations

import asyncio
import enum
from datetime import date
from typing import Any

import pytest
import strawberry
from starlette.testclient import TestClient
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from staffing.bootstrap import Ledger
from staffing.graphql import schema as schema_module
from staffing.graphql.app import create_app
from staffing.graphql.executor import LeanExecutor
from tests.support import ledger_bearer


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


DAY = strawberry.scalar(name="Day", serialize=date.isoformat, parse_value=date.fromisoformat)
CONFIG = StrawberryConfig(scalar_map={date: DAY})


class Denied(BasePermission):
    message = "not for you"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Line:
    label: str
    amount: int
    share: float | None
    colour: Colour
    since: date | None
    secret: str = strawberry.field(default="hidden", permission_classes=[Denied])

    @strawberry.field
    def doubled(self) -> int:
        return self.amount * 2


@strawberry.type
class Row:
    code: str
    name: str | None
    active: bool
    lines: list[Line]
    maybe: list[Line | None] | None = None


class BrokenLine(Line):
    """A line whose non-null label is missing, or whose amount cannot be read."""

    def __init__(self, how: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.how = how

    def __getattribute__(self, name: str) -> Any:
        how = object.__getattribute__(self, "how")
        if name == "label" and how == "null":
            return None
        if name == "amount" and how == "raise":
            raise RuntimeError("the amount cannot be read")
        if name == "amount" and how == "text":
            return "not a number"
        if name == "amount" and how == "huge":  # an int, but beyond GraphQL's 32-bit Int
            return 2**40
        if name == "amount" and how == "flag":  # a bool, which Int's coercion turns into 0 or 1
            return True
        return object.__getattribute__(self, name)


def _line(i: int, **kwargs: Any) -> Line:
    values = {"label": f"line {i}", "amount": i, "share": i / 4 if i % 2 else None,
              "colour": Colour.RED if i % 3 else Colour.GREEN, "since": date(2025, 7, 1) if i % 2 else None}
    if kwargs:
        return BrokenLine(kwargs.pop("how"), **values)
    return Line(**values)


def _rows() -> list[Row]:
    rows = [Row(code=f"U{i}", name=None if i == 2 else f"Đơn vị {i}", active=i % 2 == 0,
                lines=[_line(j) for j in range(3)]) for i in range(5)]
    rows[1].lines.append(_line(7, how="null"))  # null in a non-null field: the row's list item fails
    rows[3].lines.append(_line(8, how="raise"))
    rows[4].lines.append(_line(9, how="text"))
    # nullable items: only the failing item becomes null
    rows[0].maybe = [_line(1), _line(2, how="null"), _line(3, how="raise"), _line(4, how="text"), _line(5, how="huge"),
                     _line(6, how="flag")]
    return rows


@strawberry.type
class Query:
    @strawberry.field
    def rows(self) -> list[Row]:
        return _rows()

    @strawberry.field
    def healthy(self) -> list[Row]:
        return [r for i, r in enumerate(_rows()) if i in (0, 2)]

    @strawberry.field
    def one(self) -> Row | None:
        return _rows()[1]


class CountingExecutor(LeanExecutor):
    """Counts the fields that take graphql-core's full path."""

    full_path: int = 0

    def execute_field(self, *args: Any, **kwargs: Any) -> Any:
        CountingExecutor.full_path += 1
        return super().execute_field(*args, **kwargs)


class Resolving(SchemaExtension):
    """An extension that resolves fields (graphql-core middleware): every field must reach it."""

    seen: int = 0

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        Resolving.seen += 1
        return _next(root, info, *args, **kwargs)


def _schemas(**kwargs: Any) -> tuple[strawberry.Schema, strawberry.Schema]:
    return (strawberry.Schema(query=Query, execution_context_class=LeanExecutor, config=CONFIG, **kwargs),
            strawberry.Schema(query=Query, execution_context_class=StrawberryGraphQLCoreExecutionContext,
                              config=CONFIG, **kwargs))


def _outcome(result: Any) -> tuple[Any, list[tuple[str, Any, Any]]]:
    errors = sorted((e.message, e.path, [(loc.line, loc.column) for loc in e.locations or []])
                    for e in result.errors or [])
    return result.data, errors


DOCUMENTS = {
    "every plain kind": "{ rows { code name active lines { label amount share colour since doubled } } }",
    "aliases and __typename": "{ rows { c: code n: name __typename lines { a: amount b: amount colour } } }",
    "fragments": """{ rows { ...R } } fragment R on Row { code lines { ...L ... on Line { doubled since } } }
                    fragment L on Line { label amount }""",
    "directives": """query($yes: Boolean!, $no: Boolean!) { rows { code @include(if: $yes) name @skip(if: $yes)
                     lines { amount @include(if: $no) label } } }""",
    "permission refused on a plain field": "{ healthy { code lines { label secret } } }",
    "nullable items and a nullable parent": "{ rows { code maybe { label amount } } one { code lines { label } } }",
    "objects and lists of objects inline": "{ rows { code lines { label amount share colour since } } one { code } }",
    "the same field twice, merged": "{ healthy { code code lines { amount amount } } }",
}


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_the_lean_executor_answers_as_graphql_core_does(name: str) -> None:
    lean, standard = _schemas()
    variables = {"yes": True, "no": False}
    ours = _outcome(lean.execute_sync(DOCUMENTS[name], variable_values=variables))
    theirs = _outcome(standard.execute_sync(DOCUMENTS[name], variable_values=variables))
    assert ours == theirs
    assert ours[0] is not None or ours[1]  # the document was answered, not refused outright


def test_errors_in_plain_fields_are_graphql_cores_own() -> None:
    lean, _ = _schemas()
    data, errors = _outcome(lean.execute_sync("{ rows { code maybe { label amount } } }"))
    assert data is not None and data["rows"][0]["maybe"] == [{"label": "line 1", "amount": 1}, None, None, None, None,
                                                             {"label": "line 6", "amount": 1}]
    assert errors == [("Cannot return null for non-nullable field Line.label.", ["rows", 0, "maybe", 1, "label"],
                       [(1, 23)]),
                      ("Int cannot represent non 32-bit signed integer value: 1099511627776",
                       ["rows", 0, "maybe", 4, "amount"], [(1, 29)]),
                      ("Int cannot represent non-integer value: 'not a number'", ["rows", 0, "maybe", 3, "amount"],
                       [(1, 29)]),
                      ("the amount cannot be read", ["rows", 0, "maybe", 2, "amount"], [(1, 29)])]
    # in a non-null chain the null reaches the root, as graphql-core's own executor has it
    assert lean.execute_sync("{ rows { code lines { label } } }").data is None


def test_awaitable_values_in_plain_fields_are_awaited_as_graphql_core_does() -> None:
    class Later(Line):
        def __getattribute__(self, name: str) -> Any:
            value = object.__getattribute__(self, name)
            if name == "amount":
                async def later() -> int:
                    return int(value) + 100
                return later()
            return value

    @strawberry.type
    class AsyncQuery:
        @strawberry.field
        async def lines(self) -> list[Line]:
            return [Later(**vars(_line(i))) for i in range(3)]

    document = "{ lines { label amount colour } }"
    ours = asyncio.run(strawberry.Schema(query=AsyncQuery, execution_context_class=LeanExecutor, config=CONFIG).execute(document))
    theirs = asyncio.run(strawberry.Schema(query=AsyncQuery, config=CONFIG).execute(document))
    assert _outcome(ours) == _outcome(theirs)
    assert ours.data == {"lines": [{"label": f"line {i}", "amount": 100 + i, "colour": "GREEN" if i == 0 else "RED"}
                                   for i in range(3)]}


def test_plain_fields_skip_the_full_path() -> None:
    """Of a healthy listing's fields only the objects, lists and resolvers take the full path."""
    schema = strawberry.Schema(query=Query, execution_context_class=CountingExecutor, config=CONFIG)
    CountingExecutor.full_path = 0
    result = schema.execute_sync("{ healthy { code name active lines { label amount colour since doubled } } }")
    assert not result.errors
    rows, lines = 2, 6
    assert CountingExecutor.full_path == 1 + rows + lines  # healthy, each row's lines, each line's doubled


def test_objects_and_lists_whose_selection_is_plain_are_completed_inline() -> None:
    """Only the root field takes the full path when every field below it is plain; a list holding a
    line that cannot be completed goes back to the full path whole (and reports its error)."""
    schema = strawberry.Schema(query=Query, execution_context_class=CountingExecutor, config=CONFIG)
    CountingExecutor.full_path = 0
    result = schema.execute_sync("{ healthy { code name lines { label amount colour since } } }")
    assert not result.errors and result.data is not None and len(result.data["healthy"]) == 2
    assert CountingExecutor.full_path == 1
    CountingExecutor.full_path = 0
    result = schema.execute_sync("{ rows { code maybe { label } } }")
    assert result.data is not None and result.data["rows"][0]["maybe"] == [{"label": "line 1"}, None,
                                                                           {"label": "line 3"}, {"label": "line 4"},
                                                                           {"label": "line 5"}, {"label": "line 6"}]
    assert [e.path for e in result.errors or []] == [["rows", 0, "maybe", 1, "label"]]
    assert CountingExecutor.full_path == 3  # rows; row 0's maybe; the label that is null


def test_an_extension_that_resolves_fields_sees_every_field() -> None:
    lean, standard = _schemas(extensions=[Resolving])
    document = "{ healthy { code lines { label amount } } }"
    Resolving.seen = 0
    ours = _outcome(lean.execute_sync(document))
    seen_by_ours, Resolving.seen = Resolving.seen, 0
    assert ours == _outcome(standard.execute_sync(document))
    assert seen_by_ours == Resolving.seen == 1 + 2 * (2 + 3 * 2)


# ------------------------------------------------------------------ the real schema, over HTTP
REAL = [
    ("""query($d: Date!) { staffingReport(asOf: $d) { level parentId logPosition headHash unit { id code name kind
        autonomy status asOf } totalQuota totalHeadcount totalVacancy totalSurplus grossVacancy grossSurplus
        excessAllowedUntil overQuota exceptionDeadline lines { category quota headcount vacancy surplus
        quotaByKind { kind amount } entries { kind amount effectiveOn factId act { number issuer signedOn } } } } }""",
     {"d": "2025-07-01"}),
    ("""query($d: Date!) { staffingReport(asOf: $d, depth: 1, includeDescendants: true) { unit { code name
        children { code name headcount } } totalQuota totalHeadcount } }""", {"d": "2024-12-31"}),
    ("""query($d: Date!) { units(asOf: $d, first: 200) { edges { cursor node { id code name kind status
        parent { code } establishedOn endedOn headcount } } pageInfo { hasNextPage endCursor } } }""",
     {"d": "2025-03-01"}),
    ("""query($d: Date!) { people(asOf: $d, first: 300) { edges { cursor node { id fullName birthDate gender
        assignment { unitId positionId category rank status since unit { code } } } } } }""", {"d": "2025-07-01"}),
    ("{ history(first: 200) { edges { node { id type effectiveOn recordedAt unitId personId retractedBy hash "
     "recordedBy act { number issuer signedOn } data } } pageInfo { hasNextPage endCursor } } }", {}),
]


@pytest.mark.parametrize("index", range(len(REAL)))
def test_the_real_schema_answers_byte_for_byte_as_before(demo_ledger: Ledger, index: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    document, variables = REAL[index]
    client = TestClient(create_app(demo_ledger), headers=ledger_bearer(demo_ledger))  # no lifespan: the fixture closes
    try:
        ours = client.post("/graphql", json={"query": document, "variables": variables})
        for built in (schema_module.schema, schema_module.production_schema):
            assert built.execution_context_class is LeanExecutor
            monkeypatch.setattr(built, "execution_context_class", StrawberryGraphQLCoreExecutionContext)
        theirs = client.post("/graphql", json={"query": document, "variables": variables})
    finally:
        client.close()
    assert ours.status_code == theirs.status_code == 200
    assert "errors" not in ours.json(), ours.json()["errors"]
    assert len(ours.content) > 500  # a real answer, not an empty list
    assert ours.content == theirs.content
