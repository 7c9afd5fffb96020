"""A digest of everything a store holds, to prove that a refused request changed nothing."""

import hashlib

import shapely

from geoservice.domain.model import TABLES
from geoservice.store import Query

PRIVATE_TABLES = ("deelname", "steunbetuigingen", "reacties", "auditlog")


def fingerprint(store) -> str:
    """A digest of every feature of every collection, public or not, and of the private tables."""
    digest = hashlib.sha256()
    for name in TABLES:
        page = store.query(Query(name, limit=1_000_000, published_only=False))
        digest.update(repr((page.ids, page.properties)).encode())
        digest.update(b"".join(shapely.to_wkb(page.geometries)))
    for table in PRIVATE_TABLES:
        digest.update(repr(store.read(f"SELECT * FROM {table} ORDER BY 1, 2")).encode())
    return digest.hexdigest()
