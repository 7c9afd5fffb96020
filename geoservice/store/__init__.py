"""Persistence behind one interface, with a GeoPackage (embedded) and a PostGIS backend."""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

from geoservice.query.selection import Page, Query
from geoservice.store.base import STORAGE_SRID, Store
from geoservice.store.geopackage import GeoPackageStore
from geoservice.store.reading import NotFound, QueryTimeout

__all__ = [
    "STORAGE_SRID",
    "GeoPackageStore",
    "NotFound",
    "Page",
    "Query",
    "QueryTimeout",
    "Store",
    "is_database",
    "open_store",
    "staging",
    "store_exists",
]
STAGING_SCHEMA = "wijkplan_nieuw"


def is_database(location: str) -> bool:
    return str(location).startswith(("postgresql://", "postgres://"))


def store_exists(location: str) -> bool:
    """Whether a store is at location already."""
    if is_database(location):
        from geoservice.store.postgis import schema_exists

        return schema_exists(location)
    return Path(location).exists()


@functools.cache
def open_store(location: str, pool_size: int = 10) -> Store:
    """The store at a location, shared by everything in the process: a GeoPackage path, or a
    postgresql:// URL for PostGIS (with at most pool_size connections)."""
    if is_database(location):
        from geoservice.store.postgis import PostGISStore

        return PostGISStore(location, pool_size=pool_size)
    return GeoPackageStore(location)


@contextlib.contextmanager
def staging(location: str):
    """A new, empty store, built aside; it takes the place of the store at location only when
    the block succeeds (a file moved into place, or a schema renamed in one transaction)."""
    if is_database(location):
        from geoservice.store import postgis

        target = postgis.create(location, STAGING_SCHEMA)
        with contextlib.closing(target):
            yield target
        postgis.publish(location, STAGING_SCHEMA)
        return
    from geoservice.store import geopackage

    path = Path(location)
    partial = path.with_name(path.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    target = geopackage.create(partial)
    with contextlib.closing(target):
        yield target
    os.replace(partial, path)
