"""A `python -m staffing serve` process for the HTTP benchmarks: started on a free port, ready when
/healthz answers, stopped on exit; its peak resident memory read from /proc."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from staffing.config import Settings
from staffing.tokens import issue, load_secret

__all__ = ["peak_memory_mib", "served"]


@contextmanager
def served(env: dict[str, str], workers: int = 1, cwd: Path | None = None
           ) -> Iterator[tuple[httpx.Client, subprocess.Popen[bytes]]]:
    """A client (with an admin token) for a server on the store ``env`` names (``workers`` uvicorn
    worker processes; the README recommends two on this machine's two cores). ``cwd``: the checkout
    whose code serves (``python -m`` puts the working directory first on ``sys.path``), for
    comparing two versions in one run."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = subprocess.Popen([sys.executable, "-m", "staffing", "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", str(workers)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    try:
        settings = Settings.from_env(env)
        token = issue(load_secret(settings.data_dir, settings.token_secret), "admin", name="benchmark")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            for _ in range(600):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield client, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def peak_memory_mib(server: subprocess.Popen[bytes]) -> float:
    status = Path(f"/proc/{server.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024
