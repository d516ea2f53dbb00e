"""Composition root: the only place that wires settings, stores, projections and the schema.

Nothing here runs at import; ``build()`` is called by the CLI, the ASGI app factory and tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL

from staffing.application import StaffingService
from staffing.config import Settings
from staffing.persistence import EventStore, event_store_env
from staffing.projections.db import ViewEngines, make_engines
from staffing.projections.projector import Projector
from staffing.projections.queries import Queries

__all__ = ["Ledger", "build", "migrate"]


@dataclass
class Ledger:
    settings: Settings
    store: EventStore
    engines: ViewEngines
    projector: Projector
    service: StaffingService
    queries: Queries

    def close(self) -> None:
        self.projector.close()
        self.engines.dispose()
        self.store.close()


def alembic_config(url: URL, schema: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "staffing:migrations")
    config.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def migrate(engines: ViewEngines) -> None:
    """Bring the read-model tables to the newest Alembic revision (idempotent)."""
    with engines.write.connect() as conn:
        config = alembic_config(engines.write.url)
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()


def build(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    id_factory: Callable[[], UUID] | None = None,
    inline_projection: bool = True,
) -> Ledger:
    """Build the ledger. ``inline_projection``: catch the read models up after every command."""
    settings = settings or Settings.from_env()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.database_url.database:
            from pathlib import Path

            Path(settings.database_url.database).parent.mkdir(parents=True, exist_ok=True)
    store = EventStore(env=event_store_env(settings))
    engines = make_engines(settings.views_url, settings.schema, checkpoint=True)
    migrate(engines)
    projector = Projector(store, engines)
    kwargs = {"id_factory": id_factory} if id_factory else {}
    service = StaffingService(store, clock=clock, **kwargs)
    if inline_projection:
        def catch_up() -> None:
            projector.catch_up(check=False)  # a group was just committed: the log is ahead

        service.on_commit.append(catch_up)
    queries = Queries(engines, refresh=projector.catch_up, preview=projector.preview)
    return Ledger(settings, store, engines, projector, service, queries)
