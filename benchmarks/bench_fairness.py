"""Does one heavy client stall everyone else? (issue 10: "eight such clients pushed a trivial
query's p95 from 2 ms to 6.5 s: resolvers and catch-up run synchronously in the one event loop").

On one data directory (the demo by default), for each server setup in turn: the p50/p95 of a
trivial query (one unit's name) with nobody else, then again while eight clients loop a heavy
query (the whole tree rolled up, with every unit's children and lineage), and how many heavy
queries the server answered meanwhile. Setups:

- ``previous round`` (optional, ``--baseline DIR``: a checkout of an earlier commit, whose
  resolvers ran on the event loop), one uvicorn worker;
- this round, one worker (resolvers and catch-up in worker threads);
- this round, ``serve --workers 2`` (one process per core).

    python -m benchmarks.bench_fairness [--data-dir DIR] [--baseline DIR] [--seconds 10] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from staffing.config import Settings
from staffing.tokens import issue, load_secret

ROOT = Path(__file__).resolve().parents[1]
HEAVY_CLIENTS = 8
TRIVIAL = '{ units(first: 1, asOf: "2025-07-31") { edges { node { name } } } }'
HEAVY = ('{ staffingReport(asOf: "2025-07-31", includeDescendants: true) { unit { id name } totalQuota '
         'totalHeadcount } units(first: 300, asOf: "2025-07-31") { edges { node { id children { id } '
         'predecessors { change } } } } }')


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _measure(base: str, headers: dict[str, str], seconds: float, heavy: bool) -> tuple[float, float, int]:
    stop = threading.Event()
    answered = [0]

    def heavy_client() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            while not stop.is_set():
                body = client.post("/graphql", json={"query": HEAVY}).json()
                assert "errors" not in body, body["errors"]
                answered[0] += 1

    threads = [threading.Thread(target=heavy_client) for _ in range(HEAVY_CLIENTS if heavy else 0)]
    for t in threads:
        t.start()
    time.sleep(1.0 if heavy else 0)
    latencies = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            body = client.post("/graphql", json={"query": TRIVIAL}).json()
            latencies.append((time.perf_counter() - started) * 1000)
            assert "errors" not in body, body["errors"]
            time.sleep(0.02)
    stop.set()
    for t in threads:
        t.join()
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.95) - 1], answered[0]


def _run(cwd: Path, data_dir: str, args: list[str], seconds: float) -> list[str]:
    port = _port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")}, "STAFFING_DATA_DIR": data_dir,
           "PYTHONPATH": str(cwd)}
    server = subprocess.Popen([sys.executable, "-m", "staffing", "serve", "--port", str(port), *args], cwd=cwd,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    settings = Settings.from_env({"STAFFING_DATA_DIR": data_dir})
    headers = {"Authorization": f"Bearer {issue(load_secret(settings.data_dir), 'admin', name='benchmark')}"}
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        alone = _measure(base, headers, seconds, heavy=False)
        loaded = _measure(base, headers, seconds, heavy=True)
    finally:
        server.terminate()
        server.wait(30)
    return [f"  trivial query alone: p50 {alone[0]:.1f} ms, p95 {alone[1]:.1f} ms",
            f"  trivial query beside {HEAVY_CLIENTS} heavy clients: p50 {loaded[0]:.1f} ms, p95 {loaded[1]:.1f} ms "
            f"({loaded[1] / alone[1]:.1f}x alone); heavy queries answered: {loaded[2] / seconds:.1f}/s"]


def _demo(cwd: Path, data_dir: str) -> None:
    subprocess.run([sys.executable, "-m", "staffing", "demo", "--load-only"], cwd=cwd, check=True,
                   env={**{k: v for k, v in os.environ.items() if not k.startswith("STAFFING_")},
                        "STAFFING_DATA_DIR": data_dir, "PYTHONPATH": str(cwd)}, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, help="serve this data directory (default: the demo, loaded by "
                                                      "each checkout into its own directory)")
    parser.add_argument("--baseline", type=Path, help="a checkout of an earlier commit to run the same way")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as ours, tempfile.TemporaryDirectory() as theirs:
        data_dir = str(args.data_dir or ours)
        if args.data_dir is None:
            _demo(ROOT, data_dir)
        lines = [f"data: {'the demo' if args.data_dir is None else data_dir}; {args.seconds:.0f} s per measurement"]
        if args.baseline:
            _demo(args.baseline, theirs)
            lines += [f"previous round ({args.baseline}), one worker:", *_run(args.baseline, theirs, [], args.seconds)]
        lines += ["this round, one worker:", *_run(ROOT, data_dir, [], args.seconds)]
        lines += ["this round, serve --workers 2:", *_run(ROOT, data_dir, ["--workers", "2"], args.seconds)]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
