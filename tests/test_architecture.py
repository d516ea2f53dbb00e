"""Dependencies point inward (ENGINEERING.md principle 1): checked on the import statements."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "staffing"


def _imports(folder: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[path.name] = names
    return found


@pytest.mark.parametrize(("folder", "forbidden"), [
    ("domain", ("sqlalchemy", "strawberry", "graphql", "alembic", "starlette", "staffing.application",
                "staffing.projections", "staffing.graphql", "staffing.persistence", "staffing.bootstrap")),
    ("projections", ("strawberry", "graphql", "starlette", "staffing.graphql", "staffing.application")),
    ("graphql", ("sqlalchemy", "eventsourcing", "staffing.persistence", "staffing.domain.unit",
                 "staffing.domain.person", "staffing.domain.position", "staffing.domain.quota")),
])
def test_layer_does_not_import_outer_or_forbidden_modules(folder: str, forbidden: tuple[str, ...]) -> None:
    offenders = {
        module: sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))
        for module, names in _imports(folder).items()
    }
    assert {m: o for m, o in offenders.items() if o} == {}


def test_domain_never_reads_the_clock() -> None:
    """Time comes in as arguments: no datetime.now()/today() inside the domain."""
    for path in (PACKAGE / "domain").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert ".now(" not in text and ".today(" not in text and "utcnow" not in text, path.name
