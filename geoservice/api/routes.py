"""The service's own feature routes: items and single items (read as GeoJSON, JSON-FG or HTML, and
written per OGC API - Features Part 4), queryables, schemas and the conformance declaration."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import Response

from geoservice.api.conformance import CLASSES
from geoservice.api.http import HttpError
from geoservice.api.reading import Reading
from geoservice.api.rendering import (
    Pages,
    check_page_parameters,
    collection_of,
    format_of,
)
from geoservice.api.writing import Writing
from geoservice.domain.model import Collection
from geoservice.domain.policy import Policy
from geoservice.participation.access import Access
from geoservice.store import Store

READ_METHODS = "GET, HEAD, OPTIONS"


@dataclass
class ServiceRoutes:
    """The service's own feature endpoints: each request goes to reading or writing by its method;
    bodies are decoded in `bodies`, answers rendered by `rendering`."""

    store: Store
    api: object
    access: Access
    policy: Policy
    maps: Path  # the folder of the built maps
    read_budget_s: float | None = None  # the longest one read of features may take
    pages: Pages = field(init=False)
    reading: Reading = field(init=False)
    writing: Writing = field(init=False)

    def __post_init__(self):
        self.pages = Pages(self.api)
        self.reading = Reading(self.store, self.access, self.policy, self.pages, self.maps, self.read_budget_s)
        self.writing = Writing(self.store, self.access, self.policy, self.pages, self.reading)

    # -- entry points ------------------------------------------------------------------
    async def items(self, request: Request) -> Response:
        return await self._answer(
            request, {"GET": self.reading.items, "HEAD": self.reading.items, "POST": self.writing.create}
        )

    async def item(self, request: Request) -> Response:
        return await self._answer(
            request,
            {
                "GET": self.reading.item,
                "HEAD": self.reading.item,
                "PUT": self.writing.replace,
                "PATCH": self.writing.patch,
                "DELETE": self.writing.delete,
            },
        )

    async def conformance(self, request: Request) -> Response:
        check_page_parameters(request)
        document = {"conformsTo": CLASSES}
        if format_of(request) == "html":
            return self.pages.html(request, "conformance.html", document)
        return Response(orjson.dumps(document), media_type="application/json")

    async def queryables(self, request: Request) -> Response:
        return await self._answer(request, {"GET": self.reading.queryables, "HEAD": self.reading.queryables})

    async def schema(self, request: Request) -> Response:
        return await self._answer(request, {"GET": self.reading.schema, "HEAD": self.reading.schema})

    async def _answer(self, request: Request, handlers: dict) -> Response:
        collection = collection_of(request)
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": self._allowed(collection, handlers)})
        handler = handlers.get(request.method)
        if handler is None or (request.method not in ("GET", "HEAD") and not collection.editable):
            raise HttpError(
                405,
                "MethodNotAllowed",
                f"{request.method} is not allowed here",
                {"Allow": self._allowed(collection, handlers)},
            )
        return await handler(request, collection)

    @staticmethod
    def _allowed(collection: Collection, handlers: dict) -> str:
        if not collection.editable:
            return READ_METHODS
        return ", ".join([*handlers, "OPTIONS"])
