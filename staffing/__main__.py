"""Command line: ``python -m staffing serve | demo | schema | migrate | status | catch-up | rebuild``.

Settings come from the environment (staffing/config.py); nothing connects before a command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="The staffing ledger of a civil service.")


def _serve(ledger: object, host: str, port: int) -> None:
    import uvicorn

    from staffing.graphql.app import create_app

    typer.echo(f"GraphQL on http://{host}:{port}/graphql  (GraphiQL in a browser)")
    uvicorn.run(create_app(ledger, graphiql=True), host=host, port=port, log_level="info")  # type: ignore[arg-type]


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the configured store as it is (empty if new) over GraphQL."""
    from staffing.bootstrap import build

    _serve(build(), host, port)


@app.command()
def demo(host: str = "127.0.0.1", port: int = 8000, load_only: bool = False) -> None:
    """Load the demo dataset into an empty store (nothing is written if it is already there), then serve."""
    from staffing.bootstrap import build
    from staffing.demo import DemoClock, load_demo

    clock = DemoClock()
    ledger = build(clock=clock)
    if ledger.store.recorder.max_notification_id() in (None, 0):
        summary = load_demo(ledger.service, clock, defer_projection=True)
        typer.echo(f"demo loaded: {summary.units} units, {summary.positions} positions, {summary.people} people, "
                   f"{summary.events_written} events in {summary.seconds:.1f} s")
    else:
        typer.echo("the store is not empty; serving it as it is")
    clock.release()
    if load_only:
        ledger.close()
        return
    _serve(ledger, host, port)


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
    finally:
        ledger.close()


@app.command()
def catch_up() -> None:
    """Apply every event not yet applied to the read models."""
    from staffing.bootstrap import build

    ledger = build(inline_projection=False)
    try:
        typer.echo(f"applied {ledger.projector.catch_up()} events")
    finally:
        ledger.close()


@app.command()
def rebuild(keep_previous: bool = False) -> None:
    """Rebuild the read models from the whole event log into fresh tables and swap them in.

    On SQLite stop the server first (the views file is replaced); on PostgreSQL the swap is one
    transaction and a running server keeps serving.
    """
    from staffing.config import Settings
    from staffing.projections.rebuild import swap_in

    applied = swap_in(Settings.from_env(), keep_previous=keep_previous)
    typer.echo(f"rebuilt the read models from {applied} events and swapped them in")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
