"""The service's own feature routes: items and single items (read as GeoJSON or HTML, and
written per OGC API - Features Part 4), straight on the store."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

import orjson
import shapely
from pygeoapi import l10n
from pygeoapi.util import render_j2_template
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from geoservice.api import related, schemas
from geoservice.api.conformance import CLASSES
from geoservice.api.http import HttpError, caller_of, with_links
from geoservice.derived import analysis
from geoservice.domain.model import (
    ANONYMOUS,
    COLLECTIONS,
    PARTICIPATION,
    PLANNER,
    SAFE_INTEGER,
    VOORSTELLEN,
    Collection,
)
from geoservice.domain.policy import Policy
from geoservice.domain.validation import Conflict, check_text
from geoservice.participation.access import Access, Viewer
from geoservice.publish import geojson, jsonfg
from geoservice.query import crs, params
from geoservice.store import NotFound, Store, private
from geoservice.store.private import Private

MAX_BODY_BYTES = 1_000_000
FEATURE_FORMATS = ("json", "html", "jsonfg")
MEDIA_TYPES = {output: media_type for output, (media_type, _) in geojson.FORMATS.items()}
TEXT_CHARSETS = (
    "utf-8",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
    "utf-32",
    "utf-32-le",
    "utf-32-be",
    "iso8859-1",
    "ascii",
    "cp1252",
)
JSON_TYPES = ("application/geo+json", "application/json", "application/merge-patch+json")
READ_METHODS = "GET, HEAD, OPTIONS"
FEATURE_MEMBERS = {"type", "id", "geometry", "properties"}
NOTE, PRIVATE = "toelichting", "prive"  # besides the feature, a write may say why (the municipality), and
# what only the municipality may see (a submitter)
READ_ONLY_MEMBERS = {"links", "bbox"}
MAX_NOTE_LENGTH = 2000
MAX_CONTACT_LENGTH = 300
WITHDRAWABLE = ("ingediend", "gepubliceerd")


def number_id(text: str, where: str) -> int:
    """A feature's (or reaction's) number from a path; NotFound for text no feature can have."""
    if not (text.isascii() and text.isdigit()) or len(text) > 16 or int(text) > SAFE_INTEGER:
        raise NotFound(f"{where}/{text[:40]}")
    return int(text)


def _charset(parameters: str) -> str:
    """The text encoding a Content-Type's parameters name (UTF-8 when they name none)."""
    charset = "utf-8"
    for parameter in parameters.split(";"):
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"')
    try:
        known = codecs.lookup(charset).name
    except LookupError:
        known = None
    if known not in TEXT_CHARSETS:
        raise HttpError(
            415, "UnsupportedMediaType", f"charset {charset!r}: use UTF-8 (or UTF-16, UTF-32, ISO-8859-1, Windows-1252)"
        )
    return known


def table_columns(collection: Collection, count: int = 6) -> list[str]:
    """The properties an items page shows as columns: the title and the next short ones."""
    short = [
        f.name
        for f in collection.fields
        if f.kind in ("string", "integer", "number", "date")
        and (f.max_length or 0) <= 200
        and f.name != collection.id_field
    ]
    return sorted(short, key=lambda name: name != collection.title_field)[:count]


def write_members(collection: Collection, role: str, creating: bool) -> set:
    """What a body may carry besides the feature: the municipality explains its changes; a proposal's
    submitter may add what is for the municipality only."""
    submitter = role in (PARTICIPATION, ANONYMOUS)
    return {*(() if submitter else (NOTE,)), *((PRIVATE,) if creating and collection is VOORSTELLEN else ())}


def check_page_parameters(request: Request) -> None:
    """Refuse query parameters other than f and lang, and formats other than json and html."""
    unknown = sorted(set(request.query_params) - {"f", "lang"})
    if unknown:
        raise HttpError(400, "InvalidParameterValue", f"unknown query parameter(s): {', '.join(unknown)}")
    ServiceRoutes.format_of(request)


def private_headers(viewer: Viewer) -> dict:
    """Answers that depend on who asks are not for shared caches."""
    return {"Cache-Control": "private, no-store", "Vary": "Authorization"} if viewer.client else {}


@dataclass
class ServiceRoutes:
    """The service's own endpoints; pygeoapi's API object lends templates and locales."""

    store: Store
    api: object
    access: Access
    policy: Policy
    maps: Path  # the folder of the built maps
    read_budget_s: float | None = None  # the longest one read of features may take

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
        if self.format_of(request) == "html":
            return self._html(request, "conformance.html", document)
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
        output = self.format_of(request, FEATURE_FORMATS)
        wanted = params.read_items(collection, request.query_params)
        viewer = self.access.viewer(caller_of(request))
        wanted.query.published_only, wanted.query.owner = not viewer.staff, viewer.participant
        wanted.query.budget_s = self.read_budget_s
        items_url = f"{self._base()}/collections/{collection.name}/items"
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
            return self._html(
                request,
                "collections/items/index.html",
                self._paths(
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
        return self._features(document, wanted.crs, output, private_headers(viewer))

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
        output = self.format_of(request, FEATURE_FORMATS)
        target = params.read_item(request.query_params)
        viewer = self.access.viewer(caller_of(request))
        document = await run_in_threadpool(
            self._feature,
            collection,
            self._id(request, collection),
            target,
            viewer if output != "html" else Viewer(),
            False,
            output,
        )
        if output == "html":
            return self._html(
                request,
                "collections/items/item.html",
                self._paths(request, collection, orjson.loads(orjson.dumps(document))),
                collection,
            )
        return self._features(document, target, output, private_headers(viewer))

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
        url = self._item_url(collection, page.ids[0])
        feature["links"] = [
            geojson.link(f"{url}?f={output}", "self", MEDIA_TYPES[output], "Dit object"),
            *(
                geojson.link(f"{url}?f={other}", "alternate", media_type, f"Dit object als {label}")
                for other, (media_type, label) in geojson.FORMATS.items()
                if other != output
            ),
            geojson.link(
                f"{self._base()}/collections/{collection.name}",
                "collection",
                "application/json",
                f"De collectie {collection.name}",
            ),
            *related.links(self._base(), collection, page.ids[0], page.properties[0], self.maps),
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
        output = self.format_of(request)
        params.read_item(request.query_params)
        url = f"{self._base()}/collections/{collection.name}/{path}"
        document = build(collection, url, self._title(request, collection))
        if output == "html":
            content = {**self._paths(request, collection, document), "heading": heading[self._locale(request).language]}
            return self._html(request, "collections/properties.html", content, collection)
        return Response(orjson.dumps(document), media_type="application/schema+json")

    # -- writing -----------------------------------------------------------------------
    async def _create(self, request: Request, collection: Collection) -> Response:
        actor = self.access.actor(caller_of(request), collection, "aanmaken")
        members = write_members(collection, actor.role, creating=True)
        properties, geometry, extra = await self._body(request, members, partial=False)
        properties = self._as_submitted(collection, actor.role, properties)
        details = [self._private(extra)] if "prive" in extra else None
        [new_id] = await run_in_threadpool(
            self.store.insert, collection.name, [(properties, geometry)], actor, details, None, self._note(extra)
        )
        response = await self._written(request, collection, new_id)
        if collection is VOORSTELLEN:
            similar = await run_in_threadpool(analysis.similar_proposals, self.store, self.policy, properties, geometry)
            response["vergelijkbaar"] = self.linked(similar)
        return self._geojson(
            response, params.output_crs(request.query_params), 201, {"Location": self._item_url(collection, new_id)}
        )

    async def _replace(self, request: Request, collection: Collection) -> Response:
        return await self._change(request, collection, partial=False)

    async def _patch(self, request: Request, collection: Collection) -> Response:
        return await self._change(request, collection, partial=True)

    async def _change(self, request: Request, collection: Collection, partial: bool) -> Response:
        actor = self.access.actor(caller_of(request), collection, "wijzigen")
        feature_id = self._id(request, collection)
        members = write_members(collection, actor.role, creating=False)
        properties, geometry, extra = await self._body(request, members, partial, feature_id)
        write, guard = self.store.replace if not partial else self.store.update, None
        if actor.role == PARTICIPATION:
            properties = self._as_submitted(collection, actor.role, properties, partial)
            if not partial:  # a participant replaces what they may set; the municipality's fields stay
                properties, write = (
                    {name: properties.get(name) for name in collection.participant_fields},
                    self.store.update,
                )
            guard = self._own(feature_id, actor.participant, ("ingediend",), "changed")
        await run_in_threadpool(
            write, collection.name, feature_id, properties, geometry, actor, self._note(extra), guard
        )
        written = await self._written(request, collection, feature_id)
        return self._geojson(written, params.output_crs(request.query_params))

    async def _delete(self, request: Request, collection: Collection) -> Response:
        actor = self.access.actor(caller_of(request), collection, "verwijderen")
        feature_id = self._id(request, collection)
        guard = (
            self._own(feature_id, actor.participant, WITHDRAWABLE, "withdrawn") if actor.role == PARTICIPATION else None
        )
        await run_in_threadpool(self.store.delete, collection.name, feature_id, actor, None, guard)
        return Response(status_code=204)

    async def _written(self, request: Request, collection: Collection, feature_id) -> dict:
        """The feature as stored, for the one who wrote it."""
        target = params.output_crs(request.query_params)
        return await run_in_threadpool(self._feature, collection, feature_id, target, Viewer(), True)

    def _own(self, feature_id, participant: str, statuses: tuple, verb: str):
        """A check, inside the write, that a participant's proposal is theirs and still in one of statuses."""

        def guard(current: dict) -> None:
            if private.owner_of(self.store, feature_id) != participant:
                if current["gepubliceerd"] is None:
                    raise NotFound(f"voorstellen/{feature_id}")
                raise HttpError(403, "Forbidden", f"only the participant who submitted a proposal may have it {verb}")
            if current["status"] not in statuses:
                raise Conflict(f"status: a proposal that is {current['status']} cannot be {verb} by its submitter")

        return guard

    @staticmethod
    def _as_submitted(collection: Collection, role: str, properties: dict, partial: bool = False) -> dict:
        """A participant's (or anonymous) proposal: only the fields a participant sets; status ingediend."""
        if role not in (PARTICIPATION, ANONYMOUS) or not collection.participant_fields:
            return properties
        status = properties.get("status", "ingediend")
        foreign = sorted(set(properties) - set(collection.participant_fields) - {"status"})
        if foreign or status != "ingediend":
            names = ", ".join(foreign or ["status"])
            raise HttpError(403, "Forbidden", f"{names}: set by the municipality, not by a participant")
        return properties if partial else {**properties, "status": "ingediend"}

    def _private(self, extra: dict) -> Private:
        """What a submitter gives in private: {"contact": text, "nabij_woning": true|false}."""
        given = extra["prive"]
        if not isinstance(given, dict) or set(given) - {"contact", "nabij_woning"}:
            raise HttpError(400, "InvalidValue", "prive: expected an object with contact and/or nabij_woning")
        contact, near_home = given.get("contact"), given.get("nabij_woning", False)
        if contact is not None:
            check_text("prive.contact", contact, MAX_CONTACT_LENGTH)
        if not isinstance(near_home, bool):
            raise HttpError(400, "InvalidValue", "prive.nabij_woning: expected true or false")
        return Private(contact, self.policy.deelname.woning_raster_m if near_home else None)

    @staticmethod
    def _note(extra: dict) -> str | None:
        note = extra.get("toelichting")
        return None if note is None else check_text("toelichting", note, MAX_NOTE_LENGTH)

    def linked(self, proposals: list[dict]) -> list[dict]:
        """Duplicate hints with links to each proposal (GeoJSON and HTML)."""

        def links(proposal: dict) -> list[dict]:
            url = self._item_url(VOORSTELLEN, proposal["id"])
            return [
                geojson.link(f"{url}?f=json", "item", geojson.GEOJSON, proposal["titel"]),
                geojson.link(f"{url}?f=html", "alternate", "text/html", proposal["titel"]),
            ]

        return [{**p, "links": links(p)} for p in proposals]

    def _item_url(self, collection: Collection, feature_id) -> str:
        return f"{self._base()}/collections/{collection.name}/items/{feature_id}"

    async def _body(self, request: Request, members: set, partial: bool, feature_id=None):
        """(properties, geometry in the storage CRS, the other members) of a GeoJSON Feature body;
        members: what the body may carry besides the feature; feature_id: the one it replaces."""
        document = await self._json_body(request)
        if not isinstance(document, dict) or (not partial and document.get("type") != "Feature"):
            raise HttpError(400, "InvalidValue", "body: expected a GeoJSON Feature")
        self._check_members(document, members, feature_id)
        extra = {k: document[k] for k in members & set(document)}
        properties = document.get("properties", {} if partial else None)
        if not isinstance(properties, dict):
            raise HttpError(400, "InvalidValue", "properties: expected an object")
        geometry = document.get("geometry")
        if geometry is None:
            if partial:
                return properties, None, extra
            raise HttpError(400, "InvalidValue", "geometry: required")
        return properties, self._geometry(request, geometry), extra

    @staticmethod
    def _check_members(document: dict, members: set, feature_id) -> None:
        """Refuse members the write would not apply: unknown ones, the service's own, another id."""
        read_only = sorted(READ_ONLY_MEMBERS & set(document))
        if read_only:
            raise HttpError(400, "InvalidValue", f"{', '.join(read_only)}: written by the service; leave out")
        foreign = sorted(set(document) - FEATURE_MEMBERS - members)
        if foreign:
            raise HttpError(
                400,
                "InvalidValue",
                f"body: member(s) {', '.join(foreign)} not accepted here "
                f"(accepted: {', '.join(sorted(FEATURE_MEMBERS | members))})",
            )
        if "id" in document and (feature_id is None or str(document["id"]) != str(feature_id)):
            raise HttpError(400, "InvalidValue", "id: the service gives ids; a replacement keeps the one in its path")

    @staticmethod
    def _geometry(request: Request, geometry):
        """A GeoJSON geometry (2D; coordinates numbers) in the storage CRS."""
        try:
            shape = shapely.from_geojson(orjson.dumps(geometry))
        except (shapely.errors.GEOSException, TypeError, ValueError) as error:
            raise HttpError(400, "InvalidValue", f"geometry: not a GeoJSON geometry ({error})") from None
        if shape.has_z:
            raise HttpError(400, "InvalidValue", "geometry: give x and y only; heights are not stored")
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
        charset = _charset(parameters)
        declared = request.headers.get("Content-Length") or "0"
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            raise HttpError(413, "PayloadTooLarge", f"body larger than {MAX_BODY_BYTES} bytes")
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY_BYTES:
                raise HttpError(413, "PayloadTooLarge", f"body larger than {MAX_BODY_BYTES} bytes")
        try:
            return orjson.loads(bytes(raw).decode(charset))
        except (UnicodeDecodeError, orjson.JSONDecodeError) as error:
            raise HttpError(400, "InvalidValue", f"body: not JSON in {charset} ({error})") from None

    # -- helpers -----------------------------------------------------------------------
    @staticmethod
    def _id(request: Request, collection: Collection):
        text = request.path_params["item_id"]
        return text if collection.id_field != "id" else number_id(text, collection.name)

    @staticmethod
    def format_of(request: Request, offered: tuple[str, ...] = ("json", "html")) -> str:
        """One of the offered formats, from f or else the Accept header; BadRequest for others."""
        requested = request.query_params.get("f")
        if requested is None:
            accept = request.headers.get("Accept", "")
            return next((name for name in offered if MEDIA_TYPES[name] in accept), "json")
        if requested not in offered:
            raise HttpError(
                400, "InvalidParameterValue", f"f: {requested!r} is not offered here; use {' or '.join(offered)}"
            )
        return requested

    def _base(self) -> str:
        return self.api.base_url.rstrip("/")

    def _title(self, request: Request, collection: Collection) -> str:
        return collection.title.get(self._locale(request).language, collection.title["nl"])

    def _locale(self, request: Request):
        """The best of the service's languages for the request (lang, then Accept-Language)."""
        wanted = request.query_params.get("lang") or request.headers.get("Accept-Language") or ""
        return l10n.best_match(wanted, self.api.locales)

    def _paths(self, request: Request, collection: Collection, content: dict) -> dict:
        """What the collection templates show besides the document itself."""
        base = self._base()
        return {
            **content,
            "collections_path": f"{base}/collections",
            "id_field": collection.id_field,
            "dataset_path": f"{base}/collections/{collection.name}",
            "title_field": collection.title_field,
            "collection_title": self._title(request, collection),
            "lang": self._locale(request).language,
        }

    def _html(self, request: Request, template: str, content: dict, collection: Collection | None = None):
        templates = (
            self.api.get_dataset_templates(collection.name) if collection else self.api.config["server"]["templates"]
        )
        page = render_j2_template(self.api.tpl_config, templates, template, content, self._locale(request))
        return Response(
            page,
            media_type="text/html",
            headers=with_links({"Content-Language": l10n.locale2str(self._locale(request))}, content),
        )

    @staticmethod
    def _geojson(document: dict, target: str, status: int = 200, headers: dict | None = None) -> Response:
        return ServiceRoutes._features(document, target, "json", headers, status)

    @staticmethod
    def _features(document: dict, target: str, output: str, headers: dict | None = None, status: int = 200) -> Response:
        """Features as GeoJSON or JSON-FG, with the CRS of their coordinates and their links as headers."""
        return Response(
            orjson.dumps(document),
            status_code=status,
            media_type=MEDIA_TYPES[output],
            headers=with_links({"Content-Crs": f"<{target}>", **(headers or {})}, document),
        )
