"""What never leaves the store: who submitted and supported what, contact details, exact home
locations, reactions awaiting moderation and the audit log of every write.

These tables are plain tables beside the feature tables (not registered as GeoPackage contents, not
collections); SQL here is written once, with ? marks, for both backends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import shapely

from geoservice.domain.model import SYSTEM, VOORSTELLEN, Collection
from geoservice.domain.validation import ValidationError, format_datetime
from geoservice.query.cql2sql import Sql

TABLES = (
    "CREATE TABLE deelname (voorstel BIGINT PRIMARY KEY, client TEXT NOT NULL, deelnemer TEXT, contact TEXT, "
    "exacte_geom {blob}, raster_m REAL)",
    "CREATE INDEX deelname_deelnemer ON deelname (deelnemer)",
    "CREATE TABLE steunbetuigingen (voorstel BIGINT NOT NULL, deelnemer TEXT NOT NULL, tijdstip TEXT NOT NULL, "
    "PRIMARY KEY (voorstel, deelnemer))",
    "CREATE TABLE reacties (id {serial}, voorstel BIGINT NOT NULL, client TEXT NOT NULL, deelnemer TEXT, "
    "tekst TEXT NOT NULL, status TEXT NOT NULL, ingediend TEXT NOT NULL, gepubliceerd TEXT)",
    "CREATE INDEX reacties_voorstel ON reacties (voorstel)",
    "CREATE TABLE auditlog (id {serial}, tijdstip TEXT NOT NULL, client TEXT NOT NULL, rol TEXT NOT NULL, "
    "deelnemer TEXT, actie TEXT NOT NULL, collectie TEXT NOT NULL, object TEXT NOT NULL)",
    "CREATE TABLE afgeleid (naam TEXT PRIMARY KEY, bron TEXT NOT NULL)",
)


@dataclass(frozen=True)
class Actor:
    """Who writes: a role, the client (the token's name) and, for a participant, their key (a hash
    of the client and the pseudonymous participant id)."""

    role: str = SYSTEM
    client: str = SYSTEM
    participant: str | None = None


@dataclass(frozen=True)
class Private:
    """What a submitter gives that is never published: contact details, and whether the point is
    near their home (then the published point is snapped to a grid of raster_m metres)."""

    contact: str | None = None
    raster_m: float | None = None


def create_tables(tx, types: dict) -> None:
    for statement in TABLES:
        tx.execute(statement.format(blob=types["blob"], serial=types["serial"]))


def now() -> str:
    return format_datetime(dt.datetime.now(dt.UTC))


def owned_by(owner: str, mark: str) -> Sql:
    """SQL: the proposal was submitted by this participant."""
    return Sql(f"fid IN (SELECT voorstel FROM deelname WHERE deelnemer = {mark})", (owner,))


def generalised(point, raster_m: float):
    """The centre of the grid cell that holds a point."""
    if point.geom_type != "Point":
        raise ValidationError("prive.nabij_woning: only a point can be shown generalised")
    x, y = (np.floor(np.array([point.x, point.y]) / raster_m) + 0.5) * raster_m
    return shapely.Point(x, y)


def published_geometries(located, details: list[Private] | None):
    """The geometries to publish: generalised where the submitter asked for it."""
    if not details:
        return located
    return np.array(
        [generalised(g, d.raster_m) if d and d.raster_m else g for g, d in zip(located, details)], dtype=object
    )


def remember(tx, ids: list, located, published, details: list[Private] | None, actor: Actor) -> None:
    """Keep who submitted each proposal, their contact details and exact location, apart."""
    for fid, exact, shown, detail in zip(ids, located, published, details or [None] * len(ids)):
        if actor.participant is None and detail is None:
            continue
        hidden = shapely.to_wkb(exact) if shown is not exact else None
        tx.execute(
            "INSERT INTO deelname (voorstel, client, deelnemer, contact, exacte_geom, raster_m) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (fid, actor.client, actor.participant, detail and detail.contact, hidden, detail and detail.raster_m),
        )


def kept_generalised(tx, collection: Collection, feature_id, geometry, current):
    """(exact, published) geometry of a changed feature: a proposal shown generalised stays so,
    and its exact location is kept (or replaced by the new one)."""
    if collection is not VOORSTELLEN:
        return geometry, geometry
    row = tx.execute(
        "SELECT exacte_geom, raster_m FROM deelname WHERE voorstel = ? AND exacte_geom IS NOT NULL", (feature_id,)
    ).fetchone()
    if row is None:
        return geometry, geometry
    if shapely.equals(geometry, current):
        return shapely.from_wkb(bytes(row[0])), current
    tx.execute("UPDATE deelname SET exacte_geom = ? WHERE voorstel = ?", (shapely.to_wkb(geometry), feature_id))
    return geometry, generalised(geometry, row[1])


def exact_geometries(store, ids: list) -> dict:
    """The exact location of the proposals among ids that are shown generalised."""
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    rows = store.read(
        f"SELECT voorstel, exacte_geom FROM deelname WHERE exacte_geom IS NOT NULL AND voorstel IN ({marks})",
        tuple(ids),
    )
    return {fid: shapely.from_wkb(bytes(wkb)) for fid, wkb in rows}


def client_of(store, feature_id) -> str | None:
    """The participation client a proposal was submitted through (None when none)."""
    rows = store.read("SELECT client FROM deelname WHERE voorstel = ?", (feature_id,))
    return rows[0][0] if rows else None


def owner_of(store, feature_id) -> str | None:
    """The participant key of whoever submitted a proposal (None when not submitted by one)."""
    rows = store.read("SELECT deelnemer FROM deelname WHERE voorstel = ?", (feature_id,))
    return rows[0][0] if rows else None


def forget(tx, collection: Collection, feature_id) -> None:
    """Remove everything private about a deleted proposal."""
    if collection is VOORSTELLEN:
        for table in ("deelname", "steunbetuigingen", "reacties"):
            tx.execute(f"DELETE FROM {table} WHERE voorstel = ?", (feature_id,))


def audit(tx, actor: Actor, action: str, collection: str, ids) -> None:
    """Log a write: when, who (client, role, participant key), what."""
    moment = now()
    for fid in ids:
        tx.execute(
            "INSERT INTO auditlog (tijdstip, client, rol, deelnemer, actie, collectie, object) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (moment, actor.client, actor.role, actor.participant, action, collection, str(fid)),
        )
