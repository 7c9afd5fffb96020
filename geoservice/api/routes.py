"""The service's own feature routes: items and single items (read as GeoJSON or HTML, and
written per OGC API - Features Part 4), straight on the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from geoservice.api import bodies, related, schemas
from geoservice.api.conformance import CLASSES
from geoservice.api.http import HttpError, caller_of
from geoservice.api.rendering import (
    FEATURE_FORMATS,
    MEDIA_TYPES,
    Pages,
    check_page_parameters,
    features_response,
    format_of,
    geojson_response,
    private_headers,
    table_columns,
)
from geoservice.derived import analysis
from geoservice.domain import lifecycle
from geoservice.domain.model import COLLECTIONS, PARTICIPATION, PLANNER, VOORSTELLEN, Collection
from geoservice.domain.policy import Policy
from geoservice.participation.access import Access, Viewer
from geoservice.publish import geojson, jsonfg
from geoservice.query import crs, params
from geoservice.store import Store, private

READ_METHODS = "GET, HEAD, OPTIONS"


@dataclass
class ServiceRoutes:
    """The service's own feature endpoints: reading and writing features, their schemas and the
    conformance declaration. Bodies are decoded in `bodies`, answers rendered by `rendering`."""

    store: Store
    api: object
    access: Access
    policy: Policy
    maps: Path  # the folder of the built maps
    read_budget_s: float | None = None  # the longest one read of features may take
    pages: Pages = field(init=False)

    def __post_init__(self):
        self.pages = Pages(self.api)

    # -- entry points ------------------------------------------------------------------
    async def items(self, request: Request) -> Response:
        return await self._answer(request, {"GET": self._read_items, "HEAD": self._read_items, "POST": self._create})

    async def item(self, request: Request) -> Response:
        return await self._answer(
            request,
            {
                "GET": self._read_item,
                "HEAD": self._read_item,
                "PUT": self._replace,
                "PATCH": self._patch,
                "DELETE": self._delete,
            },
        )

    async def conformance(self, request: Request) -> Response:
        check_page_parameters(request)
        document = {"conformsTo": CLASSES}
        if format_of(request) == "html":
            return self.pages.html(request, "conformance.html", document)
        return Response(orjson.dumps(document), media_type="application/json")

    async def queryables(self, request: Request) -> Response:
        return await self._answer(request, {"GET": self._queryables, "HEAD": self._queryables})

    async def schema(self, request: Request) -> Response:
        return await self._answer(request, {"GET": self._schema, "HEAD": self._schema})

    async def _answer(self, request: Request, handlers: dict) -> Response:
        collection = self._collection(request)
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

    @staticmethod
    def _collection(request: Request) -> Collection:
        name = request.path_params["collection_id"]
        if name not in COLLECTIONS:
            raise HttpError(404, "NotFound", f"collection {name!r} does not exist")
        return COLLECTIONS[name]

    # -- reading -----------------------------------------------------------------------
    async def _read_items(self, request: Request, collection: Collection) -> Response:
        output = format_of(request, FEATURE_FORMATS)
        wanted = params.read_items(collection, request.query_params)
        viewer = self.access.viewer(caller_of(request))
        wanted.query.published_only, wanted.query.owner = not viewer.staff, viewer.participant
        wanted.query.budget_s = self.read_budget_s
        items_url = f"{self.pages.base()}/collections/{collection.name}/items"
        document = await run_in_threadpool(
            self._page_document,
            collection,
            wanted,
            items_url,
            dict(request.query_params),
            viewer if output != "html" else Viewer(),
            output,
        )
        if output == "html":
            return self.pages.html(
                request,
                "collections/items/index.html",
                self.pages.paths(
                    request,
                    collection,
                    {
                        **orjson.loads(orjson.dumps(document)),
                        "items_path": items_url,
                        "offset": wanted.query.offset,
                        "columns": table_columns(collection),
                    },
                ),
                collection,
            )
        return features_response(document, wanted.crs, output, private_headers(viewer))

    def _page_document(
        self,
        collection: Collection,
        wanted: params.ItemsRequest,
        items_url: str,
        query: dict,
        viewer: Viewer,
        output: str,
    ) -> dict:
        """The FeatureCollection of a page: read, projected and linked (in a worker thread)."""
        analysis.refresh(self.store, self.policy, collection.name)
        page = self._exact_for(viewer, collection.name, self.store.query(wanted.query))
        target = crs.CRS84 if output == "jsonfg" else wanted.crs  # JSON-FG: CRS84 geometry, place in the CRS
        features = geojson.features(page, target, wanted.properties, wanted.skip_geometry)
        links = geojson.page_links(
            items_url, query, wanted.query.offset, wanted.query.limit, len(features), page.number_matched, output
        )
        if output != "jsonfg":
            return geojson.feature_collection(page, features, links)
        features = jsonfg.features(collection, page, features, wanted.crs, wanted.skip_geometry)
        return jsonfg.document(collection, wanted.crs, geojson.feature_collection(page, features, links))

    async def _read_item(self, request: Request, collection: Collection) -> Response:
        output = format_of(request, FEATURE_FORMATS)
        target = params.read_item(request.query_params)
        viewer = self.access.viewer(caller_of(request))
        document = await run_in_threadpool(
            self._feature,
            collection,
            bodies.path_id(request, collection),
            target,
            viewer if output != "html" else Viewer(),
            False,
            output,
        )
        if output == "html":
            return self.pages.html(
                request,
                "collections/items/item.html",
                self.pages.paths(request, collection, orjson.loads(orjson.dumps(document))),
                collection,
            )
        return features_response(document, target, output, private_headers(viewer))

    def _exact_for(self, viewer: Viewer, collection_name: str, page):
        """A page with the exact locations of generalised proposals, for planners."""
        if viewer.role == PLANNER and COLLECTIONS[collection_name].table == VOORSTELLEN.name and page.ids:
            exact = private.exact_geometries(self.store, page.ids)
            page.geometries = page.geometries.copy()
            for index, fid in enumerate(page.ids):
                if fid in exact:
                    page.geometries[index] = exact[fid]
        return page

    def _feature(
        self,
        collection: Collection,
        feature_id,
        target: str,
        viewer: Viewer,
        everything: bool = False,
        output: str = "json",
    ) -> dict:
        analysis.refresh(self.store, self.policy, collection.name)
        page = self.store.get(
            collection.name, feature_id, published_only=not (everything or viewer.staff), owner=viewer.participant
        )
        page = self._exact_for(viewer, collection.name, page)
        feature = geojson.features(page, crs.CRS84 if output == "jsonfg" else target)[0]
        if output == "jsonfg":
            feature = jsonfg.document(
                collection, target, jsonfg.features(collection, page, [feature], target, False)[0]
            )
        url = self.pages.item_url(collection, page.ids[0])
        feature["links"] = [
            geojson.link(f"{url}?f={output}", "self", MEDIA_TYPES[output], "Dit object"),
            *(
                geojson.link(f"{url}?f={other}", "alternate", media_type, f"Dit object als {label}")
                for other, (media_type, label) in geojson.FORMATS.items()
                if other != output
            ),
            geojson.link(
                f"{self.pages.base()}/collections/{collection.name}",
                "collection",
                "application/json",
                f"De collectie {collection.name}",
            ),
            *related.links(self.pages.base(), collection, page.ids[0], page.properties[0], self.maps),
        ]
        return feature

    async def _queryables(self, request: Request, collection: Collection) -> Response:
        return self._properties(
            request, collection, "queryables", schemas.queryables, {"nl": "Filtervelden", "en": "Queryables"}
        )

    async def _schema(self, request: Request, collection: Collection) -> Response:
        return self._properties(request, collection, "schema", schemas.schema, {"nl": "Schema", "en": "Schema"})

    def _properties(self, request: Request, collection: Collection, path: str, build, heading: dict) -> Response:
        """A JSON Schema of the collection (HTML: its properties as a table)."""
        output = format_of(request)
        params.read_item(request.query_params)
        url = f"{self.pages.base()}/collections/{collection.name}/{path}"
        document = build(collection, url, self.pages.title(request, collection))
        if output == "html":
            content = {
                **self.pages.paths(request, collection, document),
                "heading": heading[self.pages.locale(request).language],
            }
            return self.pages.html(request, "collections/properties.html", content, collection)
        return Response(orjson.dumps(document), media_type="application/schema+json")

    # -- writing -----------------------------------------------------------------------
    async def _create(self, request: Request, collection: Collection) -> Response:
        actor = self.access.actor(caller_of(request), collection, "aanmaken")
        members = lifecycle.write_members(collection, actor.role, creating=True)
        properties, geometry, extra = await bodies.feature_body(request, members, partial=False)
        properties = lifecycle.as_submitted(collection, actor.role, properties)
        details = (
            [bodies.private_details(extra, self.policy.deelname.woning_raster_m)]
            if lifecycle.PRIVATE in extra
            else None
        )
        [new_id] = await run_in_threadpool(
            self.store.insert, collection.name, [(properties, geometry)], actor, details, None, bodies.note(extra)
        )
        response = await self._written(request, collection, new_id)
        if collection is VOORSTELLEN:
            similar = await run_in_threadpool(analysis.similar_proposals, self.store, self.policy, properties, geometry)
            response["vergelijkbaar"] = self.linked(similar)
        return geojson_response(
            response,
            params.output_crs(request.query_params),
            201,
            {"Location": self.pages.item_url(collection, new_id)},
        )

    async def _replace(self, request: Request, collection: Collection) -> Response:
        return await self._change(request, collection, partial=False)

    async def _patch(self, request: Request, collection: Collection) -> Response:
        return await self._change(request, collection, partial=True)

    async def _change(self, request: Request, collection: Collection, partial: bool) -> Response:
        actor = self.access.actor(caller_of(request), collection, "wijzigen")
        feature_id = bodies.path_id(request, collection)
        members = lifecycle.write_members(collection, actor.role, creating=False)
        properties, geometry, extra = await bodies.feature_body(request, members, partial, feature_id)
        write, guard = self.store.replace if not partial else self.store.update, None
        if actor.role == PARTICIPATION:
            properties = lifecycle.as_submitted(collection, actor.role, properties, partial)
            if not partial:  # a participant replaces what they may set; the municipality's fields stay
                properties, write = lifecycle.participant_replacement(collection, properties), self.store.update
            guard = self._own(feature_id, actor.participant, lifecycle.EDITABLE_BY_SUBMITTER, "changed")
        await run_in_threadpool(
            write, collection.name, feature_id, properties, geometry, actor, bodies.note(extra), guard
        )
        written = await self._written(request, collection, feature_id)
        return geojson_response(written, params.output_crs(request.query_params))

    async def _delete(self, request: Request, collection: Collection) -> Response:
        actor = self.access.actor(caller_of(request), collection, "verwijderen")
        feature_id = bodies.path_id(request, collection)
        guard = (
            self._own(feature_id, actor.participant, lifecycle.WITHDRAWABLE, "withdrawn")
            if actor.role == PARTICIPATION
            else None
        )
        await run_in_threadpool(self.store.delete, collection.name, feature_id, actor, None, guard)
        return Response(status_code=204)

    def _own(self, feature_id, participant: str, statuses: tuple, verb: str):
        """A check, inside the write, that a participant's proposal is theirs and in one of statuses."""

        def guard(current: dict) -> None:
            owns = private.owner_of(self.store, feature_id) == participant
            lifecycle.check_submitter_may(current, owns, statuses, verb, f"voorstellen/{feature_id}")

        return guard

    async def _written(self, request: Request, collection: Collection, feature_id) -> dict:
        """The feature as stored, for the one who wrote it."""
        target = params.output_crs(request.query_params)
        return await run_in_threadpool(self._feature, collection, feature_id, target, Viewer(), True)

    def linked(self, proposals: list[dict]) -> list[dict]:
        """Duplicate hints with links to each proposal (GeoJSON and HTML)."""

        def links(proposal: dict) -> list[dict]:
            url = self.pages.item_url(VOORSTELLEN, proposal["id"])
            return [
                geojson.link(f"{url}?f=json", "item", geojson.GEOJSON, proposal["titel"]),
                geojson.link(f"{url}?f=html", "alternate", "text/html", proposal["titel"]),
            ]

        return [{**p, "links": links(p)} for p in proposals]

    # -- helpers -----------------------------------------------------------------------
