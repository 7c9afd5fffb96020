"""Backups: `export` writes the whole store (every collection, the private tables and the webhook
subscriptions) to one GeoPackage, from one snapshot, while the service runs; `restore` puts such a
file in the place of a store (GeoPackage or PostGIS), built aside first. Ids are kept, so links and
history still hold; subscribers hear of the restore (their outbox of the old store is not kept).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from geoservice.domain.model import TABLES
from geoservice.store import GeoPackageStore, Query, Store, changes, geopackage, private, staging, subscriptions

PRIVATE_TABLES = [
    *(statement.split()[2] for statement in private.TABLES if statement.startswith("CREATE TABLE")),
    *subscriptions.KEPT_IN_BACKUPS,
]


def export(store: Store, path: str | Path) -> None:
    """Write a consistent copy of the store to a GeoPackage file."""
    path = Path(path)
    partial = path.with_name(f".partial-{path.name}")
    partial.unlink(missing_ok=True)
    target = geopackage.create(partial)
    with contextlib.closing(target), store.snapshot():
        copy(store, target)
    os.replace(partial, path)


def restore(path: str | Path, location: str) -> None:
    """Replace the store at location by the contents of a backup."""
    source = GeoPackageStore(path)
    with contextlib.closing(source), staging(location) as target:
        copy(source, target)


def copy(source: Store, target: Store) -> None:
    """Every feature (with its id) and every private row of source into an empty target."""
    with target.transaction() as tx:
        for collection in TABLES.values():
            target.copy_in(tx, collection, source.query(Query.every(collection.name, published_only=False)))
        for table in PRIVATE_TABLES:
            rows = source.read(f"SELECT * FROM {table}")
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                for row in rows:
                    tx.execute(
                        f"INSERT INTO {table} VALUES ({marks})",
                        tuple(bytes(v) if isinstance(v, memoryview) else v for v in row),
                    )
        target.continue_ids(tx)
        subscriptions.continue_from_end(tx)
        for collection in TABLES:
            target.announce(tx, collection, changes.RESTORED, [], changes.EVERYWHERE, True)
