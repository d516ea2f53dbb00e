"""uvicorn's HTTP/1.1 protocol with Nagle's algorithm off on every connection.

With ``serve --workers N`` uvicorn binds the listening socket itself without naming the TCP
protocol, so asyncio does not set ``TCP_NODELAY`` on the connections it accepts; the second request
on a kept-alive connection then waits for the client's delayed ACK (~40 ms: measured 46 ms against
4 ms for a fresh connection, benchmarks/RESULTS-trust.md). Setting it here covers every mode.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["NoDelayH11Protocol"]


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
