"""How the service's own answers are rendered: the format asked for, HTML pages from pygeoapi's
templates in the request's language, and features as GeoJSON or JSON-FG with their headers."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

import orjson
from pygeoapi import l10n
from pygeoapi.util import get_choice_from_headers, render_j2_template
from starlette.requests import Request
from starlette.responses import Response

from geoservice.api.http import HttpError, with_links
from geoservice.domain.model import COLLECTIONS, Collection
from geoservice.participation.access import Viewer
from geoservice.publish import geojson

FEATURE_FORMATS = ("json", "html", "jsonfg")
MEDIA_TYPES = {output: media_type for output, (media_type, _) in geojson.FORMATS.items()}


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


def check_page_parameters(request: Request) -> None:
    """Refuse query parameters other than f and lang, and formats other than json and html."""
    refuse_unknown_parameters(request, ("f", "lang"))
    format_of(request)


def collection_of(request: Request) -> Collection:
    """The collection the path names; 404 for none."""
    name = request.path_params["collection_id"]
    if name not in COLLECTIONS:
        raise HttpError(404, "NotFound", f"collection {name!r} does not exist")
    return COLLECTIONS[name]


def refuse_unknown_parameters(request: Request, known: tuple[str, ...]) -> None:
    """A 400 naming the query parameters that are not known here."""
    unknown = sorted(set(request.query_params) - set(known))
    if unknown:
        raise HttpError(400, "InvalidParameterValue", f"unknown query parameter(s): {', '.join(unknown)}")


def private_headers(viewer: Viewer) -> dict:
    """Answers that depend on who asks are not for shared caches."""
    return {"Cache-Control": "private, no-store", "Vary": "Authorization"} if viewer.client else {}


def wants_page(request: Request) -> bool:
    """Whether the client asks for an HTML page (f=html, or a browser's Accept header)."""
    try:
        return format_of(request) == "html"
    except HttpError:  # a format not offered: the refusal of that is a problem document
        return False


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


def features_response(
    document: dict, target: str, output: str, headers: dict | None = None, status: int = 200
) -> Response:
    """Features as GeoJSON or JSON-FG, with the CRS of their coordinates and their links as headers."""
    return Response(
        orjson.dumps(document),
        status_code=status,
        media_type=MEDIA_TYPES[output],
        headers=with_links({"Content-Crs": f"<{target}>", **(headers or {})}, document),
    )


def geojson_response(document: dict, target: str, status: int = 200, headers: dict | None = None) -> Response:
    return features_response(document, target, "json", headers, status)


@dataclass
class Pages:
    """Pages and links of the service at its base URL; pygeoapi's API object lends templates and locales."""

    api: object

    def base(self) -> str:
        return self.api.base_url.rstrip("/")

    def title(self, request: Request, collection: Collection) -> str:
        return collection.title.get(self.locale(request).language, collection.title["nl"])

    def locale(self, request: Request):
        """The best of the service's languages for the request (lang, then Accept-Language)."""
        lang = request.query_params.get("lang")
        wanted = [lang] if lang else get_choice_from_headers(dict(request.headers), "accept-language", all=True)
        return l10n.best_match(wanted, self.api.locales) if wanted else self.api.locales[0]

    def paths(self, request: Request, collection: Collection, content: dict) -> dict:
        """What the collection templates show besides the document itself."""
        base = self.base()
        return {
            **content,
            "collections_path": f"{base}/collections",
            "id_field": collection.id_field,
            "dataset_path": f"{base}/collections/{collection.name}",
            "title_field": collection.title_field,
            "collection_title": self.title(request, collection),
            "lang": self.locale(request).language,
        }

    def html(self, request: Request, template: str, content: dict, collection: Collection | None = None):
        templates = (
            self.api.get_dataset_templates(collection.name) if collection else self.api.config["server"]["templates"]
        )
        page = render_j2_template(self.api.tpl_config, templates, template, content, self.locale(request))
        return Response(
            page,
            media_type="text/html",
            headers=with_links({"Content-Language": l10n.locale2str(self.locale(request))}, content),
        )

    def error(self, request: Request, error: HttpError, request_id: str | None) -> Response:
        """A refusal as a page, for a browser (the same problem, readable)."""
        content = {"status": error.status, "title": HTTPStatus(error.status).phrase, "detail": str(error),
                   "instance": request_id, "links": []}  # fmt: skip
        response = self.html(request, "error.html", content)
        response.status_code = error.status
        response.headers.update(error.headers)
        return response

    def item_url(self, collection: Collection, feature_id) -> str:
        return f"{self.base()}/collections/{collection.name}/items/{feature_id}"
