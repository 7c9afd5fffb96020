"""The embedded store: one GeoPackage file, read with sqlite3 and shapely (no GDAL).

WAL journal, durable commits (synchronous FULL), one R-tree per table kept by the standard
triggers, and gpkg_contents kept current (extent, time of the last change) with every write.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
import unicodedata
from pathlib import Path

import numpy as np
import orjson
import shapely

from geoservice.domain.model import COLLECTIONS, TABLES, Collection, Field
from geoservice.domain.validation import ValidationError, format_datetime
from geoservice.query.cql2sql import Dialect, Sql
from geoservice.store import changes, counts, gpkg, private
from geoservice.store.base import (
    ADDED_LATER,
    DERIVATION_INDEXES,
    DIMENSION,
    STORAGE_SRID,
    Store,
    column_sql,
    create_derivation_indexes,
    indexed,
    stored_columns,
    with_dimensions,
)

SQL_TYPES = {
    "string": "TEXT",
    "integer": "INTEGER",
    "number": "REAL",
    "date": "DATE",
    "datetime": "DATETIME",
    "boolean": "BOOLEAN",
    "integer-list": "TEXT",
    "object": "TEXT",
    "blob": "BLOB",
    "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",
}
PROGRESS_STEPS = 10_000  # SQLite virtual machine steps between checks of the read budget


class SQLiteDialect(Dialect):
    """Filters in SQLite: R-tree candidates first, then the exact test in shapely."""

    mark = "?"

    def __init__(self, table: str):
        self.table = table

    def value(self, literal):
        if hasattr(literal, "isoformat"):
            return _iso(literal)
        return literal

    def casei(self, sql: Sql) -> Sql:
        return Sql(f"casei({sql.text})", sql.params)

    def spatial(self, op: str, geometry) -> Sql:
        wkb = shapely.to_wkb(geometry)
        if op == "disjoint":
            return Sql("spatial_relation(?, geom, ?)", (op, wkb))
        minx, miny, maxx, maxy = geometry.bounds
        exact = Sql(f'spatial_relation(?, (SELECT geom FROM "{self.table}" WHERE fid = r.id), ?)', (op, wkb))
        inner = inner_rectangle(geometry) if op in ("intersects", "within") else None
        if inner is not None:  # whatever lies in a rectangle inside the geometry needs no exact test
            x0, y0, x1, y1 = inner
            exact = (
                Sql("(r.minx >= ? AND r.maxx <= ? AND r.miny >= ? AND r.maxy <= ? OR ", (x0, x1, y0, y1))
                + exact
                + Sql(")")
            )
        return (
            Sql(
                f'fid IN (SELECT r.id FROM "rtree_{self.table}_geom" r WHERE r.minx <= ? AND r.maxx >= ? '
                "AND r.miny <= ? AND r.maxy >= ? AND ",
                (maxx, minx, maxy, miny),
            )
            + exact
            + Sql(")")
        )


def inner_rectangle(geometry) -> tuple | None:
    """An axis-aligned rectangle inside a polygon that is nearly its own envelope (a box, or a box
    carried over from another CRS), or None."""
    if geometry.geom_type != "Polygon" or geometry.is_empty:
        return None
    envelope = shapely.box(*geometry.bounds)
    margin = envelope.boundary.hausdorff_distance(geometry.boundary)
    inner = envelope.buffer(-margin, join_style="mitre")
    if inner.is_empty or not geometry.contains(inner):
        return None
    return inner.bounds


def _iso(value) -> str:
    return format_datetime(value) if hasattr(value, "hour") else value.isoformat()


@functools.lru_cache(maxsize=256)
def _literal(wkb: bytes):
    """A filter geometry, prepared, with its bounds and whether it is an axis-aligned rectangle."""
    geometry = shapely.from_wkb(wkb)
    shapely.prepare(geometry)
    bounds = geometry.bounds
    rectangle = geometry.geom_type == "Polygon" and geometry.equals(shapely.box(*bounds))
    return geometry, bounds, rectangle


def spatial_relation(op: str, blob: bytes, wkb: bytes) -> int | None:
    """SQL function: does the feature geometry (GeoPackage blob) relate to the literal as op says?"""
    if blob is None:
        return None
    literal, (lminx, lminy, lmaxx, lmaxy), rectangle = _literal(wkb)
    envelope = gpkg.envelope(blob)
    if envelope is not None and op in ("intersects", "disjoint"):
        minx, maxx, miny, maxy = envelope
        if minx > lmaxx or maxx < lminx or miny > lmaxy or maxy < lminy:
            return int(op == "disjoint")
        if rectangle and minx >= lminx and maxx <= lmaxx and miny >= lminy and maxy <= lmaxy:
            return int(op == "intersects")
    feature = gpkg.decode([blob])[0]
    return int(getattr(shapely, op)(feature, literal))


def _casei(text):
    return None if text is None else unicodedata.normalize("NFC", text).casefold()


def connect(path) -> sqlite3.Connection:
    """A connection in autocommit mode, WAL journal, durable commits and the service's SQL functions."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    gpkg.register_functions(conn)
    conn.create_function("spatial_relation", 3, spatial_relation, deterministic=True)
    conn.create_function("casei", 1, _casei, deterministic=True)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA case_sensitive_like = ON")
    return conn


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection):
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error; constraint violations as ValidationError."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except sqlite3.IntegrityError as error:
        conn.execute("ROLLBACK")
        raise ValidationError(str(error)) from None
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class GeoPackageStore(Store):
    """The store in one GeoPackage file."""

    def __init__(self, path: str | os.PathLike):
        super().__init__()
        self.path = Path(path)
        self.location = str(path)
        if not self.path.exists():
            raise FileNotFoundError(f"no store at {self.path}; run `geoservice demo` first")
        self._local = threading.local()
        self._dialects = {name: SQLiteDialect(collection.table) for name, collection in COLLECTIONS.items()}
        self._add_dimensions()
        self._add_change_log()
        self._add_service_tables()
        self._add_derivation_support()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = connect(self.path)
            conn.set_progress_handler(self._over_budget, PROGRESS_STEPS)
        return conn

    def _over_budget(self) -> int:
        """SQLite's progress handler: non-zero stops the statement when the thread's budget is spent."""
        remaining = self._remaining_s()
        return int(remaining is not None and remaining < 0)

    def _timed_out(self, error: Exception) -> bool:
        return isinstance(error, sqlite3.OperationalError) and str(error) == "interrupted"

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def dialect(self, collection: Collection) -> Dialect:
        return self._dialects[collection.name]

    def transaction(self):
        return _transaction(self._connection())

    def read(self, sql: str, params=()) -> list:
        return self._rows(sql, params)

    @contextlib.contextmanager
    def snapshot(self):
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT 1 FROM gpkg_contents LIMIT 1").fetchall()  # the read snapshot starts here
            yield self
        finally:
            conn.execute("COMMIT")

    def extent(self, collection_name: str):
        row = (
            self._connection()
            .execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?", (collection_name,))
            .fetchone()
        )
        return None if row is None or row[0] is None else tuple(row)

    # -- reading -----------------------------------------------------------------------
    def _select(self, collection, where: Sql, order: str, limit: int | None, offset: int) -> list:
        columns = ", ".join(f'"{f.name}"' for f in collection.fields)
        table = collection.table
        # The page is chosen on ids alone, then its rows are read: deep pages skip ids, not rows.
        return (
            self._connection()
            .execute(
                f'SELECT fid, geom, {columns} FROM "{table}" WHERE fid IN (SELECT fid FROM "{table}" '
                f"WHERE {where.text} ORDER BY {order} LIMIT ? OFFSET ?) ORDER BY {order}",
                (*where.params, -1 if limit is None else limit, offset),
            )
            .fetchall()
        )  # SQLite: -1 is no limit

    def _rows(self, sql: str, params) -> list[tuple]:
        return self._connection().execute(sql, params).fetchall()

    def _decode_geometries(self, raw: list) -> np.ndarray:
        return gpkg.decode(raw)

    def _encode_value(self, f: Field, value):
        if f.kind in ("integer-list", "object") and value is not None:
            return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
        return value

    # -- writing -----------------------------------------------------------------------
    def _insert_rows(self, tx, collection, geoms, rows, fids=None) -> list[int]:
        columns = stored_columns(collection)
        names, marks = ", ".join(f'"{n}"' for n in columns), ", ".join("?" * len(columns))
        blobs = gpkg.encode(geoms, STORAGE_SRID)
        if fids is None:
            first = self._last_fid(tx, collection.name)
            fids = list(range(first + 1, first + 1 + len(rows)))
        tx.executemany(
            f'INSERT INTO "{collection.name}" (fid, geom, {names}) VALUES (?, ?, {marks})',
            [(fid, b, *row) for fid, b, row in zip(fids, blobs, with_dimensions(collection, geoms, rows))],
        )
        self.touch(tx, collection.name, geoms)
        return fids

    def _update_row(self, tx, collection, feature_id, geom, row) -> None:
        assignments = ", ".join(f'"{n}" = ?' for n in ["geom", *stored_columns(collection)])
        [row] = with_dimensions(collection, [geom], [row])
        tx.execute(
            f'UPDATE "{collection.name}" SET {assignments} WHERE {self._key(collection)} = ?',
            (gpkg.encode([geom], STORAGE_SRID)[0], *row, feature_id),
        )
        self.touch(tx, collection.name, [geom])

    def _add_dimensions(self) -> None:
        """Stores made before collections were split by geometry family get the dimension column."""
        conn = self._connection()
        for collection in TABLES.values():
            columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{collection.name}")')}
            if not collection.mixed or DIMENSION in columns:
                continue
            with _transaction(conn):
                conn.execute(f'ALTER TABLE "{collection.name}" ADD COLUMN "{DIMENSION}" INTEGER')
                rows = conn.execute(f'SELECT fid, geom FROM "{collection.name}"').fetchall()
                dimensions = shapely.get_dimensions(gpkg.decode([geom for _, geom in rows])).tolist()
                conn.executemany(
                    f'UPDATE "{collection.name}" SET "{DIMENSION}" = ? WHERE fid = ?',
                    [(dimension, fid) for (fid, _), dimension in zip(rows, dimensions)],
                )
                _index_dimension(conn, collection)

    def _add_change_log(self) -> None:
        """Stores made before writes were announced get the change log."""
        conn = self._connection()
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (changes.TABLE,)).fetchall():
            with _transaction(conn):
                _create_change_log(conn)

    def _add_service_tables(self) -> None:
        """Stores made before webhooks or several workers get the tables those need."""
        conn = self._connection()
        for tables in ADDED_LATER:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (tables.NAMES[0],)).fetchall():
                with _transaction(conn):
                    tables.create_tables(conn, SQL_TYPES)

    def _add_derivation_support(self) -> None:
        """Stores made before derived data followed the change log get its indexes and row counts."""
        conn = self._connection()
        present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        missing = [name for name in DERIVATION_INDEXES if name not in present]
        if missing:
            with _transaction(conn):
                create_derivation_indexes(conn, missing)
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (counts.TABLE,)).fetchall():
            with _transaction(conn):
                counts.create(conn, counts.sqlite_triggers)

    def _delete_row(self, tx, collection, feature_id) -> None:
        tx.execute(f'DELETE FROM "{collection.name}" WHERE {self._key(collection)} = ?', (feature_id,))
        self.touch(tx, collection.name, [])

    @staticmethod
    def _last_fid(conn, table: str) -> int:
        """The largest fid ever given out in a table: new rows follow it (AUTOINCREMENT)."""
        row = conn.execute(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), "
            f'coalesce((SELECT max(fid) FROM "{table}"), 0))',
            (table,),
        ).fetchone()
        return row[0]

    def continue_ids(self, tx) -> None:
        """New ids follow the largest already (AUTOINCREMENT does so by itself)."""

    def lock_row(self, tx, table: str, key: str, value) -> bool:
        # BEGIN IMMEDIATE holds the whole file against other writers already
        return tx.execute(f'SELECT 1 FROM "{table}" WHERE {key} = ?', (value,)).fetchone() is not None

    def touch(self, tx, table: str, geoms) -> None:
        """Keep gpkg_contents current (time of the last change, extent), in the writing transaction."""
        tx.execute(
            "UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE table_name = ?",
            (table,),
        )
        if len(geoms):
            minx, miny, maxx, maxy = shapely.total_bounds(geoms)
            tx.execute(
                "UPDATE gpkg_contents SET min_x = min(coalesce(min_x, ?), ?), "
                "min_y = min(coalesce(min_y, ?), ?), max_x = max(coalesce(max_x, ?), ?), "
                "max_y = max(coalesce(max_y, ?), ?) WHERE table_name = ?",
                (minx, minx, miny, miny, maxx, maxx, maxy, maxy, table),
            )


def _create_change_log(conn) -> None:
    """The change log, registered as an attribute table (so GDAL lists the feature tables and it,
    not the private tables beside them)."""
    changes.create_table(conn, SQL_TYPES)
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES (?, 'attributes', ?, ?)",
        (changes.TABLE, changes.TABLE, "Wijzigingen: elke schrijfactie, met de gebieden die ze raakte"),
    )


def _index_dimension(conn, collection: Collection) -> None:
    conn.execute(f'CREATE INDEX "idx_{collection.name}_{DIMENSION}" ON "{collection.name}" ("{DIMENSION}")')


def create(path: str | os.PathLike) -> GeoPackageStore:
    """A new, empty store: a GeoPackage with one table per collection of the domain model."""
    conn = connect(path)
    with _transaction(conn):
        gpkg.initialise(conn)
        for collection in TABLES.values():
            columns = ", ".join(column_sql(collection, f, SQL_TYPES) for f in collection.fields)
            if collection.mixed:
                columns += f', "{DIMENSION}" INTEGER'
            gpkg.create_feature_table(
                conn,
                collection.name,
                columns,
                collection.storage_geometry_type,
                STORAGE_SRID,
                collection.description["nl"],
            )
            for f in collection.fields:
                if indexed(f):
                    conn.execute(f'CREATE INDEX "idx_{collection.name}_{f.name}" ON "{collection.name}" ("{f.name}")')
            if collection.mixed:
                _index_dimension(conn, collection)
        private.create_tables(conn, SQL_TYPES)
        _create_change_log(conn)
        create_derivation_indexes(conn)
        counts.create(conn, counts.sqlite_triggers)
    conn.close()
    return GeoPackageStore(path)
