"""Persistence behind one interface; the embedded backend is a GeoPackage file.

A store holds the four collections in EPSG:28992. Reads return columns (ids, properties,
shapely geometries) so that callers can work vectorised; writes validate against the domain
model and run as one transaction each.
"""
from __future__ import annotations

import datetime as dt
import functools
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import shapely

from . import gpkg
from .model import COLLECTIONS, Collection, Field
from .validation import ValidationError, check_geometries, check_properties, check_transition, format_datetime

STORAGE_SRID = 28992
SQL_TYPES = {"string": "TEXT", "integer": "INTEGER", "number": "REAL", "date": "DATE",
             "datetime": "DATETIME", "boolean": "BOOLEAN", "integer-list": "TEXT"}


class NotFound(KeyError):
    """No feature with that id in that collection."""


@dataclass
class Query:
    """What to select from a collection. bbox is (minx, miny, maxx, maxy) in the storage CRS."""

    collection: str
    offset: int = 0
    limit: int = 100
    bbox: tuple[float, float, float, float] | None = None
    equals: dict = field(default_factory=dict)
    interval: tuple[str | None, str | None] | None = None
    sortby: list[tuple[str, bool]] = field(default_factory=list)
    published_only: bool = True


@dataclass
class Page:
    """Selected features as columns, and how many matched in all."""

    ids: list
    properties: list[dict]
    geometries: np.ndarray
    number_matched: int


def _decode_value(f: Field, value):
    if f.kind == "integer-list" and value is not None:
        return orjson.loads(value)
    if f.kind == "boolean" and value is not None:
        return bool(value)
    return value


def _encode_value(f: Field, value):
    if f.kind == "integer-list" and value is not None:
        return orjson.dumps(value).decode()
    return value


def normalise(collection: Collection, geometries) -> np.ndarray:
    """Geometries as the table stores them: areas always MultiPolygon."""
    geoms = np.asarray(geometries, dtype=object)
    if collection.storage_geometry_type == "MULTIPOLYGON":
        single = shapely.get_type_id(geoms) == 3
        geoms = geoms.copy()
        geoms[single] = [shapely.MultiPolygon([g]) for g in geoms[single]]
    return geoms


class GeoPackageStore:
    """The store in one GeoPackage file: WAL mode, durable commits, one R-tree per table."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"no store at {self.path}; run `geoservice demo` or `geoservice import`")
        self._local = threading.local()
        self._areas = None
        self._areas_version = None

    # -- connections -------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
        return conn

    def _write(self):
        """A transaction that holds the write lock from its start."""
        return _Transaction(self._connection())

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- reading -----------------------------------------------------------------------
    def query(self, q: Query) -> Page:
        collection = COLLECTIONS[q.collection]
        where, params = self._where(collection, q)
        order = self._order(collection, q.sortby)
        conn = self._connection()
        if q.bbox is None:
            matched = conn.execute(f'SELECT count(*) FROM "{collection.name}" WHERE {where}', params).fetchone()[0]
            rows = conn.execute(f'SELECT {self._columns(collection)} FROM "{collection.name}" '
                                f'WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?',
                                (*params, q.limit, q.offset)).fetchall()
            return self._page(collection, rows, matched)
        fids = self._bbox_fids(collection, q.bbox, where, params, order)
        page_fids = fids[q.offset:q.offset + q.limit]
        return self._page(collection, self._rows_by_fid(collection, page_fids), len(fids))

    def get(self, collection_name: str, feature_id, published_only: bool = True) -> Page:
        collection = COLLECTIONS[collection_name]
        where, params = self._where(collection, Query(collection_name, published_only=published_only))
        key = "fid" if collection.id_field == "id" else collection.id_field
        row = self._connection().execute(
            f'SELECT {self._columns(collection)} FROM "{collection.name}" WHERE {key} = ? AND {where}',
            (feature_id, *params)).fetchone()
        if row is None:
            raise NotFound(f"{collection_name}/{feature_id}")
        return self._page(collection, [row], 1)

    def extent(self, collection_name: str):
        """(minx, miny, maxx, maxy) of a collection in the storage CRS, None when empty."""
        row = self._connection().execute(
            "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?",
            (collection_name,)).fetchone()
        return None if row is None or row[0] is None else tuple(row)

    def count(self, collection_name: str) -> int:
        return self._connection().execute(f'SELECT count(*) FROM "{collection_name}"').fetchone()[0]

    def areas(self):
        """(buurtcodes, wijkcodes, STRtree of buurt geometries, municipality boundary), cached."""
        version = self._connection().execute(
            "SELECT last_change FROM gpkg_contents WHERE table_name = 'buurten'").fetchone()[0]
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

    @staticmethod
    def _columns(collection: Collection) -> str:
        names = ", ".join(f'"{f.name}"' for f in collection.fields)
        return f"fid, geom, {names}"

    @staticmethod
    def _where(collection: Collection, q: Query) -> tuple[str, list]:
        clauses, params = ["1"], []
        for name, value in q.equals.items():
            clauses.append(f'"{name}" = ?')
            params.append(_encode_value(collection.field_map[name], value))
        if q.published_only:
            for name, hidden in collection.hidden.items():
                clauses.append(f'"{name}" NOT IN ({", ".join("?" * len(hidden))})')
                params.extend(hidden)
        if q.interval is not None:
            begin, end = q.interval
            if end is not None:
                clauses.append('"start" <= ?')
                params.append(end)
            if begin is not None:
                clauses.append('"eind" >= ?')
                params.append(begin)
        return " AND ".join(clauses), params

    @staticmethod
    def _order(collection: Collection, sortby) -> str:
        keys = [f'"{name}" {"ASC" if ascending else "DESC"}' for name, ascending in sortby]
        return ", ".join([*keys, "fid"])

    def _bbox_fids(self, collection, bbox, where, params, order) -> list[int]:
        """Ids of features that really intersect the box, in order: R-tree first, exact test second."""
        minx, miny, maxx, maxy = bbox
        t = collection.name
        rows = self._connection().execute(
            f'SELECT t.fid, (r.minx >= ? AND r.maxx <= ? AND r.miny >= ? AND r.maxy <= ?) '
            f'FROM "{t}" t JOIN "rtree_{t}_geom" r ON r.id = t.fid '
            f'WHERE r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ? AND {where} '
            f'ORDER BY {order}',
            (minx, maxx, miny, maxy, maxx, minx, maxy, miny, *params)).fetchall()
        if not rows:
            return []
        fids = np.array([r[0] for r in rows], dtype=np.int64)
        inside = np.array([bool(r[1]) for r in rows])
        edge = fids[~inside]
        if len(edge):
            geoms = self._geometries_by_fid(t, edge)
            box = shapely.box(minx, miny, maxx, maxy)
            inside[~inside] = shapely.intersects(box, geoms)
        return fids[inside].tolist()

    def _geometries_by_fid(self, table: str, fids) -> np.ndarray:
        conn = self._connection()
        by_fid = {}
        for chunk in _chunks(fids, 30_000):
            marks = ",".join("?" * len(chunk))
            by_fid.update(conn.execute(f'SELECT fid, geom FROM "{table}" WHERE fid IN ({marks})',
                                       [int(f) for f in chunk]).fetchall())
        return gpkg.decode([by_fid[int(f)] for f in fids])

    def _rows_by_fid(self, collection: Collection, fids: list[int]) -> list:
        if not fids:
            return []
        marks = ",".join("?" * len(fids))
        rows = self._connection().execute(
            f'SELECT {self._columns(collection)} FROM "{collection.name}" WHERE fid IN ({marks})', fids)
        by_fid = {row[0]: row for row in rows}
        return [by_fid[f] for f in fids]

    @staticmethod
    def _page(collection: Collection, rows, matched: int) -> Page:
        fields = collection.fields
        properties = [{f.name: _decode_value(f, v) for f, v in zip(fields, row[2:])} for row in rows]
        if collection.id_field == "id":
            ids = [row[0] for row in rows]
        else:
            ids = [p[collection.id_field] for p in properties]
        return Page(ids, properties, gpkg.decode([row[1] for row in rows]), matched)

    # -- writing -----------------------------------------------------------------------
    def insert(self, collection_name: str, features: list[tuple[dict, object]]) -> list:
        """Validate and store new features [(properties, geometry)]; all or nothing. Returns their ids."""
        collection = COLLECTIONS[collection_name]
        props = [check_properties(collection, p) for p, _ in features]
        geoms = self._checked_geometries(collection, [g for _, g in features])
        self._derive(collection, props, geoms)
        names = [f.name for f in collection.fields]
        sql = (f'INSERT INTO "{collection.name}" (geom, {", ".join(map(_quote, names))}) '
               f'VALUES (?, {", ".join("?" * len(names))})')
        blobs = gpkg.encode(geoms, STORAGE_SRID)
        try:
            with self._write() as conn:
                first = self._last_fid(conn, collection.name)
                conn.executemany(sql, [(b, *self._row(collection, p)) for b, p in zip(blobs, props)])
                self._touch(conn, collection.name, geoms)
        except sqlite3.IntegrityError as error:
            raise ValidationError(f"{collection.name}: {error}") from None
        if collection.id_field == "id":
            return list(range(first + 1, first + 1 + len(props)))
        return [p[collection.id_field] for p in props]

    def replace(self, collection_name: str, feature_id, properties: dict, geometry) -> None:
        """Replace one feature whole, keeping the lifecycle rules of the domain."""
        collection = COLLECTIONS[collection_name]
        props = check_properties(collection, properties)
        geoms = self._checked_geometries(collection, [geometry])
        current = self.get(collection_name, feature_id, published_only=False).properties[0]
        check_transition(collection, current, props)
        self._derive(collection, [props], geoms)
        names = [f.name for f in collection.fields]
        assignments = ", ".join(f"{_quote(n)} = ?" for n in ["geom", *names])
        with self._write() as conn:
            conn.execute(f'UPDATE "{collection.name}" SET {assignments} WHERE {self._key(collection)} = ?',
                         (gpkg.encode(geoms, STORAGE_SRID)[0], *self._row(collection, props), feature_id))
            self._touch(conn, collection.name, geoms)

    def delete(self, collection_name: str, feature_id) -> None:
        collection = COLLECTIONS[collection_name]
        with self._write() as conn:
            deleted = conn.execute(f'DELETE FROM "{collection.name}" WHERE {self._key(collection)} = ?',
                                   (feature_id,)).rowcount
            if not deleted:
                raise NotFound(f"{collection_name}/{feature_id}")
            self._touch(conn, collection.name, [])

    @staticmethod
    def _last_fid(conn, table: str) -> int:
        """The largest fid ever given out in a table: new rows follow it (AUTOINCREMENT)."""
        row = conn.execute("SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), "
                           f'coalesce((SELECT max(fid) FROM "{table}"), 0))', (table,)).fetchone()
        return row[0]

    @staticmethod
    def _key(collection: Collection) -> str:
        return "fid" if collection.id_field == "id" else _quote(collection.id_field)

    def _checked_geometries(self, collection: Collection, geometries) -> np.ndarray:
        geoms = normalise(collection, geometries)
        boundary = None if collection.storage_geometry_type == "MULTIPOLYGON" else self.areas()[3]
        if boundary is None and collection.name in ("projecten", "voorstellen"):
            raise ValidationError("the store has no buurten yet: load the boundaries first")
        check_geometries(collection, geoms, boundary)
        return geoms

    def _derive(self, collection: Collection, props: list[dict], geoms) -> None:
        """Fill in the fields the service computes: location codes, area, time of the change."""
        now = format_datetime(dt.datetime.now(dt.UTC))
        fields = collection.field_map
        if "buurtcode" in fields and fields["buurtcode"].derived:
            buurtcodes, wijkcodes = self.locate(geoms)
            for p, b, w in zip(props, buurtcodes, wijkcodes):
                p["buurtcode"], p["wijkcode"] = b, w
        if "oppervlakte_ha" in fields:
            for p, area in zip(props, shapely.area(geoms)):
                p["oppervlakte_ha"] = round(float(area) / 10_000, 2)
        if "bijgewerkt" in fields:
            for p in props:
                p["bijgewerkt"] = now

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

    @staticmethod
    def _row(collection: Collection, props: dict) -> list:
        return [_encode_value(f, props.get(f.name)) for f in collection.fields]

    @staticmethod
    def _touch(conn, table: str, geoms) -> None:
        """Keep gpkg_contents current: time of the last change and the extent of the table."""
        conn.execute("UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                     "WHERE table_name = ?", (table,))
        if len(geoms):
            minx, miny, maxx, maxy = shapely.total_bounds(geoms)
            conn.execute("UPDATE gpkg_contents SET min_x = min(coalesce(min_x, ?), ?), "
                         "min_y = min(coalesce(min_y, ?), ?), max_x = max(coalesce(max_x, ?), ?), "
                         "max_y = max(coalesce(max_y, ?), ?) WHERE table_name = ?",
                         (minx, minx, miny, miny, maxx, maxx, maxy, maxy, table))


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind, value, traceback):
        self.conn.execute("ROLLBACK" if kind else "COMMIT")
        return False


def _quote(name: str) -> str:
    return f'"{name}"'


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def connect(path) -> sqlite3.Connection:
    """A connection in autocommit mode, WAL journal, durable commits and the GeoPackage functions."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    gpkg.register_functions(conn)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def create(path: str | os.PathLike) -> GeoPackageStore:
    """A new, empty store: a GeoPackage with one table per collection of the domain model."""
    conn = connect(path)
    with _Transaction(conn):
        gpkg.initialise(conn)
        for collection in COLLECTIONS.values():
            columns = ", ".join(_column_sql(collection, f) for f in collection.fields)
            description = collection.description["nl"]
            gpkg.create_feature_table(conn, collection.name, columns, collection.storage_geometry_type,
                                      STORAGE_SRID, description)
            for f in collection.fields:
                if f.values or f.name in ("wijkcode", "buurtcode", "planjaar"):
                    conn.execute(f'CREATE INDEX "idx_{collection.name}_{f.name}" '
                                 f'ON "{collection.name}" ("{f.name}")')
    conn.close()
    return GeoPackageStore(path)


def _column_sql(collection: Collection, f: Field) -> str:
    unique = " UNIQUE" if f.name == collection.id_field else ""
    not_null = " NOT NULL" if f.required and not f.derived else ""
    return f'"{f.name}" {SQL_TYPES[f.kind]}{not_null}{unique}'


@functools.cache
def open_store(location: str) -> GeoPackageStore:
    """The store at a location (a GeoPackage path), shared by everything in the process."""
    return GeoPackageStore(location)
