"""uvicorn's HTTP/1.1 protocol (h11) with the two timeouts uvicorn lacks: a connection must send a request's
headers within :data:`HEADER_TIMEOUT` seconds of its first byte, and a new connection that sends nothing is
closed after the keep-alive timeout, as an idle kept-alive one is. Without them a client could hold
connections open for ever by sending nothing, or a header one byte at a time ("slowloris").

``labelport serve`` runs uvicorn with ``http="labelport.server.protocol:LimitedH11Protocol"``; the
header timeout comes from ``LABELPORT_HEADER_TIMEOUT`` (set by ``--header-timeout``).
"""

from __future__ import annotations

import asyncio
import os

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

#: Default seconds from a request's first byte to the end of its headers.
HEADER_TIMEOUT = 20.0


def header_timeout() -> float:
    return float(os.environ.get("LABELPORT_HEADER_TIMEOUT") or HEADER_TIMEOUT)


class LimitedH11Protocol(H11Protocol):
    """H11Protocol closing connections that are idle from the start or slow to send their headers."""

    header_timer: asyncio.TimerHandle | None = None
    header_seconds: float = HEADER_TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.header_seconds = header_timeout()
        # Idle from the start: closed like an idle kept-alive connection (data_received cancels it).
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def data_received(self, data: bytes) -> None:
        if self.header_timer is None and self.conn.their_state is h11.IDLE:
            self.header_timer = self.loop.call_later(self.header_seconds, self._headers_too_slow)
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._stop_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _stop_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _headers_too_slow(self) -> None:
        self.header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()
