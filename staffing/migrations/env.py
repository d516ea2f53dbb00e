"""Alembic environment: the read-model tables only.

The event-store tables belong to the eventsourcing recorder (it creates them itself), so they are
excluded from autogenerate and ``alembic check`` by ``include_object``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from staffing.projections.tables import metadata

config = context.config


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "table" and reflected and name not in metadata.tables)


def run_with(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, include_object=include_object,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    from staffing.config import Settings
    from staffing.projections.db import make_engines

    settings = Settings.from_env()
    url = config.get_main_option("sqlalchemy.url")
    from sqlalchemy.engine import make_url

    engines = make_engines(make_url(url) if url else settings.views_url, settings.schema)
    try:
        with engines.write.connect() as conn:
            run_with(conn)
            conn.commit()
    finally:
        engines.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_online()
