"""Reading features: items pages and single items (GeoJSON, JSON-FG, HTML), their queryables and
schemas; what a reader sees depends on who reads."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import Response

from geoservice import __version__
from geoservice.api import bodies, context, display, related, schemas
from geoservice.api.caching import SHARED, not_modified, strong_etag, unchanged
from geoservice.api.http import caller_of
from geoservice.api.rendering import (
    FEATURE_FORMATS,
    MEDIA_TYPES,
    Pages,
    features_response,
    format_of,
    private_headers,
    table_columns,
)
from geoservice.api.threads import in_thread
from geoservice.derived import derivation
from geoservice.domain.model import COLLECTIONS, PLANNER, VOORSTELLEN, Collection
from geoservice.domain.policy import Policy
from geoservice.participation.access import Access, Viewer
from geoservice.publish import geojson, jsonfg
from geoservice.query import crs, params
from geoservice.store import Store, private


@dataclass
class Reading:
    """Answers to reads of a collection, straight from the store."""

    store: Store
    access: Access
    policy: Policy
    pages: Pages
    maps: Path  # the folder of the built maps, linked from areas when there
    read_budget_s: float | None = None  # the longest one read of features may take

    async def items(self, request: Request, collection: Collection) -> Response:
        output = format_of(request, FEATURE_FORMATS)
        query_params = display.without_empty(request.query_params) if output == "html" else request.query_params
        wanted = params.read_items(collection, query_params)
        viewer = self.access.viewer(caller_of(request))
        wanted.query.published_only, wanted.query.owner = not viewer.staff, viewer.participant
        wanted.query.budget_s = self.read_budget_s
        items_url = f"{self.pages.base()}/collections/{collection.name}/items"
        caching, document = await self._unless_held(
            request,
            collection,
            viewer,
            output,
            self._page_document,
            collection,
            wanted,
            items_url,
            dict(query_params),
            viewer if output != "html" else Viewer(),
            output,
        )
        if document is None:
            return not_modified(caching)
        if output == "html":
            page = self._items_page(request, collection, document, query_params, wanted.query.offset)
            page.headers.update(caching)
            return page
        return features_response(document, wanted.crs, output, caching)

    def _items_page(self, request: Request, collection: Collection, document: dict, query, offset: int) -> Response:
        """The items as a page: a map, a filter form that builds the query, a readable table."""
        language = self.pages.locale(request).language
        document = orjson.loads(orjson.dumps(document))
        columns = table_columns(collection)
        content = {
            **document,
            "items_path": f"{self.pages.base()}/collections/{collection.name}/items",
            "offset": offset,
            "headings": display.headings(collection, columns, language),
            "rows": display.table(collection, columns, document["features"], language),
            "form": display.filter_form(collection, query, language),
        }
        return self.pages.html(
            request, "collections/items/index.html", self.pages.paths(request, collection, content), collection
        )

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
        page, after = self._read_page(collection, wanted.query, output)
        page = self._exact_for(viewer, collection.name, page)
        target = crs.CRS84 if output == "jsonfg" else wanted.crs  # JSON-FG: CRS84 geometry, place in the CRS
        features = geojson.features(page, target, wanted.properties, wanted.skip_geometry)
        links = geojson.page_links(
            items_url, query, wanted.query.offset, wanted.query.limit, len(features), page.number_matched, output, after
        )
        if output != "jsonfg":
            return geojson.feature_collection(page, features, links)
        features = jsonfg.features(collection, page, features, wanted.crs, wanted.skip_geometry)
        return jsonfg.document(collection, wanted.crs, geojson.feature_collection(page, features, links))

    def _read_page(self, collection: Collection, query, output: str):
        """A page, and (where pages continue after their last feature: not for people paging an
        HTML table by offset) the id the next page starts after; one feature more is read to know
        there is one."""
        if (output == "html" and query.after is None) or not params.keyset(collection, query.sortby):
            return self.store.query(query), None
        page = self.store.query(dataclasses.replace(query, limit=query.limit + 1))
        more = len(page.ids) > query.limit
        page = page.first(query.limit)
        return page, page.ids[-1] if more else None

    async def item(self, request: Request, collection: Collection) -> Response:
        output = format_of(request, FEATURE_FORMATS)
        target = params.read_item(request.query_params)
        viewer = self.access.viewer(caller_of(request))
        caching, document = await self._unless_held(
            request,
            collection,
            viewer,
            output,
            self.feature,
            collection,
            bodies.path_id(request, collection),
            target,
            viewer if output != "html" else Viewer(),
            False,
            output,
        )
        if document is None:
            return not_modified(caching)
        if output == "html":
            page = await self._item_page(request, collection, orjson.loads(orjson.dumps(document)))
            page.headers.update(caching)
            return page
        return features_response(document, target, output, caching)

    async def _unless_held(self, request: Request, collection: Collection, viewer: Viewer, output: str, read, *args):
        """The caching headers of a read and what read(*args) gives, or None when the client holds
        the current version (one trip to a worker thread for both, after bringing derived data up
        to date)."""

        def work():
            derivation.refresh(self.store, self.policy, collection.name)  # derived data is current first
            caching = self._caching(request, collection, viewer, output, output == "html")
            caching.update(derivation.headers(self.store, collection.name))
            return caching, None if unchanged_for(request, caching) else read(*args)

        return await in_thread(work)

    def _caching(self, request: Request, collection: Collection, viewer: Viewer, output: str, page: bool) -> dict:
        """The caching headers of a read: private for token holders; for the public a strong ETag
        from the version of what the answer reads (the collection's latest change, or for a page,
        which shows related features too, the store's) and of all else it depends on."""
        if viewer.client:
            return private_headers(viewer)
        version = self.store.last_change() if page else self.store.version(collection.name)
        language = self.pages.locale(request).language if page else ""
        etag = strong_etag(
            __version__, self.policy.fingerprint, self.pages.base(), (self.maps / "index.html").exists(),
            collection.name, version, output, language, request.scope["path"], request.scope["query_string"],
        )  # fmt: skip
        return {"ETag": etag, **SHARED}

    async def _item_page(self, request: Request, collection: Collection, document: dict) -> Response:
        """One feature as a page: a map, its properties in groups, and what it relates to."""
        language = self.pages.locale(request).language
        related_content = await in_thread(context.of_item, self.store, collection, document["id"], language)
        content = {
            **document,
            "summary": display.summary(collection, document["properties"], language),
            "groups": display.groups(collection, document["properties"], language),
            "context": related_content,
        }
        return self.pages.html(
            request, "collections/items/item.html", self.pages.paths(request, collection, content), collection
        )

    def _exact_for(self, viewer: Viewer, collection_name: str, page):
        """A page with the exact locations of generalised proposals, for planners."""
        if viewer.role == PLANNER and COLLECTIONS[collection_name].table == VOORSTELLEN.name and page.ids:
            exact = private.exact_geometries(self.store, page.ids)
            page.geometries = page.geometries.copy()
            for index, fid in enumerate(page.ids):
                if fid in exact:
                    page.geometries[index] = exact[fid]
        return page

    def feature(
        self,
        collection: Collection,
        feature_id,
        target: str,
        viewer: Viewer,
        everything: bool = False,
        output: str = "json",
    ) -> dict:
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

    async def queryables(self, request: Request, collection: Collection) -> Response:
        return self._properties(
            request, collection, "queryables", schemas.queryables, {"nl": "Filtervelden", "en": "Queryables"}
        )

    async def schema(self, request: Request, collection: Collection) -> Response:
        return self._properties(request, collection, "schema", schemas.schema, {"nl": "Schema", "en": "Schema"})

    def _properties(self, request: Request, collection: Collection, path: str, build, heading: dict) -> Response:
        """A JSON Schema of the collection (HTML: its properties as a table)."""
        output = format_of(request)
        params.read_item(request.query_params)
        url = f"{self.pages.base()}/collections/{collection.name}/{path}"
        document = build(collection, url, self.pages.title(request, collection))
        if output == "html":
            language = self.pages.locale(request).language
            content = {
                **self.pages.paths(request, collection, document),
                "heading": heading[language],
                "titles": {f.name: f.title_in(language) for f in collection.fields},
            }
            return self.pages.html(request, "collections/properties.html", content, collection)
        return Response(orjson.dumps(document), media_type="application/schema+json")


def unchanged_for(request: Request, caching: dict) -> bool:
    """Whether the client holds the version these caching headers name."""
    return "ETag" in caching and unchanged(request, caching["ETag"])
