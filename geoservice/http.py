"""Answers other than success, and JSON answers, as every route gives them."""
from __future__ import annotations

import orjson
from starlette.responses import Response


class HttpError(Exception):
    """An answer other than success: status, OGC exception code and a message."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers or {}


def error_response(error: HttpError) -> Response:
    body = orjson.dumps({"code": error.code, "description": str(error)})
    return Response(body, status_code=error.status, media_type="application/json", headers=error.headers)


def json_response(document, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(document), status_code=status, media_type="application/json", headers=headers)
