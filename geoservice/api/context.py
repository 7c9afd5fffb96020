"""What the page of a proposal or a project shows besides the feature itself, as the public sees it:
the history as a timeline, the published reactions, the linked projects, the koppelkansen and, for
a project, the proposals nearby."""

from __future__ import annotations

import shapely

from geoservice.api import display
from geoservice.domain.model import COLLECTIONS, STATE_MEANINGS, Collection
from geoservice.query.filters import history_of, intersects, koppelkansen_of
from geoservice.store import NotFound, Query, Store, participation

NEARBY_M = 250  # proposals this close to a project are shown on its page
NEARBY_SHOWN = 10
_DATETIME = COLLECTIONS["statuswijzigingen"].field_map["tijdstip"]  # how moments are shown


def of_item(store: Store, collection: Collection, feature_id, language: str) -> dict:
    """The context of one published feature; empty for collections without one."""
    kind = collection.table
    if kind not in ("voorstellen", "projecten"):
        return {}
    page = store.get(kind, feature_id)
    properties, geometry = page.properties[0], page.geometries[0]
    context = {
        "timeline": _timeline(store, kind, feature_id, language),
        "koppelkansen": _koppelkansen(store, kind, feature_id),
    }
    if kind == "voorstellen":
        context["reactions"] = [
            {"text": r["tekst"], "when": display.text(_DATETIME, r["gepubliceerd"] or r["ingediend"], language)}
            for r in participation.reactions(store, feature_id)
        ]
        context["projects"] = _titled(store, "projecten", properties.get("projecten") or [])
    else:
        context["nearby"] = _nearby(store, geometry)
    return context


def _timeline(store: Store, kind: str, feature_id, language: str) -> list[dict]:
    """The published steps of the feature's history, oldest first, each with what it means."""
    query = Query.every("statuswijzigingen", history_of(kind, feature_id))
    query.sortby = [("tijdstip", True)]
    steps = store.query(query).properties
    return [
        {
            "state": display.label(step["naar"]),
            "meaning": STATE_MEANINGS.get(step["naar"], {}).get(language, ""),
            "when": display.text(_DATETIME, step["tijdstip"], language),
            "note": step.get("toelichting") or "",
        }
        for step in steps
    ]


def _koppelkansen(store: Store, kind: str, feature_id) -> list[dict]:
    page = store.query(Query.every("koppelkansen", koppelkansen_of(kind, feature_id)))
    return [{"id": fid, "title": p["titel"]} for fid, p in zip(page.ids, page.properties)]


def _titled(store: Store, kind: str, ids: list) -> list[dict]:
    """The published features among ids, with their titles."""
    found = []
    for fid in ids:
        try:
            found.append({"id": fid, "title": store.get(kind, fid).properties[0]["titel"]})
        except NotFound:
            continue
    return found


def _nearby(store: Store, geometry) -> list[dict]:
    """Published proposals within NEARBY_M of a project, nearest first, with their distance."""
    page = store.query(Query.every("voorstellen", intersects(shapely.buffer(geometry, NEARBY_M))))
    distances = shapely.distance(page.geometries, geometry) if page.ids else []
    ranked = sorted(zip(distances, page.ids, page.properties), key=lambda found: (found[0], found[1]))
    return [
        {"id": fid, "title": p["titel"], "status": display.label(p["status"]), "distance_m": round(float(d))}
        for d, fid, p in ranked[:NEARBY_SHOWN]
    ]
