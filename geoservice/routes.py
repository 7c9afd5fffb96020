"""The service's own feature routes: items and single items (read as GeoJSON or HTML, and
written per OGC API - Features Part 4), straight on the store."""
from __future__ import annotations

import codecs
from dataclasses import dataclass

import orjson
import shapely
from pygeoapi import l10n
from pygeoapi.util import render_j2_template
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from . import crs, geojson, params
from .auth import Forbidden, Tokens, Unauthorized
from .conformance import CLASSES
from .model import COLLECTIONS, Collection
from .store import NotFound, Store
from .validation import ValidationError

MAX_BODY_BYTES = 1_000_000
JSON_TYPES = ("application/geo+json", "application/json", "application/merge-patch+json")
READ_METHODS = "GET, HEAD, OPTIONS"
FEATURE_MEMBERS = {"type", "id", "geometry", "properties", "bbox", "links"}


class HttpError(Exception):
    """An answer other than success: status, OGC exception code and a message."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers or {}


def check_page_parameters(request: Request) -> None:
    """Refuse query parameters other than f and lang, and formats other than json and html."""
    unknown = sorted(set(request.query_params) - {"f", "lang"})
    if unknown:
        raise HttpError(400, "InvalidParameterValue", f"unknown query parameter(s): {', '.join(unknown)}")
    ServiceRoutes.format_of(request)


def error_response(error: HttpError) -> Response:
    body = orjson.dumps({"code": error.code, "description": str(error)})
    return Response(body, status_code=error.status, media_type="application/json", headers=error.headers)


@dataclass
class ServiceRoutes:
    """The service's own endpoints; pygeoapi's API object lends templates and locales."""

    store: Store
    api: object
    tokens: Tokens

    # -- entry points ------------------------------------------------------------------
    async def items(self, request: Request) -> Response:
        return await self._answer(request, {"GET": self._read_items, "HEAD": self._read_items,
                                            "POST": self._create})

    async def item(self, request: Request) -> Response:
        return await self._answer(request, {"GET": self._read_item, "HEAD": self._read_item,
                                            "PUT": self._replace, "PATCH": self._patch, "DELETE": self._delete})

    async def conformance(self, request: Request) -> Response:
        try:
            check_page_parameters(request)
        except HttpError as error:
            return error_response(error)
        document = {"conformsTo": CLASSES}
        if self.format_of(request) == "html":
            return self._html(request, "conformance.html", document)
        return Response(orjson.dumps(document), media_type="application/json")

    async def queryables(self, request: Request) -> Response:
        return await self._answer(request, {"GET": self._queryables, "HEAD": self._queryables})

    async def _answer(self, request: Request, handlers: dict) -> Response:
        try:
            collection = self._collection(request)
            if request.method == "OPTIONS":
                return Response(status_code=204, headers={"Allow": self._allowed(collection, handlers)})
            handler = handlers.get(request.method)
            if handler is None or (request.method not in ("GET", "HEAD") and not collection.editable):
                raise HttpError(405, "MethodNotAllowed", f"{request.method} is not allowed here",
                                {"Allow": self._allowed(collection, handlers)})
            return await handler(request, collection)
        except HttpError as error:
            return error_response(error)
        except params.BadRequest as error:
            return error_response(HttpError(400, "InvalidParameterValue", str(error)))
        except ValidationError as error:
            return error_response(HttpError(400, "InvalidValue", str(error)))
        except NotFound as error:
            return error_response(HttpError(404, "NotFound", f"{error.args[0]}: not found"))

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
        output = self.format_of(request)
        wanted = params.read_items(collection, request.query_params)
        items_url = f"{self._base()}/collections/{collection.name}/items"
        document = await run_in_threadpool(self._page_document, wanted, items_url, dict(request.query_params))
        if output == "html":
            return self._html(request, "collections/items/index.html", self._paths(collection, {
                **orjson.loads(orjson.dumps(document)), "items_path": items_url, "offset": wanted.query.offset,
                "itemtype": "feature"}), collection)
        return self._geojson(document, wanted.crs)

    def _page_document(self, wanted: params.ItemsRequest, items_url: str, query: dict) -> dict:
        """The FeatureCollection of a page: read, projected and linked (in a worker thread)."""
        page = self.store.query(wanted.query)
        features = geojson.features(page, wanted.crs, wanted.properties, wanted.skip_geometry)
        links = geojson.page_links(items_url, query, wanted.query.offset, wanted.query.limit, len(features),
                                   page.number_matched)
        return geojson.feature_collection(page, features, links)

    async def _read_item(self, request: Request, collection: Collection) -> Response:
        output = self.format_of(request)
        target = params.read_item(request.query_params)
        document = await run_in_threadpool(self._feature, request, collection, self._id(request, collection),
                                           target, True)
        if output == "html":
            return self._html(request, "collections/items/item.html", self._paths(collection, {
                **orjson.loads(orjson.dumps(document)), "title": self._title(request, collection)}), collection)
        return self._geojson(document, target)

    def _feature(self, request: Request, collection: Collection, feature_id, target: str,
                 published_only: bool) -> dict:
        page = self.store.get(collection.name, feature_id, published_only=published_only)
        feature = geojson.features(page, target)[0]
        url = f"{self._base()}/collections/{collection.name}/items/{page.ids[0]}"
        feature["links"] = [
            geojson.link(f"{url}?f=json", "self", geojson.GEOJSON, "Dit object als GeoJSON"),
            geojson.link(f"{url}?f=html", "alternate", "text/html", "Dit object als HTML"),
            geojson.link(f"{self._base()}/collections/{collection.name}", "collection",
                         "application/json", "De collectie"),
        ]
        return feature

    async def _queryables(self, request: Request, collection: Collection) -> Response:
        output = self.format_of(request)
        params.read_item(request.query_params)
        url = f"{self._base()}/collections/{collection.name}/queryables"
        properties = {"geometry": {"format": "geometry-any", "x-ogc-role": "primary-geometry"}}
        for f in collection.fields:
            if f.kind != "integer-list":
                properties[f.name] = {**f.schema(), **({"x-ogc-role": "id"} if f.name == collection.id_field else {})}
        document = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": url, "type": "object",
                    "title": self._title(request, collection), "properties": properties,
                    "additionalProperties": False}
        if output == "html":
            return self._html(request, "collections/queryables.html", self._paths(collection, document),
                              collection)
        return Response(orjson.dumps(document), media_type="application/schema+json")

    # -- writing -----------------------------------------------------------------------
    async def _create(self, request: Request, collection: Collection) -> Response:
        self._authorise(request, collection)
        properties, geometry = await self._body(request, collection, partial=False)
        [new_id] = await run_in_threadpool(self.store.insert, collection.name, [(properties, geometry)])
        return await self._written(request, collection, new_id, 201)

    async def _replace(self, request: Request, collection: Collection) -> Response:
        return await self._change(request, collection, self.store.replace, partial=False)

    async def _patch(self, request: Request, collection: Collection) -> Response:
        return await self._change(request, collection, self.store.update, partial=True)

    async def _change(self, request: Request, collection: Collection, write, partial: bool) -> Response:
        self._authorise(request, collection)
        feature_id = self._id(request, collection)
        properties, geometry = await self._body(request, collection, partial=partial)
        await run_in_threadpool(write, collection.name, feature_id, properties, geometry)
        return await self._written(request, collection, feature_id, 200)

    async def _delete(self, request: Request, collection: Collection) -> Response:
        self._authorise(request, collection)
        await run_in_threadpool(self.store.delete, collection.name, self._id(request, collection))
        return Response(status_code=204)

    async def _written(self, request: Request, collection: Collection, feature_id, status: int) -> Response:
        target = params.output_crs(request.query_params)
        document = await run_in_threadpool(self._feature, request, collection, feature_id, target, False)
        location = f"{self._base()}/collections/{collection.name}/items/{feature_id}"
        return self._geojson(document, target, status, {"Location": location})

    def _authorise(self, request: Request, collection: Collection) -> None:
        try:
            self.tokens.authorise(request.headers.get("Authorization"), collection.writers)
        except Unauthorized as error:
            raise HttpError(401, "Unauthorized", str(error), {"WWW-Authenticate": 'Bearer realm="wijkplan"'})
        except Forbidden as error:
            raise HttpError(403, "Forbidden", str(error))

    async def _body(self, request: Request, collection: Collection, partial: bool):
        """(properties, geometry in the storage CRS) of a GeoJSON Feature body."""
        document = await self._json_body(request)
        if not isinstance(document, dict) or (not partial and document.get("type") != "Feature"):
            raise HttpError(400, "InvalidValue", "body: expected a GeoJSON Feature")
        foreign = sorted(set(document) - FEATURE_MEMBERS)
        if foreign:
            raise HttpError(400, "InvalidValue", f"body: unknown member(s) {', '.join(foreign)}")
        properties = document.get("properties", {} if partial else None)
        if not isinstance(properties, dict):
            raise HttpError(400, "InvalidValue", "properties: expected an object")
        geometry = document.get("geometry")
        if geometry is None:
            if partial:
                return properties, None
            raise HttpError(400, "InvalidValue", "geometry: required")
        return properties, self._geometry(request, geometry)

    @staticmethod
    def _geometry(request: Request, geometry: dict):
        try:
            shape = shapely.geometry.shape(geometry)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError, shapely.errors.ShapelyError) as error:
            raise HttpError(400, "InvalidValue", f"geometry: not a GeoJSON geometry ({error})") from None
        source = (request.headers.get("Content-Crs") or f"<{crs.CRS84}>").strip().strip("<>")
        try:
            return crs.to_storage(shape, crs.check(source, "Content-Crs"))
        except crs.CrsError as error:
            raise HttpError(400, "InvalidParameterValue", str(error)) from None

    @staticmethod
    async def _json_body(request: Request):
        media_type, _, parameters = (request.headers.get("Content-Type") or "").partition(";")
        if media_type.strip().lower() not in JSON_TYPES:
            raise HttpError(415, "UnsupportedMediaType", f"Content-Type must be one of {', '.join(JSON_TYPES)}")
        charset = "utf-8"
        for parameter in parameters.split(";"):
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "charset":
                charset = value.strip().strip('"')
        try:
            codecs.lookup(charset)
        except LookupError:
            raise HttpError(415, "UnsupportedMediaType", f"unknown charset {charset!r}") from None
        declared = int(request.headers.get("Content-Length") or 0)
        if declared > MAX_BODY_BYTES:
            raise HttpError(413, "PayloadTooLarge", f"body larger than {MAX_BODY_BYTES} bytes")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY_BYTES:
                raise HttpError(413, "PayloadTooLarge", f"body larger than {MAX_BODY_BYTES} bytes")
        try:
            return orjson.loads(raw.decode(charset))
        except (UnicodeDecodeError, orjson.JSONDecodeError) as error:
            raise HttpError(400, "InvalidValue", f"body: not JSON in {charset} ({error})") from None

    # -- helpers -----------------------------------------------------------------------
    @staticmethod
    def _id(request: Request, collection: Collection):
        text = request.path_params["item_id"]
        if collection.id_field != "id":
            return text
        if not (text.isascii() and text.isdigit()):
            raise NotFound(f"{collection.name}/{text}")
        return int(text)

    @staticmethod
    def format_of(request: Request) -> str:
        """json or html, from f or else the Accept header; BadRequest for other formats."""
        requested = request.query_params.get("f")
        if requested is None:
            accept = request.headers.get("Accept", "")
            return "html" if "text/html" in accept else "json"
        if requested not in ("json", "html"):
            raise HttpError(400, "InvalidParameterValue", f"f: {requested!r} is not offered; use json or html")
        return requested

    def _base(self) -> str:
        return self.api.base_url.rstrip("/")

    def _title(self, request: Request, collection: Collection) -> str:
        return collection.title.get(self._locale(request).language, collection.title["nl"])

    def _locale(self, request: Request):
        """The best of the service's languages for the request (lang, then Accept-Language)."""
        wanted = request.query_params.get("lang") or request.headers.get("Accept-Language") or ""
        return l10n.best_match(wanted, self.api.locales)

    def _paths(self, collection: Collection, content: dict) -> dict:
        """What pygeoapi's collection templates expect besides the document itself."""
        base = self._base()
        return {**content, "collections_path": f"{base}/collections", "id_field": collection.id_field,
                "dataset_path": f"{base}/collections/{collection.name}", "title_field": collection.title_field}

    def _html(self, request: Request, template: str, content: dict, collection: Collection | None = None):
        templates = (self.api.get_dataset_templates(collection.name) if collection
                     else self.api.config["server"]["templates"])
        page = render_j2_template(self.api.tpl_config, templates, template, content, self._locale(request))
        return Response(page, media_type="text/html",
                        headers={"Content-Language": l10n.locale2str(self._locale(request))})

    @staticmethod
    def _geojson(document: dict, target: str, status: int = 200, headers: dict | None = None) -> Response:
        return Response(orjson.dumps(document), status_code=status, media_type=geojson.GEOJSON,
                        headers={"Content-Crs": f"<{target}>", **(headers or {})})
