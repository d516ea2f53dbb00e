"""Command line: ``python -m staffing serve | demo | schema | migrate | status | catch-up | rebuild | import |
export-commands | generate``.

Settings come from the environment (staffing/config.py); nothing connects before a command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="The staffing ledger of a civil service.")


def _serve(ledger: object, host: str, port: int, dev: bool) -> None:
    import uvicorn

    from staffing.graphql.app import configure_logging, create_app

    configure_logging()
    mode = "development mode: GraphiQL in a browser, introspection on" if dev else "production mode"
    typer.echo(f"GraphQL on http://{host}:{port}/graphql  ({mode})")
    uvicorn.run(create_app(ledger, dev=dev), host=host, port=port, log_level="info",  # type: ignore[arg-type]
                http="staffing.graphql.nodelay:NoDelayH11Protocol")


DEMO_LOAD = "demo"


def _warn_interrupted(ledger: Any) -> None:
    """Say so when a load was killed midway (the data served is partial)."""
    from staffing.application import loads

    for name, since in sorted(loads.interrupted(ledger.store).items()):
        typer.echo(f"WARNING: the load '{name}' started at {since} did not finish: the ledger holds part of it. "
                   "Run the same command again to complete it (what was recorded is not written twice)", err=True)


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          dev: Annotated[bool, typer.Option("--dev", help="development mode: GraphiQL and introspection")] = False,
          workers: Annotated[int, typer.Option(min=1, max=32, help="uvicorn worker processes (README: "
                                                                  "the recommended setup)")] = 1,
          ) -> None:
    """Serve the configured store as it is (empty if new) over GraphQL, in production mode unless --dev."""
    import os

    from staffing.bootstrap import build

    ledger = build()
    _warn_interrupted(ledger)
    if workers == 1:
        _serve(ledger, host, port, dev)
        return
    ledger.close()
    import uvicorn

    if dev:
        os.environ["STAFFING_DEV"] = "1"
    typer.echo(f"GraphQL on http://{host}:{port}/graphql ({workers} worker processes)")
    uvicorn.run("staffing.graphql.app:create_app_from_env", factory=True, workers=workers, host=host, port=port,
                log_level="info", http="staffing.graphql.nodelay:NoDelayH11Protocol")


@app.command()
def demo(host: str = "127.0.0.1", port: int = 8000, load_only: bool = False) -> None:
    """Load the demo dataset into an empty store (nothing is written if it is already there), then serve."""
    from staffing.application import loads
    from staffing.bootstrap import build
    from staffing.demo import DemoClock, load_demo

    clock = DemoClock()
    ledger = build(clock=clock)
    was_interrupted = DEMO_LOAD in loads.interrupted(ledger.store)
    if ledger.store.recorder.max_notification_id() in (None, 0) or was_interrupted:
        if was_interrupted:
            typer.echo("the demo load was interrupted last time: the store holds part of the demo. Completing it "
                       "(steps already recorded are not written twice)")
        summary = load_demo(ledger.service, clock, defer_projection=True,
                            before=lambda: loads.started(ledger.store, DEMO_LOAD, clock))
        loads.finished(ledger.store, DEMO_LOAD, clock)
        ledger.projector.catch_up()
        typer.echo(f"demo loaded: {summary.units} units, {summary.positions} positions, {summary.people} people, "
                   f"{summary.events_written} events in {summary.seconds:.1f} s")
    else:
        typer.echo("the store is not empty; serving it as it is")
    _warn_interrupted(ledger)
    clock.release()
    _print_demo_tokens(ledger, host, port)
    if load_only:
        ledger.close()
        return
    _serve(ledger, host, port, dev=True)


def _print_demo_tokens(ledger: Any, host: str, port: int) -> None:
    """A ready token per role (the personnel one scoped to a demo province), valid for 30 days."""
    from datetime import date

    from staffing.tokens import issue, load_secret

    secret = load_secret(ledger.settings.data_dir, ledger.settings.token_secret)
    with ledger.queries.connect() as conn:
        position = ledger.queries.knowledge_position(conn, None)
        found, _ = ledger.queries.units(conn, as_of=date.today(), position=position, kind="PROVINCE",
                                        search="tuyen quang", first=1)
    typer.echo(f"tokens for http://{host}:{port}/graphql (GraphiQL: add the header "
               '{"Authorization": "Bearer <token>"}):')
    tokens = {role: issue(secret, role, name=f"demo {role}") for role in ("admin", "ministry", "auditor")}
    for role, value in tokens.items():
        typer.echo(f"  {role:<10} {value}")
    if found:
        token = issue(secret, "personnel", name=f"demo personnel ({found[0].name})", unit_id=UUID(found[0].id))
        typer.echo(f"  personnel  {token}  (records and reads inside {found[0].name} only)")
    # the page keeps the token in the browser: the fragment is never sent to the server
    typer.echo(f"the page, signed in as the ministry: http://{host}:{port}/#token={tokens['ministry']}")


@app.command()
def token(
    role: Annotated[str, typer.Option(help="personnel, ministry, auditor or admin")],
    unit: Annotated[str | None, typer.Option(help="personnel only: the unit whose subtree it may record in")] = None,
    name: Annotated[str | None, typer.Option(help="who the token is for; recorded with every fact they enter")] = None,
    expires: Annotated[str, typer.Option(help="lifetime: 90d, 12h or 30m (at most 366d)")] = "30d",
) -> None:
    """Print a signed bearer token (alone on the last line) for the configured data directory's secret."""
    from staffing.config import Settings
    from staffing.tokens import issue, load_secret, parse_duration

    settings = Settings.from_env()
    try:
        unit_id = UUID(unit) if unit else None
        signed = issue(load_secret(settings.data_dir, settings.token_secret), role, name=name, unit_id=unit_id,
                       lifetime=parse_duration(expires))
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    typer.echo(f"{role} token{f' for unit {unit_id}' if unit_id else ''}, valid {expires}; send it as "
               "'Authorization: Bearer <token>':", err=True)
    typer.echo(signed)


@app.command()
def schema(output: Annotated[Path | None, typer.Option(help="write the SDL here instead of stdout")] = None) -> None:
    """Print (or write) the GraphQL schema SDL."""
    from staffing.graphql.schema import schema as gql_schema

    sdl = str(gql_schema) + "\n"
    if output:
        output.write_text(sdl, encoding="utf-8")
    else:
        sys.stdout.write(sdl)


@app.command()
def migrate() -> None:
    """Create or upgrade the read-model tables (the event store creates its own)."""
    from staffing.bootstrap import build

    build(inline_projection=False).close()
    typer.echo("read models are at the newest revision")


@app.command()
def status() -> None:
    """Show how far the projections are behind the event log."""
    from staffing.bootstrap import build

    ledger = build(inline_projection=False)
    try:
        log = ledger.store.recorder.max_notification_id() or 0
        typer.echo(f"events in the log: {log}; applied to read models: {ledger.projector.position()}")
        _warn_interrupted(ledger)
    finally:
        ledger.close()


@app.command()
def verify() -> None:
    """Recompute the hash chain over every recorded event; exit 1 naming the first broken record."""
    from staffing.chain import verify as verify_chain
    from staffing.config import Settings
    from staffing.persistence import EventStore, event_store_env

    store = EventStore(env={**event_store_env(Settings.from_env()), "CREATE_TABLE": "no"})
    try:
        report = verify_chain(store.recorder)
    finally:
        store.close()
    rate = report.events / report.seconds if report.seconds else 0.0
    if report.first_break is not None:
        typer.echo(f"BROKEN at position {report.first_break.position} ({report.first_break.kind}): "
                   f"{report.first_break.message}. {report.events:,} records checked in {report.seconds:.1f} s; "
                   f"the chain is intact up to position {report.head_position}.")
        raise typer.Exit(1)
    typer.echo(f"intact: {report.events:,} events, head position {report.head_position}, head hash "
               f"{report.head_hash} ({report.seconds:.1f} s, {rate:,.0f} events/s)")


@app.command("check-stays")
def check_stays(
    known_at: Annotated[str | None, typer.Option("--known-at", help="as known at this moment (ISO 8601 with "
                                                                     "offset; default: now)")] = None,
) -> None:
    """List everyone (and every open position and child unit) recorded in a unit after it ended, or
    holding a position after it was abolished; exit 1 when there is any (stores written before the
    stays rule may hold them: staffing.projections.invariants)."""
    from datetime import datetime

    from staffing.projections.invariants import stays_past_ends

    try:
        moment = datetime.fromisoformat(known_at) if known_at else None
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    position, found, _ = _read_models(moment, lambda queries, conn, position: stays_past_ends(conn, position))
    for stay in found:
        typer.echo(stay.describe())
    if found:
        typer.echo(f"{len(found)} stays past an end, as known at log position {position}")
        raise typer.Exit(1)
    typer.echo(f"no stay past an end, as known at log position {position}")


@app.command()
def report(
    as_of: Annotated[str, typer.Option("--as-of", help="the date the figures are for, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="the file to write")],
    root: Annotated[str | None, typer.Option(help="the root unit's id (default: the whole country)")] = None,
    known_at: Annotated[str | None, typer.Option("--known-at", help="as known at this moment (ISO 8601 with "
                                                                     "offset; default: now)")] = None,
    period_from: Annotated[str | None, typer.Option("--from", help="movements from this date")] = None,
    period_to: Annotated[str | None, typer.Option("--to", help="movements up to this date")] = None,
    format: Annotated[str, typer.Option(help="xlsx or csv")] = "xlsx",
) -> None:
    """Write the staffing report (báo cáo biên chế) of a subtree or the country as Excel or CSV."""
    from datetime import date, datetime

    from staffing.reports.staffing_report import build_report
    from staffing.reports.workbook import ReportContext, write_csv, write_xlsx

    if format not in ("xlsx", "csv"):
        raise typer.BadParameter("--format is xlsx or csv")
    if (period_from is None) != (period_to is None):
        raise typer.BadParameter("give --from and --to together")
    try:
        day = date.fromisoformat(as_of)
        moment = datetime.fromisoformat(known_at) if known_at else None
        period = (date.fromisoformat(period_from), date.fromisoformat(period_to)) if period_from and period_to \
            else None
        root_id = str(UUID(root)) if root else None
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    position, built, head = _read_models(
        moment, lambda queries, conn, position: build_report(queries, conn, root_id, day, position, period))
    context = ReportContext(moment, head[1] if head else None)
    (write_xlsx if format == "xlsx" else write_csv)(built, context, out)
    typer.echo(f"wrote {len(built.rows)} units to {out} (as of {day.isoformat()}, log position {position})")


@app.command()
def diff(
    before_as_of: Annotated[str, typer.Option("--before-as-of", help="the first snapshot's date")],
    after_as_of: Annotated[str, typer.Option("--after-as-of", help="the second snapshot's date")],
    out: Annotated[Path, typer.Option(help="the file to write")],
    before_known_at: Annotated[str | None, typer.Option("--before-known-at", help="as known at (ISO 8601)")] = None,
    after_known_at: Annotated[str | None, typer.Option("--after-known-at", help="as known at (ISO 8601)")] = None,
    root: Annotated[str | None, typer.Option(help="the root unit's id (default: the whole country)")] = None,
    format: Annotated[str, typer.Option(help="csv or xlsx")] = "csv",
) -> None:
    """Write what differs between two snapshots of a subtree, with the facts behind each difference."""
    from datetime import date, datetime

    from staffing.reports.diff import Snapshot, staffing_diff
    from staffing.reports.diff_export import write_diff

    if format not in ("xlsx", "csv"):
        raise typer.BadParameter("--format is xlsx or csv")
    try:
        days = date.fromisoformat(before_as_of), date.fromisoformat(after_as_of)
        moments = [datetime.fromisoformat(m) if m else None for m in (before_known_at, after_known_at)]
        root_id = str(UUID(root)) if root else None
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None

    def read(queries: Any, conn: Any, position: int) -> Any:
        first = Snapshot(days[0], queries.knowledge_position(conn, moments[0]))
        second = Snapshot(days[1], queries.knowledge_position(conn, moments[1]))
        return first, second, staffing_diff(queries, conn, root_id, first, second)

    _, (first, second, rows), _ = _read_models(None, read)
    write_diff(rows, first, second, out, format)
    typer.echo(f"wrote {len(rows)} differing rows to {out}")


def _read_models(moment: Any, read: Any) -> tuple[int, Any, tuple[int, str] | None]:
    """Catch the read models up, then ``read(queries, conn, position)`` as known at ``moment``:
    (the log position, what ``read`` returned, the event chain's head at that position). Input the
    read refuses (a moment without its UTC offset, an unknown root) is reported as the option's error,
    as the API reports it, not as a traceback."""
    from staffing import chain
    from staffing.bootstrap import build
    from staffing.domain.errors import StaffingError

    ledger = build(inline_projection=False)
    try:
        ledger.projector.catch_up()
        with ledger.queries.connect() as conn:
            position = ledger.queries.knowledge_position(conn, moment)
            result = read(ledger.queries, conn, position)
        return position, result, chain.head(ledger.store.recorder, position)
    except StaffingError as error:
        where = f"{error.field}: " if error.field else ""
        raise typer.BadParameter(f"{where}{error.message} [{error.code}]") from None
    finally:
        ledger.close()


@app.command("reform-statistics")
def reform_statistics_(
    period_from: Annotated[str, typer.Option("--from", help="the period's first day, YYYY-MM-DD")],
    period_to: Annotated[str, typer.Option("--to", help="the period's last day, YYYY-MM-DD")],
    root: Annotated[str | None, typer.Option(help="the root unit's id (default: the whole country)")] = None,
    known_at: Annotated[str | None, typer.Option("--known-at", help="as known at this moment (ISO 8601)")] = None,
) -> None:
    """Print the reform statistics of a period as JSON: units removed and created, people downsized,
    quota change, and the root's targets."""
    from datetime import date, datetime

    import orjson

    from staffing.reports.reform import reform_statistics

    try:
        start, end = date.fromisoformat(period_from), date.fromisoformat(period_to)
        moment = datetime.fromisoformat(known_at) if known_at else None
        root_id = str(UUID(root)) if root else None
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    position, stats, _ = _read_models(
        moment, lambda queries, conn, position: reform_statistics(queries, conn, root_id, start, end, position))
    out = {"from": start.isoformat(), "to": end.isoformat(), "logPosition": position,
           "unitsRemoved": [{"kind": k, "change": c, "units": n} for (k, c), n in sorted(stats.removed.items())],
           "unitsCreated": [{"kind": k, "change": c, "units": n} for (k, c), n in sorted(stats.created.items())],
           "downsized": [{"policy": p, "decree": d, "central": central, "people": n}
                         for (p, d, central), n in sorted(stats.downsized.items())],
           "downsizedTotal": stats.downsized_total, "downsizedCentral": stats.downsized_central,
           "quota": [{"category": c, "before": stats.quota_before[c], "after": stats.quota_after[c]}
                     for c in stats.quota_before],
           "targets": [{"target": goal.fact_id, "percent": goal.percent, "baseline": p.baseline, "goal": p.target,
                        "current": p.current, "status": p.status(goal, end)} for goal, p in stats.targets if p]}
    sys.stdout.buffer.write(orjson.dumps(out, option=orjson.OPT_INDENT_2) + b"\n")


@app.command()
def catch_up(
    follow: Annotated[bool, typer.Option("--follow", help="keep projecting while another process writes the log, "
                                                          "until standard input ends; then catch up and exit")]
    = False,
) -> None:
    """Apply every event not yet applied to the read models."""
    from staffing.bootstrap import build
    from staffing.projections.follower import follow_until_end_of

    ledger = build(inline_projection=False)
    try:
        applied = follow_until_end_of(sys.stdin.buffer, ledger.projector) if follow else ledger.projector.catch_up()
        typer.echo(f"applied {applied} events")
    finally:
        ledger.close()


#: an import of at least this many lines projects its read models in a second process as it goes
FOLLOW_MIN_LINES = 10_000


@app.command()
def rebuild(keep_previous: bool = False) -> None:
    """Rebuild the read models from the whole event log into fresh tables and swap them in.

    On SQLite stop the server first (the views file is replaced); on PostgreSQL the swap is one
    transaction and a running server keeps serving.
    """
    from staffing.config import Settings
    from staffing.projections.rebuild import TamperDetected, swap_in

    try:
        applied = swap_in(Settings.from_env(), keep_previous=keep_previous)
    except TamperDetected as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"rebuilt the read models from {applied} events and swapped them in")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="JSON Lines: one {\"command\": ..., \"input\": {...}} per line")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="decide every line, record nothing, report every "
                                                             "refused line")] = False,
    atomic: Annotated[bool, typer.Option("--atomic", help="all lines or none")] = False,
    batch: Annotated[int, typer.Option(min=1, max=5000, help="commands per transaction")] = 500,
    follow: Annotated[bool | None, typer.Option(
        "--follow/--no-follow", help="project the read models in a second process while importing (default: for "
                                     f"files of {FOLLOW_MIN_LINES:,}+ lines on a machine with 2+ cores)")] = None,
) -> None:
    """Apply a file of commands through the same handlers as the API (see README, "Import and export")."""
    if dry_run and atomic:
        raise typer.BadParameter("--dry-run and --atomic exclude each other")
    _import(file, dry_run, atomic, batch, follow)


def _import(file: Path, dry_run: bool, atomic: bool, batch: int, follow: bool | None = None) -> None:
    import hashlib
    import os

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from staffing.application import loads
    from staffing.application.importer import ImportMode, import_lines, read_lines
    from staffing.bootstrap import build
    from staffing.projections.follower import FollowerProcess

    mode = ImportMode.DRY_RUN if dry_run else ImportMode.ATOMIC if atomic else ImportMode.STOP_AT_FIRST_ERROR
    total = sum(1 for _ in read_lines(file))
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    load = f"import {file.name} (sha256 {digest.hexdigest()[:16]})"
    ledger = build(inline_projection=False)
    if follow is None:
        follow = total >= FOLLOW_MIN_LINES and (os.cpu_count() or 1) >= 2
    follower = None
    alongside = 0
    try:
        if follow and not dry_run:
            follower = FollowerProcess()
        if not dry_run:
            loads.started(ledger.store, load)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("importing", total=total)
            report = import_lines(ledger.service, read_lines(file), mode, lambda n: bar.advance(task, n), batch,
                                  principal=_operator())
        if not dry_run and report.ok:
            loads.finished(ledger.store, load)
        if follower is not None:
            with Progress(TextColumn("{task.description}"), transient=True) as bar:
                bar.add_task("projecting the rest of the log into the read models")
                alongside = follower.finish()
            follower = None
        if not dry_run:
            after = ledger.projector.catch_up()
            if follow:
                typer.echo(f"read models: {alongside} events projected by a second process, {after} after it")
    finally:
        if follower is not None:
            follower.abandon()
        ledger.close()
    done = report.decided if dry_run else report.recorded
    rate = done / report.seconds if report.seconds else 0.0
    verb = "decided (nothing recorded)" if dry_run else "recorded"
    typer.echo(f"{report.lines} lines: {done} commands {verb}, {report.replayed} already recorded earlier, "
               f"{report.events} events, {report.seconds:.1f} s ({rate:,.0f} commands/s)")
    for error in report.errors:
        typer.echo(str(error), err=True)
    if not report.ok:
        if mode is ImportMode.STOP_AT_FIRST_ERROR:
            typer.echo("stopped at the first refused line; the lines before it are recorded. Fix it and run the "
                       "same command again: recorded lines are not written twice", err=True)
        raise typer.Exit(1)


def _operator() -> Any:
    """The person at the command line, named on the facts they import (they act as an administrator:
    whoever can run the CLI can open the database files anyway)."""
    import getpass

    from staffing.application.access import Principal

    return Principal(f"command line ({getpass.getuser()})"[:120], "admin")


@app.command()
def generate(
    scale: Annotated[str, typer.Option(help="tiny, province or national")] = "province",
    seed: Annotated[int, typer.Option(help="same seed, same history")] = 1,
    out: Annotated[Path | None, typer.Option(help="where to write the command file (default: the data "
                                                  "directory)")] = None,
    load: Annotated[bool, typer.Option(help="import the file into the configured store")] = True,
) -> None:
    """Write a synthetic, realistic history (2015 to the 2025 reform) as commands, and import it."""
    from staffing.config import Settings
    from staffing.generator import SCALES
    from staffing.generator import generate as write_history

    if scale not in SCALES:
        raise typer.BadParameter(f"--scale is one of {', '.join(SCALES)}")
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = out or settings.data_dir / f"history-{scale}-{seed}.jsonl"
    counts = write_history(path, SCALES[scale], seed)
    summary = ", ".join(f"{n:,} {command}" for command, n in sorted(counts.items(), key=lambda c: -c[1]))
    typer.echo(f"wrote {sum(counts.values()):,} commands to {path}: {summary}")
    if load:
        _import(path, dry_run=False, atomic=False, batch=500)


@app.command()
def export_commands(
    output: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
) -> None:
    """Write the record as currently known as a file of commands that `import` reads."""
    from staffing.bootstrap import build
    from staffing.projections.export import export_commands as export

    ledger = build(inline_projection=False)
    try:
        ledger.projector.catch_up()
        with ledger.queries.connect() as conn:
            lines = export(conn)
            if output is None:
                for line in lines:
                    sys.stdout.buffer.write(line + b"\n")
            else:
                with output.open("wb") as handle:
                    for line in lines:
                        handle.write(line + b"\n")
    finally:
        ledger.close()


def main() -> None:
    from staffing.config import ConfigurationError

    try:
        app()
    except ConfigurationError as error:  # the operator's settings, not a fault: no traceback
        typer.echo(f"configuration error: {error}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
