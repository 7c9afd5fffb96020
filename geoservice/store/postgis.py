"""The scale-out store: PostgreSQL with PostGIS, shared by any number of service processes.

One schema (default `wijkplan`) holds a table per collection with a GiST index, and the version
counter per table. Connections come from a pool; every write is one transaction.
"""
from __future__ import annotations

import numpy as np
import psycopg
import shapely
from psycopg import sql
from psycopg_pool import ConnectionPool

from ..cql2sql import Dialect, Sql
from ..model import COLLECTIONS, Collection, Field
from ..validation import ValidationError
from .base import STORAGE_SRID, Store, column_sql, indexed

SQL_TYPES = {"string": "text", "integer": "bigint", "number": "double precision", "date": "date",
             "datetime": "timestamptz", "boolean": "boolean", "integer-list": "bigint[]"}
VERSIONS_TABLE = "wijkplan_versies"
DEFAULT_SCHEMA = "wijkplan"


class PostGISDialect(Dialect):
    """Filters in PostgreSQL: PostGIS predicates, which use the GiST index themselves."""

    mark = "%s"

    def spatial(self, op: str, geometry) -> Sql:
        return Sql(f"ST_{op.capitalize()}(geom, ST_GeomFromWKB(%s, {STORAGE_SRID}))", (shapely.to_wkb(geometry),))


class PostGISStore(Store):
    """The store in a PostgreSQL/PostGIS database (one schema)."""

    def __init__(self, url: str, schema: str = DEFAULT_SCHEMA, pool_size: int = 10):
        super().__init__()
        self.location, self.schema = url, schema
        self.pool = ConnectionPool(url, min_size=1, max_size=pool_size, open=True,
                                   kwargs={"options": f"-c search_path={schema},public"})
        self._dialect = PostGISDialect()

    def close(self) -> None:
        self.pool.close()

    def dialect(self, collection: Collection) -> Dialect:
        return self._dialect

    def extent(self, collection_name: str):
        row = self._one(f'SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM '
                        f'(SELECT ST_Extent(geom) AS e FROM "{collection_name}") AS extent')
        return None if row is None or row[0] is None else tuple(row)

    def _one(self, query: str, params=()):
        with self.pool.connection() as conn:
            return conn.execute(query, params).fetchone()

    # -- reading -----------------------------------------------------------------------
    def _select(self, collection, where: Sql, order: str, limit: int, offset: int) -> list:
        columns = ", ".join(f'"{f.name}"' for f in collection.fields)
        with self.pool.connection() as conn:
            return conn.execute(
                f'SELECT fid, ST_AsBinary(geom), {columns} FROM "{collection.name}" WHERE {where.text} '
                f'ORDER BY {order} LIMIT %s OFFSET %s', (*where.params, limit, offset)).fetchall()

    def _count(self, collection, where: Sql) -> int:
        return self._one(f'SELECT count(*) FROM "{collection.name}" WHERE {where.text}', where.params)[0]

    def _version(self, table: str):
        row = self._one(f"SELECT versie FROM {VERSIONS_TABLE} WHERE table_name = %s", (table,))
        return row[0] if row else 0

    def _decode_geometries(self, raw: list) -> np.ndarray:
        return shapely.from_wkb(np.array(raw, dtype=object))

    def _encode_value(self, f: Field, value):
        return value

    # -- writing -----------------------------------------------------------------------
    def _insert_rows(self, collection, geoms, rows) -> list[int]:
        names = ", ".join(f'"{f.name}"' for f in collection.fields)
        marks = ", ".join(["%s"] * len(collection.fields))
        statement = (f'INSERT INTO "{collection.name}" (geom, {names}) '
                     f'VALUES (ST_GeomFromWKB(%s, {STORAGE_SRID}), {marks}) RETURNING fid')
        wkbs = shapely.to_wkb(geoms)
        try:
            with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
                cursor.executemany(statement, [(w, *row) for w, row in zip(wkbs, rows)], returning=True)
                fids = []
                while True:
                    fids.append(cursor.fetchone()[0])
                    if not cursor.nextset():
                        break
                self._touch(conn, collection.name)
        except psycopg.errors.IntegrityError as error:
            raise ValidationError(f"{collection.name}: {error.diag.message_detail or error}") from None
        return fids

    def _update_row(self, collection, feature_id, geom, row) -> bool:
        assignments = ", ".join(f'"{f.name}" = %s' for f in collection.fields)
        with self.pool.connection() as conn, conn.transaction():
            changed = conn.execute(
                f'UPDATE "{collection.name}" SET geom = ST_GeomFromWKB(%s, {STORAGE_SRID}), {assignments} '
                f'WHERE {self._key(collection)} = %s', (shapely.to_wkb(geom), *row, feature_id)).rowcount
            self._touch(conn, collection.name)
        return bool(changed)

    def _delete_row(self, collection, feature_id) -> bool:
        with self.pool.connection() as conn, conn.transaction():
            deleted = conn.execute(f'DELETE FROM "{collection.name}" WHERE {self._key(collection)} = %s',
                                   (feature_id,)).rowcount
            self._touch(conn, collection.name)
        return bool(deleted)

    @staticmethod
    def _touch(conn, table: str) -> None:
        conn.execute(f"UPDATE {VERSIONS_TABLE} SET versie = versie + 1 WHERE table_name = %s", (table,))


def create(url: str, schema: str = DEFAULT_SCHEMA) -> PostGISStore:
    """An empty store in a new schema of the database (the PostGIS extension is created if needed)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(sql.Identifier(schema)))
            conn.execute(f"CREATE TABLE {VERSIONS_TABLE} (table_name text PRIMARY KEY, versie bigint NOT NULL)")
            for collection in COLLECTIONS.values():
                _create_table(conn, collection)
    return PostGISStore(url, schema)


def _create_table(conn, collection: Collection) -> None:
    geometry_type = "MultiPolygon" if collection.storage_geometry_type == "MULTIPOLYGON" else "Geometry"
    columns = ", ".join(column_sql(collection, f, SQL_TYPES) for f in collection.fields)
    conn.execute(f'CREATE TABLE "{collection.name}" (fid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, '
                 f'geom geometry({geometry_type}, {STORAGE_SRID}) NOT NULL, {columns})')
    conn.execute(f'CREATE INDEX "{collection.name}_geom" ON "{collection.name}" USING gist (geom)')
    for f in collection.fields:
        if indexed(f):
            conn.execute(f'CREATE INDEX "{collection.name}_{f.name}" ON "{collection.name}" ("{f.name}")')
    conn.execute(f"INSERT INTO {VERSIONS_TABLE} VALUES (%s, 0)", (collection.name,))


def schema_exists(url: str, schema: str = DEFAULT_SCHEMA) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None


def publish(url: str, staged: str, schema: str = DEFAULT_SCHEMA) -> None:
    """Put a staged schema in the place of the live one, in one transaction."""
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(staged), sql.Identifier(schema)))
