"""The API under its versioned base path (/v1): the landing page with and without the root's
slash, every other path without a trailing slash (404, not a redirect), and the paths of before
the version was in them moved permanently (308) to their place under it."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Mount, Route, Router

from geoservice.settings import API_PATH

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def versioned(routes: list[BaseRoute]) -> list[BaseRoute]:
    """The routes under API_PATH, and a route that sends the unversioned paths there."""
    landing = next(r for r in routes if isinstance(r, Route) and r.path == "/")
    return [
        Route(API_PATH, landing.endpoint, methods=landing.methods),
        Mount(API_PATH, app=Router(routes, redirect_slashes=False)),
        Route("/{path:path}", _moved({_first_segment(r) for r in routes} - {""}), methods=METHODS),
    ]


def _first_segment(route: BaseRoute) -> str:
    return getattr(route, "path", "/").split("/")[1]


def _moved(segments: set[str]):
    """Unversioned paths of the API (the root, or beginning with one of the segments) redirected
    to the same path under API_PATH, with their query; anything else is not found."""

    async def endpoint(request: Request) -> RedirectResponse:
        path = request.url.path
        if path != "/" and path.split("/")[1] not in segments:
            raise HTTPException(404)
        sent = request.scope.get("raw_path") or path.encode()  # as sent: still percent-encoded
        target = API_PATH if path == "/" else API_PATH + sent.decode("latin-1")
        query = request.url.query
        return RedirectResponse(f"{target}?{query}" if query else target, status_code=308)

    return endpoint
