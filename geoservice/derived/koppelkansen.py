"""Koppelkansen: open proposals next to work planned within the horizon, and pairs of projects
that share space and are planned close together in time.

Whether a pair is a koppelkans depends on its two features alone (and the policy and the year), so
after a write only the pairs of the features it touched need deriving again: `around` finds them
with the spatial index, `every` derives the whole collection.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pygeofilter import ast

from geoservice.domain.model import ALL_TYPES, COLLECTIONS, SUPPORTABLE
from geoservice.domain.policy import Policy
from geoservice.domain.validation import TYPE_IDS
from geoservice.query.filters import intersects
from geoservice.store import Query, Store

TITLE_PART = 180  # characters of each title a koppelkans quotes
BOXES_PER_QUERY = 50  # neighbourhoods looked up in one query


def every(store: Store, policy: Policy, year: int) -> list:
    """All koppelkansen of the store: [(properties, geometry)]."""
    projects, project_geoms = frame(store, "projecten")
    proposals, proposal_geoms = frame(store, "voorstellen", published_only=True)
    return [
        *proposal_opportunities(projects, project_geoms, proposals, proposal_geoms, policy, year),
        *project_pairs(projects, project_geoms, policy),
    ]


def around(store: Store, policy: Policy, year: int, project_ids: set, proposal_ids: set) -> list:
    """The koppelkansen that name one of these projects or proposals, as they are now."""
    rules = policy.koppelkansen
    projects, project_geoms = frame(store, "projecten", _ids(project_ids))
    proposals, proposal_geoms = frame(store, "voorstellen", _ids(proposal_ids), published_only=True)
    reach = max(rules.afstand_m, 2 * rules.projecten_marge_m)  # pairs of projects: both grown by the margin
    near_projects, near_project_geoms = _union(
        (projects, project_geoms),
        _near(store, "projecten", [*_boxes(project_geoms, reach), *_boxes(proposal_geoms, rules.afstand_m)]),
    )
    near_proposals, near_proposal_geoms = _near(
        store, "voorstellen", _boxes(project_geoms, rules.afstand_m), published_only=True
    )
    found = [
        *proposal_opportunities(near_projects, near_project_geoms, proposals, proposal_geoms, policy, year),
        *proposal_opportunities(projects, project_geoms, near_proposals, near_proposal_geoms, policy, year),
        *(
            (props, geom)
            for props, geom in project_pairs(near_projects, near_project_geoms, policy)
            if props["project"] in project_ids or props["ander_project"] in project_ids
        ),
    ]
    return list({props["code"]: (props, geom) for props, geom in found}.values())


def naming(project_ids: set, proposal_ids: set) -> tuple[str, tuple]:
    """SQL condition (? marks) and values: the stored koppelkansen that name these features."""
    conditions, values = [], []
    for column, ids in (("voorstel", proposal_ids), ("project", project_ids), ("ander_project", project_ids)):
        if ids:
            conditions.append(f'"{column}" IN ({", ".join("?" * len(ids))})')
            values += sorted(ids)
    return " OR ".join(conditions) or "1 = 0", tuple(values)


def frame(store: Store, collection: str, filter_=None, published_only: bool = False):
    """Features of a collection as a DataFrame of properties (index: ids, ascending) and their geometries."""
    page = store.query(Query.every(collection, filter_, published_only=published_only))
    columns = [f.name for f in COLLECTIONS[collection].fields]
    return pd.DataFrame(page.properties, columns=columns, index=pd.Index(page.ids, name="id")), page.geometries


def _ids(ids: set):
    """A filter on the features with these ids (none: nothing)."""
    return ast.In(ast.Attribute("fid"), sorted(ids), False) if ids else ast.Equal(ast.Attribute("fid"), -1)


def _boxes(geoms, distance: float) -> list:
    """The bounding boxes of geometries grown by a distance: whatever lies within it meets its box."""
    return [shapely.box(*bounds) for bounds in shapely.bounds(shapely.buffer(shapely.envelope(geoms), distance))]


def _near(store: Store, collection: str, boxes: list, published_only: bool = False):
    """The features of a collection that meet any of the boxes, in id order."""
    chunks = [boxes[i : i + BOXES_PER_QUERY] for i in range(0, len(boxes), BOXES_PER_QUERY)]
    found = [frame(store, collection, ast.Or.from_items(*map(intersects, chunk)), published_only) for chunk in chunks]
    return _union(*found) if found else frame(store, collection, _ids(set()))


def _union(*frames):
    """Frames of one collection together, each feature once, in id order."""
    properties = pd.concat([f for f, _ in frames])
    geoms = np.concatenate([g for _, g in frames])
    keep = ~properties.index.duplicated()
    properties, geoms = properties[keep], geoms[keep]
    order = np.argsort(properties.index.to_numpy(), kind="stable")
    return properties.iloc[order], geoms[order]


def proposal_opportunities(projects, project_geoms, proposals, proposal_geoms, policy: Policy, year: int) -> list:
    """Each open published proposal within the distance of a project planned within the horizon."""
    rules = policy.koppelkansen
    planned = (
        (
            (projects["planjaar"] >= year)
            & (projects["planjaar"] <= year + rules.horizon_jaren)
            & (projects["fase"] != "gereed")
        ).to_numpy()
        if len(projects)
        else np.zeros(0, bool)
    )
    open_ = proposals["status"].isin(SUPPORTABLE).to_numpy() if len(proposals) else np.zeros(0, bool)
    project_rows, proposal_rows = np.flatnonzero(planned), np.flatnonzero(open_)
    tree = shapely.STRtree(project_geoms[project_rows])
    near, around = tree.query(proposal_geoms[proposal_rows], predicate="dwithin", distance=rules.afstand_m)
    v, p = proposal_rows[near], project_rows[around]
    distances = shapely.distance(proposal_geoms[v], project_geoms[p])
    overlaps = _plain(
        shapely.intersection(proposal_geoms[v], shapely.buffer(project_geoms[p], rules.afstand_m)), proposal_geoms[v]
    )
    voorstel, project = proposals.iloc[v], projects.iloc[p]
    return [
        (
            {
                "code": f"V{vid}-P{pid}",
                "soort": "voorstel bij project",
                "voorstel": int(vid),
                "project": int(pid),
                "titel": f"{_short(vt)} - bij {_short(pt)} ({jaar})",
                "planjaar": int(jaar),
                "ander_planjaar": None,
                "ander_project": None,
                "tussenliggende_jaren": int(jaar) - year,
                "afstand_m": round(float(d), 1),
            },
            geom,
        )
        for vid, vt, pid, pt, jaar, d, geom in zip(
            voorstel.index, voorstel["titel"], project.index, project["titel"], project["planjaar"], distances, overlaps
        )
    ]


def project_pairs(projects, project_geoms, policy: Policy) -> list:
    """Pairs of unfinished projects that share space and are planned close together in time."""
    rules = policy.koppelkansen
    if not len(projects):
        return []
    grown = shapely.buffer(project_geoms, rules.projecten_marge_m)
    a, b = shapely.STRtree(grown).query(grown, predicate="intersects")
    years = projects["planjaar"].to_numpy()
    unfinished = (projects["fase"] != "gereed").to_numpy()
    keep = (a < b) & (np.abs(years[a] - years[b]) <= rules.projecten_binnen_jaren) & unfinished[a] & unfinished[b]
    a, b = a[keep], b[keep]
    overlaps = shapely.intersection(grown[a], grown[b])
    shared = shapely.area(overlaps) >= rules.projecten_overlap_m2
    a, b, overlaps = a[shared], b[shared], _plain(overlaps[shared], grown[a[shared]])
    first, second = projects.iloc[a], projects.iloc[b]
    distances = shapely.distance(project_geoms[a], project_geoms[b])
    return [
        (
            {
                "code": f"P{pa}-P{pb}",
                "soort": "projecten samen",
                "voorstel": None,
                "project": int(pa),
                "ander_project": int(pb),
                "titel": f"{_short(ta)} ({ja}) en {_short(tb)} ({jb})",
                "planjaar": int(ja),
                "ander_planjaar": int(jb),
                "tussenliggende_jaren": abs(int(jb) - int(ja)),
                "afstand_m": round(float(d), 1),
            },
            geom,
        )
        for pa, ta, ja, pb, tb, jb, d, geom in zip(
            first.index,
            first["titel"],
            first["planjaar"],
            second.index,
            second["titel"],
            second["planjaar"],
            distances,
            overlaps,
        )
    ]


def _short(title: str) -> str:
    """A title as a koppelkans quotes it: cut off with an ellipsis when long."""
    return title if len(title) <= TITLE_PART else title[: TITLE_PART - 1] + "…"


def _plain(geoms, fallback) -> np.ndarray:
    """Overlaps as simple features: a collection or an empty result becomes a point of the fallback."""
    geoms = np.asarray(geoms, dtype=object)
    odd = ~np.isin(shapely.get_type_id(geoms), [TYPE_IDS[t] for t in ALL_TYPES]) | shapely.is_empty(geoms)
    geoms[odd] = shapely.point_on_surface(np.asarray(fallback, dtype=object)[odd])
    return geoms
