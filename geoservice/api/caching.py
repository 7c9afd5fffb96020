"""HTTP caching: strong validators for public answers, what shared caches may keep, and 304 for a
client (or a cache) that holds the current version.

Features are tagged before they are read, from the version of what the answer reads (the change
log's latest change of its tables) and everything else it depends on, so a conditional request
is answered without reading a feature. Other public answers (metadata, schemas, pages) are tagged
by a hash of their body (`Validators`). Answers to token holders are private and never tagged.
"""

from __future__ import annotations

import email.utils
import hashlib

from starlette.datastructures import Headers
from starlette.responses import Response

# Anyone may keep a public answer, and asks again (cheaply, with its ETag) before using it.
PUBLIC = "public, no-cache"
SHARED = {"Cache-Control": PUBLIC, "Vary": "Accept, Accept-Language, Authorization"}
SEPARATOR = "\x1f"
KEPT = ("etag", "cache-control", "vary", "last-modified", "content-location")  # what a 304 repeats


def strong_etag(*parts: object) -> str:
    """An entity tag for an answer made from these parts (it changes when any of them does)."""
    return body_etag(SEPARATOR.join(map(str, parts)).encode())


def body_etag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def unchanged(request, etag: str, modified: float | None = None) -> bool:
    """Whether the client holds this version already (If-None-Match, compared weakly as RFC 9110
    asks, else If-Modified-Since when the version has a time)."""
    if "If-None-Match" in request.headers:
        return _matches(request.headers["If-None-Match"], etag)
    since = request.headers.get("If-Modified-Since")
    if since is None or modified is None:
        return False
    try:
        return email.utils.parsedate_to_datetime(since).timestamp() >= int(modified)
    except (TypeError, ValueError):
        return False


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


def not_modified(headers: dict) -> Response:
    return Response(status_code=304, headers=headers)


class Validators:
    """ASGI middleware: a successful GET answer of known length with no validator of its own and
    not private gets a strong ETag from its body and may be kept by shared caches; a request that
    holds that ETag gets a 304 instead of the body."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET":
            return await self.app(scope, receive, send)
        held: dict = {}

        async def send_validated(message):
            if message["type"] == "http.response.start":
                if not _taggable(message):
                    held["pass"] = True
                    return await send(message)
                held.update(start=message, body=[])
                return None
            if held.get("pass"):
                return await send(message)
            held["body"].append(message.get("body", b""))
            if not message.get("more_body"):
                await _send_tagged(scope, held["start"], b"".join(held["body"]), send)
            return None

        await self.app(scope, receive, send_validated)


def _taggable(start: dict) -> bool:
    headers = Headers(raw=start.get("headers", []))
    caching = headers.get("cache-control", "")
    return (
        start["status"] == 200
        and "etag" not in headers
        and "content-length" in headers
        and "private" not in caching
        and "no-store" not in caching
    )


async def _send_tagged(scope, start: dict, body: bytes, send) -> None:
    etag = body_etag(body)
    given = {name.decode().lower() for name, _ in start.get("headers", [])}
    added = [(b"etag", etag.encode())] + [
        (name.lower().encode(), value.encode()) for name, value in SHARED.items() if name.lower() not in given
    ]
    headers = [*start.get("headers", []), *added]
    request_tags = Headers(scope=scope).get("if-none-match")
    if request_tags is not None and _matches(request_tags, etag):
        kept = [(name, value) for name, value in headers if name.decode().lower() in KEPT]
        await send({"type": "http.response.start", "status": 304, "headers": kept})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
