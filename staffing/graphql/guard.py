"""HTTP-level checks in front of the GraphQL endpoint (issue 10), before strawberry sees a byte.

A request to ``/graphql`` is answered 4xx here, with a JSON body
``{"errors": [{"message": ..., "extensions": {"code": ...}}]}`` and one log line, when:

- it is not a POST (production: queries only over POST; ``--dev`` also serves GraphiQL on GET);
- its body is over ``MAX_BODY`` bytes (413; a stated ``Content-Length`` is refused before reading);
- it is not JSON (415), not UTF-8, not parseable, nested deeper than orjson allows (1,024), or not
  one object with a ``query`` text (400; a list, i.e. batching, is refused);
- the query text or a variable holds a lone surrogate escape (400; it cannot be stored or searched);
- the query uses more than ``MAX_DIRECTIVES`` directives (400: the schema defines none of its own,
  and graphql-core would judge each one of a flood of ``@aa@aa@aa...`` separately).

Everything else passes through with its body replayed unchanged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

__all__ = ["MAX_BODY", "MAX_DIRECTIVES", "GraphQLGuard"]

MAX_BODY = 1024 * 1024
MAX_DIRECTIVES = 8
_STRINGS = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"')
_DIRECTIVE = re.compile(r"@\s*[_A-Za-z]")
log = logging.getLogger("staffing.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# a \uD800-\uDBFF escape not followed by a \uDC00-\uDFFF one, or a low one not preceded by a high one
_LONE_SURROGATE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                             r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


#: a surrogate code point in a decoded string (one search in C, not a Python loop per character)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogates(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_lone_surrogates(k) or _lone_surrogates(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_lone_surrogates(v) for v in value)
    return False


def check_body(body: bytes) -> None:
    """Refuse (``Refused``) a body that is not one JSON GraphQL request."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Refused(400, "BAD_REQUEST", f"the body is not UTF-8 (byte {error.start}); send UTF-8 JSON") from None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise Refused(400, "BAD_REQUEST", f"the body is not valid JSON ({str(error)[:120]})") from None
    if isinstance(data, list):
        raise Refused(400, "BAD_REQUEST", "batched requests are not accepted; send one operation per request")
    if not isinstance(data, dict) or not isinstance(data.get("query"), str) or not data["query"].strip():
        raise Refused(400, "BAD_REQUEST", 'send a JSON object {"query": "...", "variables": {...}}')
    if not isinstance(data.get("variables") or {}, dict):
        raise Refused(400, "BAD_REQUEST", "variables must be a JSON object")
    directives = len(_DIRECTIVE.findall(_STRINGS.sub('""', data["query"])))
    if directives > MAX_DIRECTIVES:
        raise Refused(400, "TOO_MANY_DIRECTIVES", f"the query uses {directives} directives; at most {MAX_DIRECTIVES}")
    if _LONE_SURROGATE.search(text) or _lone_surrogates(data):
        raise Refused(400, "BAD_REQUEST", "the request holds an unpaired surrogate (\\uD800-\\uDFFF); send valid "
                                          "Unicode")


class GraphQLGuard:
    """ASGI wrapper around the GraphQL app (see the module docstring)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], dev: bool) -> None:
        self.app = app
        self.dev = dev

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            receive = await self._checked(scope, receive)
        except Refused as refused:
            log.info("refused %s %s: %s %s", scope["method"], scope["path"], refused.status, refused.message)
            await _answer(send, refused)
            return
        await self.app(scope, receive, send)

    async def _checked(self, scope: Scope, receive: Receive) -> Receive:
        method = scope["method"]
        if method == "GET" and self.dev:
            return receive  # GraphiQL (queries over GET are off: see create_app)
        if method != "POST":
            raise Refused(405, "METHOD_NOT_ALLOWED", "send GraphQL requests as POST with a JSON body")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        if headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            raise Refused(415, "UNSUPPORTED_MEDIA_TYPE", "send the request as Content-Type: application/json")
        stated = headers.get("content-length")
        if stated is not None and (not stated.isdigit() or int(stated) > MAX_BODY):
            raise Refused(413, "PAYLOAD_TOO_LARGE", f"the body may be at most {MAX_BODY:,} bytes")
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Refused(400, "BAD_REQUEST", "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                raise Refused(413, "PAYLOAD_TOO_LARGE", f"the body may be at most {MAX_BODY:,} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        check_body(body)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


async def _answer(send: Send, refused: Refused) -> None:
    payload = orjson.dumps({"errors": [{"message": refused.message, "extensions": {"code": refused.code}}]})
    await send({"type": "http.response.start", "status": refused.status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
