"""The store interface and what every backend shares: validation, derived fields, counting.

A store holds the collections of the domain model in EPSG:28992. Reads return columns (ids,
properties, shapely geometries) so that callers work vectorised; writes validate against the
domain model and run as one transaction each. Backends implement the primitives at the bottom.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import orjson
import shapely

from ..cql2sql import Dialect, Sql, to_sql
from ..filters import all_of, published
from ..model import COLLECTIONS, Collection, Field
from ..validation import ValidationError, check_geometries, check_properties, check_transition, format_datetime

STORAGE_SRID = 28992
COUNT_CACHE_SIZE = 512


class NotFound(KeyError):
    """No feature with that id in that collection."""


@dataclass
class Query:
    """What to select from a collection: a filter (pygeofilter nodes, geometries in the storage
    CRS), the order as [(field, ascending)], and the page."""

    collection: str
    filter: object = None
    sortby: list[tuple[str, bool]] = field(default_factory=list)
    offset: int = 0
    limit: int = 100
    published_only: bool = True


@dataclass
class Page:
    """Selected features as columns, and how many matched in all."""

    ids: list
    properties: list[dict]
    geometries: np.ndarray
    number_matched: int


DECODED_KINDS = ("integer-list", "boolean", "date", "datetime")


def decode_value(f: Field, value):
    """A stored value as the API shows it, the same from every backend."""
    if value is None:
        return None
    if f.kind == "integer-list":
        return orjson.loads(value) if isinstance(value, (str, bytes)) else list(value)
    if f.kind == "boolean":
        return bool(value)
    if f.kind == "datetime" and isinstance(value, dt.datetime):
        return format_datetime(value)
    if f.kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    return value


def column_sql(collection: Collection, f: Field, types: dict) -> str:
    """The column definition of a field, with the backend's type names."""
    unique = " UNIQUE" if f.name == collection.id_field else ""
    not_null = " NOT NULL" if f.required and not f.derived else ""
    return f'"{f.name}" {types[f.kind]}{not_null}{unique}'


def indexed(f: Field) -> bool:
    """Fields worth an index: the ones filtered on most."""
    return bool(f.values) or f.name in ("wijkcode", "buurtcode", "planjaar")


def normalise(collection: Collection, geometries) -> np.ndarray:
    """Geometries as the table stores them: areas always MultiPolygon."""
    geoms = np.asarray(geometries, dtype=object)
    if collection.storage_geometry_type == "MULTIPOLYGON":
        single = shapely.get_type_id(geoms) == 3
        geoms = geoms.copy()
        geoms[single] = [shapely.MultiPolygon([g]) for g in geoms[single]]
    return geoms


class Store:
    """Reading, writing and deriving, on top of a backend's primitives."""

    def __init__(self):
        self._areas = None
        self._areas_version = None
        self._counts: OrderedDict = OrderedDict()
        self._counts_lock = threading.Lock()

    # -- reading -----------------------------------------------------------------------
    def query(self, q: Query) -> Page:
        collection = COLLECTIONS[q.collection]
        where = self._where(collection, q.filter, q.published_only)
        order = ", ".join([*(f'"{name}" {"ASC" if asc else "DESC"}' for name, asc in q.sortby), "fid"])
        rows = self._select(collection, where, order, q.limit, q.offset) if q.limit > 0 else []
        if q.offset == 0 and len(rows) < q.limit:
            matched = len(rows)
        else:
            matched = self._cached_count(collection, where)
        return self._page(collection, rows, matched)

    def get(self, collection_name: str, feature_id, published_only: bool = True) -> Page:
        """One feature by id; NotFound when it is not there (or not public)."""
        collection = COLLECTIONS[collection_name]
        key = Sql(f"{self._key(collection)} = {self.dialect(collection).mark}", (feature_id,))
        where = self._where(collection, None, published_only)
        rows = self._select(collection, Sql("(") + key + Sql(" AND ") + where + Sql(")"), "fid", 1, 0)
        if not rows:
            raise NotFound(f"{collection_name}/{feature_id}")
        return self._page(collection, rows, 1)

    def count(self, collection_name: str) -> int:
        """All features of a collection, public or not."""
        return self.query(Query(collection_name, limit=0, published_only=False)).number_matched

    def _where(self, collection: Collection, filter_, published_only: bool) -> Sql:
        visible = published(collection) if published_only else None
        return to_sql(all_of(filter_, visible), self.dialect(collection))

    def _cached_count(self, collection: Collection, where: Sql) -> int:
        """numberMatched, counted once per filter and version of the table."""
        key = (collection.name, where.text, where.params)
        version = self._version(collection.name)
        with self._counts_lock:
            cached = self._counts.get(key)
            if cached is not None and cached[0] == version:
                self._counts.move_to_end(key)
                return cached[1]
        matched = self._count(collection, where)
        with self._counts_lock:
            self._counts[key] = (version, matched)
            while len(self._counts) > COUNT_CACHE_SIZE:
                self._counts.popitem(last=False)
        return matched

    def _page(self, collection: Collection, rows, matched: int) -> Page:
        names = [f.name for f in collection.fields]
        properties = [dict(zip(names, row[2:])) for row in rows]
        for f in collection.fields:
            if f.kind in DECODED_KINDS:
                for p in properties:
                    p[f.name] = decode_value(f, p[f.name])
        if collection.id_field == "id":
            ids = [row[0] for row in rows]
        else:
            ids = [p[collection.id_field] for p in properties]
        return Page(ids, properties, self._decode_geometries([row[1] for row in rows]), matched)

    @staticmethod
    def _key(collection: Collection) -> str:
        return "fid" if collection.id_field == "id" else f'"{collection.id_field}"'

    # -- areas -------------------------------------------------------------------------
    def areas(self):
        """(buurtcodes, wijkcodes, STRtree of buurt geometries, municipality boundary), cached."""
        version = self._version("buurten")
        if self._areas is None or self._areas_version != version:
            page = self.query(Query("buurten", limit=1_000_000))
            geoms = page.geometries
            codes = np.array([p["buurtcode"] for p in page.properties], dtype=object)
            wijken = np.array([p["wijkcode"] for p in page.properties], dtype=object)
            boundary = shapely.union_all(geoms).buffer(0.5) if len(geoms) else None
            if boundary is not None:
                shapely.prepare(boundary)
            self._areas = codes, wijken, shapely.STRtree(geoms), boundary
            self._areas_version = version
        return self._areas

    def locate(self, geoms) -> tuple[list, list]:
        """Buurtcode and wijkcode of each geometry: the buurt holding its representative point."""
        codes, wijken, tree, _ = self.areas()
        points = shapely.point_on_surface(np.asarray(geoms, dtype=object))
        geom_index, area_index = tree.query(points, predicate="intersects")
        first = np.full(len(points), -1)
        first[geom_index[::-1]] = area_index[::-1]
        if (first < 0).any():
            raise ValidationError("geometry: not inside any buurt")
        return codes[first].tolist(), wijken[first].tolist()

    # -- writing -----------------------------------------------------------------------
    def insert(self, collection_name: str, features: list[tuple[dict, object]]) -> list:
        """Validate and store new features [(properties, geometry)]; all or nothing. Returns their ids."""
        collection = COLLECTIONS[collection_name]
        props = [check_properties(collection, p) for p, _ in features]
        geoms = self._checked_geometries(collection, [g for _, g in features])
        self._derive(collection, props, geoms)
        fids = self._insert_rows(collection, geoms, [self._row(collection, p) for p in props])
        if collection.id_field == "id":
            return fids
        return [p[collection.id_field] for p in props]

    def replace(self, collection_name: str, feature_id, properties: dict, geometry) -> None:
        """Replace one feature whole, keeping the lifecycle rules of the domain."""
        collection = COLLECTIONS[collection_name]
        props = check_properties(collection, properties)
        geoms = self._checked_geometries(collection, [geometry])
        current = self.get(collection_name, feature_id, published_only=False).properties[0]
        check_transition(collection, current, props)
        self._derive(collection, [props], geoms)
        if not self._update_row(collection, feature_id, geoms[0], self._row(collection, props)):
            raise NotFound(f"{collection_name}/{feature_id}")

    def update(self, collection_name: str, feature_id, properties: dict, geometry=None) -> None:
        """Change some properties (None removes a value) and optionally the geometry."""
        current = self.get(collection_name, feature_id, published_only=False)
        if not isinstance(properties, dict):
            raise ValidationError("properties: expected an object")
        merged = {**current.properties[0], **properties}
        self.replace(collection_name, feature_id, merged,
                     current.geometries[0] if geometry is None else geometry)

    def delete(self, collection_name: str, feature_id) -> None:
        if not self._delete_row(COLLECTIONS[collection_name], feature_id):
            raise NotFound(f"{collection_name}/{feature_id}")

    def _checked_geometries(self, collection: Collection, geometries) -> np.ndarray:
        geoms = normalise(collection, geometries)
        boundary = None
        if collection.storage_geometry_type != "MULTIPOLYGON":
            boundary = self.areas()[3]
            if boundary is None:
                raise ValidationError("the store has no buurten yet: load the boundaries first")
        check_geometries(collection, geoms, boundary)
        return geoms

    def _derive(self, collection: Collection, props: list[dict], geoms) -> None:
        """Fill in the fields the service computes: location codes, area, time of the change."""
        fields = collection.field_map
        if "buurtcode" in fields and fields["buurtcode"].derived:
            buurtcodes, wijkcodes = self.locate(geoms)
            for p, b, w in zip(props, buurtcodes, wijkcodes):
                p["buurtcode"], p["wijkcode"] = b, w
        if "oppervlakte_ha" in fields:
            for p, area in zip(props, shapely.area(geoms)):
                p["oppervlakte_ha"] = round(float(area) / 10_000, 2)
        if "bijgewerkt" in fields:
            now = format_datetime(dt.datetime.now(dt.UTC))
            for p in props:
                p["bijgewerkt"] = now

    def _row(self, collection: Collection, props: dict) -> list:
        return [self._encode_value(f, props.get(f.name)) for f in collection.fields]

    # -- what a backend provides ---------------------------------------------------------
    location: str  # the GeoPackage path or database URL, as open_store takes it

    def dialect(self, collection: Collection) -> Dialect:
        """How filters on this collection are written in the backend's SQL."""
        raise NotImplementedError

    def extent(self, collection_name: str):
        """(minx, miny, maxx, maxy) of a collection in the storage CRS, None when empty."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _select(self, collection: Collection, where: Sql, order: str, limit: int, offset: int) -> list:
        """Rows (fid, geometry, *fields in model order)."""
        raise NotImplementedError

    def _count(self, collection: Collection, where: Sql) -> int:
        raise NotImplementedError

    def _version(self, table: str):
        """Changes whenever the table changes (for caches)."""
        raise NotImplementedError

    def _decode_geometries(self, raw: list) -> np.ndarray:
        raise NotImplementedError

    def _encode_value(self, f: Field, value):
        raise NotImplementedError

    def _insert_rows(self, collection: Collection, geoms, rows: list[list]) -> list[int]:
        """Insert in one transaction; the new fids."""
        raise NotImplementedError

    def _update_row(self, collection: Collection, feature_id, geom, row: list) -> bool:
        raise NotImplementedError

    def _delete_row(self, collection: Collection, feature_id) -> bool:
        raise NotImplementedError
