"""Settings the ledger cannot run with are refused with a message naming the setting and the fix.

Found while importing the national history into PostgreSQL: a schema named ``national`` (a word
PostgreSQL reserves for ``NATIONAL CHARACTER``) failed deep inside the event store's library with a
syntax error about a type name, and a mistyped or missing schema with the driver's traceback. A
server that is down, a wrong port, a database never created or an unknown user made the library's
pool wait 30 s and end in a traceback ("couldn't get a connection") that hid the driver's reason.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from staffing.config import ConfigurationError, Settings
from staffing.persistence import EventStore, event_store_env
from tests.support import PG_URL, require_postgres

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("schema", ["Ledger", "staffing-ledger", "1ledger", "ledger;drop", "l" * 64, "lê"])
def test_a_schema_that_is_not_a_plain_lowercase_name_is_refused_before_anything_connects(schema: str) -> None:
    with pytest.raises(ConfigurationError, match="STAFFING_DB_SCHEMA") as refused:
        Settings.from_env({"STAFFING_DATABASE_URL": PG_URL, "STAFFING_DB_SCHEMA": schema})
    assert "lowercase" in str(refused.value) and repr(schema) in str(refused.value)


@pytest.mark.parametrize("schema", ["ledger", "_x", "t_0a1b2c", "l" * 63])
def test_plain_lowercase_schema_names_are_accepted(schema: str) -> None:
    assert Settings.from_env({"STAFFING_DATABASE_URL": PG_URL, "STAFFING_DB_SCHEMA": schema}).schema == schema


def test_an_unknown_backend_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="sqlite or postgresql"):
        Settings.from_env({"STAFFING_DATABASE_URL": "mysql://localhost/x"})


def _pg_settings(schema: str, tmp_path: Path) -> Settings:
    return Settings.from_env({"STAFFING_DATABASE_URL": PG_URL, "STAFFING_DB_SCHEMA": schema,
                              "STAFFING_DATA_DIR": str(tmp_path)})


def test_a_schema_named_by_a_postgresql_keyword_is_explained(tmp_path: Path) -> None:
    """``national`` passes the name check (it is a fine identifier) but the library cannot use it."""
    require_postgres()
    with pytest.raises(ConfigurationError, match="'national' is a PostgreSQL keyword") as refused:
        EventStore(env=event_store_env(_pg_settings("national", tmp_path)))
    assert "national_ledger" in str(refused.value)


def test_a_schema_that_does_not_exist_is_explained(tmp_path: Path) -> None:
    require_postgres()
    missing = "t_missing_" + uuid.uuid4().hex[:8]
    with pytest.raises(ConfigurationError, match=f"'{missing}' does not exist") as refused:
        EventStore(env=event_store_env(_pg_settings(missing, tmp_path)))
    assert f"CREATE SCHEMA {missing}" in str(refused.value)


def test_the_command_line_prints_a_configuration_error_without_a_traceback(tmp_path: Path) -> None:
    require_postgres()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}, "STAFFING_DATA_DIR": str(tmp_path),
           "STAFFING_DATABASE_URL": PG_URL, "STAFFING_DB_SCHEMA": "national"}
    done = subprocess.run([sys.executable, "-m", "staffing", "status"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("configuration error: STAFFING_DB_SCHEMA 'national' is a PostgreSQL keyword")
    assert "Traceback" not in done.stderr and "ProgrammingError" not in done.stderr


def _closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_server_that_cannot_be_reached_is_explained_at_once(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/test"
    settings = Settings.from_env({"STAFFING_DATABASE_URL": url, "STAFFING_DATA_DIR": str(tmp_path)})
    with pytest.raises(ConfigurationError, match="cannot connect to the PostgreSQL database 'test'") as refused:
        EventStore(env=event_store_env(settings))
    assert "Connection refused" in str(refused.value) and "server is running" in str(refused.value)


def test_a_database_that_does_not_exist_is_explained(tmp_path: Path) -> None:
    require_postgres()
    missing = "t_missing_" + uuid.uuid4().hex[:8]
    url = PG_URL.rsplit("/", 1)[0] + "/" + missing
    settings = Settings.from_env({"STAFFING_DATABASE_URL": url, "STAFFING_DATA_DIR": str(tmp_path)})
    with pytest.raises(ConfigurationError, match=f"database \"{missing}\" does not exist") as refused:
        EventStore(env=event_store_env(settings))
    assert "CREATE DATABASE" in str(refused.value)


def test_the_command_line_explains_an_unreachable_server_without_waiting_or_a_traceback(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}, "STAFFING_DATA_DIR": str(tmp_path),
           "STAFFING_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{_closed_port()}/test"}
    done = subprocess.run([sys.executable, "-m", "staffing", "status"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=20)  # the library's pool alone waited 30 s
    assert done.returncode == 2
    assert done.stderr.startswith("configuration error: STAFFING_DATABASE_URL: cannot connect")
    assert "Traceback" not in done.stderr and "OperationalError" not in done.stderr
