"""Vector tiles (OGC API - Tiles): every collection as Mapbox Vector Tiles in two tile matrix sets,
WebMercatorQuad (web maps) and NetherlandsRDNewQuad (the Geonovum/PDOK set in RD New), with the
metadata that describes them (tile matrix sets, tilesets, TileJSON).

A tile holds one layer named after the collection with all its published features, points, lines
and areas alike, clipped to the tile and a buffer around it. PostGIS makes tiles itself
(`ST_AsMVT`); for a GeoPackage they are made here from the features with shapely.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import mapbox_vector_tile
import morecantile
import numpy as np
import pyproj
import shapely

from geoservice.domain.model import Collection
from geoservice.publish.geojson import link
from geoservice.query import crs, filters
from geoservice.store import Query, Store

MVT = "application/vnd.mapbox-vector-tile"
EXTENT, BUFFER = 4096, 64  # tile coordinates per side, and around it (as ST_AsMVT counts them)
RD_ORIGIN = (-285_401.92, 903_401.92)
RD_CELL_SIZE = 3_440.64  # metres per pixel at level 0, halving per level
PIXEL_SIZE_M = 0.00028  # the standard rendering pixel, for scale denominators


def _netherlands_rd_new_quad(levels: int = 17) -> morecantile.TileMatrixSet:
    """The Dutch tile matrix set of Geonovum and PDOK: RD New, 256-pixel tiles, top left origin."""
    matrices = [
        {
            "id": str(level),
            "scaleDenominator": RD_CELL_SIZE / 2**level / PIXEL_SIZE_M,
            "cellSize": RD_CELL_SIZE / 2**level,
            "cornerOfOrigin": "topLeft",
            "pointOfOrigin": list(RD_ORIGIN),
            "tileWidth": 256,
            "tileHeight": 256,
            "matrixWidth": 2**level,
            "matrixHeight": 2**level,
        }
        for level in range(levels)
    ]
    return morecantile.TileMatrixSet.model_validate(
        {
            "id": "NetherlandsRDNewQuad",
            "title": "Amersfoort / RD New, Netherlands quad tree (Geonovum, PDOK)",
            "crs": crs.RD,
            "orderedAxes": ["X", "Y"],
            "tileMatrices": matrices,
        }
    )


@dataclass(frozen=True)
class TilingScheme:
    """A tile matrix set as the service offers it: its definition, CRS and the levels served."""

    tms: morecantile.TileMatrixSet
    crs_uri: str
    max_level: int

    @property
    def id(self) -> str:
        return self.tms.id


SCHEMES = {
    scheme.id: scheme
    for scheme in (
        TilingScheme(morecantile.tms.get("WebMercatorQuad"), crs.WEB_MERCATOR, 20),
        TilingScheme(_netherlands_rd_new_quad(), crs.RD, 16),
    )
}


class NoSuchTile(KeyError):
    """A tile matrix set, level, row or column that is not served."""


def scheme(scheme_id: str) -> TilingScheme:
    if scheme_id not in SCHEMES:
        raise NoSuchTile(f"tile matrix set {scheme_id!r} (offered: {', '.join(SCHEMES)})")
    return SCHEMES[scheme_id]


def tile_bounds(tiling: TilingScheme, level: int, row: int, col: int) -> tuple[float, float, float, float]:
    """The tile's bounds in the CRS of its tile matrix set; NoSuchTile outside the set."""
    if not 0 <= level <= tiling.max_level:
        raise NoSuchTile(f"level {level} of {tiling.id} (served: 0 to {tiling.max_level})")
    matrix = tiling.tms.matrix(level)
    if not (0 <= row < matrix.matrixHeight and 0 <= col < matrix.matrixWidth):
        raise NoSuchTile(f"tile {level}/{row}/{col} of {tiling.id} (rows and columns 0 to {matrix.matrixWidth - 1})")
    box = tiling.tms.xy_bounds(morecantile.Tile(col, row, level))
    return box.left, box.bottom, box.right, box.top


def tile(store: Store, collection: Collection, tiling: TilingScheme, bounds: tuple) -> bytes:
    """The tile of a collection's published features within bounds (in the scheme's CRS)."""
    area = _selection(tiling, bounds)
    if area.is_empty:
        return b""
    made = store.vector_tile(collection.name, area, tiling.crs_uri, bounds, EXTENT, BUFFER)
    if made is not None:
        return made
    page = store.query(Query.every(collection.name, filters.intersects(area)))
    features = _in_tile(page.geometries, tiling.crs_uri, bounds)
    numbered = collection.id_field == "id"  # otherwise the id is a property (a wijk's code)
    encoded = [
        {"geometry": geometry, "properties": _tile_values(collection, properties), **({"id": fid} if numbered else {})}
        for fid, geometry, properties in zip(page.ids, features, page.properties)
        if geometry is not None
    ]
    if not encoded:
        return b""
    layer = {"name": collection.name, "features": encoded}
    return mapbox_vector_tile.encode([layer], default_options={"extents": EXTENT, "y_coord_down": True})


def _selection(tiling: TilingScheme, bounds: tuple):
    """The tile and its buffer, as far as it lies where the storage CRS holds, in the storage CRS
    (a tile of the whole world cannot be carried into RD New; its part around the Netherlands can)."""
    margin = (bounds[2] - bounds[0]) * BUFFER / EXTENT
    wider = shapely.box(bounds[0] - margin, bounds[1] - margin, bounds[2] + margin, bounds[3] + margin)
    within = wider.intersection(_storage_area(tiling.crs_uri))
    return crs.area_to_storage(within, tiling.crs_uri) if not within.is_empty else shapely.Polygon()


@functools.cache
def _storage_area(crs_uri: str):
    """Where the storage CRS is used (its area of use, and half a degree around), in crs_uri."""
    west, south, east, north = pyproj.CRS(crs.STORAGE).area_of_use.bounds
    around = shapely.box(west - 0.5, south - 0.5, east + 0.5, north + 0.5)
    return crs.from_storage(crs.area_to_storage(around, crs.CRS84), crs_uri)


def _in_tile(geometries: np.ndarray, crs_uri: str, bounds: tuple) -> list:
    """Geometries in tile coordinates (y down), clipped to the tile and its buffer and snapped to
    the tile's grid; one too small to show at this level shows as a point on it; None for those
    outside."""
    minx, miny, maxx, maxy = bounds
    scale_x, scale_y = EXTENT / (maxx - minx), EXTENT / (maxy - miny)
    moved = crs.from_storage(geometries, crs_uri)
    pixels = shapely.transform(
        moved, lambda xy: np.column_stack([(xy[:, 0] - minx) * scale_x, (maxy - xy[:, 1]) * scale_y])
    )
    clipped = np.atleast_1d(shapely.clip_by_rect(pixels, -BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER))
    snapped = shapely.set_precision(clipped, 1.0)
    collapsed = shapely.is_empty(snapped) & ~shapely.is_empty(clipped)
    snapped[collapsed] = shapely.set_precision(shapely.point_on_surface(clipped[collapsed]), 1.0)
    return [None if shapely.is_empty(g) else g for g in snapped]


def _tile_values(collection: Collection, properties: dict) -> dict:
    """The properties a tile carries: the simple ones (not lists or objects), those with a value."""
    return {f.name: properties[f.name] for f in collection.queryable_fields if properties.get(f.name) is not None}


# -- metadata ----------------------------------------------------------------------------------
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
TEMPLATE = "{tileMatrix}/{tileRow}/{tileCol}"


def matrix_sets(base: str) -> dict:
    """The tile matrix sets offered, each linked to its definition."""
    return {
        "tileMatrixSets": [
            {
                "id": tiling.id,
                "title": tiling.tms.title,
                **({"uri": tiling.tms.uri} if tiling.tms.uri else {}),
                "links": [link(f"{base}/tileMatrixSets/{tiling.id}", "self", "application/json", tiling.tms.title)],
            }
            for tiling in SCHEMES.values()
        ],
        "links": [link(f"{base}/tileMatrixSets", "self", "application/json", "Tile matrix sets")],
    }


def matrix_set(tiling: TilingScheme) -> dict:
    """A tile matrix set's definition (OGC Two Dimensional Tile Matrix Set 2.0, JSON)."""
    return tiling.tms.model_dump(mode="json", by_alias=True, exclude_none=True)


def tilesets(collection: Collection, base: str) -> dict:
    """The tilesets of a collection: one per tile matrix set."""
    url = f"{base}/collections/{collection.name}/tiles"
    return {
        "links": [link(url, "self", "application/json", f"Vector tiles of {collection.name}")],
        "tilesets": [_summary(collection, tiling, base) for tiling in SCHEMES.values()],
    }


def _summary(collection: Collection, tiling: TilingScheme, base: str) -> dict:
    """What a tileset is: its data type, CRS, tile matrix set and where its metadata is."""
    return {
        "title": f"{collection.name} ({tiling.id})",
        "dataType": "vector",
        "crs": tiling.crs_uri,
        **({"tileMatrixSetURI": tiling.tms.uri} if tiling.tms.uri else {}),
        "links": [
            link(f"{base}/collections/{collection.name}/tiles/{tiling.id}", "self", "application/json",
                 f"The tileset of {collection.name} in {tiling.id}"),
            link(f"{base}/tileMatrixSets/{tiling.id}", TILING_SCHEME, "application/json",
                 f"The tile matrix set {tiling.id}"),
        ],
    }  # fmt: skip


def tileset(collection: Collection, tiling: TilingScheme, base: str) -> dict:
    """A tileset's metadata: its tile matrix set, the URL template of its tiles and its one layer."""
    url = f"{base}/collections/{collection.name}/tiles/{tiling.id}"
    summary = _summary(collection, tiling, base)
    template = {**link(f"{url}/{TEMPLATE}", "item", MVT, "A tile"), "templated": True}
    alternates = [link(f"{url}?f=tilejson", "alternate", "application/json", "TileJSON")] if _web(tiling) else []
    return {
        **summary,
        "links": [*summary["links"], template, *alternates],
        "layers": [
            {
                "id": collection.name,
                "title": collection.title["nl"],
                "dataType": "vector",
                "minTileMatrix": "0",
                "maxTileMatrix": str(tiling.max_level),
                "propertiesSchema": {
                    "type": "object",
                    "properties": {f.name: f.schema() for f in collection.queryable_fields},
                },
            }
        ],
    }


def tilejson(collection: Collection, tiling: TilingScheme, base: str, bounds_crs84: tuple | None) -> dict:
    """TileJSON 3.0 of a tileset in WebMercatorQuad (TileJSON knows no other tiling)."""
    if not _web(tiling):
        raise NoSuchTile(f"TileJSON of {tiling.id}: TileJSON describes WebMercatorQuad tiles only")
    url = f"{base}/collections/{collection.name}/tiles/{tiling.id}"
    fields = {f.name: f.title for f in collection.queryable_fields}
    return {
        "tilejson": "3.0.0",
        "name": collection.name,
        "description": collection.title["nl"],
        "tiles": [f"{url}/{{z}}/{{y}}/{{x}}"],
        "minzoom": 0,
        "maxzoom": tiling.max_level,
        **({"bounds": list(bounds_crs84)} if bounds_crs84 else {}),
        "vector_layers": [{"id": collection.name, "fields": fields, "minzoom": 0, "maxzoom": tiling.max_level}],
    }


def _web(tiling: TilingScheme) -> bool:
    return tiling.crs_uri == crs.WEB_MERCATOR
