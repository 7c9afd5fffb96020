"""Open-data downloads: every collection as GeoPackage (EPSG:28992), GeoJSON (CRS84) and CSV (RD
x/y and WKT), and a GeoPackage per wijk with everything in it.

A file is written from one snapshot of the store, holds published features only (never anything
of the private tables), and is named by a hash of what it holds, which is also its ETag: it
changes only when published content does, and an unchanged file is not sent twice.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from geoservice.derived import derivation
from geoservice.domain.model import COLLECTIONS, FAMILIES, TABLES, WIJKEN
from geoservice.domain.policy import Policy
from geoservice.publish import geojson
from geoservice.query import crs
from geoservice.query.filters import equals
from geoservice.store import Query, Store

FORMATS = {
    "gpkg": ("application/geopackage+sqlite3", "GeoPackage (EPSG:28992)"),
    "geojson": ("application/geo+json", "GeoJSON (CRS84)"),
    "csv": ("text/csv; charset=utf-8", "CSV (RD x/y en WKT)"),
}
GEOMETRY_TYPES = {"MULTIPOLYGON": "MultiPolygon", "POINT": "Point", "GEOMETRY": "Unknown"}


class NoSuchDownload(KeyError):
    """No such collection, wijk or format."""


@dataclass(frozen=True)
class Download:
    """One file: the collections it holds, for the whole municipality or one wijk."""

    name: str
    fmt: str
    collections: tuple[str, ...]
    wijk: str | None = None

    @property
    def media_type(self) -> str:
        return FORMATS[self.fmt][0]


def links(base: str, collection: str) -> list[dict]:
    """The enclosure links of a collection's downloads."""
    return [
        {
            "href": f"{base}/downloads/{collection}.{fmt}",
            "rel": "enclosure",
            "type": media,
            "title": f"Download: {collection} als {label}",
        }
        for fmt, (media, label) in FORMATS.items()
    ]


def wijk_link(base: str, wijkcode: str) -> dict:
    return {
        "href": f"{base}/downloads/wijken/{wijkcode}.gpkg",
        "rel": "enclosure",
        "type": FORMATS["gpkg"][0],
        "title": f"Download: alles van wijk {wijkcode} als GeoPackage",
    }


class Downloads:
    """Writes downloads on demand into a folder and keeps them while they are current."""

    def __init__(self, store: Store, policy: Policy, directory: str | Path):
        self.store, self.policy, self.directory = store, policy, Path(directory)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._current: dict[Download, tuple] = {}  # download -> (table versions, file, ETag)

    def find(self, name: str, fmt: str, wijk: str | None = None) -> Download:
        if fmt not in FORMATS or (wijk is None and name not in COLLECTIONS) or (wijk is not None and fmt != "gpkg"):
            raise NoSuchDownload(f"downloads/{name}.{fmt}")
        if wijk is not None:
            if not self.store.query(Query(WIJKEN.name, equals("wijkcode", wijk), limit=1)).ids:
                raise NoSuchDownload(f"downloads/wijken/{wijk}.gpkg")
            return Download(wijk, fmt, tuple(TABLES), wijk)
        return Download(name, fmt, (name,))

    def file(self, download: Download) -> tuple[Path, str]:
        """The current file of a download and its ETag, written first when there is none.

        The ETag is a hash of the published content itself: changes that publish nothing (an
        unpublished proposal, a recomputed summary that came out the same) leave it, the file and
        its Last-Modified as they were."""
        for name in download.collections:
            derivation.refresh(self.store, self.policy, name)
        with self._lock(download.name + download.fmt), self.store.snapshot():
            versions = tuple(self.store.version(name) for name in download.collections)
            known = self._current.get(download)
            if known is not None and known[0] == versions and known[1].exists():
                return known[1], known[2]
            pages = {name: self._page(name, download.wijk) for name in download.collections}
            etag = _content_hash(download, pages)
            path = self.directory / f"{download.name}-{etag}.{download.fmt}"
            if not path.exists():
                self._write(download, pages, path)
            self._current[download] = (versions, path, etag)
        return path, etag

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _write(self, download: Download, pages: dict, path: Path) -> None:
        """Write the file aside, then move it into place, modified at least a second after the version
        it replaces (so that If-Modified-Since tells every version apart); older versions go."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".partial-{path.name}")
        partial.unlink(missing_ok=True)
        WRITERS[download.fmt](pages, partial)
        older = [old for old in path.parent.glob(f"{download.name}-*.{download.fmt}") if old != path]
        modified = max([time.time(), *(math.floor(old.stat().st_mtime) + 1 for old in older)])
        os.utime(partial, (modified, modified))
        partial.replace(path)
        for old in older:
            old.unlink(missing_ok=True)

    def _page(self, name: str, wijk: str | None):
        where = equals("wijkcode", wijk) if wijk else None
        return self.store.query(Query.every(name, where))


def _content_hash(download: Download, pages: dict) -> str:
    """A hash of what a download holds: ids, properties and geometries of each collection."""
    digest = hashlib.sha256(repr((download.fmt, download.wijk)).encode())
    for name, page in pages.items():
        digest.update(orjson.dumps([name, page.ids, page.properties], option=orjson.OPT_NON_STR_KEYS))
        for wkb in shapely.to_wkb(page.geometries):
            digest.update(wkb)
    return digest.hexdigest()[:20]


def _frame(name: str, page) -> pd.DataFrame:
    """A collection's page as a table: lists and objects as JSON text."""
    collection = COLLECTIONS[name]
    frame = pd.DataFrame(page.properties, columns=[f.name for f in collection.fields])
    for f in collection.fields:
        if f.kind in ("integer-list", "object"):
            frame[f.name] = [
                None if v is None else orjson.dumps(v, option=orjson.OPT_NON_STR_KEYS).decode() for v in frame[f.name]
            ]
    if collection.id_field == "id":
        frame.insert(0, "id", page.ids)
    return frame


def _write_geopackage(pages: dict, path: Path) -> None:
    for name, page in pages.items():
        frame = gpd.GeoDataFrame(_frame(name, page), geometry=gpd.GeoSeries(page.geometries, crs=crs.STORAGE))
        geometry_type, promote = _layer_type(COLLECTIONS[name])
        frame.to_file(
            path, layer=name, driver="GPKG", engine="pyogrio", geometry_type=geometry_type, promote_to_multi=promote
        )


def _layer_type(collection) -> tuple[str, bool]:
    """The geometry type of a collection's layer, and whether single geometries become multi for it
    (a collection of one geometry family has one layer type, as its name promises)."""
    if collection.family:
        return FAMILIES[collection.family].types[1], True
    return GEOMETRY_TYPES[collection.storage_geometry_type], False


def _write_geojson(pages: dict, path: Path) -> None:
    [page] = pages.values()
    document = {"type": "FeatureCollection", "features": geojson.features(page, crs.CRS84)}
    path.write_bytes(orjson.dumps(document))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value):
    """A text cell that a spreadsheet would run as a formula, with a quote before it (kept as text)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _write_csv(pages: dict, path: Path) -> None:
    [(name, page)] = pages.items()
    frame = _frame(name, page).map(_inert)
    geoms = np.asarray(page.geometries, dtype=object)
    points = shapely.point_on_surface(geoms)
    frame["x"], frame["y"] = np.round(shapely.get_x(points), 2), np.round(shapely.get_y(points), 2)
    frame["wkt"] = shapely.to_wkt(geoms, rounding_precision=2)
    frame.to_csv(path, index=False, encoding="utf-8")


WRITERS = {"gpkg": _write_geopackage, "geojson": _write_geojson, "csv": _write_csv}
