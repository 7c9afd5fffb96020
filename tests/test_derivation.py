"""Derived collections kept current from the change log, on both backends: after any sequence of
writes, deriving what the changes touched gives exactly what deriving everything again gives, pair
by pair and wijk by wijk; a reader never derives the whole; a new policy or year is derived whole
in the background while the data derived before is served."""

import dataclasses
import datetime as dt
import os
import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import shapely
from conftest import POLICY, client_for, followers, serving
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoservice.derived import derivation, koppelkansen
from geoservice.domain.model import BUDGET_STATUSES, FASE_TRANSITIONS, PARTICIPATION, STATUS_TRANSITIONS, SUPPORTABLE
from geoservice.domain.policy import Koppelkansen, Policy
from geoservice.domain.validation import Conflict, ValidationError
from geoservice.store import Query, changes, counts
from geoservice.store import participation as supports
from geoservice.store.postgis import PostGISStore
from geoservice.store.private import Actor

YEAR = dt.date.today().year
RULES = Policy.load(POLICY)
NOTHING_NEAR = Koppelkansen(horizon_jaren=-1, projecten_binnen_jaren=-1)  # rules no pair meets
KINDS = ["project", "proposal", "move", "planjaar", "fase", "status", "merge", "delete", "support"]
WRITES = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(0, 10**6),  # which feature (modulo those there are)
        st.integers(0, 10**6),  # which other feature
        st.floats(-40, 40),  # metres east
        st.floats(-40, 40),  # metres north
        st.integers(-1, 6),  # years from now
    ),
    min_size=1,
    max_size=8,
)


def _ids(store, collection, published_only=False, where=lambda p: True) -> list:
    page = store.query(Query.every(collection, published_only=published_only))
    return [i for i, p in zip(page.ids, page.properties) if where(p)]


def _near(store, collection, fid, dx, dy):
    """A place dx, dy metres from a feature."""
    [geometry] = store.get(collection, fid, published_only=False).geometries
    return shapely.affinity.translate(shapely.point_on_surface(geometry), dx, dy)


def _write(store, kind, one, other, dx, dy, years) -> None:
    """One write of the given kind on features picked by one and other; refusals are part of the game."""
    projects, proposals = _ids(store, "projecten"), _ids(store, "voorstellen")
    project, proposal = projects[one % len(projects)], proposals[one % len(proposals)]
    year = YEAR + years
    try:
        if kind == "project":
            start = _near(store, "projecten", project, dx, dy)
            line = shapely.LineString([start.coords[0], (start.x + 30, start.y + 5)])
            props = {"titel": f"Werk {one}", "thema": "verharding", "soort": "groot onderhoud", "fase": "gepland"}
            store.insert(
                "projecten", [({**props, "planjaar": year, "start": f"{year}-03-01", "eind": f"{year}-09-30"}, line)]
            )
        elif kind == "proposal":
            props = {"titel": f"Idee {other}", "soort": "idee", "categorie": "groen"}
            [new] = store.insert("voorstellen", [(props, _near(store, "projecten", project, dx, dy))])
            store.update("voorstellen", new, {"status": "gepubliceerd"})
        elif kind == "move":
            [geometry] = store.get("projecten", project, published_only=False).geometries
            store.update("projecten", project, {}, shapely.affinity.translate(geometry, dx, dy))
        elif kind == "planjaar":
            store.update("projecten", project, {"planjaar": year, "start": f"{year}-03-01", "eind": f"{year}-09-30"})
        elif kind == "fase":
            current = store.get("projecten", project, published_only=False).properties[0]["fase"]
            following = FASE_TRANSITIONS[current]
            if following:
                store.update("projecten", project, {"fase": following[0]})
        elif kind == "status":
            current = store.get("voorstellen", proposal, published_only=False).properties[0]["status"]
            following = [s for s in STATUS_TRANSITIONS[current] if s != "samengevoegd"]
            if following:
                store.update("voorstellen", proposal, {"status": following[other % len(following)]})
        elif kind == "merge":
            targets = [
                t for t in _ids(store, "voorstellen", True, lambda p: p["status"] in SUPPORTABLE) if t != proposal
            ]
            target = targets[other % len(targets)]
            store.update("voorstellen", proposal, {"status": "samengevoegd", "samengevoegd_met": target})
        elif kind == "delete":
            collection, fid = ("projecten", project) if other % 2 else ("voorstellen", proposal)
            store.delete(collection, fid)
        else:
            open_ = _ids(store, "voorstellen", True, lambda p: p["status"] in SUPPORTABLE)
            supports.support(store, open_[one % len(open_)], Actor(PARTICIPATION, "buurt", f"deelnemer-{other}"))
    except (ValidationError, Conflict):
        pass


def _stored_pairs(store) -> dict:
    page = store.query(Query.every("koppelkansen"))
    return {p["code"]: (p, g) for p, g in zip(page.properties, page.geometries)}


def _assert_as_if_derived_whole(store) -> None:
    stored = _stored_pairs(store)
    whole = [pair for part in koppelkansen.every(store, RULES, YEAR) for pair in part]
    assert set(stored) == {props["code"] for props, _ in whole}
    assert store.query(Query("koppelkansen", limit=1)).number_matched == len(whole)  # the kept count
    for props, geometry in whole:
        kept, kept_geometry = stored[props["code"]]
        assert {name: kept[name] for name in props} == props, props["code"]
        assert shapely.equals(kept_geometry, geometry), props["code"]
    every_proposal = store.query(Query.every("voorstellen")).properties
    every_project = store.query(Query.every("projecten")).properties
    for wijk in store.query(Query.every("wijken")).properties:
        code = wijk["wijkcode"]
        proposals, projects = ([p for p in ps if p["wijkcode"] == code] for ps in (every_proposal, every_project))
        assert _counted(code, proposals, projects).items() <= wijk.items(), code


def _counted(wijkcode: str, proposals: list[dict], projects: list[dict]) -> dict:
    """A wijk's summary counted from its (published) proposals and projects, one by one."""
    given = sum(p["wijkbudget"] or 0 for p in proposals if p["status"] in BUDGET_STATUSES)
    return {
        "voorstellen_per_status": dict(Counter(p["status"] for p in proposals)),
        "steun": sum(p["steun"] for p in proposals),
        "projecten_per_planjaar": dict(Counter(str(p["planjaar"]) for p in projects)),
        "projecten_per_fase": dict(Counter(p["fase"] for p in projects)),
        "budget_per_planjaar": {
            str(year): sum(p["budget_indicatie"] or 0 for p in projects if p["planjaar"] == year)
            for year in {p["planjaar"] for p in projects}
        },
        "wijkbudget_toegekend": given,
        "wijkbudget_resterend": RULES.wijkbudget.of(wijkcode) - given,
    }


def test_deriving_the_changes_gives_what_deriving_everything_gives(store):
    examples_that_changed_pairs = []

    @settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(WRITES)
    def writes(sequence):
        before = set(_stored_pairs(store))
        for write in sequence:
            _write(store, *write)
        for name in derivation.DERIVED:
            derivation.refresh(store, RULES, name)
            stamp = derivation.stamp(store, name)
            assert changes.since(store, stamp.sequence, 1, derivation.SOURCES) == [], name
        _assert_as_if_derived_whole(store)
        examples_that_changed_pairs.append(set(_stored_pairs(store)) != before)

    writes()
    assert sum(examples_that_changed_pairs) >= 5  # the writes made and unmade koppelkansen


def test_a_store_made_before_kept_counts_gets_them_when_opened(store):
    with store.transaction() as tx:
        tx.execute(f"DROP TABLE {counts.TABLE}")
        for name in ("erbij", "eraf"):
            on = ' ON "koppelkansen"' if isinstance(store, PostGISStore) else ""
            tx.execute(f'DROP TRIGGER "koppelkansen_{name}"{on}')
    reopened = type(store)(store.location)
    try:
        pairs = reopened.read("SELECT count(*) FROM koppelkansen")[0][0]
        assert pairs > 0 and counts.rows(reopened, "koppelkansen") == pairs
        derivation.derive_whole(reopened, dataclasses.replace(RULES, koppelkansen=NOTHING_NEAR), YEAR)
        assert counts.rows(reopened, "koppelkansen") == reopened.read("SELECT count(*) FROM koppelkansen")[0][0] == 0
        derivation.derive_whole(reopened, RULES, YEAR)
        assert counts.rows(reopened, "koppelkansen") == pairs
    finally:
        reopened.close()


def test_a_reader_derives_only_what_changed(store, monkeypatch):
    def whole(*args, **kwargs):
        raise AssertionError("a reader derived everything")

    monkeypatch.setattr(koppelkansen, "every", whole)
    client = client_for(store)
    derivation.refresh(store, RULES, "koppelkansen", YEAR + 1)  # a new year: derived whole, so not by a reader
    _write(store, "proposal", 3, 4, 5.0, 5.0, 1)
    answer = client.get("/collections/koppelkansen/items", params={"limit": 1})
    stamp = derivation.stamp(store, "koppelkansen")
    assert changes.since(store, stamp.sequence, 1, derivation.SOURCES) == []
    assert answer.headers["Derived-Through-Change"] == str(stamp.sequence)
    assert answer.headers["Derived-At"] == stamp.moment


def test_a_new_policy_is_derived_whole_once_in_the_background_while_the_old_data_is_served(store, tmp_path):
    wider = tmp_path / "wijkplan.yml"
    rules = Path(POLICY).read_text(encoding="utf-8")
    wider.write_text(rules.replace("afstand_m: 25 ", "afstand_m: 60 "), encoding="utf-8")
    policy = Policy.load(wider)
    old = set(_stored_pairs(store))
    new = {props["code"] for part in koppelkansen.every(store, policy, YEAR) for props, _ in part}
    assert len(new) > len(old)
    started, before = store.last_change(), derivation.stamp(store, "koppelkansen")
    seen, stamps = [], []
    with serving(store.location, tmp_path, policy=wider) as server:
        deadline = time.monotonic() + 60
        while not seen or seen[-1] != new:
            assert time.monotonic() < deadline, "the new policy was not derived within a minute"
            answer = httpx.get(f"{server.url}/collections/koppelkansen/items", params={"limit": 10_000}, timeout=30)
            seen.append({f["id"] for f in answer.json()["features"]})
            stamps.append(answer.headers["Derived-At"])
    assert all(codes in (old, new) for codes in seen)
    assert all((stamp == before.moment) == (codes == old) for codes, stamp in zip(seen, stamps))  # stamped as derived
    whole = [c for c in store.changes_since(started) if c.kind == changes.DERIVED and c.collection == "koppelkansen"]
    assert len(whole) == 1 and derivation.stamp(store, "koppelkansen").fits(policy, YEAR)


def _spread_projects(store, count: int) -> list[tuple[dict, shapely.Point]]:
    """count new projects planned next year, 60 m apart inside the municipality (no two share space)."""
    inside = store.areas()[3].buffer(-100)
    minx, miny, maxx, maxy = inside.bounds
    grid = (shapely.Point(x, y) for y in range(int(miny), int(maxy), 60) for x in range(int(minx), int(maxx), 60))
    places = [point for point in grid if inside.contains(point)][:count]
    assert len(places) == count
    props = {"titel": "Gepland werk", "thema": "groen", "soort": "groot onderhoud", "fase": "gepland",
             "planjaar": YEAR + 1, "start": f"{YEAR + 1}-03-01", "eind": f"{YEAR + 1}-04-01"}  # fmt: skip
    return [(props, point) for point in places]


def test_the_workers_leave_deriving_whole_to_the_services_background_process(store, tmp_path):
    """A bulk load is derived whole by the one background process `serve` starts, not by the workers
    that answer requests: while it is stopped nothing is derived whole; once it runs again it is."""
    with serving(store.location, tmp_path) as server:
        [background] = followers(server)
        os.kill(int(background.name), signal.SIGSTOP)
        try:
            planned = _spread_projects(store, derivation.MOST_FEATURES + 1)
            store.insert("projecten", planned, Actor("planner", "gemeente"))
            loaded = store.last_change()
            time.sleep(4)  # the workers' own background would have derived every second
            answer = httpx.get(f"{server.url}/collections/koppelkansen/items", params={"limit": 1})
            assert answer.status_code == 200 and int(answer.headers["Derived-Through-Change"]) < loaded
        finally:
            os.kill(int(background.name), signal.SIGCONT)
        deadline = time.monotonic() + 120
        while derivation.stamp(store, "koppelkansen").sequence < loaded:
            assert time.monotonic() < deadline, "the background process did not derive the bulk load whole"
            time.sleep(0.2)
