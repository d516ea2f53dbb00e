"""`python -m staffing token` and the demo's tokens (issue 10): the token alone on the last line, signed
with the data directory's secret, refused for a personnel role without a unit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

from staffing.tokens import load_secret, verify

ROOT = Path(__file__).resolve().parents[1]


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}
    env["STAFFING_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "staffing", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_token_command_prints_a_signed_token_alone_on_the_last_line(tmp_path: Path) -> None:
    unit = uuid4()
    done = _run(tmp_path, "token", "--role", "personnel", "--unit", str(unit), "--name", "Sở Nội vụ Phú Thọ",
                "--expires", "12h")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    principal = verify(load_secret(tmp_path), token)
    assert (principal.role, principal.unit_id, principal.name) == ("personnel", unit, "Sở Nội vụ Phú Thọ")
    assert (tmp_path / "token-secret").stat().st_mode & 0o077 == 0  # readable by its owner only
    refused = _run(tmp_path, "token", "--role", "personnel")
    assert refused.returncode != 0 and "--unit" in refused.stderr
    assert _run(tmp_path, "token", "--role", "emperor").returncode != 0


def test_the_demo_prints_a_working_token_for_each_role(tmp_path: Path) -> None:
    done = _run(tmp_path, "demo", "--load-only")
    assert done.returncode == 0, done.stderr
    secret = load_secret(tmp_path)
    roles = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("admin", "ministry", "auditor", "personnel"):
            roles[parts[0]] = verify(secret, parts[1])
    assert set(roles) == {"admin", "ministry", "auditor", "personnel"}
    assert roles["personnel"].unit_id is not None and all(p.role == r for r, p in roles.items())
