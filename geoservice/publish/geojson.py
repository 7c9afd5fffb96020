"""Pages of the store as GeoJSON: features, links and the FeatureCollection, serialised by orjson
with geometries written by shapely (vectorised) and passed through as JSON fragments."""

from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
import orjson
import shapely

from geoservice.query import crs
from geoservice.query.params import cursor
from geoservice.store import Page

GEOJSON = "application/geo+json"
JSONFG = "application/vnd.ogc.fg+json"


def features(
    page: Page, target_crs: str, properties: list[str] | None = None, skip_geometry: bool = False
) -> list[dict]:
    """The page's features as dicts, geometries in target_crs as JSON fragments."""
    if skip_geometry:
        geometries = [None] * len(page.ids)
    else:
        texts = shapely.to_geojson(crs.from_storage(page.geometries, target_crs))
        geometries = [None if t is None else orjson.Fragment(t) for t in np.atleast_1d(texts)]
    if properties is None:
        props = page.properties
    else:
        props = [{name: p[name] for name in properties} for p in page.properties]
    return [
        {"type": "Feature", "id": i, "geometry": g, "properties": p} for i, g, p in zip(page.ids, geometries, props)
    ]


def link(href: str, rel: str, media_type: str, title: str) -> dict:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def href(base: str, params: dict) -> str:
    """A URL with query parameters, in a stable order."""
    return f"{base}?{urlencode(params)}" if params else base


FORMATS = {"json": (GEOJSON, "GeoJSON"), "jsonfg": (JSONFG, "JSON-FG"), "html": ("text/html", "HTML")}


def page_links(
    items_url: str,
    params: dict,
    offset: int,
    limit: int,
    returned: int,
    matched: int,
    output: str = "json",
    after: int | None = None,
) -> list[dict]:
    """self, alternate, collection, next and prev links of a page of items (in the format of the page),
    keeping the other parameters. after: the page's last feature, when the next page continues
    after it (a cursor) rather than at an offset."""
    rest = {k: v for k, v in params.items() if k not in ("f", "offset", "cursor")}
    here = {"cursor": params["cursor"]} if "cursor" in params else {"offset": offset}
    media_type, _ = FORMATS[output]
    links = [link(href(items_url, {**rest, "f": output, **here}), "self", media_type, "Deze pagina")]
    links += [
        link(href(items_url, {**rest, "f": other, **here}), "alternate", other_type, f"Deze pagina als {label}")
        for other, (other_type, label) in FORMATS.items()
        if other != output
    ]
    links.append(link(items_url.rsplit("/", 1)[0], "collection", "application/json", "De collectie"))
    following = {"cursor": cursor(after)} if after is not None else {"offset": offset + limit}
    if after is not None or ("cursor" not in params and offset + returned < matched):
        links.append(link(href(items_url, {**rest, "f": output, **following}), "next", media_type, "Volgende pagina"))
    if offset > 0:
        previous = {**rest, "f": output, "offset": max(0, offset - limit)}
        links.append(link(href(items_url, previous), "prev", media_type, "Vorige pagina"))
    return links


def feature_collection(page: Page, feature_list: list[dict], links: list[dict]) -> dict:
    return {
        "type": "FeatureCollection",
        "numberMatched": page.number_matched,
        "numberReturned": len(feature_list),
        "links": links,
        "features": feature_list,
    }
