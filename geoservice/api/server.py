"""Serving the service with uvicorn, with the limits that keep one client from holding up the others.

uvicorn's httptools protocol, with what it lacks for a public service: a request head is at most
`max_head_bytes` (431 beyond), arrives within `head_timeout_s` of the connection or the previous
answer (408 after), and its body within `body_timeout_s` (408 after); at most `max_connections`
connections in all (503 for requests beyond) and `connections_per_address` from one address
(closed at once beyond). These answers are problems too, and close the connection.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import resource
from http import HTTPStatus

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from geoservice import __version__
from geoservice.api.http import PROBLEM, problem
from geoservice.settings import Settings

HEAD_END = b"\r\n\r\n"


FILES_KEPT_FREE = 100  # file descriptors left for the store, downloads and maps


def protocol(settings: Settings) -> type[HttpToolsProtocol]:
    """The HTTP protocol class for uvicorn, with the limits of these settings (and never more
    connections than the process may open files)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    most = (
        settings.max_connections
        if soft == resource.RLIM_INFINITY
        else min(settings.max_connections, soft - FILES_KEPT_FREE)
    )
    return type(
        "LimitedHttp",
        (LimitedHttp,),
        {"settings": settings, "max_connections": max(1, most), "open_per_address": collections.Counter()},
    )


def from_environment(*args, **kwargs) -> LimitedHttp:
    """A connection held to the limits of the settings in the environment (how uvicorn's worker
    processes, which import their protocol by name, get it); one protocol class per process."""
    return _environment_protocol()(*args, **kwargs)


@functools.cache
def _environment_protocol() -> type[HttpToolsProtocol]:
    return protocol(Settings.from_env())


class LimitedHttp(HttpToolsProtocol):
    """One HTTP/1.1 connection, held to the limits of `settings`."""

    settings: Settings
    max_connections: int
    open_per_address: collections.Counter

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_concurrency = None  # the limit below answers with a problem instead
        self._timer: asyncio.TimerHandle | None = None
        self._in_head, self._head_bytes, self._tail = True, 0, b""
        self._address = None

    # -- connection --------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._address = self.client[0] if self.client else ""
        self.open_per_address[self._address] += 1
        per_address = self.settings.connections_per_address
        if per_address and self.open_per_address[self._address] > per_address:
            self.transport.close()
            return
        if len(self.connections) > self.max_connections:
            self.app = _over_capacity
        self._start_timer(self.settings.head_timeout_s, "the request head did not arrive in time")

    def connection_lost(self, exc) -> None:
        self._stop_timer()
        self.open_per_address[self._address] -= 1
        if self.open_per_address[self._address] <= 0:
            del self.open_per_address[self._address]
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head and not self._head_fits(data):
            return self._refuse(
                431, f"the request line and headers are larger than {self.settings.max_head_bytes} bytes"
            )
        if self._in_head and self._timer is None:  # the next request on a kept-alive connection
            self._start_timer(self.settings.head_timeout_s, "the request head did not arrive in time")
        super().data_received(data)

    def _head_fits(self, data: bytes) -> bool:
        """Count the bytes of the head that is coming in; whether they stay within the limit."""
        window = self._tail + data
        end = window.find(HEAD_END)
        self._head_bytes += len(data) if end < 0 else end + len(HEAD_END) - len(self._tail)
        self._tail = window[-(len(HEAD_END) - 1) :]
        return self._head_bytes <= self.settings.max_head_bytes

    # -- parser callbacks ----------------------------------------------------------------
    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes, self._tail = False, 0, b""
        self._stop_timer()
        self._start_timer(self.settings.body_timeout_s, "the request body did not arrive in time")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._stop_timer()
        self._in_head = True
        super().on_message_complete()

    # -- refusing ----------------------------------------------------------------------
    def _start_timer(self, seconds: float, reason: str) -> None:
        self._stop_timer()
        self._timer = self.loop.call_later(seconds, self._refuse, 408, reason)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _refuse(self, status: int, reason: str) -> None:
        """Answer with a problem (unless the request was answered already) and close the connection."""
        self._stop_timer()
        if self.transport.is_closing():
            return
        answered = not self._in_head and self.cycle is not None and self.cycle.response_started
        if not answered:  # the request has no answer yet: this is it
            self.transport.write(_raw_problem(status, reason))
        self.transport.close()


def _raw_problem(status: int, reason: str) -> bytes:
    body = problem(status, HTTPStatus(status).phrase.replace(" ", ""), reason)
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: {PROBLEM}\r\n"
        f"content-length: {len(body)}\r\napi-version: {__version__}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


async def _over_capacity(scope, receive, send) -> None:
    """The answer to a request on a connection beyond the limit."""
    body = problem(503, "ServiceUnavailable", "the service has too many open connections; try again shortly")
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", PROBLEM.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"api-version", __version__.encode()),
                (b"retry-after", b"5"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
