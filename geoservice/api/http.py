"""What every answer shares: problem details for everything other than success (RFC 9457, as the
Dutch API design rules ask), the API-Version and request-id headers, the access log, and the
safety headers of HTML pages."""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import re
import time
import uuid
from http import HTTPStatus
from urllib.parse import quote

import orjson
from starlette.responses import Response

from geoservice import __version__
from geoservice.participation.access import PARTICIPANT_HEADER, Caller

PROBLEM = "application/problem+json"
REQUEST_ID = "X-Request-ID"
# Headers that say who asks and what the body is: given twice, they could be read two ways.
SINGLE_HEADERS = (
    b"authorization",
    b"participant-id",
    b"content-type",
    b"content-length",
    b"content-crs",
    b"content-encoding",
    b"transfer-encoding",
    b"host",
)
log = logging.getLogger("geoservice")
access_log = logging.getLogger("geoservice.access")


class HttpError(Exception):
    """An answer other than success: status, OGC exception code and a message."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers or {}


def problem(status: int, code: str, detail: str, request_id: str | None = None) -> bytes:
    """The body of a problem: RFC 9457 members, with the OGC exception's code and description."""
    document = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    if request_id:
        document["instance"] = f"urn:uuid:{request_id}"
    return orjson.dumps({**document, "code": code, "description": detail})


def error_response(error: HttpError, request_id: str | None = None) -> Response:
    return Response(
        problem(error.status, error.code, str(error), request_id),
        status_code=error.status,
        media_type=PROBLEM,
        headers=error.headers,
    )


def json_response(document, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(document), status_code=status, media_type="application/json", headers=headers)


def link_header(links: list[dict]) -> str:
    """The links of a document as an RFC 8288 Link header (rel and type quoted; titles as RFC 8187
    extended values, so that any text can be carried)."""
    parts = []
    for found in links:
        part = f'<{found["href"]}>; rel="{found["rel"]}"'
        if found.get("type"):
            part += f'; type="{found["type"]}"'
        if found.get("title"):
            part += _title(found["title"])
        parts.append(part)
    return ", ".join(parts)


@functools.lru_cache(maxsize=4096)
def _title(title: str) -> str:
    """A link's title as an RFC 8187 extended value (titles repeat: each is encoded once)."""
    return f"; title*=UTF-8''{quote(title, safe='')}"


def with_links(headers: dict | None, document) -> dict:
    """Headers with the Link header of a document's links (when it has any)."""
    links = document.get("links") if isinstance(document, dict) else None
    return {**(headers or {}), "Link": link_header(links)} if links else dict(headers or {})


def request_id_of(scope) -> str | None:
    return scope.get("state", {}).get("request_id")


def _unframed(headers: list) -> list:
    """Answers other than pages may not be shown in a frame (pages and maps say so themselves)."""
    if dict(headers).get(b"content-type", b"").startswith(b"text/html"):
        return []
    return [(b"x-frame-options", b"DENY"), (b"content-security-policy", b"frame-ancestors 'none'")]


class Guard:
    """ASGI middleware around the whole service: gives each request an id, sends it and the API
    version with every answer, logs the request without the caller's address, headers or body,
    and answers an unexpected failure with a problem (logged with the request id) instead of
    breaking the connection."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        common = [
            (b"api-version", __version__.encode()),
            (REQUEST_ID.lower().encode(), request_id.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        started, status, began = False, 500, time.perf_counter()

        async def send_with_headers(message):
            nonlocal started, status
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                headers = message.get("headers", [])
                message = {**message, "headers": [*headers, *common, *_unframed(headers)]}
            await send(message)

        try:
            twice = _repeated(scope["headers"])
            if twice:
                await Response(
                    problem(400, "InvalidParameterValue", f"header {twice} is given more than once", request_id),
                    status_code=400,
                    media_type=PROBLEM,
                )(scope, receive, send_with_headers)
                return
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("request %s failed: %s %s", request_id, scope["method"], scope["path"])
            if started:
                raise  # the answer is under way: the connection cannot be kept
            await Response(
                problem(
                    500,
                    "ServerError",
                    f"the service failed to answer; the failure is logged under request id {request_id}",
                    request_id,
                ),
                status_code=500,
                media_type=PROBLEM,
            )(scope, receive, send_with_headers)
        finally:
            access_log.info(
                '%s "%s %s%s HTTP/%s" %d %.1f ms',
                request_id,
                scope["method"],
                scope["path"],
                "?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "",
                scope.get("http_version", "1.1"),
                status,
                (time.perf_counter() - began) * 1000,
            )


def _repeated(headers) -> str | None:
    """The first of SINGLE_HEADERS that the request gives more than once."""
    names = [name for name, _ in headers if name in SINGLE_HEADERS]
    twice = [name for name in SINGLE_HEADERS if names.count(name) > 1]
    return twice[0].decode() if twice else None


SCRIPT = re.compile(rb"<script(\s[^>]*)?>(.*?)</script>", re.DOTALL | re.IGNORECASE)
NOT_RUN = re.compile(rb"""\bsrc\s*=|\btype\s*=\s*["']?application/(?:ld\+)?json""", re.IGNORECASE)
POLICY_CACHE_SIZE = 1024


class PageSecurity:
    """ASGI middleware: HTML pages get a Content-Security-Policy that allows the service itself,
    the base-map tile host and, by their hashes, exactly the inline scripts the page holds."""

    def __init__(self, app, tile_hosts: tuple[str, ...] = ()):
        self.app = app
        self.policy = (
            "default-src 'self'; img-src 'self' data: {tiles}; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'{hashes}; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'self'"
        ).replace("{tiles}", " ".join(tile_hosts))
        self._by_etag: dict[bytes, bytes] = {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        held: dict = {}

        async def send_secured(message):
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if not headers.get(b"content-type", b"").startswith(b"text/html"):
                    held["pass"] = True
                    return await send(message)
                cached = self._by_etag.get(headers.get(b"etag", b""))
                if cached is not None:
                    held["pass"] = True
                    return await send(self._with_policy(message, cached))
                held.update(start=message, body=[])
                return None
            if held.get("pass"):
                return await send(message)
            held["body"].append(message.get("body", b""))
            if message.get("more_body"):
                return None
            body = b"".join(held["body"])
            policy = self._policy_for(body)
            etag = dict(held["start"].get("headers", [])).get(b"etag")
            if etag:
                if len(self._by_etag) >= POLICY_CACHE_SIZE:
                    self._by_etag.clear()
                self._by_etag[etag] = policy
            await send(self._with_policy(held["start"], policy))
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, send_secured)

    def _policy_for(self, page: bytes) -> bytes:
        hashes = sorted(
            {
                " 'sha256-" + base64.b64encode(hashlib.sha256(match.group(2)).digest()).decode() + "'"
                for match in SCRIPT.finditer(page)
                if not NOT_RUN.search(match.group(1) or b"")
            }
        )
        return self.policy.replace("{hashes}", "".join(hashes)).encode()

    @staticmethod
    def _with_policy(message: dict, policy: bytes) -> dict:
        return {**message, "headers": [*message.get("headers", []), (b"content-security-policy", policy)]}


def caller_of(request) -> Caller:
    """Who sends the request, as far as its headers and connection tell."""
    return Caller(
        request.headers.get("Authorization"),
        request.headers.get(PARTICIPANT_HEADER),
        request.client.host if request.client else "",
    )
