"""HTTP downloads beside the GraphQL endpoint: the staffing listing (issue 9) and the people (issue 12)
as streamed CSV files, and the staffing report as a workbook (issue 11).

``GET /downloads/staffing.csv?asOf=2025-07-31[&knownAt=...][&rootUnitId=...][&rolled=true][&depth=N]``
answers the same figures as ``staffingReport`` with the same token rules, written row by row
(``staffing.projections.listing``) instead of through graphql-core. Bad parameters get a 400 with
a JSON body naming the parameter; no valid token, a 401; a personnel caller asking outside its
unit's subtree, a 403.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from staffing import chain
from staffing.bootstrap import Ledger
from staffing.domain.base import check_as_of
from staffing.domain.errors import InvalidInput, StaffingError
from staffing.graphql.auth import Caller, Principal
from staffing.projections.listing import csv_chunks, csv_lines, json_lines, people_lines
from staffing.reports.diff import Snapshot, staffing_diff
from staffing.reports.diff_export import diff_lines
from staffing.reports.staffing_report import build_report
from staffing.reports.workbook import ReportContext, write_csv, write_xlsx

__all__ = ["diff_csv", "people_csv", "staffing_csv", "staffing_jsonl", "staffing_report_file", "streamed_csv"]

#: media type of each streamed format
MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}


def _date(raw: str | None, name: str) -> date:
    if not raw:
        raise InvalidInput(name, "give the date as YYYY-MM-DD, e.g. asOf=2025-07-31")
    try:
        return check_as_of(date.fromisoformat(raw), name)
    except ValueError:
        raise InvalidInput(name, f"{raw!r} is not a date; give it as YYYY-MM-DD") from None


def _moment(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("knownAt", f"{raw!r} is not a moment; give it as ISO 8601 with its UTC offset") from None


def _flag(raw: str | None, name: str) -> bool:
    if raw in (None, "", "false", "0"):
        return False
    if raw in ("true", "1"):
        return True
    raise InvalidInput(name, f"{raw!r} is not true or false")


def _depth(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    if not raw.isdigit() or int(raw) > 64:
        raise InvalidInput("depth", f"{raw!r} is not a depth between 0 and 64")
    return int(raw)


def _root(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return str(UUID(raw))
    except ValueError:
        raise InvalidInput("rootUnitId", f"{raw!r} is not a valid id") from None


def _refused(error: StaffingError) -> JSONResponse:
    """A bad parameter: 400 naming it, nothing read."""
    return JSONResponse({"code": error.code, "field": error.field, "message": error.message}, status_code=400)


def _unauthenticated(problem: str | None) -> JSONResponse:
    return JSONResponse({"code": "UNAUTHENTICATED", "message": problem}, status_code=401)


def _streamed(chunks: list[str], headers: dict[str, str], fmt: str = "csv") -> StreamingResponse:
    """Text already read (in a worker thread) streamed to the client."""
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk.encode("utf-8")

    return StreamingResponse(body(), media_type=MEDIA[fmt], headers=headers)


def _may_read(queries: Any, principal: Principal, root: str | None, as_of: date, position: int) -> bool:
    """A personnel caller downloads its own subtree only (as it stands on the date asked about)."""
    return principal.reads_everything or (
        root is not None and principal.unit_id is not None
        and queries.is_within(root, str(principal.unit_id), as_of, position))


def _outside(principal: Principal) -> JSONResponse:
    return JSONResponse({"code": "FORBIDDEN", "message": "you may download the subtree of your unit only: "
                         f"give rootUnitId={principal.unit_id} or a unit under it"}, status_code=403)


@dataclass(frozen=True)
class _Asked:
    """The parameters a listing download takes (each listing uses those it needs)."""

    as_of: date
    known_at: datetime | None
    root: str | None
    rolled: bool
    depth: int | None
    descendants: bool


#: what a listing writes: (queries, connection, the parameters, the knowledge position) -> chunks of CSV text
Lines = Callable[[Any, Any, _Asked, int], Iterable[str]]


async def streamed_csv(ledger: Ledger, caller: Caller, request: Request, name: str, lines_of: Lines,
                       fmt: str = "csv") -> Response:
    """A listing as a streamed CSV (or JSON Lines) with the token and scope rules of GraphQL: read in one
    worker thread at one knowledge position, then streamed; the position and chain head it reflects go
    in headers."""
    principal, problem = caller.identify(request.headers.get("authorization"))
    if principal is None:
        return _unauthenticated(problem)
    params = request.query_params
    try:
        asked = _Asked(_date(params.get("asOf"), "asOf"), _moment(params.get("knownAt")), _root(params.get("rootUnitId")),
                       _flag(params.get("rolled"), "rolled"), _depth(params.get("depth")),
                       _flag(params.get("includeDescendants"), "includeDescendants"))
    except StaffingError as error:
        return _refused(error)
    queries = ledger.queries

    def read() -> tuple[int, list[str] | None, tuple[int, str] | None]:
        """Everything that touches a database, in one worker thread (never on the event loop)."""
        queries.refresh()
        with queries.connect() as conn:
            position = queries.knowledge_position(conn, asked.known_at)
            if not _may_read(queries, principal, asked.root, asked.as_of, position):
                return position, None, None
            lines = list(lines_of(queries, conn, asked, position))
        return position, lines, chain.head(ledger.store.recorder, position)

    try:
        position, lines, head = await asyncio.to_thread(read)
    except StaffingError as error:
        return _refused(error)
    if lines is None:
        return _outside(principal)
    return _streamed(lines, {
        "Content-Disposition": f'attachment; filename="{name}-{asked.as_of.isoformat()}.{fmt}"',
        "X-Staffing-As-Of": asked.as_of.isoformat(), "X-Staffing-Log-Position": str(position),
        "X-Staffing-Head-Hash": head[1] if head else ""}, fmt)


async def staffing_csv(ledger: Ledger, caller: Caller, request: Request) -> Response:
    """``/downloads/staffing.csv``: the figures of ``staffingReport``."""
    return await streamed_csv(ledger, caller, request, "staffing", lambda q, conn, a, position: csv_lines(
        q, conn, a.root, a.as_of, position, a.rolled, a.depth))


async def staffing_jsonl(ledger: Ledger, caller: Caller, request: Request) -> Response:
    """``/downloads/staffing.jsonl``: the same listing as JSON Lines (the national listing for programs,
    issue 9: ~60,000 units in one streamed read instead of graphql-core's ~40 fields per unit)."""
    return await streamed_csv(ledger, caller, request, "staffing", lambda q, conn, a, position: json_lines(
        q, conn, a.root, a.as_of, position, a.rolled, a.depth), fmt="jsonl")


async def people_csv(ledger: Ledger, caller: Caller, request: Request) -> Response:
    """``/downloads/people.csv?asOf=...[&rootUnitId=...][&includeDescendants=true][&knownAt=...]``: the
    people present, as ``people`` lists them, in one streamed file (issue 12: a province's ~60,000)."""
    return await streamed_csv(ledger, caller, request, "people", lambda q, conn, a, position: people_lines(
        q, conn, a.root, a.as_of, position, a.descendants))


async def diff_csv(ledger: Ledger, caller: Caller, request: Request) -> Response:
    """``/downloads/staffing-diff.csv?afterAsOf=...[&beforeAsOf][&beforeKnownAt][&afterKnownAt][&rootUnitId]``:
    ``staffingDiff`` as a file, with its rules (a ministry token reads figures, not the recorded history;
    a personnel token its own subtree). Written without graphql-core: a province's diff between two
    knowledge moments is explained by tens of thousands of facts (issue 12)."""
    principal, problem = caller.identify(request.headers.get("authorization"))
    if principal is None:
        return _unauthenticated(problem)
    if principal.role == "ministry":
        return JSONResponse({"code": "FORBIDDEN", "message": "the ministry role reads figures, not the recorded "
                             "history a diff lists; use an auditor token"}, status_code=403)
    params = request.query_params
    try:
        after_on = _date(params.get("afterAsOf"), "afterAsOf")
        before_on = _date(params.get("beforeAsOf"), "beforeAsOf") if params.get("beforeAsOf") else after_on
        before_at, after_at = _moment(params.get("beforeKnownAt")), _moment(params.get("afterKnownAt"))
        root = _root(params.get("rootUnitId"))
    except StaffingError as error:
        return _refused(error)
    queries = ledger.queries

    def read() -> list[str] | None:
        queries.refresh()
        with queries.connect() as conn:
            before = Snapshot(before_on, queries.knowledge_position(conn, before_at))
            after = Snapshot(after_on, queries.knowledge_position(conn, after_at))
            if not _may_read(queries, principal, root, after.as_of, after.position):
                return None
            return list(csv_chunks(diff_lines(staffing_diff(queries, conn, root, before, after), before, after)))

    try:
        found = await asyncio.to_thread(read)
    except StaffingError as error:
        return _refused(error)
    if found is None:
        return _outside(principal)
    return _streamed(found, {"Content-Disposition": f'attachment; filename="so-sanh-bien-che-{after_on.isoformat()}.csv"'})


async def staffing_report_file(ledger: Ledger, caller: Caller, request: Request) -> Response:
    """``GET /downloads/staffing-report.{xlsx,csv}?asOf=...[&knownAt][&rootUnitId][&from&to]``: the
    staffing report (``staffing.reports``) as a file, with the same token and scope rules."""
    principal, problem = caller.identify(request.headers.get("authorization"))
    if principal is None:
        return _unauthenticated(problem)
    fmt = request.path_params["format"]
    if fmt not in ("xlsx", "csv"):
        return JSONResponse({"code": "NOT_FOUND", "message": "the report downloads as staffing-report.xlsx or "
                             "staffing-report.csv"}, status_code=404)
    params = request.query_params
    try:
        as_of, known_at = _date(params.get("asOf"), "asOf"), _moment(params.get("knownAt"))
        root = _root(params.get("rootUnitId"))
        if bool(params.get("from")) != bool(params.get("to")):
            raise InvalidInput("from", "give from and to together (the period of the movements)")
        period = (_date(params.get("from"), "from"), _date(params.get("to"), "to")) if params.get("from") else None
    except StaffingError as error:
        return _refused(error)
    queries = ledger.queries

    def read() -> tuple[int, bytes | None]:
        queries.refresh()
        with queries.connect() as conn:
            position = queries.knowledge_position(conn, known_at)
            if not _may_read(queries, principal, root, as_of, position):
                return position, None
            built = build_report(queries, conn, root, as_of, position, period)
        head = chain.head(ledger.store.recorder, position)
        context = ReportContext(known_at, head[1] if head else None)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"report.{fmt}"
            (write_xlsx if fmt == "xlsx" else write_csv)(built, context, path)
            return position, path.read_bytes()

    position, content = await asyncio.to_thread(read)
    if content is None:
        return _outside(principal)
    media = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx"
             else "text/csv; charset=utf-8")
    return Response(content, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="bao-cao-bien-che-{as_of.isoformat()}.{fmt}"',
        "X-Staffing-As-Of": as_of.isoformat(), "X-Staffing-Log-Position": str(position)})
