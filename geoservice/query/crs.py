"""Coordinate reference systems the service offers, and moving geometries between them."""

from __future__ import annotations

import functools

import numpy as np
import pyproj
import shapely

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
RD = "http://www.opengis.net/def/crs/EPSG/0/28992"
ETRS89 = "http://www.opengis.net/def/crs/EPSG/0/4258"
WEB_MERCATOR = "http://www.opengis.net/def/crs/EPSG/0/3857"
SUPPORTED = (CRS84, RD, ETRS89, WEB_MERCATOR)
STORAGE = RD
DENSIFY_POINTS = 32  # points per edge when a box is carried into another CRS
WEB_MERCATOR_MAX = 20_037_508.34
# Where coordinates of each CRS can lie at all (in its own axis order): longitude and latitude, the
# Web Mercator square, and a wide margin around the Netherlands in RD.
DOMAINS = {
    CRS84: (-180, -90, 180, 90),
    ETRS89: (-90, -180, 90, 180),
    WEB_MERCATOR: (-WEB_MERCATOR_MAX, -WEB_MERCATOR_MAX, WEB_MERCATOR_MAX, WEB_MERCATOR_MAX),
    RD: (-1_000_000, -1_000_000, 2_000_000, 2_000_000),
}


class CrsError(ValueError):
    """A CRS the service does not offer."""


def check(uri: str, what: str = "crs") -> str:
    """The URI itself when the service offers it, else CrsError naming the choices."""
    if uri not in SUPPORTED:
        raise CrsError(f"{what}: {uri!r} is not offered; use one of {', '.join(SUPPORTED)}")
    return uri


@functools.cache
def _pyproj(uri: str) -> pyproj.CRS:
    return pyproj.CRS("OGC:CRS84") if uri == CRS84 else pyproj.CRS.from_epsg(int(uri.rsplit("/", 1)[1]))


@functools.cache
def transformer(source: str, target: str) -> pyproj.Transformer:
    """Coordinates in each CRS's own axis order (latitude first for EPSG:4258)."""
    return pyproj.Transformer.from_crs(_pyproj(source), _pyproj(target))


@functools.cache
def decimals(uri: str) -> int:
    """Output precision: about a centimetre."""
    return 7 if _pyproj(uri).is_geographic else 2


def _apply(geometries, source: str, target: str, rounding: int | None = None):
    if source == target:
        return geometries
    forward = transformer(source, target)

    def move(coords):
        x, y = forward.transform(coords[:, 0], coords[:, 1])
        moved = np.column_stack([x, y])
        return moved if rounding is None else np.round(moved, rounding)

    return shapely.transform(geometries, move)


def from_storage(geometries, target: str):
    """Stored geometries in the requested CRS, every coordinate at once, rounded to ~1 cm."""
    return _apply(geometries, STORAGE, target, decimals(target))


def check_domain(geometries, source: str) -> None:
    """CrsError when coordinates given in source lie where that CRS has none."""
    coordinates = shapely.get_coordinates(geometries)
    minx, miny, maxx, maxy = DOMAINS[source]
    if not (
        np.isfinite(coordinates).all()
        and (coordinates[:, 0] >= minx).all()
        and (coordinates[:, 0] <= maxx).all()
        and (coordinates[:, 1] >= miny).all()
        and (coordinates[:, 1] <= maxy).all()
    ):
        raise CrsError(f"coordinates outside the range of {source} ({minx:g}..{maxx:g}, {miny:g}..{maxy:g})")


def to_storage(geometries, source: str):
    """Geometries given in source into the storage CRS; CrsError when they fall outside its area."""
    check_domain(geometries, source)
    moved = _apply(geometries, source, STORAGE)
    if not np.isfinite(shapely.get_coordinates(moved)).all():
        raise CrsError(f"coordinates outside the area where {source} can be converted to {STORAGE}")
    return moved


def area_to_storage(geometry, source: str):
    """A filter geometry given in source, densified so that its edges stay true in the storage CRS."""
    check_domain(geometry, source)
    if source == STORAGE:
        return geometry
    minx, miny, maxx, maxy = geometry.bounds
    size = max(maxx - minx, maxy - miny)
    try:
        if size > 0:
            geometry = shapely.segmentize(geometry, size / DENSIFY_POINTS)
    except shapely.errors.GEOSException as error:
        raise CrsError(f"cannot densify the geometry ({error})") from None
    return to_storage(geometry, source)
