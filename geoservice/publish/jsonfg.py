"""OGC Features and Geometries JSON (JSON-FG 0.2): GeoJSON with the feature type, the time of each
feature, and its `place` in the requested CRS (RD New, ...) beside the CRS84 `geometry`."""

from __future__ import annotations

import numpy as np
import orjson
import shapely

from geoservice.domain.model import Collection
from geoservice.query import crs
from geoservice.store import Page

CONFORMS_TO = ["http://www.opengis.net/spec/json-fg-1/0.2/conf/core"]


def time_of(collection: Collection, properties: dict) -> dict | None:
    """The feature's time: the interval between a collection's start and end, or its instant."""
    values = [properties.get(name) for name in collection.temporal]
    if not values or all(v is None for v in values):
        return None
    if len(values) == 2:
        return {"interval": [v or ".." for v in values]}
    [value] = values
    return {"date": value} if len(value) == 10 else {"timestamp": value}


def places(page: Page, target_crs: str, skip_geometry: bool) -> list:
    """The geometries in the requested CRS as `place`, or null where `geometry` says it (CRS84)."""
    if skip_geometry or target_crs == crs.CRS84:
        return [None] * len(page.ids)
    texts = shapely.to_geojson(crs.from_storage(page.geometries, target_crs))
    return [orjson.Fragment(t) for t in np.atleast_1d(texts)]


def features(
    collection: Collection, page: Page, geojson_features: list[dict], target_crs: str, skip_geometry: bool
) -> list[dict]:
    """GeoJSON features (geometry in CRS84) as JSON-FG features of the collection."""
    return [
        {
            "type": "Feature",
            "id": f["id"],
            "featureType": collection.name,
            "time": time_of(collection, properties),
            "place": place,
            "geometry": f["geometry"],
            "properties": f["properties"],
        }
        for f, properties, place in zip(geojson_features, page.properties, places(page, target_crs, skip_geometry))
    ]


def document(collection: Collection, target_crs: str, body: dict) -> dict:
    """A FeatureCollection or Feature with what JSON-FG adds at its top."""
    head = {"type": body["type"], "conformsTo": CONFORMS_TO, "featureType": collection.name}
    if target_crs != crs.CRS84:
        head["coordRefSys"] = target_crs
    return {**head, **body}
