"""Start the real server (``python -m staffing serve``) on a free port, per backend."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.graphql_client import GraphQLClient
from tests.support import PG_URL, bearer, drop_pg_schema, new_pg_schema, require_postgres

#: seconds a demo server may take to load the demo and answer
DEMO_START = 180

#: base URL -> an admin ``Authorization`` header for that running server
TOKENS: dict[str, dict[str, str]] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _running(backend: str, tmp_path: Path, command: list[str], start_within: float) -> Iterator[str]:
    """The base URL; an admin token signed with the server's secret is in ``TOKENS[base]``."""
    """``python -m staffing <command>`` on a free port, stopped (and its schema dropped) afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    env["STAFFING_DATA_DIR"] = str(tmp_path)
    schema = None
    if backend == "postgres":
        require_postgres()
        schema = new_pg_schema()
        env.update(STAFFING_DATABASE_URL=PG_URL, STAFFING_DB_SCHEMA=schema)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "staffing", *command, "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_within
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                output = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"server did not start: {output}")
            time.sleep(0.1)
        TOKENS[base] = bearer(tmp_path)
        yield base
    finally:
        TOKENS.pop(base, None)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if proc.stdout:
            proc.stdout.close()
        if schema:
            drop_pg_schema(schema)


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with _running(str(request.param), tmp_path, ["serve"], 30) as base:
        yield base


@pytest.fixture(params=["sqlite", "postgres"])
def demo_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The real server with the demo loaded (``python -m staffing demo``)."""
    with _running(str(request.param), tmp_path, ["demo"], DEMO_START) as base:
        yield base


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def shared_demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphQLClient]:
    """One demo server per backend for a whole module, for tests that each write facts of their own
    (their own units, or figures they read before and after their write) and so cannot see one
    another's: loading the demo is most of such a test's time."""
    with (_running(str(request.param), tmp_path_factory.mktemp("demo"), ["demo"], DEMO_START) as base,
          _client(base, 60) as client):
        yield client


@contextmanager
def _client(base: str, timeout: float) -> Iterator[GraphQLClient]:
    """A GraphQL client of the running server at ``base``, with its admin token."""
    with httpx.Client(base_url=base, timeout=timeout, headers=TOKENS[base]) as client:
        yield GraphQLClient(client)


@pytest.fixture
def gql(server: str) -> Iterator[GraphQLClient]:
    with _client(server, 30) as client:
        yield client


@pytest.fixture
def demo(demo_server: str) -> Iterator[GraphQLClient]:
    with _client(demo_server, 60) as client:
        yield client
