"""Spatial analysis on the store: koppelkansen, the per-wijk summary and duplicate hints.

Koppelkansen and the wijk summaries are derived collections: before they are read, `refresh`
recomputes them (vectorised, with STRtree) when projects, proposals, the year or the policy have
changed since they were last computed.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata

import numpy as np
import pandas as pd
import shapely

from geoservice.domain.model import ALL_TYPES, BUDGET_STATUSES, COLLECTIONS, KOPPELKANSEN, SUPPORTABLE, WIJKEN
from geoservice.domain.policy import Policy
from geoservice.domain.validation import TYPE_IDS
from geoservice.query.filters import all_of, equals, intersects
from geoservice.store import Query, Store, changes

SOURCES = ("projecten", "voorstellen")
TITLE_PART = 180  # characters of each title a koppelkans quotes
_FAILED: dict = {}  # (store, derived collection) -> the stamp whose derivation failed
log = logging.getLogger(__name__)


def refresh(store: Store, policy: Policy, name: str, year: int | None = None) -> None:
    """Bring a derived collection (koppelkansen, wijken) up to date; nothing for the others.

    A derivation that fails leaves the data derived before in place (it keeps being served) and is
    logged; it is tried again once its sources change."""
    name = COLLECTIONS[name].table if name in COLLECTIONS else name
    compute = DERIVATIONS.get(name)
    if compute is None:
        return
    year = year or dt.date.today().year
    stamp = ":".join([*(str(store.version(source)) for source in SOURCES), str(year), policy.fingerprint])
    if _stamp(store, name) == stamp or _FAILED.get((store.location, name)) == stamp:
        return
    try:
        with store.transaction() as tx:
            tx.execute("INSERT INTO afgeleid (naam, bron) VALUES (?, '') ON CONFLICT DO NOTHING", (name,))
            store.lock_row(tx, "afgeleid", "naam", name)
            if tx.execute("SELECT bron FROM afgeleid WHERE naam = ?", (name,)).fetchone()[0] == stamp:
                return  # another process did it meanwhile
            appeared, areas = compute(store, tx, policy, year)
            tx.execute("UPDATE afgeleid SET bron = ? WHERE naam = ?", (stamp, name))
            store.announce(tx, name, changes.DERIVED, appeared, areas, public=True)
    except Exception:
        _FAILED[(store.location, name)] = stamp
        log.exception("deriving %s failed; the data derived before stays in place", name)


def refresh_all(store: Store, policy: Policy) -> None:
    """Bring every derived collection up to date (for readers of the store itself, such as QGIS)."""
    for name in DERIVATIONS:
        refresh(store, policy, name)


def _stamp(store: Store, name: str) -> str | None:
    rows = store.read("SELECT bron FROM afgeleid WHERE naam = ?", (name,))
    return rows[0][0] if rows else None


def _frame(store: Store, collection: str, published_only: bool = False):
    """A collection's properties as a DataFrame (index: ids) and its geometries."""
    page = store.query(Query.every(collection, published_only=published_only))
    columns = [f.name for f in COLLECTIONS[collection].fields]
    return pd.DataFrame(page.properties, columns=columns, index=pd.Index(page.ids, name="id")), page.geometries


# -- koppelkansen ----------------------------------------------------------------------
def _refresh_koppelkansen(store: Store, tx, policy: Policy, year: int) -> tuple[list[str], set[str]]:
    """Derive the koppelkansen again; the codes of those that were not there before, and their areas."""
    before = {row[0] for row in tx.execute(f'SELECT code FROM "{KOPPELKANSEN.name}"').fetchall()}
    projects, project_geoms = _frame(store, "projecten")
    proposals, proposal_geoms = _frame(store, "voorstellen", published_only=True)
    features = [
        *proposal_opportunities(projects, project_geoms, proposals, proposal_geoms, policy, year),
        *project_pairs(projects, project_geoms, policy),
    ]
    tx.execute(f'DELETE FROM "{KOPPELKANSEN.name}"')
    store.insert_derived(tx, KOPPELKANSEN, features)
    now = tx.execute(f'SELECT code, wijkcode, buurtcode FROM "{KOPPELKANSEN.name}"').fetchall()
    appeared = [{"code": c, "wijkcode": w, "buurtcode": b} for c, w, b in now if c not in before]
    return sorted(p["code"] for p in appeared), changes.areas_of(*appeared)


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


# -- per-wijk summary -----------------------------------------------------------------
def _refresh_wijken(store: Store, tx, policy: Policy, year: int) -> tuple[list, set]:
    """Summarise every wijk again (no feature appears)."""
    wijken, _ = _frame(store, "wijken")
    projects, _ = _frame(store, "projecten")
    proposals, _ = _frame(store, "voorstellen", published_only=True)
    summaries = wijk_summaries(wijken["wijkcode"], projects, proposals, policy, year)
    store.set_values(tx, WIJKEN, "wijkcode", summaries)
    return [], set()


def wijk_summaries(wijkcodes, projects, proposals, policy: Policy, year: int) -> dict[str, dict]:
    """Per wijk: published proposals by status, their support, projects by year and phase, budgets."""
    support = proposals.groupby("wijkcode")["steun"].sum()
    allocated = proposals[proposals["status"].isin(BUDGET_STATUSES)].groupby("wijkcode")["wijkbudget"].sum()
    by_status, by_year = (
        _per_wijk(proposals.groupby(["wijkcode", "status"]).size()),
        _per_wijk(projects.groupby(["wijkcode", "planjaar"]).size()),
    )
    by_phase = _per_wijk(projects.groupby(["wijkcode", "fase"]).size())
    budgets = _per_wijk(projects.groupby(["wijkcode", "planjaar"])["budget_indicatie"].sum())
    summaries = {}
    for code in wijkcodes:
        budget, given = policy.wijkbudget.of(code), int(allocated.get(code, 0))
        summaries[code] = {
            "voorstellen_per_status": by_status.get(code, {}),
            "steun": int(support.get(code, 0)),
            "projecten_per_planjaar": by_year.get(code, {}),
            "projecten_per_fase": by_phase.get(code, {}),
            "budget_per_planjaar": budgets.get(code, {}),
            "wijkbudget_jaar": year,
            "wijkbudget": budget,
            "wijkbudget_toegekend": given,
            "wijkbudget_resterend": budget - given,
        }
    return summaries


def _per_wijk(grouped) -> dict[str, dict]:
    """{wijkcode: {key: value}} of a series grouped by wijkcode and one key."""
    result: dict[str, dict] = {}
    for (wijk, key), value in grouped.items():
        result.setdefault(wijk, {})[str(key)] = int(value)
    return result


DERIVATIONS = {"koppelkansen": _refresh_koppelkansen, "wijken": _refresh_wijken}


# -- duplicate hints ------------------------------------------------------------------
STOPWORDS = frozenset(
    [
        "aan",
        "als",
        "bij",
        "dat",
        "de",
        "den",
        "der",
        "die",
        "dit",
        "een",
        "en",
        "er",
        "het",
        "hier",
        "in",
        "is",
        "met",
        "na",
        "naar",
        "niet",
        "of",
        "om",
        "onze",
        "op",
        "te",
        "tot",
        "van",
        "veel",
        "voor",
        "wat",
        "we",
        "wij",
        "zo",
        "zijn",
        "graag",
        "meer",
    ]
)


def words(text: str) -> frozenset:
    """The meaningful words of a text: case and accents folded, short and common words left out."""
    plain = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    return frozenset(w for w in re.findall(r"[a-z0-9]+", plain) if len(w) > 2 and w not in STOPWORDS)


def similarity(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def similar_proposals(store: Store, policy: Policy, props: dict, geometry, limit: int = 5) -> list[dict]:
    """Open published proposals near a geometry (storage CRS) in the same categorie with a similar
    text, most similar first."""
    reach = policy.deelname.vergelijkbaar_binnen_m
    around = shapely.box(*shapely.buffer(geometry, reach).bounds)  # a box: the index answers it alone
    page = store.query(
        Query("voorstellen", all_of(intersects(around), equals("categorie", props.get("categorie"))), limit=1000)
    )
    mine = words(f"{props.get('titel') or ''} {props.get('omschrijving') or ''}")
    found = []
    for fid, p, distance in zip(page.ids, page.properties, shapely.distance(page.geometries, geometry)):
        score = similarity(mine, words(f"{p['titel']} {p['omschrijving'] or ''}"))
        if distance <= reach and p["status"] in SUPPORTABLE and score >= policy.deelname.vergelijkbaar_vanaf:
            found.append(
                {
                    "id": fid,
                    "titel": p["titel"],
                    "status": p["status"],
                    "steun": p["steun"],
                    "afstand_m": round(float(distance), 1),
                    "gelijkenis": round(score, 2),
                }
            )
    return sorted(found, key=lambda f: (-f["gelijkenis"], f["afstand_m"]))[:limit]
