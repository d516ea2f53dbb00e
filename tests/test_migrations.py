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


def _key_columns() -> dict[str, list[tuple[str, int]]]:
    """table -> [(column, length)] of the columns ``tables.Key`` declares (a PostgreSQL variant)."""
    from sqlalchemy import String

    found: dict[str, list[tuple[str, int]]] = {}
    for table in metadata.sorted_tables:
        for column in table.c:
            if isinstance(column.type, String) and "postgresql" in getattr(column.type, "_variant_mapping", {}):
                found.setdefault(table.name, []).append((column.name, column.type.length))
    return found


def test_migration_0009_collates_every_identifier_column_the_models_declare() -> None:
    """Revision 0009 lists its columns (a migration must not follow the code): the list is the models'."""
    import importlib

    keys = importlib.import_module("staffing.migrations.versions.0009_bytewise_keys").KEYS
    declared = _key_columns()
    assert {table: sorted(columns) for table, columns in keys.items()} == \
        {table: sorted(columns) for table, columns in declared.items()}
    assert ("person_id", 36) in declared["person_versions"] and ("key", 128) in declared["series_facts"]


def _collations(engines) -> dict[tuple[str, str], str | None]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with engines.read.connect() as conn:
        rows = conn.execute(text(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type = 'character varying'")).all()
    return {(r.table_name, r.column_name): r.collation_name for r in rows}


@pytest.fixture
def empty_postgres_views(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Empty PostgreSQL read models (revision 0009 changes nothing on SQLite, which compares bytewise)."""
    settings, schema = settings_for("postgres", tmp_path)
    engines = make_engines(settings.views_url, settings.schema)
    yield engines
    engines.dispose()
    drop_pg_schema(schema)


def test_identifiers_compare_bytewise_and_names_keep_the_database_collation_on_postgresql(
        empty_postgres_views) -> None:  # type: ignore[no-untyped-def]
    """Issue 9: ids and codes ``COLLATE "C"`` (bytewise, abbreviated sort keys), shown text not;
    revision 0009 undone puts the default back, and done again collates them again."""
    empty_views = empty_postgres_views
    _run(empty_views, command.upgrade, "head")
    keys = {(table, column) for table, columns in _key_columns().items() for column, _ in columns}
    collations = _collations(empty_views)
    assert {k: collations[k] for k in keys} == {k: "C" for k in keys}
    shown = [("unit_versions", "name"), ("unit_versions", "name_folded"), ("persons", "full_name"),
             ("facts", "act_number"), ("position_versions", "title")]
    assert [collations[k] for k in shown] == [None] * len(shown)
    _run(empty_views, command.downgrade, "0008")
    assert {collation for k, collation in _collations(empty_views).items() if k in keys} == {None}
    _run(empty_views, command.upgrade, "head")
    assert {_collations(empty_views)[k] for k in keys} == {"C"}


def test_tables_given_room_for_closings_have_no_index_on_rec_to() -> None:
    """A closing can stay on its page (HOT) only if no index names the column it changes."""
    import importlib

    from staffing.projections.tables import ROOM_FOR_CLOSINGS

    assert importlib.import_module("staffing.migrations.versions.0010_room_for_closings").TABLES == ROOM_FOR_CLOSINGS
    for name in ROOM_FOR_CLOSINGS:
        table = metadata.tables[name]
        assert "rec_to" in table.c
        named = {column.name for index in table.indexes for column in index.columns}
        named |= {column.name for column in table.primary_key.columns}
        assert "rec_to" not in named, f"{name} indexes rec_to: its closings could never be HOT"
    assert "rec_to" in {c.name for index in metadata.tables["unit_figures"].indexes for c in index.columns}


def _fillfactors(engines) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with engines.read.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.relname, array_to_string(c.reloptions, ',') AS options FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        )).all()
    return {r.relname: r.options for r in rows}


def test_series_tables_leave_room_on_their_pages_on_postgresql(empty_postgres_views) -> None:  # type: ignore[no-untyped-def]
    """Issue 9: ``fillfactor`` 90 on the tables whose closings can be HOT, none on the others;
    revision 0010 undone takes it off."""
    from staffing.projections.tables import ROOM_FOR_CLOSINGS

    _run(empty_postgres_views, command.upgrade, "head")
    options = _fillfactors(empty_postgres_views)
    assert {name: options[name] for name in ROOM_FOR_CLOSINGS} == {name: "fillfactor=90" for name in ROOM_FOR_CLOSINGS}
    assert options["unit_figures"] is None and options["facts"] is None
    _run(empty_postgres_views, command.downgrade, "0009")
    assert {_fillfactors(empty_postgres_views)[name] for name in ROOM_FOR_CLOSINGS} == {None}
