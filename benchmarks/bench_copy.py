"""PostgreSQL's binary formats against its text formats: the read models' bulk insert, the log's read.

``staffing.projections.bulk.insert_tuples`` writes a batch's rows by ``COPY ... FROM STDIN``; since
section 36 of ``benchmarks/RESULTS.md`` in the binary format, each column's type declared from the
table. The baseline is the text format of the same statement (the previous code's path: psycopg
finds a dumper by each value's Python type and writes text the server parses again). Both insert the
same generated person rows into an empty ``person_versions`` table of a scratch schema in one
transaction each, alternately, ``--repeat`` times; reported: medians of the wall time and of the
process's CPU time, and their ratios. The rows read back are checked equal to the rows written.

Second, the log's read (``staffing.persistence.select_entries``' statement on a scratch table shaped
like the event store's, ``--entries`` rows with ~450-byte JSON states read in windows of 25,000):
its results in the binary format (since section 36: each state's bytes as they are) against the
text format (bytea written as hex by the server and decoded by the driver), alternately; the rows
read are checked equal.

Usage: python -m benchmarks.bench_copy [--rows N] [--entries N] [--repeat R] [--out FILE]
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

import orjson
from psycopg.rows import tuple_row
from sqlalchemy import create_engine, select, text

from benchmarks.bench_scale import _schema
from benchmarks.timing import Report
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


def _read_log(conn: Any, entries: int, binary: bool) -> list[tuple[Any, ...]]:
    """Every row of the scratch log, in windows of 25,000, as ``select_entries`` reads them."""
    got: list[tuple[Any, ...]] = []
    start = 1
    while start <= entries:
        with conn.cursor(row_factory=tuple_row, binary=binary) as rows:
            rows.execute("SELECT notification_id, originator_id::text, originator_version, topic, state FROM log "
                         "WHERE notification_id>=%s ORDER BY notification_id LIMIT %s", (start, 25_000), prepare=True)
            got.extend((i, o, v, t, s if type(s) is bytes else bytes(s)) for i, o, v, t, s in rows.fetchall())
        start = got[-1][0] + 1
    return got


def log_read(entries: int, repeat: int) -> dict[str, list[tuple[float, float]]]:
    """Wall and CPU seconds of reading a scratch log of ``entries`` rows in each result format."""
    import psycopg

    schema = _schema("copy_log")
    timings: dict[str, list[tuple[float, float]]] = {"text": [], "binary": []}
    try:
        with psycopg.connect(PG_URL, options=f"-csearch_path={schema}") as conn:
            conn.execute("CREATE TABLE log (notification_id bigint PRIMARY KEY, originator_id uuid NOT NULL, "
                         "originator_version integer NOT NULL, topic text NOT NULL, state bytea NOT NULL)")
            rng = random.Random(2)
            with conn.cursor() as cursor, cursor.copy("COPY log FROM STDIN") as copy:
                for i in range(1, entries + 1):
                    state = orjson.dumps({"timestamp": {"_type_": "datetime_iso", "_data_": "2025-07-01T00:00:00"},
                                          "unit_id": {"_type_": "uuid_hex", "_data_": uuid.UUID(
                                              int=rng.getrandbits(128)).hex},
                                          "act": {"_type_": "legal_act_ref", "_data_": f"{rng.getrandbits(256):064x}"},
                                          "full_name": "Nguyễn Thị Ánh", "category": "cong_chuc",
                                          "effective_on": {"_type_": "date_iso", "_data_": "2025-07-01"},
                                          "rank": "Chuyên viên", "position_id": None, "recorded_by": "sở nội vụ"})
                    copy.write_row((i, uuid.UUID(int=rng.getrandbits(128)), 1, "staffing.domain.person:Person.Recruited",
                                    state))
            conn.commit()
            expected = _read_log(conn, entries, binary=False)
            for _ in range(repeat):
                for label in ("text", "binary"):
                    wall, cpu = time.perf_counter(), time.process_time()
                    got = _read_log(conn, entries, binary=label == "binary")
                    timings[label].append((time.perf_counter() - wall, time.process_time() - cpu))
                    assert got == expected, f"the {label} read gave other rows"
    finally:
        _schema("copy_log", create=False)
    return timings


def _medians(timings: dict[str, list[tuple[float, float]]]) -> dict[str, tuple[float, float]]:
    return {label: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
            for label, runs in timings.items()}


def _compared(title: str, timings: dict[str, list[tuple[float, float]]], row: str, ratio: str, checked: str
              ) -> list[str]:
    """The report's lines for one comparison: each format's medians, then binary against text."""
    medians = _medians(timings)
    lines = [title, *(f"{row.format(label)}: wall {wall * 1000:,.1f} ms, process CPU {cpu * 1000:,.1f} ms"
                      for label, (wall, cpu) in medians.items())]
    (tw, tc), (bw, bc) = medians["text"], medians["binary"]
    lines.append(f"{ratio}: wall {bw / tw:.2f}x ({tw / bw:.2f}x faster), process CPU {bc / tc:.2f}x "
                 f"({tc / bc:.2f}x less); {checked}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=76_776, help="rows of the scratch log (the province log's)")
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
    report = Report()
    lines = _compared(f"{args.rows:,} person rows into an empty person_versions (PostgreSQL), {args.repeat} "
                      "alternating runs each, medians:", timings, "  COPY, {} format", "binary / text",
                      "every row read back equal")
    lines += _compared(f"{args.entries:,} log entries read in windows of 25,000 (select_entries' statement), "
                       f"{args.repeat} alternating runs each, medians:", log_read(args.entries, args.repeat),
                       "  results in the {} format", "binary / text read", "every row equal")
    for line in lines:
        report(line)
    report.write(args.out)


if __name__ == "__main__":
    main()
