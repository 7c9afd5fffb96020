"""GeoPackage encoding: the standard geometry blob, the core tables and the R-tree index.

Only what the store needs, written against the OGC GeoPackage 1.3 specification, with no GDAL.
"""

from __future__ import annotations

import sqlite3
import struct

import numpy as np
import shapely

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300

RD_NEW_WKT = (
    'PROJCRS["Amersfoort / RD New",BASEGEOGCRS["Amersfoort",DATUM["Amersfoort",'
    'ELLIPSOID["Bessel 1841",6377397.155,299.1528128,LENGTHUNIT["metre",1]]],'
    'PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],ID["EPSG",4289]],'
    'CONVERSION["RD New",METHOD["Oblique Stereographic",ID["EPSG",9809]],'
    'PARAMETER["Latitude of natural origin",52.1561605555556,ANGLEUNIT["degree",0.0174532925199433],ID["EPSG",8801]],'
    'PARAMETER["Longitude of natural origin",5.38763888888889,ANGLEUNIT["degree",0.0174532925199433],ID["EPSG",8802]],'
    'PARAMETER["Scale factor at natural origin",0.9999079,SCALEUNIT["unity",1],ID["EPSG",8805]],'
    'PARAMETER["False easting",155000,LENGTHUNIT["metre",1],ID["EPSG",8806]],'
    'PARAMETER["False northing",463000,LENGTHUNIT["metre",1],ID["EPSG",8807]]],'
    'CS[Cartesian,2],AXIS["easting (X)",east,ORDER[1],LENGTHUNIT["metre",1]],'
    'AXIS["northing (Y)",north,ORDER[2],LENGTHUNIT["metre",1]],ID["EPSG",28992]]'
)
WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
    'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]'
)

CORE_SCHEMA = f"""
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
  srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326, '{WGS84_WKT}',
   'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid'),
  ('Amersfoort / RD New', 28992, 'EPSG', 28992, '{RD_NEW_WKT}', 'Rijksdriehoekstelsel (RD New)');
"""

RTREE_TRIGGERS = """
CREATE TRIGGER "rtree_{t}_{g}_insert" AFTER INSERT ON "{t}"
WHEN (new."{g}" NOT NULL AND NOT ST_IsEmpty(NEW."{g}"))
BEGIN
  INSERT OR REPLACE INTO "rtree_{t}_{g}" VALUES (NEW."{i}",
    ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"), ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}"));
END;
CREATE TRIGGER "rtree_{t}_{g}_update1" AFTER UPDATE OF "{g}" ON "{t}"
WHEN OLD."{i}" = NEW."{i}" AND (NEW."{g}" NOTNULL AND NOT ST_IsEmpty(NEW."{g}"))
BEGIN
  INSERT OR REPLACE INTO "rtree_{t}_{g}" VALUES (NEW."{i}",
    ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"), ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}"));
END;
CREATE TRIGGER "rtree_{t}_{g}_update2" AFTER UPDATE OF "{g}" ON "{t}"
WHEN OLD."{i}" = NEW."{i}" AND (NEW."{g}" ISNULL OR ST_IsEmpty(NEW."{g}"))
BEGIN
  DELETE FROM "rtree_{t}_{g}" WHERE id = OLD."{i}";
END;
CREATE TRIGGER "rtree_{t}_{g}_update3" AFTER UPDATE ON "{t}"
WHEN OLD."{i}" != NEW."{i}" AND (NEW."{g}" NOTNULL AND NOT ST_IsEmpty(NEW."{g}"))
BEGIN
  DELETE FROM "rtree_{t}_{g}" WHERE id = OLD."{i}";
  INSERT OR REPLACE INTO "rtree_{t}_{g}" VALUES (NEW."{i}",
    ST_MinX(NEW."{g}"), ST_MaxX(NEW."{g}"), ST_MinY(NEW."{g}"), ST_MaxY(NEW."{g}"));
END;
CREATE TRIGGER "rtree_{t}_{g}_update4" AFTER UPDATE ON "{t}"
WHEN OLD."{i}" != NEW."{i}" AND (NEW."{g}" ISNULL OR ST_IsEmpty(NEW."{g}"))
BEGIN
  DELETE FROM "rtree_{t}_{g}" WHERE id IN (OLD."{i}", NEW."{i}");
END;
CREATE TRIGGER "rtree_{t}_{g}_delete" AFTER DELETE ON "{t}"
WHEN old."{g}" NOT NULL
BEGIN
  DELETE FROM "rtree_{t}_{g}" WHERE id = OLD."{i}";
END;
"""

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_HEADER = struct.Struct("<2sBBi4d")  # magic, version, flags, srs_id, minx, maxx, miny, maxy
_FLAGS_XY_ENVELOPE_LE = 0b00000011
_FLAGS_EMPTY = 0b00010000


def encode(geometries, srs_id: int) -> list[bytes]:
    """Shapely geometries -> GeoPackage geometry blobs (little-endian, with an XY envelope)."""
    geometries = np.asarray(geometries, dtype=object)
    wkbs = shapely.to_wkb(geometries, byte_order=1, flavor="iso")
    bounds = shapely.bounds(geometries)
    empty = shapely.is_empty(geometries)
    return [
        _HEADER.pack(b"GP", 0, _FLAGS_XY_ENVELOPE_LE | (_FLAGS_EMPTY if e else 0), srs_id, b[0], b[2], b[1], b[3]) + w
        for w, b, e in zip(wkbs, bounds, empty)
    ]


def _wkb_offset(blob: bytes) -> int:
    return 8 + _ENVELOPE_BYTES[(blob[3] >> 1) & 0b111]


def decode(blobs) -> np.ndarray:
    """GeoPackage geometry blobs -> array of shapely geometries (None stays None)."""
    wkbs = [None if b is None else b[_wkb_offset(b) :] for b in blobs]
    return shapely.from_wkb(np.array(wkbs, dtype=object))


def envelope(blob):
    """(minx, maxx, miny, maxy) of a blob, from its header or else its WKB; None if empty."""
    if blob is None or blob[3] & _FLAGS_EMPTY:
        return None
    if (blob[3] >> 1) & 0b111:
        endian = "<" if blob[3] & 1 else ">"
        return struct.unpack_from(endian + "4d", blob, 8)
    minx, miny, maxx, maxy = shapely.from_wkb(blob[_wkb_offset(blob) :]).bounds
    return minx, maxx, miny, maxy


def _envelope_part(index):
    def part(blob):
        env = envelope(blob)
        return None if env is None else env[index]

    return part


def register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions the GeoPackage R-tree triggers call."""
    conn.create_function("ST_IsEmpty", 1, lambda b: None if b is None else int(envelope(b) is None), deterministic=True)
    for index, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, _envelope_part(index), deterministic=True)


def create_feature_table(conn, table: str, columns_sql: str, geometry_type: str, srs_id: int, description: str) -> None:
    """Create a feature table with geometry column `geom`, registered and R-tree indexed."""
    conn.execute(f'CREATE TABLE "{table}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom {geometry_type}, {columns_sql})')
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description,"
        " srs_id) VALUES (?, 'features', ?, ?, ?)",
        (table, table, description, srs_id),
    )
    conn.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)", (table, geometry_type, srs_id))
    conn.execute(f'CREATE VIRTUAL TABLE "rtree_{table}_geom" USING rtree(id, minx, maxx, miny, maxy)')
    for trigger in RTREE_TRIGGERS.format(t=table, g="geom", i="fid").split("END;")[:-1]:
        conn.execute(trigger + "END;")
    conn.execute(
        "INSERT INTO gpkg_extensions VALUES (?, 'geom', 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        (table,),
    )


def initialise(conn: sqlite3.Connection) -> None:
    """Turn an empty SQLite database into an empty GeoPackage."""
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {USER_VERSION}")
    for statement in CORE_SCHEMA.split(";\n"):
        if statement.strip():
            conn.execute(statement)
