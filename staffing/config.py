"""Settings, read once from the environment at the edge (never at import).

- ``STAFFING_DATABASE_URL``: an SQLAlchemy URL. Unset: an SQLite file in the data directory.
  A ``postgresql://`` URL selects PostgreSQL for the event store and the read models alike.
- ``STAFFING_DATA_DIR``: where the default SQLite files and other local state live (``./var``).
- ``STAFFING_DB_SCHEMA``: optional PostgreSQL schema (tests use one per test): a lowercase name
  (a-z, digits, _), because the event store's library writes it unquoted into its statements.
- ``STAFFING_API_TOKENS``: ``token:role,...`` fixed bearer tokens (kept for existing clients).
- ``STAFFING_TOKEN_SECRET``: the secret signed tokens are made with (32+ characters); unset: one is
  generated into ``<data dir>/token-secret`` on first use. There is no unauthenticated access.
- ``STAFFING_ALLOWED_HOSTS``: the ``Host`` names the server answers (comma-separated; default
  localhost, 127.0.0.1 and ::1); any other Host header gets 400 (DNS rebinding, cache poisoning).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

__all__ = ["DEFAULT_HOSTS", "ConfigurationError", "Settings"]

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")

#: a schema name PostgreSQL reads the same quoted or not (the library quotes it in some statements only)
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class ConfigurationError(ValueError):
    """A setting the ledger cannot run with: the message names the setting and how to fix it.

    The command line prints it without a traceback (exit status 2): it is the operator's input,
    not a fault of the program.
    """


@dataclass(frozen=True)
class Settings:
    database_url: URL
    data_dir: Path
    schema: str | None = None
    api_tokens: str | None = None  # STAFFING_API_TOKENS: "token:role,..." fixed tokens (older clients)
    token_secret: str | None = None  # STAFFING_TOKEN_SECRET; none: generated into the data directory
    allowed_hosts: tuple[str, ...] = DEFAULT_HOSTS  # STAFFING_ALLOWED_HOSTS: the Host names the server answers

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.get_backend_name() == "sqlite"

    @property
    def views_url(self) -> URL:
        """Where the read models live: a sibling SQLite file, or the same PostgreSQL database.

        On SQLite the event store and the read models use separate files so that the library's
        connection and SQLAlchemy's never contend for one file's write lock.
        """
        if self.is_sqlite:
            events = Path(self.database_url.database or "events.sqlite")
            return make_url(f"sqlite:///{events.with_name(events.stem + '-views' + events.suffix)}")
        url = self.database_url.set(drivername="postgresql+psycopg")
        return url

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("STAFFING_DATA_DIR") or "./var").resolve()
        raw = env.get("STAFFING_DATABASE_URL")
        url = make_url(raw) if raw else make_url(f"sqlite:///{data_dir / 'ledger.sqlite'}")
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ConfigurationError(
                f"STAFFING_DATABASE_URL must name sqlite or postgresql, not {url.get_backend_name()!r}"
            )
        if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
            raise ConfigurationError("STAFFING_DATABASE_URL: an SQLite ledger needs a file path, not :memory:")
        schema = env.get("STAFFING_DB_SCHEMA") or None
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            raise ConfigurationError(
                f"STAFFING_DB_SCHEMA {schema!r} is not a plain lowercase PostgreSQL name: use letters a-z, digits "
                "and _, not starting with a digit, at most 63 characters (e.g. 'ledger')")
        return cls(database_url=url, data_dir=data_dir, schema=schema,
                   api_tokens=env.get("STAFFING_API_TOKENS") or None,
                   token_secret=env.get("STAFFING_TOKEN_SECRET") or None,
                   allowed_hosts=tuple(h.strip() for h in env.get("STAFFING_ALLOWED_HOSTS", "").split(",") if h.strip())
                   or DEFAULT_HOSTS)
