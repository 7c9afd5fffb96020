"""The ASGI application: pygeoapi for the landing page, collections, queryables and the API
document; the service's own routes for features and conformance."""
from __future__ import annotations

from pathlib import Path

import orjson
import pygeoapi
import pygeoapi.api as core_api
from pygeoapi.api import API, APIRequest
from pygeoapi.openapi import get_oas
from pygeoapi.util import render_j2_template
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import openapi
from .auth import Tokens
from .conformance import CLASSES
from .config import load_config
from .routes import FeatureRoutes
from .settings import Settings
from .store import open_store

PYGEOAPI_STATIC = Path(pygeoapi.__file__).parent / "static"


def _endpoint(api: API, handler, *path_keys: str):
    """A Starlette endpoint that runs a pygeoapi handler with the request's path parameters."""
    async def endpoint(request: Request) -> Response:
        api_request = await APIRequest.from_starlette(request, api.locales)
        args = [request.path_params[key] for key in path_keys]
        headers, status, content = await run_in_threadpool(handler, api, api_request, *args)
        return Response(content, status_code=status, headers=headers)
    return endpoint


def _conformance(api: API):
    async def conformance(request: Request) -> Response:
        document = {"conformsTo": CLASSES}
        if request.query_params.get("f") == "html" or (
                "f" not in request.query_params and "text/html" in request.headers.get("Accept", "")):
            page = render_j2_template(api.tpl_config, api.config["server"]["templates"], "conformance.html",
                                      document, "nl")
            return Response(page, media_type="text/html")
        return Response(orjson.dumps(document), media_type="application/json")
    return conformance


def _routes(api: API, features: FeatureRoutes) -> list:
    collection = "/collections/{collection_id}"
    return [
        Route("/", _endpoint(api, core_api.landing_page)),
        Route("/openapi", _endpoint(api, core_api.openapi_)),
        Route("/conformance", _conformance(api)),
        Route("/collections", _endpoint(api, core_api.describe_collections)),
        Route(collection, _endpoint(api, core_api.describe_collections, "collection_id")),
        Route(f"{collection}/queryables", features.queryables),
        Route(f"{collection}/schema", _endpoint(api, core_api.get_collection_schema, "collection_id")),
        Route(f"{collection}/items", features.items, methods=["GET", "HEAD", "POST", "OPTIONS"]),
        Route(f"{collection}/items/{{item_id}}", features.item,
              methods=["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        Mount("/static", StaticFiles(directory=PYGEOAPI_STATIC), name="static"),
    ]


def create_app(settings: Settings | None = None) -> Starlette:
    """The service for these settings (by default from the environment)."""
    settings = settings or Settings.from_env()
    config = load_config(settings)
    api = API(config, openapi.document(get_oas(config)))
    features = FeatureRoutes(open_store(settings.store), api, Tokens(settings.tokens))
    middleware = [
        Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD", "OPTIONS"],
                   expose_headers=["Content-Crs", "Location"]),
        Middleware(GZipMiddleware, minimum_size=1024),
    ]
    return Starlette(routes=_routes(api, features), middleware=middleware)
