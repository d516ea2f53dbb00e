"""ASGI application: the GraphQL endpoint mounted in Starlette (which handles the ASGI lifespan)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL

from staffing.application import loads
from staffing.bootstrap import Ledger
from staffing.graphql.auth import Caller, parse_tokens
from staffing.graphql.context import Context, Loaders
from staffing.graphql.downloads import diff_csv, people_csv, staffing_csv, staffing_jsonl, staffing_report_file
from staffing.graphql.guard import GraphQLGuard
from staffing.graphql.schema import production_schema, schema
from staffing.tokens import load_secret
from staffing.web.assets import PAGE, VENDOR
from staffing.web.graphiql import STATIC_PREFIX, graphiql_html

__all__ = ["configure_logging", "create_app", "create_app_from_env"]

THREADS = 8


class LedgerGraphQL(GraphQL[Context, None]):
    def __init__(self, ledger: Ledger, dev: bool) -> None:
        super().__init__(schema if dev else production_schema, graphql_ide="graphiql" if dev else None,
                         allow_queries_via_get=False)
        self.ledger = ledger
        self.caller = Caller(load_secret(ledger.settings.data_dir, ledger.settings.token_secret),
                             parse_tokens(ledger.settings.api_tokens))

    async def render_graphql_ide(self, request: Any) -> Response:
        """GraphiQL with its assets served from the package (issue 13: nothing fetched from outside)."""
        return HTMLResponse(graphiql_html())

    def encode_json(self, data: object) -> bytes:
        """UTF-8 as is (Vietnamese names stay readable in responses), and fast on large reports."""
        return orjson.dumps(data)

    async def get_context(self, request: Any, response: Any = None) -> Context:
        # read your writes, also for writes made by other processes: catch the projections up first
        await asyncio.to_thread(self.ledger.queries.refresh)  # never block the event loop
        principal, problem = self.caller.identify(request.headers.get("authorization"))
        return Context(service=self.ledger.service, queries=self.ledger.queries, loaders=Loaders(self.ledger.queries),
                       principal=principal, auth_problem=problem, request=request, response=response)


def create_app(ledger: Ledger, dev: bool = False) -> Starlette:
    """The service. Production (the default): no GraphiQL, no introspection, no field suggestions,
    GraphQL over POST only. ``dev`` (``serve --dev``, ``demo``): GraphiQL on GET and introspection.
    In both: tokens required, the Host header checked, the body guarded (``guard``)."""
    graphql_app = LedgerGraphQL(ledger, dev)

    async def health(_: Request) -> JSONResponse:
        """Up, how far the read models are, and any load killed midway (the data is then partial)."""
        unfinished = await asyncio.to_thread(loads.interrupted, ledger.store)
        projected = await asyncio.to_thread(ledger.projector.position)
        return JSONResponse({"status": "ok", "projected": projected,
                             "interruptedLoads": sorted(unfinished)})

    async def download_staffing(request: Request) -> Response:
        return await staffing_csv(ledger, graphql_app.caller, request)

    async def download_staffing_jsonl(request: Request) -> Response:
        return await staffing_jsonl(ledger, graphql_app.caller, request)

    async def download_people(request: Request) -> Response:
        return await people_csv(ledger, graphql_app.caller, request)

    async def download_diff(request: Request) -> Response:
        return await diff_csv(ledger, graphql_app.caller, request)

    async def download_report(request: Request) -> Response:
        return await staffing_report_file(ledger, graphql_app.caller, request)

    async def root(_: Request) -> FileResponse:
        """The page (issue 13): static, from the package; it reads the API with the caller's token."""
        return FileResponse(PAGE / "index.html", media_type="text/html; charset=utf-8")

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # blocking reads run in worker threads (``asyncio.to_thread``); the default pool has
        # cores + 4 threads (6 here), so eight slow reports would queue every quick question behind them;
        # many more threads only fight over the GIL (bench_fairness: 8 is the better of 6, 8 and 32)
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(THREADS, thread_name_prefix="staffing"))
        try:
            yield
        finally:
            ledger.close()

    guarded = GraphQLGuard(graphql_app, dev)
    return Starlette(routes=[Route("/", root), Route("/healthz", health),
                             Route("/graphql", guarded, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
                             Mount(STATIC_PREFIX, StaticFiles(directory=VENDOR), name="vendor"),
                             Mount("/static/page", StaticFiles(directory=PAGE), name="page"),
                             Route("/downloads/staffing.csv", download_staffing),
                             Route("/downloads/staffing.jsonl", download_staffing_jsonl),
                             Route("/downloads/people.csv", download_people),
                             Route("/downloads/staffing-diff.csv", download_diff),
                             Route("/downloads/staffing-report.{format:str}", download_report)],
                     middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=list(ledger.settings.allowed_hosts))],
                     lifespan=lifespan)


def configure_logging() -> None:
    """One line per refused request from the service's own loggers (uvicorn configures only its own)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def create_app_from_env() -> Starlette:
    """The app for ``serve --workers N`` (uvicorn imports it in each worker process): settings from
    the environment, development mode if ``STAFFING_DEV`` is set."""
    from staffing.bootstrap import build

    configure_logging()  # a worker is a fresh process: nothing configured it
    return create_app(build(), dev=bool(os.environ.get("STAFFING_DEV")))
