"""Alembic owns the read-model tables: upgrade on an empty database, then `alembic check` finds no drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.util.exc import CommandError
from sqlalchemy import inspect

from staffing.bootstrap import alembic_config
from staffing.projections.db import make_engines
from staffing.projections.tables import metadata
from tests.support import drop_pg_schema, settings_for


@pytest.fixture
def empty_views(backend: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    settings, schema = settings_for(backend, tmp_path)
    engines = make_engines(settings.views_url, settings.schema)
    yield engines
    engines.dispose()
    if schema:
        drop_pg_schema(schema)


def _run(engines, fn, *args):  # type: ignore[no-untyped-def]
    with engines.write.connect() as conn:
        config = alembic_config(engines.write.url)
        config.attributes["connection"] = conn
        fn(config, *args)
        conn.commit()


def test_upgrade_head_on_an_empty_database_creates_every_read_model_table(empty_views) -> None:  # type: ignore[no-untyped-def]
    _run(empty_views, command.upgrade, "head")
    with empty_views.read.connect() as conn:
        tables = set(inspect(conn).get_table_names())
    assert set(metadata.tables) <= tables


def test_alembic_check_finds_no_difference_between_models_and_migrations(empty_views) -> None:  # type: ignore[no-untyped-def]
    _run(empty_views, command.upgrade, "head")
    _run(empty_views, command.check)  # raises when autogenerate would produce operations


def test_alembic_check_detects_a_model_the_migrations_lack(empty_views) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import Column, Integer, Table

    _run(empty_views, command.upgrade, "head")
    extra = Table("not_migrated", metadata, Column("id", Integer, primary_key=True))
    try:
        with pytest.raises(CommandError):
            _run(empty_views, command.check)
    finally:
        metadata.remove(extra)


def test_alembic_command_line_upgrades_an_empty_database_and_checks_clean(tmp_path: Path) -> None:
    """The commands an operator types: `alembic upgrade head` then `alembic check` (SQLite default)."""
    import os
    import subprocess
    import sys

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}, "STAFFING_DATA_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parents[1]
    for args in (["upgrade", "head"], ["check"]):
        done = subprocess.run([sys.executable, "-m", "alembic", *args], cwd=root, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "ledger-views.sqlite").exists()
