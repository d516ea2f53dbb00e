"""Who is calling, and what they may do. (The full role model — personnel scoped to its unit
subtree, ministry, auditor, admin — arrives with the trust work; this is its seam.)

Tokens come from ``STAFFING_API_TOKENS`` ("token:role,token:role"). With none configured (the
embedded default on a workstation) every caller is a local administrator. Failures are GraphQL
errors with ``extensions.code`` UNAUTHENTICATED or FORBIDDEN, as the API contract says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strawberry.permission import BasePermission

__all__ = ["Authenticated", "CanRecord", "Principal", "ROLES", "principal_for"]

ROLES = ("admin", "ministry", "personnel", "auditor")
RECORDING_ROLES = {"admin", "ministry", "personnel"}


@dataclass(frozen=True)
class Principal:
    name: str
    role: str


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


def principal_for(authorization: str | None, tokens: dict[str, Principal]) -> Principal | None:
    if not tokens:
        return Principal("local", "admin")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return tokens.get(token.strip())


class Authenticated(BasePermission):
    message = "authentication required: send 'Authorization: Bearer <token>' with a valid token"
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return info.context.principal is not None


class CanRecord(BasePermission):
    message = "your role may read but not record facts"
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        principal = info.context.principal
        return principal is not None and principal.role in RECORDING_ROLES
