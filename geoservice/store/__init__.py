"""Persistence behind one interface, with a GeoPackage (embedded) and a PostGIS backend."""
from __future__ import annotations

import functools

from .base import STORAGE_SRID, NotFound, Page, Query, Store
from .geopackage import GeoPackageStore

__all__ = ["STORAGE_SRID", "NotFound", "Page", "Query", "Store", "GeoPackageStore", "open_store"]


@functools.cache
def open_store(location: str) -> Store:
    """The store at a location, shared by everything in the process: a GeoPackage path, or a
    postgresql:// URL for PostGIS."""
    if location.startswith(("postgresql://", "postgres://")):
        from .postgis import PostGISStore
        return PostGISStore(location)
    return GeoPackageStore(location)
