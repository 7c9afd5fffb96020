"""The change log: every write announces itself in its own transaction, so whatever follows the
store (map rebuilding, later feeds and webhooks) learns of every change, from any process.

A change names the collection, the ids, its kind, the wijk and buurt codes it touched (before and
after) and whether the public could see any of it. Sequence numbers grow in commit order: on
PostgreSQL an announcement takes a transaction lock as the write's last statement, so a follower
that has read up to n never sees a number below n appear later. The log is private: it names ids
of unpublished proposals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from geoservice.domain.model import Collection

if TYPE_CHECKING:
    from geoservice.store.reading import StoreReader, Transaction

TABLE = "wijzigingen"
CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (volgnummer {{serial}}, tijdstip TEXT NOT NULL, collectie TEXT NOT NULL, "
    "soort TEXT NOT NULL, ids TEXT NOT NULL, gebieden TEXT, openbaar INTEGER NOT NULL)"
)
INDEX = f"CREATE INDEX IF NOT EXISTS {TABLE}_collectie ON {TABLE} (collectie, volgnummer)"
# Collections written only together with others: their version is that of those.
WRITTEN_WITH = {"statuswijzigingen": ("projecten", "voorstellen")}
EVERYWHERE = None  # the areas of a change that may touch any of them (a restore)

# The kinds of change.
CREATED, CHANGED, DELETED, SUPPORTED, REACTED, DERIVED, RESTORED = (
    "aanmaken",
    "wijzigen",
    "verwijderen",
    "steunen",
    "reageren",
    "afleiden",
    "herstellen",
)


@dataclass(frozen=True)
class Change:
    """One announced write."""

    sequence: int
    moment: str
    collection: str
    kind: str
    ids: list
    areas: frozenset[str] | None  # wijk and buurt codes; None: possibly all of them
    public: bool


def create_table(tx: Transaction, types: dict) -> None:
    tx.execute(CREATE.format(serial=types["serial"]))
    tx.execute(INDEX)


def areas_of(*properties: dict | None) -> set[str]:
    """The wijk and buurt codes of features (as they were and as they are)."""
    return {p[name] for p in properties if p for name in ("wijkcode", "buurtcode") if p.get(name)}


def is_public(collection: Collection, *properties: dict | None) -> bool:
    """Whether the public could see any of these states of a feature."""
    if collection.public_when is None:
        return True
    return any(p and p.get(collection.public_when) is not None for p in properties)


def append(
    tx: Transaction, moment: str, collection: str, kind: str, ids: Sequence, areas: set[str] | None, public: bool
) -> None:
    """Append a change (Store.announce takes the lock that keeps numbers in commit order)."""
    tx.execute(
        f"INSERT INTO {TABLE} (tijdstip, collectie, soort, ids, gebieden, openbaar) VALUES (?, ?, ?, ?, ?, ?)",
        (
            moment,
            collection,
            kind,
            orjson.dumps(list(ids)).decode(),
            None if areas is EVERYWHERE else orjson.dumps(sorted(areas)).decode(),
            int(public),
        ),
    )


def since(
    store: StoreReader, sequence: int, limit: int = 1000, collections: Sequence[str] | None = None
) -> list[Change]:
    """The changes after sequence number sequence (of these collections, when given), oldest first."""
    among = "" if collections is None else f" AND collectie IN ({', '.join('?' * len(collections))})"
    rows = store.read(
        f"SELECT volgnummer, tijdstip, collectie, soort, ids, gebieden, openbaar FROM {TABLE} "
        f"WHERE volgnummer > ?{among} ORDER BY volgnummer LIMIT ?",
        (sequence, *(collections or ()), limit),
    )
    return [_change(row) for row in rows]


def naming(store: StoreReader, collection: str, kind: str) -> list[Change]:
    """Every change of one kind to a collection that names features, oldest first (a derivation
    names the features that appeared; most name none)."""
    rows = store.read(
        f"SELECT volgnummer, tijdstip, collectie, soort, ids, gebieden, openbaar FROM {TABLE} "
        "WHERE collectie = ? AND soort = ? AND ids <> '[]' ORDER BY volgnummer",
        (collection, kind),
    )
    return [_change(row) for row in rows]


def _change(row) -> Change:
    n, moment, name, kind, ids, areas, public = row
    return Change(n, moment, name, kind, orjson.loads(ids), _areas(areas), bool(public))


def _areas(stored: str | None) -> frozenset[str] | None:
    return EVERYWHERE if stored is None else frozenset(orjson.loads(stored))


def last(store: StoreReader) -> int:
    """The sequence number of the latest change (0 before any)."""
    return store.read(f"SELECT coalesce(max(volgnummer), 0) FROM {TABLE}")[0][0]


def version(store: StoreReader, collection: str) -> int:
    """The sequence number of the latest change of a collection: it changes whenever the collection
    does (caches and derived data compare it)."""
    names = WRITTEN_WITH.get(collection, (collection,))
    marks = ", ".join("?" * len(names))
    return store.read(f"SELECT coalesce(max(volgnummer), 0) FROM {TABLE} WHERE collectie IN ({marks})", names)[0][0]
