"""Who is calling, and what they may do (issue 10). On by default, also in the embedded default.

A caller sends ``Authorization: Bearer <token>``: a signed token (``staffing.tokens``; made by
``python -m staffing token``), or one of the fixed tokens of ``STAFFING_API_TOKENS``
("token:role,...", kept for existing clients; a fixed personnel token has no unit, so it reads
and records nothing). Without a valid token every field answers UNAUTHENTICATED (HTTP 401); a role
that may not do something answers FORBIDDEN (HTTP 403). Roles:

- ``personnel``: reads and records inside its unit's subtree (writes: ``application.access``;
  reads: ``require_unit_readable`` below, the subtree as it stands on the date asked about);
- ``ministry``: reads everything, records nothing; ``auditor``: the same, the history included;
- ``admin``: everything.
"""

from __future__ import annotations

import hmac
import threading
import time
from datetime import date
from typing import Any
from uuid import UUID

from graphql import GraphQLError
from strawberry.permission import BasePermission

from staffing.application.access import ROLES, Principal
from staffing.tokens import TokenError, verified

__all__ = ["Authenticated", "CanRecord", "Caller", "ROLES", "Principal", "forbidden", "parse_tokens",
           "require_unit_readable"]

HTTP_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403}


def parse_tokens(raw: str | None) -> dict[str, Principal]:
    tokens: dict[str, Principal] = {}
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        token, _, role = item.strip().partition(":")
        if role not in ROLES or len(token) < 16:
            raise ValueError(f"STAFFING_API_TOKENS: each entry is token:role with a token of 16+ characters and a "
                             f"role among {', '.join(ROLES)}")
        tokens[token] = Principal(f"{role}-token", role)
    return tokens


#: signed tokens whose signature a ``Caller`` has checked, kept until they expire (see ``Caller``)
MAX_VERIFIED = 4096


class Caller:
    """Turns an ``Authorization`` header into a principal, or says why it cannot.

    Checking a signed token's signature and claims was a fifth of the server's CPU for a trivial
    request (issue 9: requests per second). A token that passed is remembered, keyed by its exact
    text, with its expiry: the same text signed by the same secret always names the same principal,
    so a repeat is only checked for expiry. Nothing refused is remembered; at most ``MAX_VERIFIED``
    tokens are kept (the oldest forgotten first).
    """

    def __init__(self, secret: bytes, fixed: dict[str, Principal]) -> None:
        self.secret = secret
        self.fixed = fixed
        self._verified: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def identify(self, authorization: str | None) -> tuple[Principal | None, str | None]:
        """(principal, None) or (None, why not)."""
        if not authorization:
            return None, "authentication required: send 'Authorization: Bearer <token>' (python -m staffing token)"
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None, "send the token as 'Authorization: Bearer <token>'"
        for known, principal in self.fixed.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return principal, None
        with self._lock:
            known_token = self._verified.get(token)
        if known_token is not None and time.time() < known_token[1]:
            return known_token[0], None
        try:
            principal, expires = verified(self.secret, token)
        except TokenError as error:
            with self._lock:
                self._verified.pop(token, None)
            return None, str(error)
        with self._lock:
            if len(self._verified) >= MAX_VERIFIED:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = (principal, expires)
        return principal, None


def _refuse(info: Any, code: str) -> None:
    response = getattr(info.context, "response", None)
    if response is not None:
        response.status_code = HTTP_STATUS[code]


def forbidden(info: Any, message: str) -> GraphQLError:
    """A FORBIDDEN error to raise from a resolver (the HTTP status is set to 403)."""
    _refuse(info, "FORBIDDEN")
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})


class Authenticated(BasePermission):
    message = "authentication required: send 'Authorization: Bearer <token>' with a valid token"
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        if info.context.principal is not None:
            return True
        self.message = info.context.auth_problem or type(self).message
        _refuse(info, "UNAUTHENTICATED")
        return False


class _RoleAllows(BasePermission):
    """FORBIDDEN (HTTP 403) for an authenticated caller whose role ``allows`` refuses; nothing for
    an unauthenticated one (``Authenticated`` answers that)."""

    error_extensions = {"code": "FORBIDDEN"}

    @staticmethod
    def allows(principal: Principal) -> bool:
        raise NotImplementedError

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = info.context.principal
        if principal is not None and self.allows(principal):
            return True
        if principal is not None:
            _refuse(info, "FORBIDDEN")
        return False


class CanRecord(_RoleAllows):
    message = "your role may read but not record facts"

    @staticmethod
    def allows(principal: Principal) -> bool:
        return principal.records


class SeesHistory(_RoleAllows):
    """The history is for auditors, administrators, and personnel departments (their own subtree)."""

    message = "the ministry role reads figures, not the recorded history; use an auditor token"

    @staticmethod
    def allows(principal: Principal) -> bool:
        return principal.role != "ministry"


def require_unit_readable(info: Any, unit_id: str | UUID | None, as_of: date, position: int) -> None:
    """Refuse (FORBIDDEN) a personnel caller asking about a unit outside its subtree on ``as_of``.

    ``unit_id`` None means the whole country, which only a caller that reads everything may ask for.
    """
    principal: Principal = info.context.principal
    if principal.reads_everything:
        return
    if principal.unit_id is None or unit_id is None or not info.context.queries.is_within(
            str(unit_id), str(principal.unit_id), as_of, position):
        raise forbidden(info, f"you may read the subtree of your unit ({principal.unit_id}) only, as it stands on "
                              f"the date asked about; {unit_id or 'the whole country'} is outside it on "
                              f"{as_of.isoformat()}")
