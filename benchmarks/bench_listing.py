"""GraphQL over HTTP on a large ledger, this checkout against an older one, alternating (issue 9).

For the lean executor (``staffing/graphql/executor.py``): the same queries against one server of
each checkout in turn, ``--rounds`` times, on the same data directory (read only: both servers
only read it):

- the full listing (``staffingReport`` of every unit, ~40 fields a row; target 3 s over HTTP);
- the same listing as the CSV download (``/downloads/staffing.csv``; the same target);
- the national summary (one rolled-up row per province and central body);
- one unit's staffing, ``--units`` random units (p50 and p95).

    git worktree add /tmp/base <older commit>
    python -m benchmarks.national_tables --out /tmp/ntab        # or an imported national ledger
    STAFFING_DATA_DIR=/tmp/ntab python -m benchmarks.bench_listing --baseline /tmp/base

Each figure is the median of ``--repeat`` requests after one warm-up request; the ratio is the
baseline's median over ours, per round, and its median over the rounds. The listing is timed until
its whole body has arrived (what a download takes), not while the client parses its ~30 MB of JSON:
its body is parsed and checked once, and every timed body must be the same bytes, for both
checkouts (the same answer, byte for byte).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bench_queries import LISTING_GQL, SUMMARY_GQL, UNIT_GQL
from benchmarks.serving import served
from benchmarks.timing import Report, timed

HERE = Path(__file__).resolve().parents[1]


def _gql(client: httpx.Client, query: str, variables: dict[str, Any]) -> Any:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


def _body(client: httpx.Client, query: str, variables: dict[str, Any]) -> bytes:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.status_code
    return response.content


def _median(fn: Any, repeat: int) -> float:
    fn()  # warm-up: caches, the first connection
    return timed(fn, repeat)[0]


def measure(cwd: Path, as_of: str, repeat: int, units: int) -> dict[str, Any]:
    """Seconds for each query against a server running the code of ``cwd`` (and the listing body's hash)."""
    with served(os.environ.copy(), cwd=cwd) as (client, _):
        body = _body(client, LISTING_GQL, {"d": as_of})
        parsed = json.loads(body)
        assert "errors" not in parsed, parsed["errors"][:3]
        rows = parsed["data"]["staffingReport"]

        def listing_body() -> None:
            assert _body(client, LISTING_GQL, {"d": as_of}) == body

        listing = _median(listing_body, repeat)
        download = client.get("/downloads/staffing.csv", params={"asOf": as_of})
        assert download.status_code == 200 and download.text.count("\n") == len(rows) + 1

        def csv_body() -> None:
            assert client.get("/downloads/staffing.csv", params={"asOf": as_of}).content == download.content

        csv_s = _median(csv_body, repeat)
        summary = _median(lambda: _gql(client, SUMMARY_GQL, {"d": as_of}), repeat)
        timings = []
        for row in random.Random(2).sample(rows, min(units, len(rows))):
            started = time.perf_counter()
            _gql(client, UNIT_GQL, {"u": row["unit"]["id"], "d": as_of})
            timings.append(time.perf_counter() - started)
        timings.sort()
        return {"rows": len(rows), "body": hashlib.sha256(body + download.content).hexdigest(), "listing": listing,
                "csv": csv_s, "summary": summary,
                "unit p50": timings[len(timings) // 2], "unit p95": timings[int(len(timings) * 0.95)]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the older code")
    parser.add_argument("--as-of", default="2024-12-31")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    report = Report()
    report(f"data: {os.environ.get('STAFFING_DATA_DIR')}; as of {args.as_of}; baseline {args.baseline}")
    ratios: dict[str, list[float]] = {}
    for number in range(1, args.rounds + 1):
        theirs = measure(args.baseline, args.as_of, args.repeat, args.units)
        ours = measure(HERE, args.as_of, args.repeat, args.units)
        assert theirs["rows"] == ours["rows"] and theirs["body"] == ours["body"], "the two checkouts answer differently"
        for name in ("listing", "csv", "summary", "unit p50", "unit p95"):
            ratio = theirs[name] / ours[name]
            ratios.setdefault(name, []).append(ratio)
            report(f"round {number}: {name} ({ours['rows']:,.0f} rows): baseline {theirs[name] * 1000:,.1f} ms, "
                   f"ours {ours[name] * 1000:,.1f} ms -> {ratio:.2f}x")
    for name, found in ratios.items():
        report(f"{name}: median ratio {statistics.median(found):.2f}x over {len(found)} rounds "
               f"({', '.join(f'{r:.2f}' for r in found)})")
    report.write(args.out)


if __name__ == "__main__":
    main()
