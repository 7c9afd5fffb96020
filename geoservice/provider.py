"""The pygeoapi feature provider on top of the store."""
from __future__ import annotations

import functools
import re

import numpy as np
import orjson
import pyproj
import shapely
from pygeoapi.provider.base import (
    BaseProvider,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
)

from .model import COLLECTIONS, Field
from .store import NotFound, Query, open_store

JSON_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "boolean": {"type": "boolean"},
    "integer-list": {"type": "array", "items": {"type": "integer"}},
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def field_schema(f: Field) -> dict:
    """The JSON Schema of a field, with its allowed values."""
    schema = {**JSON_TYPES[f.kind], "title": f.title}
    if f.description:
        schema["description"] = f.description
    if f.values:
        schema["enum"] = list(f.values)
        schema["values"] = list(f.values)
    return schema


@functools.cache
def _transformer(source_wkt: str, target_wkt: str, always_xy: bool) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(pyproj.CRS.from_wkt(source_wkt), pyproj.CRS.from_wkt(target_wkt),
                                       always_xy=always_xy)


@functools.cache
def _decimals(target_wkt: str) -> int:
    """Coordinate precision of the output: about a centimetre."""
    return 7 if pyproj.CRS.from_wkt(target_wkt).is_geographic else 2


def to_output_crs(geometries: np.ndarray, crs_transform_spec) -> np.ndarray:
    """Geometries from storage CRS into the requested CRS, all coordinates at once, rounded."""
    if crs_transform_spec is None:
        return geometries
    transformer = _transformer(crs_transform_spec.source_crs_wkt, crs_transform_spec.target_crs_wkt,
                               crs_transform_spec.always_xy)
    decimals = _decimals(crs_transform_spec.target_crs_wkt)

    def project(coords):
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.round(np.column_stack([x, y]), decimals)

    return shapely.transform(geometries, project)


def geometry_dicts(geometries: np.ndarray) -> list:
    """GeoJSON geometry objects of an array of shapely geometries."""
    return [None if g is None else orjson.loads(g) for g in shapely.to_geojson(geometries)]


def parse_interval(datetime_: str) -> tuple[str | None, str | None]:
    """An OGC datetime (instant or interval, open ends as '..' or empty) as a pair of dates."""
    parts = datetime_.split("/")
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2:
        raise ProviderInvalidQueryError(user_msg=f"datetime: cannot read {datetime_!r}")
    bounds = []
    for part in parts:
        if part in ("", ".."):
            bounds.append(None)
        elif _DATE.match(part):
            bounds.append(part[:10])
        else:
            raise ProviderInvalidQueryError(user_msg=f"datetime: cannot read {part!r}")
    return bounds[0], bounds[1]


class StoreProvider(BaseProvider):
    """Serves one collection of the store (named by the provider's `table`) to pygeoapi."""

    def __init__(self, provider_def: dict):
        super().__init__(provider_def)
        self.collection = COLLECTIONS[provider_def["table"]]
        self.id_field = self.collection.id_field
        self.title_field = self.collection.title_field
        self.store = open_store(self.data)
        self._fields = self.get_fields()

    def get_fields(self) -> dict:
        return {f.name: field_schema(f) for f in self.collection.fields}

    def query(self, offset=0, limit=10, resulttype="results", bbox=None, datetime_=None, properties=None,
              sortby=None, select_properties=None, skip_geometry=False, q=None, filterq=None,
              crs_transform_spec=None, **kwargs) -> dict:
        if q is not None:
            raise ProviderInvalidQueryError(user_msg="q: free-text search is not supported")
        if filterq is not None:
            raise ProviderInvalidQueryError(user_msg="filter: CQL2 filters are not supported by this collection")
        query = Query(
            self.collection.name, offset=offset, limit=limit,
            bbox=tuple(bbox) if bbox else None,
            equals={name: self._typed(name, value) for name, value in properties or []},
            interval=self._interval(datetime_),
            sortby=[(s["property"], s["order"] != "-") for s in sortby or []],
        )
        page = self.store.query(query)
        features = [] if resulttype == "hits" else self._features(page, crs_transform_spec, skip_geometry,
                                                                  select_properties)
        return {"type": "FeatureCollection", "features": features,
                "numberMatched": page.number_matched, "numberReturned": len(features)}

    def get(self, identifier, crs_transform_spec=None, **kwargs) -> dict:
        key = self._typed(self.collection.id_field, identifier) if self.id_field != "id" else _int_id(identifier)
        try:
            page = self.store.get(self.collection.name, key)
        except NotFound:
            raise ProviderItemNotFoundError(user_msg=f"{self.collection.name}/{identifier}: not found") from None
        return self._features(page, crs_transform_spec, False, None)[0]

    def _features(self, page, crs_transform_spec, skip_geometry, select_properties) -> list[dict]:
        if skip_geometry:
            geometries = [None] * len(page.ids)
        else:
            geometries = geometry_dicts(to_output_crs(page.geometries, crs_transform_spec))
        if select_properties:
            wanted = set(select_properties)
            properties = [{k: v for k, v in p.items() if k in wanted} for p in page.properties]
        else:
            properties = page.properties
        return [{"type": "Feature", "id": i, "geometry": g, "properties": p}
                for i, g, p in zip(page.ids, geometries, properties)]

    def _typed(self, name: str, text: str):
        """A query-string value as the field's type; 400 when it cannot be one."""
        f = self.collection.field_map[name]
        try:
            if f.kind == "integer":
                return int(text)
            if f.kind == "number":
                return float(text)
            if f.kind == "boolean":
                return {"true": 1, "false": 0}[text.lower()]
        except (ValueError, KeyError):
            raise ProviderInvalidQueryError(user_msg=f"{name}: {text!r} is not a valid {f.kind}") from None
        if f.kind == "integer-list":
            raise ProviderInvalidQueryError(user_msg=f"{name}: a list field cannot be compared for equality")
        return text

    def _interval(self, datetime_):
        if datetime_ is None:
            return None
        if "start" not in self.collection.field_map:
            raise ProviderInvalidQueryError(user_msg=f"datetime: {self.collection.name} has no time period")
        return parse_interval(datetime_)


def _int_id(identifier) -> int:
    try:
        return int(identifier)
    except (TypeError, ValueError):
        raise ProviderItemNotFoundError(user_msg=f"{identifier}: not found") from None
