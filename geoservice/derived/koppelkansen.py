"""Koppelkansen: open proposals next to work planned within the horizon, and pairs of projects
that share space and are planned close together in time.

Whether a pair is a koppelkans depends on its two features alone (and the policy and the year), so
after a write only the pairs of the features it touched need deriving again: `around` finds them
with the spatial index, `every` derives the whole collection.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import shapely
from pygeofilter import ast

from geoservice.domain.model import ALL_TYPES, SUPPORTABLE
from geoservice.domain.policy import Policy
from geoservice.domain.validation import TYPE_IDS
from geoservice.query.filters import intersects
from geoservice.store import Query, Store

TITLE_PART = 180  # characters of each title a koppelkans quotes
BOXES_PER_QUERY = 50  # neighbourhoods looked up in one query
SLICE = 100_000  # candidate pairs worked on at once
COLUMNS = {"projecten": ("titel", "planjaar", "fase"), "voorstellen": ("titel", "status")}  # what the rules read


@dataclass(frozen=True)
class Features:
    """Features of one collection as columns, in id order: ids, the properties the rules read, geometries."""

    ids: np.ndarray
    columns: dict[str, np.ndarray]
    geoms: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def take(self, rows) -> Features:
        return Features(self.ids[rows], {name: v[rows] for name, v in self.columns.items()}, self.geoms[rows])


def every(store: Store, policy: Policy, year: int) -> Iterator[list]:
    """All koppelkansen of the store, a slice at a time: [(properties, geometry)]."""
    projects = features(store, "projecten")
    yield from proposal_opportunities(projects, features(store, "voorstellen", published_only=True), policy, year)
    yield from project_pairs(projects, policy)


def around(store: Store, policy: Policy, year: int, project_ids: set, proposal_ids: set) -> list:
    """The koppelkansen that name one of these projects or proposals, as they are now."""
    rules = policy.koppelkansen
    projects = features(store, "projecten", _ids(project_ids))
    proposals = features(store, "voorstellen", _ids(proposal_ids), published_only=True)
    reach = max(rules.afstand_m, 2 * rules.projecten_marge_m)  # pairs of projects: both grown by the margin
    boxes = [*_boxes(projects.geoms, reach), *_boxes(proposals.geoms, rules.afstand_m)]
    near_projects = _union(projects, _near(store, "projecten", boxes))
    near_proposals = _near(store, "voorstellen", _boxes(projects.geoms, rules.afstand_m), published_only=True)
    found = [
        *proposal_opportunities(near_projects, proposals, policy, year),
        *proposal_opportunities(projects, near_proposals, policy, year),
        *project_pairs(near_projects, policy),
    ]
    return list(
        {
            props["code"]: (props, geom)
            for part in found
            for props, geom in part
            if props["voorstel"] in proposal_ids
            or props["project"] in project_ids
            or props["ander_project"] in project_ids
        }.values()
    )


def naming(project_ids: set, proposal_ids: set) -> tuple[str, tuple]:
    """SQL condition (? marks) and values: the stored koppelkansen that name these features."""
    conditions, values = [], []
    for column, ids in (("voorstel", proposal_ids), ("project", project_ids), ("ander_project", project_ids)):
        if ids:
            conditions.append(f'"{column}" IN ({", ".join("?" * len(ids))})')
            values += sorted(ids)
    return " OR ".join(conditions) or "1 = 0", tuple(values)


def features(store: Store, collection: str, filter_=None, published_only: bool = False) -> Features:
    """The features of a collection the filter selects, with the columns the rules read."""
    page = store.query(Query.every(collection, filter_, published_only=published_only))
    columns = {name: np.array([p[name] for p in page.properties], dtype=object) for name in COLUMNS[collection]}
    return Features(np.array(page.ids, dtype=np.int64), columns, np.asarray(page.geometries, dtype=object))


def _ids(ids: set):
    """A filter on the features with these ids (none: nothing)."""
    return ast.In(ast.Attribute("fid"), sorted(ids), False) if ids else ast.Equal(ast.Attribute("fid"), -1)


def _boxes(geoms, distance: float) -> list:
    """The bounding boxes of geometries grown by a distance: whatever lies within it meets its box."""
    return [shapely.box(*bounds) for bounds in shapely.bounds(shapely.buffer(shapely.envelope(geoms), distance))]


def _near(store: Store, collection: str, boxes: list, published_only: bool = False) -> Features:
    """The features of a collection that meet any of the boxes."""
    chunks = [boxes[i : i + BOXES_PER_QUERY] for i in range(0, len(boxes), BOXES_PER_QUERY)]
    found = [features(store, collection, ast.Or.from_items(*map(intersects, c)), published_only) for c in chunks]
    return _union(*found) if found else features(store, collection, _ids(set()))


def _union(*parts: Features) -> Features:
    """Features of one collection together, each once, in id order."""
    ids = np.concatenate([part.ids for part in parts])
    columns = {name: np.concatenate([part[name] for part in parts]) for name in parts[0].columns}
    _, first = np.unique(ids, return_index=True)
    return Features(ids, columns, np.concatenate([part.geoms for part in parts])).take(first)


def proposal_opportunities(projects: Features, proposals: Features, policy: Policy, year: int) -> Iterator[list]:
    """Each open published proposal within the distance of a project planned within the horizon (in slices)."""
    rules = policy.koppelkansen
    planjaar = projects["planjaar"]
    planned = (planjaar >= year) & (planjaar <= year + rules.horizon_jaren) & (projects["fase"] != "gereed")
    project_rows = np.flatnonzero(planned.astype(bool))
    proposal_rows = np.flatnonzero(np.isin(proposals["status"], SUPPORTABLE))
    tree = shapely.STRtree(projects.geoms[project_rows])
    near, around_ = tree.query(proposals.geoms[proposal_rows], predicate="dwithin", distance=rules.afstand_m)
    for rows in _slices(len(near)):
        yield _opportunities(
            proposals.take(proposal_rows[near[rows]]), projects.take(project_rows[around_[rows]]), rules.afstand_m, year
        )


def _opportunities(voorstel: Features, project: Features, distance: float, year: int) -> list:
    """Koppelkansen of proposals and projects side by side (row by row)."""
    distances = shapely.distance(voorstel.geoms, project.geoms)
    overlaps = _plain(shapely.intersection(voorstel.geoms, shapely.buffer(project.geoms, distance)), voorstel.geoms)
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
            voorstel.ids, voorstel["titel"], project.ids, project["titel"], project["planjaar"], distances, overlaps
        )
    ]


def project_pairs(projects: Features, policy: Policy) -> Iterator[list]:
    """Pairs of unfinished projects that share space and are planned close together in time (in slices)."""
    rules = policy.koppelkansen
    if not len(projects):
        return
    grown = shapely.buffer(projects.geoms, rules.projecten_marge_m)
    a, b = shapely.STRtree(grown).query(grown, predicate="intersects")
    years = projects["planjaar"].astype(np.int64)
    unfinished = projects["fase"] != "gereed"
    keep = (a < b) & (np.abs(years[a] - years[b]) <= rules.projecten_binnen_jaren) & unfinished[a] & unfinished[b]
    a, b = a[keep], b[keep]
    for rows in _slices(len(a)):
        yield _pairs(projects, grown, a[rows], b[rows], rules)


def _pairs(projects: Features, grown: np.ndarray, a: np.ndarray, b: np.ndarray, rules) -> list:
    """Koppelkansen of the candidate pairs (a[i], b[i]) of projects whose grown geometries overlap enough."""
    overlaps = shapely.intersection(grown[a], grown[b])
    shared = shapely.area(overlaps) >= rules.projecten_overlap_m2
    a, b, overlaps = a[shared], b[shared], _plain(overlaps[shared], grown[a[shared]])
    first, second = projects.take(a), projects.take(b)
    distances = shapely.distance(first.geoms, second.geoms)
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
            first.ids,
            first["titel"],
            first["planjaar"],
            second.ids,
            second["titel"],
            second["planjaar"],
            distances,
            overlaps,
        )
    ]


def _slices(count: int) -> list[slice]:
    """Candidates in slices, so that the geometries made for them at once stay few."""
    return [slice(start, start + SLICE) for start in range(0, count, SLICE)]


def _short(title: str) -> str:
    """A title as a koppelkans quotes it: cut off with an ellipsis when long."""
    return title if len(title) <= TITLE_PART else title[: TITLE_PART - 1] + "…"


def _plain(geoms, fallback) -> np.ndarray:
    """Overlaps as simple features: a collection or an empty result becomes a point of the fallback."""
    geoms = np.asarray(geoms, dtype=object)
    odd = ~np.isin(shapely.get_type_id(geoms), [TYPE_IDS[t] for t in ALL_TYPES]) | shapely.is_empty(geoms)
    geoms[odd] = shapely.point_on_surface(np.asarray(fallback, dtype=object)[odd])
    return geoms
