"""The ASGI application: pygeoapi's OGC API - Features on the store, wired into Starlette."""
from __future__ import annotations

from pathlib import Path

import pygeoapi
import pygeoapi.api as core_api
import pygeoapi.api.itemtypes as itemtypes_api
from pygeoapi.api import API, APIRequest
from pygeoapi.openapi import get_oas
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .config import load_config
from .settings import Settings

GEOJSON = "application/geo+json"
PYGEOAPI_STATIC = Path(pygeoapi.__file__).parent / "static"


def _endpoint(api: API, handler, *path_keys: str, json_type: str = "application/json"):
    """A Starlette endpoint that runs a pygeoapi handler with the request's path parameters.

    json_type is the media type of a successful JSON answer (GeoJSON for features).
    """
    async def endpoint(request: Request) -> Response:
        api_request = await APIRequest.from_starlette(request, api.locales)
        args = [request.path_params[key] for key in path_keys]
        headers, status, content = await run_in_threadpool(handler, api, api_request, *args)
        if status == 200 and headers.get("Content-Type") == "application/json":
            headers["Content-Type"] = json_type
        return Response(content, status_code=status, headers=headers)
    return endpoint


def _routes(api: API) -> list:
    collection = "/collections/{collection_id}"
    return [
        Route("/", _endpoint(api, core_api.landing_page)),
        Route("/openapi", _endpoint(api, core_api.openapi_)),
        Route("/conformance", _endpoint(api, core_api.conformance)),
        Route("/collections", _endpoint(api, core_api.describe_collections)),
        Route(collection, _endpoint(api, core_api.describe_collections, "collection_id")),
        Route(f"{collection}/queryables",
              _endpoint(api, itemtypes_api.get_collection_queryables, "collection_id")),
        Route(f"{collection}/schema", _endpoint(api, core_api.get_collection_schema, "collection_id")),
        Route(f"{collection}/items", _endpoint(api, itemtypes_api.get_collection_items, "collection_id",
                                               json_type=GEOJSON)),
        Route(f"{collection}/items/{{item_id}}", _endpoint(api, itemtypes_api.get_collection_item,
                                                           "collection_id", "item_id", json_type=GEOJSON)),
        Mount("/static", StaticFiles(directory=PYGEOAPI_STATIC), name="static"),
    ]


def create_app(settings: Settings | None = None) -> Starlette:
    """The service for these settings (by default from the environment)."""
    settings = settings or Settings.from_env()
    config = load_config(settings)
    api = API(config, get_oas(config))
    middleware = [
        Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD", "OPTIONS"],
                   expose_headers=["Content-Crs", "Link"]),
        Middleware(GZipMiddleware, minimum_size=1024),
    ]
    return Starlette(routes=_routes(api), middleware=middleware)
