"""The wijkplan process over HTTP, on both backends: lifecycles, the public history of every change,
koppelkansen kept current and the per-wijk summary."""

import datetime as dt
import logging

import numpy as np
import pytest
import shapely
from test_participation import PROJECT, feature, headers, path_of, publish, submit

from geoservice.derived import derivation
from geoservice.domain.model import SUPPORTABLE
from geoservice.domain.policy import Policy
from geoservice.query.filters import equals
from geoservice.store import Query

THIS_YEAR = dt.date.today().year
STREET = [[5.8600, 51.8430], [5.8640, 51.8432]]  # a street in Nijmegen-Centrum
NEXT_TO_STREET = {"type": "Point", "coordinates": [5.8620, 51.84315]}


def history(client, collection, fid) -> list[dict]:
    found = client.get(
        "/collections/statuswijzigingen/items",
        params={"collectie": collection, "object_id": fid, "sortby": "tijdstip", "limit": 100},
    ).json()
    return [f["properties"] for f in found["features"]]


def project(client, tokens, planjaar=THIS_YEAR + 1, coordinates=STREET, **extra):
    props = {**PROJECT, "planjaar": planjaar, "start": f"{planjaar}-03-01", "eind": f"{planjaar}-06-30", **extra}
    response = client.post(
        "/collections/projecten/items",
        headers=headers(tokens, "planner"),
        json=feature(props, {"type": "LineString", "coordinates": coordinates}),
    )
    assert response.status_code == 201, response.text
    return path_of(response), response.json()["id"]


def opportunities(client, **params) -> list[dict]:
    found = client.get("/collections/koppelkansen/items", params={"limit": 10_000, **params}).json()
    return [f["properties"] for f in found["features"]]


# -- lifecycles and history -------------------------------------------------------------
def test_a_proposal_s_path_is_recorded_and_public_from_its_publication(store_client, tokens):
    response = submit(store_client, tokens)
    path, fid = path_of(response), response.json()["id"]
    assert history(store_client, "voorstellen", fid) == []
    assert publish(store_client, tokens, path).status_code == 200
    planner = headers(tokens, "planner")
    store_client.patch(
        path, json={"properties": {"status": "in uitwerking"}, "toelichting": "Mee in project 12"}, headers=planner
    )
    trail = history(store_client, "voorstellen", fid)
    assert [(t["van"], t["naar"], t["rol"]) for t in trail] == [
        (None, "ingediend", "participatie"),
        ("ingediend", "gepubliceerd", "moderator"),
        ("gepubliceerd", "in uitwerking", "planner"),
    ]
    assert trail[2]["toelichting"] == "Mee in project 12"
    assert trail[0]["tijdstip"] <= trail[1]["tijdstip"] <= trail[2]["tijdstip"]
    assert all(t["gepubliceerd"] >= trail[1]["tijdstip"] for t in trail)
    assert trail[0]["wijkcode"] == "WK026801"


@pytest.mark.parametrize(
    "old,new", [("ingediend", "in uitwerking"), ("gepubliceerd", "gerealiseerd"), ("gepubliceerd", "ingediend")]
)
def test_a_proposal_cannot_leave_its_lifecycle(store_client, store, tokens, old, new):
    fid = store.query(Query("voorstellen", equals("status", old), published_only=False, limit=1)).ids[0]
    path = f"/collections/voorstellen/items/{fid}"
    response = store_client.patch(path, json={"properties": {"status": new}}, headers=headers(tokens, "moderator"))
    assert response.status_code == 400 and f"cannot go from {old!r} to {new!r}" in response.json()["description"]


def test_rejection_needs_a_reason_which_the_history_keeps(store_client, store, tokens):
    fid = store.query(Query("voorstellen", equals("status", "gepubliceerd"), limit=1)).ids[0]
    path, moderator = f"/collections/voorstellen/items/{fid}", headers(tokens, "moderator")
    refused = store_client.patch(path, json={"properties": {"status": "afgewezen"}}, headers=moderator)
    assert refused.status_code == 400 and "reden" in refused.json()["description"]
    reason = "Past niet in het bestemmingsplan."
    store_client.patch(path, json={"properties": {"status": "afgewezen", "reden": reason}}, headers=moderator)
    assert history(store_client, "voorstellen", fid)[-1]["toelichting"] == reason


def test_merging_needs_an_existing_target_which_takes_over_the_support(store_client, store, tokens):
    source, target = store.query(Query("voorstellen", equals("status", "gepubliceerd"), limit=2)).ids
    source_path, target_path = (f"/collections/voorstellen/items/{i}" for i in (source, target))
    for participant in ("a", "b"):
        store_client.post(f"{source_path}/steun", headers=headers(tokens, "participatie", participant))
    store_client.post(f"{target_path}/steun", headers=headers(tokens, "participatie", "a"))
    supporters = {
        fid: set(store.read("SELECT deelnemer FROM steunbetuigingen WHERE voorstel = ?", (fid,)))
        for fid in (source, target)
    }
    moderator = headers(tokens, "moderator")
    missing = store_client.patch(
        source_path, json={"properties": {"status": "samengevoegd", "samengevoegd_met": 999_999}}, headers=moderator
    )
    assert missing.status_code == 400 and "samengevoegd_met" in missing.json()["description"]
    merged = store_client.patch(
        source_path, json={"properties": {"status": "samengevoegd", "samengevoegd_met": target}}, headers=moderator
    )
    assert merged.status_code == 200
    expected = len(supporters[source] | supporters[target])
    assert store_client.get(target_path).json()["properties"]["steun"] == expected


def test_a_project_s_phases_are_recorded_by_the_planner(store_client, tokens):
    path, fid = project(store_client, tokens)
    planner = headers(tokens, "planner")
    for fase in ("voorbereiding", "inspraak"):
        assert store_client.patch(path, json={"properties": {"fase": fase}}, headers=planner).status_code == 200
    skipped = store_client.patch(path, json={"properties": {"fase": "gereed"}}, headers=planner)
    assert skipped.status_code == 400
    trail = history(store_client, "projecten", fid)
    assert [(t["van"], t["naar"], t["rol"]) for t in trail] == [
        (None, "gepland", "planner"),
        ("gepland", "voorbereiding", "planner"),
        ("voorbereiding", "inspraak", "planner"),
    ]
    store_client.delete(path, headers=planner)
    assert history(store_client, "projecten", fid)[-1]["naar"] == "verwijderd"


def test_the_demo_history_gives_lead_times(client):
    trail = client.get(
        "/collections/statuswijzigingen/items",
        params={"collectie": "voorstellen", "naar": "gepubliceerd", "limit": 10_000},
    ).json()["features"]
    assert len(trail) > 300
    assert all(t["properties"]["rol"] == "moderator" for t in trail)


# -- koppelkansen ----------------------------------------------------------------------
def test_a_published_proposal_next_to_planned_work_is_a_koppelkans_at_once(store_client, tokens):
    project_path, project_id = project(store_client, tokens)
    response = submit(store_client, tokens, feature(geometry=NEXT_TO_STREET))
    proposal_path, proposal_id = path_of(response), response.json()["id"]
    assert not opportunities(store_client, voorstel=proposal_id)  # not published yet
    publish(store_client, tokens, proposal_path)
    [found] = opportunities(store_client, voorstel=proposal_id)
    assert found["project"] == project_id and found["soort"] == "voorstel bij project"
    assert found["afstand_m"] < 10 and found["planjaar"] == THIS_YEAR + 1 and found["tussenliggende_jaren"] == 1
    assert found["wijkcode"] == "WK026801"
    far = {"type": "LineString", "coordinates": [[5.8700, 51.8500], [5.8720, 51.8501]]}
    store_client.patch(project_path, json={"geometry": far}, headers=headers(tokens, "planner"))
    assert not opportunities(store_client, voorstel=proposal_id)


def test_work_beyond_the_horizon_is_no_koppelkans(store_client, tokens):
    _, project_id = project(store_client, tokens, planjaar=THIS_YEAR + Policy().koppelkansen.horizon_jaren + 1)
    publish(store_client, tokens, path_of(submit(store_client, tokens, feature(geometry=NEXT_TO_STREET))))
    assert not opportunities(store_client, project=project_id)


def test_two_projects_in_one_street_within_two_years_are_a_koppelkans(store_client, tokens):
    _, first = project(store_client, tokens, planjaar=THIS_YEAR + 1, thema="riolering")
    _, second = project(store_client, tokens, planjaar=THIS_YEAR + 3)
    _, third = project(store_client, tokens, planjaar=THIS_YEAR + 4)
    pairs = {(k["project"], k["ander_project"]): k for k in opportunities(store_client, soort="projecten samen")}
    assert (first, second) in pairs and (second, third) in pairs and (first, third) not in pairs
    assert pairs[(first, second)]["tussenliggende_jaren"] == 2
    koppelkans = store_client.get(f"/collections/koppelkansen/items/P{first}-P{second}").json()
    assert koppelkans["geometry"]["type"] == "Polygon"


def test_the_longest_titles_still_make_a_koppelkans(store_client, tokens):
    long_titles = [f"{'Herinrichting ' * 14}{n}"[:200] for n in range(2)]
    first, second = (project(store_client, tokens, planjaar=THIS_YEAR + 1, titel=title)[1] for title in long_titles)
    answer = store_client.get(f"/collections/koppelkansen/items/P{first}-P{second}")
    assert answer.status_code == 200
    title = answer.json()["properties"]["titel"]
    assert len(title) <= 400 and title.endswith(f"({THIS_YEAR + 1})") and "…" in title


def test_a_failed_derivation_keeps_the_data_derived_before_and_is_logged(store_client, tokens, monkeypatch, caplog):
    before = store_client.get("/collections/koppelkansen/items", params={"limit": 1000}).json()["features"]
    monkeypatch.setitem(derivation.INCREMENTS, "koppelkansen", lambda *args: 1 / 0)
    project(store_client, tokens, planjaar=THIS_YEAR + 1)
    with caplog.at_level(logging.ERROR, logger="geoservice.derived.derivation"):
        after = store_client.get("/collections/koppelkansen/items", params={"limit": 1000})
    assert after.status_code == 200 and after.json()["features"] == before
    assert any("deriving koppelkansen failed" in record.getMessage() for record in caplog.records)


def test_the_demo_koppelkansen_are_exactly_the_pairs_within_distance_and_horizon(client, demo_store):
    found = {(k["voorstel"], k["project"]) for k in opportunities(client, soort="voorstel bij project")}
    projects = demo_store.query(Query("projecten", limit=10_000))
    proposals = demo_store.query(Query("voorstellen", limit=10_000))
    distances = shapely.distance(proposals.geometries[:, None], projects.geometries[None, :])
    planned = np.array(
        [THIS_YEAR <= p["planjaar"] <= THIS_YEAR + 4 and p["fase"] != "gereed" for p in projects.properties]
    )
    open_ = np.array([p["status"] in SUPPORTABLE for p in proposals.properties])
    rows, columns = np.nonzero((distances <= 25) & planned[None, :] & open_[:, None])
    expected = {(proposals.ids[r], projects.ids[c]) for r, c in zip(rows, columns)}
    assert len(expected) > 50 and found == expected


# -- per-wijk summary ------------------------------------------------------------------
def test_each_wijk_sums_up_its_proposals_projects_and_budget(client, demo_store):
    wijk = client.get("/collections/wijken/items/WK026801").json()["properties"]
    proposals = demo_store.query(Query("voorstellen", equals("wijkcode", "WK026801"), limit=10_000)).properties
    projects = demo_store.query(Query("projecten", equals("wijkcode", "WK026801"), limit=10_000)).properties
    assert sum(wijk["voorstellen_per_status"].values()) == len(proposals)  # the published ones only
    assert wijk["steun"] == sum(p["steun"] for p in proposals)
    assert sum(wijk["projecten_per_planjaar"].values()) == len(projects) == sum(wijk["projecten_per_fase"].values())
    assert sum(wijk["budget_per_planjaar"].values()) == sum(p["budget_indicatie"] or 0 for p in projects)
    assert wijk["wijkbudget"] == 80_000 and wijk["wijkbudget_jaar"] == THIS_YEAR
    assert wijk["wijkbudget_resterend"] == wijk["wijkbudget"] - wijk["wijkbudget_toegekend"]


def test_the_wijkbudget_follows_proposals_into_uitwerking(store_client, store, tokens):
    before = store_client.get("/collections/wijken/items/WK026801").json()["properties"]
    initiative = feature({**PROPOSAL_WITH_BUDGET})
    path = path_of(submit(store_client, tokens, initiative))
    publish(store_client, tokens, path)
    store_client.patch(path, json={"properties": {"status": "in uitwerking"}}, headers=headers(tokens, "planner"))
    after = store_client.get("/collections/wijken/items/WK026801").json()["properties"]
    assert after["wijkbudget_toegekend"] == before["wijkbudget_toegekend"] + 2_500
    assert after["wijkbudget_resterend"] == before["wijkbudget_resterend"] - 2_500
    assert after["voorstellen_per_status"]["in uitwerking"] == before["voorstellen_per_status"]["in uitwerking"] + 1


PROPOSAL_WITH_BUDGET = {"titel": "Geveltuintjes", "soort": "initiatief", "categorie": "groen", "wijkbudget": 2_500}
