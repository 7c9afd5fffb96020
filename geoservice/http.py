"""Answers other than success (RFC 9457 problem details, as the Dutch API design rules ask), JSON
answers, and the API-Version header on every answer."""
from __future__ import annotations

from http import HTTPStatus

import orjson
from starlette.responses import Response

from . import __version__

PROBLEM = "application/problem+json"


class HttpError(Exception):
    """An answer other than success: status, OGC exception code and a message."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers or {}


def error_response(error: HttpError) -> Response:
    """Problem details, with the OGC exception's code and description as well."""
    body = orjson.dumps({"type": "about:blank", "title": HTTPStatus(error.status).phrase, "status": error.status,
                         "detail": str(error), "code": error.code, "description": str(error)})
    return Response(body, status_code=error.status, media_type=PROBLEM, headers=error.headers)


class ApiVersion:
    """ASGI middleware: every answer says which version of the API gave it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_version(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"api-version", __version__.encode())]
            await send(message)
        await self.app(scope, receive, send_with_version)


def json_response(document, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(document), status_code=status, media_type="application/json", headers=headers)
