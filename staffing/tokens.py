"""Signed bearer tokens: who is calling, in which role, scoped to which unit.

A token is a JWT signed with HMAC-SHA256 (PyJWT: a small, well-kept implementation of the standard,
so the signature, expiry and claim checks are not hand-written). Its claims:

- ``sub``: the caller's name, recorded with every fact the caller enters (``recordedBy``);
- ``role``: ``personnel`` (records and reads inside its unit's subtree), ``ministry`` (reads
  everything), ``auditor`` (reads everything, history included), ``admin`` (everything);
- ``unit``: the unit a ``personnel`` token is scoped to (required for that role, refused otherwise);
- ``iat`` / ``exp``: issued and expiry moments (every token expires).

The signing secret comes from ``STAFFING_TOKEN_SECRET``; without it one is generated on first use
into ``<data dir>/token-secret`` (mode 0600), so the embedded default is protected with nothing to
configure. Rotating the secret (deleting the file, or setting another) revokes every token.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import jwt

from staffing.application.access import ROLES, Principal

__all__ = ["ROLES", "Principal", "TokenError", "issue", "load_secret", "parse_duration", "verify"]

ALGORITHM = "HS256"
SECRET_FILE = "token-secret"
#: the longest a token may live (a leaked token must not be valid for ever)
MAX_LIFETIME = timedelta(days=366)
MAX_NAME = 120


class TokenError(ValueError):
    """A token that cannot be trusted (bad signature, expired, malformed claims)."""


def load_secret(data_dir: Path, configured: str | None = None) -> bytes:
    """The signing secret: the configured one, else the data directory's (created on first use)."""
    if configured:
        if len(configured) < 32:
            raise ValueError("STAFFING_TOKEN_SECRET must be at least 32 characters")
        return configured.encode()
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise ValueError(f"{path} holds no usable secret; delete it to have a new one generated")
    return secret.encode()


_DURATION = re.compile(r"^(\d+)([mhd])$")


def parse_duration(text: str) -> timedelta:
    """``90d``, ``12h`` or ``30m``."""
    found = _DURATION.match(text.strip())
    if not found:
        raise ValueError(f"{text!r} is not a duration; write e.g. 90d, 12h or 30m")
    amount, unit = int(found.group(1)), found.group(2)
    return {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]


def issue(secret: bytes, role: str, *, name: str | None = None, unit_id: UUID | None = None,
          lifetime: timedelta = timedelta(days=30), now: datetime | None = None) -> str:
    """A signed token; refuses a role it does not know, a personnel token without a unit, or a
    unit on any other role (a ministry token scoped to a unit would be a misunderstanding)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if (role == "personnel") != (unit_id is not None):
        raise ValueError("a personnel token needs --unit (the root of the subtree it may record in); "
                         "other roles take no unit")
    if not timedelta(0) < lifetime <= MAX_LIFETIME:
        raise ValueError(f"a token lives between a minute and {MAX_LIFETIME.days} days")
    name = (name or role).strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise ValueError(f"the name must be 1 to {MAX_NAME} printable characters")
    now = now or datetime.now(UTC)
    claims: dict[str, object] = {"sub": name, "role": role, "iat": now, "exp": now + lifetime}
    if unit_id is not None:
        claims["unit"] = str(unit_id)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(secret: bytes, token: str) -> Principal:
    """The principal a token names; ``TokenError`` saying why it is not accepted."""
    return verified(secret, token)[0]


def verified(secret: bytes, token: str) -> tuple[Principal, float]:
    """``verify``, with the moment (POSIX seconds) the token expires."""
    if len(token) > 4096:
        raise TokenError("the token is too long")
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "role", "exp"]})
    except jwt.ExpiredSignatureError:
        raise TokenError("the token has expired; ask for a new one") from None
    except jwt.InvalidTokenError as error:
        raise TokenError(f"the token is not valid ({error})") from None
    role, name, unit = claims.get("role"), claims.get("sub"), claims.get("unit")
    if role not in ROLES or not isinstance(name, str) or not name:
        raise TokenError("the token's claims are not valid")
    expires = float(claims["exp"])
    if role == "personnel":
        try:
            return Principal(name, role, UUID(str(unit))), expires
        except ValueError:
            raise TokenError("a personnel token must name its unit") from None
    return Principal(name, role), expires
