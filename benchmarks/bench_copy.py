"""The read models' bulk insert on PostgreSQL: COPY's binary format against its text format.

``staffing.projections.bulk.insert_tuples`` writes a batch's rows by ``COPY ... FROM STDIN``; since
section 36 of ``benchmarks/RESULTS.md`` in the binary format, each column's type declared from the
table. The baseline is the text format of the same statement (the previous code's path: psycopg
finds a dumper by each value's Python type and writes text the server parses again). Both insert the
same generated person rows into an empty ``person_versions`` table of a scratch schema in one
transaction each, alternately, ``--repeat`` times; reported: medians of the wall time and of the
process's CPU time, and their ratios. The rows read back are checked equal to the rows written.

Usage: python -m benchmarks.bench_copy [--rows N] [--repeat R] [--out FILE]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

from benchmarks.bench_scale import _schema
from staffing.projections.bulk import _text, insert_tuples
from staffing.projections.tables import END_OF_TIME, OPEN_POSITION, person_versions
from tests.support import PG_URL

COLUMNS = tuple(c.name for c in person_versions.columns)


def person_rows(count: int, seed: int = 1) -> list[tuple[Any, ...]]:
    """``count`` rows shaped like a rebuild's person rows (ids, dates, positions, Vietnamese labels)."""
    rng = random.Random(seed)
    units = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(500)]
    start = date(2015, 1, 1)
    rows = []
    for i in range(count):
        values = {"row_id": i + 1, "valid_from": start + timedelta(days=i % 3650), "valid_to": END_OF_TIME,
                  "rec_from": 3 * i, "rec_to": OPEN_POSITION, "person_id": str(uuid.UUID(int=rng.getrandbits(128))),
                  "unit_id": rng.choice(units), "position_id": None, "category": "cong_chuc",
                  "rank": "Chuyên viên", "status": "active", "cause": "recruited", "fact_id": f"fact:{i}"}
        rows.append(tuple(values[c] for c in COLUMNS))
    return rows


def _text_copy(conn: Any, rows: list[tuple[Any, ...]]) -> None:
    """The baseline: the same COPY in its text format (psycopg picks a dumper per value's type)."""
    statement = _text(conn, "copy", person_versions, COLUMNS).replace(" (FORMAT BINARY)", "")
    raw: Any = conn.connection.dbapi_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for r in rows:
            copy.write_row(r)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    rows = person_rows(args.rows)
    schema = _schema("copy")
    engine = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"),
                           connect_args={"options": f"-csearch_path={schema}"})
    timings: dict[str, list[tuple[float, float]]] = {"text": [], "binary": []}
    try:
        person_versions.create(engine)
        for _ in range(args.repeat):
            for label, write in (("text", _text_copy), ("binary", lambda c, r: insert_tuples(c, person_versions,
                                                                                              COLUMNS, r))):
                with engine.connect() as conn:
                    conn.execute(text("TRUNCATE person_versions"))
                    conn.commit()
                    wall, cpu = time.perf_counter(), time.process_time()
                    with conn.begin():
                        write(conn, rows)
                    timings[label].append((time.perf_counter() - wall, time.process_time() - cpu))
                    stored = conn.execute(select(*[person_versions.c[c] for c in COLUMNS])
                                          .order_by(person_versions.c.row_id)).all()
                    assert [tuple(r) for r in stored] == rows, f"the {label} COPY stored other rows"
    finally:
        engine.dispose()
        _schema("copy", create=False)
    lines = [f"{args.rows:,} person rows into an empty person_versions (PostgreSQL), {args.repeat} alternating "
             "runs each, medians:"]
    medians = {label: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
               for label, runs in timings.items()}
    for label, (wall, cpu) in medians.items():
        lines.append(f"  COPY, {label} format: wall {wall * 1000:,.1f} ms, process CPU {cpu * 1000:,.1f} ms")
    (tw, tc), (bw, bc) = medians["text"], medians["binary"]
    lines.append(f"binary / text: wall {bw / tw:.2f}x ({tw / bw:.2f}x faster), process CPU {bc / tc:.2f}x "
                 f"({tc / bc:.2f}x less); every row read back equal")
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
