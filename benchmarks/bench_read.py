"""Read-side benchmark: projection throughput and the national staffing report.

Ratios, measured in one run on one machine (absolute times vary between machines):
- catch-up throughput of the incremental projector vs. a one-event-per-transaction baseline;
- the national `staffingReport` (one set-based GraphQL query) vs. the baseline of one
  `staffing` GraphQL query per unit (what a client without the report would do);
- rebuild-from-scratch throughput vs. incremental catch-up (when staffing.projections.rebuild exists).

Usage: python -m benchmarks.bench_read [--provinces 20 --communes 40 --people 6] [--out results.md]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date
from pathlib import Path

from staffing.application import AssignQuota, EstablishUnit, RecruitPerson
from staffing.bootstrap import build
from staffing.config import Settings
from staffing.domain.values import LegalAct
from staffing.graphql.context import Context, Loaders
from staffing.graphql.schema import schema

ACT = LegalAct("01/2020/QĐ-TTg", "Thủ tướng Chính phủ", date(2019, 12, 1))


def generate(ledger, provinces: int, communes: int, people: int, seed: int = 7) -> int:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    svc = ledger.service
    units = 0
    for p in range(provinces):
        province = svc.execute(EstablishUnit(code=f"P{p:03d}", name=f"Tỉnh Số {p}", kind="PROVINCE", parent_id=None, effective_on=date(2020, 1, 1), act=ACT)).unit_id
        svc.execute(AssignQuota(unit_id=province, category="CIVIL_SERVANT", kind="ASSIGNED", amount=rng.randint(50, 90), effective_on=date(2020, 1, 1), act=ACT))
        units += 1
        for c in range(communes):
            commune = svc.execute(EstablishUnit(code=f"P{p:03d}-{c:03d}", name=f"Xã Số {c} tỉnh {p}", kind="COMMUNE", parent_id=province, effective_on=date(2020, 1, 1), act=ACT)).unit_id
            svc.execute(AssignQuota(unit_id=commune, category="CADRE", kind="ASSIGNED", amount=rng.randint(5, 12), effective_on=date(2020, 1, 1), act=ACT))
            units += 1
            for k in range(people):
                svc.execute(RecruitPerson(full_name=f"Nguyễn Văn {p}-{c}-{k}", birth_date=date(1980, 1, 1), gender="MALE", category=rng.choice(["CADRE", "CIVIL_SERVANT"]), unit_id=commune, effective_on=date(2021, 1, 1), act=ACT))
    return units


def _gql(ledger, query: str, variables: dict | None = None) -> dict:  # type: ignore[no-untyped-def,type-arg]
    from staffing.graphql.auth import Principal

    context = Context(service=ledger.service, queries=ledger.queries, loaders=Loaders(ledger.queries),
                      principal=Principal("bench", "admin"))
    import asyncio

    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=context))
    assert result.errors is None, result.errors
    return result.data  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--provinces", type=int, default=20)
    parser.add_argument("--communes", type=int, default=40)
    parser.add_argument("--people", type=int, default=6)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    lines: list[str] = []

    def report(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    with tempfile.TemporaryDirectory() as tmp:
        ledger = build(Settings.from_env({"STAFFING_DATA_DIR": tmp}), inline_projection=False)
        t0 = time.perf_counter()
        units = generate(ledger, args.provinces, args.communes, args.people)
        write_s = time.perf_counter() - t0
        events = ledger.store.recorder.max_notification_id() or 0
        report(f"dataset: {units} units, {units and args.provinces * args.communes * args.people} people, "
               f"{events} events (written in {write_s:.1f} s through the service)")

        # baseline: one event per projection transaction
        ledger.projector.batch_size = 1
        baseline_n = max(1, min(events // 4, 2000))
        t0 = time.perf_counter()
        for _ in range(baseline_n):
            ledger.projector._run_batch()
        baseline_rate = baseline_n / (time.perf_counter() - t0)
        ledger.projector.batch_size = 2000
        t0 = time.perf_counter()
        rest = ledger.projector.catch_up()
        batched_rate = rest / (time.perf_counter() - t0) if rest else float("nan")
        report(f"projection catch-up: batched {batched_rate:,.0f} events/s vs one-per-transaction "
               f"{baseline_rate:,.0f} events/s -> ratio {batched_rate / baseline_rate:.1f}x")

        try:
            from sqlalchemy.engine import make_url

            from staffing.projections.db import make_engines
            from staffing.projections.rebuild import rebuild

            target = make_engines(make_url(f"sqlite:///{tmp}/rebuilt.sqlite"))
            t0 = time.perf_counter()
            rebuild(ledger.store, target)
            rebuild_rate = events / (time.perf_counter() - t0)
            target.dispose()
            report(f"rebuild from scratch: {rebuild_rate:,.0f} events/s -> {rebuild_rate / baseline_rate:.1f}x the "
                   f"one-per-transaction baseline, {rebuild_rate / batched_rate:.2f}x incremental batched catch-up")
        except ImportError:
            report("rebuild: staffing.projections.rebuild not available")

        report_query = ('{ staffingReport(asOf: "2025-12-31", includeDescendants: false) '
                        '{ level unit { id code name kind } totalQuota totalHeadcount '
                        'lines { category quota headcount vacancy surplus } } }')
        _gql(ledger, report_query)  # warm up
        t0 = time.perf_counter()
        rows = _gql(ledger, report_query)["staffingReport"]
        report_s = time.perf_counter() - t0
        ids = [r["unit"]["id"] for r in rows]
        one = ('query($u: ID!) { staffing(unitId: $u, asOf: "2025-12-31") { unit { id code name kind } '
               'totalQuota totalHeadcount lines { category quota headcount vacancy surplus } } }')
        sample = ids[: min(len(ids), 300)]
        t0 = time.perf_counter()
        for unit_id in sample:
            _gql(ledger, one, {"u": unit_id})
        per_unit_s = (time.perf_counter() - t0) / len(sample)
        report(f"national staffingReport: {len(rows)} rows in {report_s * 1000:.0f} ms "
               f"({len(rows) / report_s:,.0f} rows/s) vs one staffing query per unit {1 / per_unit_s:,.0f} rows/s "
               f"-> ratio {(len(rows) / report_s) * per_unit_s:.1f}x")
        ledger.close()
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
