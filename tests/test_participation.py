"""Participation over HTTP, on both backends: who may write what, submitting, support, reactions,
privacy, duplicate hints and the abuse limits."""

import shutil

import pytest
import shapely
import yaml
from conftest import client_for
from snapshots import fingerprint

from geoservice.participation.tokens import Tokens
from geoservice.query.crs import RD
from geoservice.query.filters import equals
from geoservice.store import Query

PROPOSAL = {
    "titel": "Bankje bij de speeltuin",
    "omschrijving": "Een bankje in de schaduw voor ouders.",
    "soort": "idee",
    "categorie": "spelen, bewegen en ontmoeten",
}
POINT = {"type": "Point", "coordinates": [5.8662, 51.8467]}  # Stadscentrum
PROJECT = {
    "titel": "Herstraten Teststraat",
    "thema": "verharding",
    "soort": "groot onderhoud",
    "fase": "gepland",
    "start": "2027-03-01",
    "eind": "2027-06-30",
    "planjaar": 2027,
}
CONTACT = "jan.jansen@example.org 06-12345678"


def headers(tokens, role=None, participant="bewoner-1", **extra) -> dict:
    given = {"Content-Type": "application/geo+json", **extra}
    if role:
        given["Authorization"] = f"Bearer {tokens[role]}"
    if role == "participatie" and participant:
        given["Participant-Id"] = participant
    return given


def feature(properties=PROPOSAL, geometry=POINT, **members) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry, **members}


def submit(client, tokens, body=None, role="participatie", participant="bewoner-1"):
    return client.post(
        "/collections/voorstellen/items", json=body or feature(), headers=headers(tokens, role, participant)
    )


def path_of(response) -> str:
    return response.headers["Location"].replace("http://testserver", "")


def published_proposal(store, status="gepubliceerd") -> int:
    return store.query(Query("voorstellen", equals("status", status), limit=1)).ids[0]


def publish(client, tokens, path):
    return client.patch(path, json={"properties": {"status": "gepubliceerd"}}, headers=headers(tokens, "moderator"))


# -- who may do what -------------------------------------------------------------------
def _write(client, tokens, store, endpoint, role):
    """Call one write endpoint as a role, on features that exist in the demo store."""
    proposal = published_proposal(store)
    send = headers(tokens, role)
    item = f"/collections/voorstellen/items/{proposal}"
    calls = {
        "create project": lambda: client.post("/collections/projecten/items", json=feature(PROJECT), headers=send),
        "replace project": lambda: client.put("/collections/projecten/items/1", json=feature(PROJECT), headers=send),
        "update project": lambda: client.patch(
            "/collections/projecten/items/1", json={"properties": {"budget_indicatie": 1}}, headers=send
        ),
        "delete project": lambda: client.delete("/collections/projecten/items/1", headers=send),
        "submit proposal": lambda: client.post("/collections/voorstellen/items", json=feature(), headers=send),
        "replace proposal": lambda: client.put(
            item, json=feature({**client.get(item).json()["properties"], "titel": "Anders"}), headers=send
        ),
        "update proposal": lambda: client.patch(item, json={"properties": {"titel": "Anders"}}, headers=send),
        "delete proposal": lambda: client.delete(item, headers=send),
        "support": lambda: client.post(f"{item}/steun", headers=send),
        "withdraw support": lambda: client.delete(f"{item}/steun", headers=send),
        "react": lambda: client.post(f"{item}/reacties", json={"tekst": "Goed plan"}, headers=send),
        "moderate reaction": lambda: client.patch(
            f"{item}/reacties/{store.read('SELECT max(id) FROM reacties')[0][0]}",
            json={"status": "gepubliceerd"},
            headers=send,
        ),
    }
    return calls[endpoint]()


def _react(client, tokens, item) -> None:
    response = client.post(
        f"{item}/reacties", json={"tekst": "Te modereren"}, headers=headers(tokens, "participatie", "iemand-anders")
    )
    assert response.status_code == 201


MATRIX = {  # endpoint: status for (public, participatie, moderator, planner)
    "create project": (401, 403, 403, 201),
    "replace project": (401, 403, 403, 200),
    "update project": (401, 403, 403, 200),
    "delete project": (401, 403, 403, 204),
    "submit proposal": (401, 201, 201, 403),
    "replace proposal": (401, 403, 200, 200),
    "update proposal": (401, 403, 200, 200),
    "delete proposal": (401, 403, 204, 403),
    "support": (401, 201, 403, 403),
    "withdraw support": (401, 200, 403, 403),
    "react": (401, 201, 403, 403),
    "moderate reaction": (401, 403, 200, 403),
}
ROLES = (None, "participatie", "moderator", "planner")
CASES = [(endpoint, role, statuses[i]) for endpoint, statuses in MATRIX.items() for i, role in enumerate(ROLES)]


@pytest.mark.parametrize("endpoint,role,status", CASES, ids=[f"{e}-{r or 'public'}" for e, r, _ in CASES])
def test_each_role_may_do_what_the_table_says(store_client, store, tokens, endpoint, role, status):
    if endpoint == "moderate reaction":
        _react(store_client, tokens, f"/collections/voorstellen/items/{published_proposal(store)}")
    before = fingerprint(store)
    response = _write(store_client, tokens, store, endpoint, role)
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.json()["description"]
        assert fingerprint(store) == before


def test_a_participation_client_must_name_the_participant(store_client, store, tokens):
    before = fingerprint(store)
    response = submit(store_client, tokens, participant=None)
    assert response.status_code == 400 and "Participant-Id" in response.json()["description"]
    assert fingerprint(store) == before


# -- submitting ------------------------------------------------------------------------
def test_a_submitted_proposal_is_ingediend_and_seen_only_by_its_submitter(store_client, tokens):
    response = submit(store_client, tokens)
    assert response.status_code == 201
    props = response.json()["properties"]
    assert props["status"] == "ingediend" and props["steun"] == 0 and props["gepubliceerd"] is None
    assert props["buurtcode"] == "BU02680101" and props["wijkcode"] == "WK026801"
    path = path_of(response)
    assert store_client.get(path).status_code == 404
    assert store_client.get(path, headers=headers(tokens, "participatie", "iemand-anders")).status_code == 404
    assert store_client.get(path, headers=headers(tokens, "participatie")).json()["id"] == response.json()["id"]
    own = store_client.get(
        "/collections/voorstellen/items", params={"status": "ingediend"}, headers=headers(tokens, "participatie")
    ).json()
    assert [f["id"] for f in own["features"]] == [response.json()["id"]]
    assert store_client.get(path, headers=headers(tokens, "moderator")).status_code == 200


def test_a_submitter_sees_no_other_unpublished_features(store):
    public = set(store.query(Query("statuswijzigingen", limit=10_000)).ids)
    hidden = [
        fid
        for fid in store.query(Query("statuswijzigingen", limit=10_000, published_only=False)).ids
        if fid not in public
    ]
    with store.transaction() as tx:  # a proposal of this participant whose id is that of a hidden change
        tx.execute(
            "INSERT INTO deelname (voorstel, client, deelnemer) VALUES (?, 'test', 'sleutel') ON CONFLICT DO NOTHING",
            (hidden[0],),
        )
    seen = store.query(Query("statuswijzigingen", limit=10_000, owner="sleutel")).ids
    assert hidden[0] not in seen


@pytest.mark.parametrize(
    "properties,field",
    [
        ({**PROPOSAL, "status": "gepubliceerd"}, "status"),
        ({**PROPOSAL, "reden": "zelf goedgekeurd"}, "reden"),
        ({**PROPOSAL, "projecten": [1]}, "projecten"),
    ],
)
def test_a_participant_cannot_set_what_the_municipality_decides(store_client, store, tokens, properties, field):
    before = fingerprint(store)
    response = submit(store_client, tokens, feature(properties))
    assert response.status_code == 403 and field in response.json()["description"]
    assert fingerprint(store) == before


BAD_PROPOSALS = {
    "title too long": (feature({**PROPOSAL, "titel": "x" * 121}), "titel"),
    "unknown categorie": (feature({**PROPOSAL, "categorie": "parkeren"}), "categorie"),
    "missing soort": (feature({k: v for k, v in PROPOSAL.items() if k != "soort"}), "soort"),
    "too many vertices": (
        feature(geometry={"type": "LineString", "coordinates": [[5.86 + i * 1e-6, 51.846] for i in range(1001)]}),
        "vertices",
    ),
    "too large": (feature(geometry={"type": "LineString", "coordinates": [[5.84, 51.83], [5.88, 51.85]]}), "across"),
    "multipoint": (feature(geometry={"type": "MultiPoint", "coordinates": [[5.8662, 51.8467]]}), "MultiPoint"),
    "outside the municipality": (feature(geometry={"type": "Point", "coordinates": [5.1, 52.1]}), "not inside"),
    "self-intersecting": (
        feature(
            geometry={
                "type": "Polygon",
                "coordinates": [[[5.866, 51.846], [5.867, 51.847], [5.867, 51.846], [5.866, 51.847], [5.866, 51.846]]],
            }
        ),
        "invalid",
    ),
    "private member of the wrong shape": (feature(prive={"adres": "Straat 1"}), "prive"),
}


@pytest.mark.parametrize("body,message", BAD_PROPOSALS.values(), ids=BAD_PROPOSALS.keys())
def test_bad_proposals_are_refused_naming_the_problem(store_client, store, tokens, body, message):
    before = fingerprint(store)
    response = submit(store_client, tokens, body)
    assert response.status_code == 400 and message in response.json()["description"]
    assert fingerprint(store) == before


def test_the_submitter_edits_while_ingediend_and_not_after_publication(store_client, tokens):
    path = path_of(submit(store_client, tokens))
    own = headers(tokens, "participatie")
    assert store_client.patch(path, json={"properties": {"titel": "Twee bankjes"}}, headers=own).status_code == 200
    other = store_client.patch(
        path, json={"properties": {"titel": "Gekaapt"}}, headers=headers(tokens, "participatie", "iemand-anders")
    )
    assert other.status_code == 404
    assert publish(store_client, tokens, path).status_code == 200
    late = store_client.patch(path, json={"properties": {"titel": "Drie bankjes"}}, headers=own)
    assert late.status_code == 409
    assert store_client.get(path).json()["properties"]["titel"] == "Twee bankjes"


def test_the_submitter_withdraws_and_everything_private_goes(store_client, store, tokens):
    response = submit(store_client, tokens, feature(prive={"contact": CONTACT}))
    path, fid = path_of(response), response.json()["id"]
    assert store_client.delete(path, headers=headers(tokens, "participatie", "iemand-anders")).status_code == 404
    assert store_client.delete(path, headers=headers(tokens, "participatie")).status_code == 204
    assert store_client.get(path, headers=headers(tokens, "moderator")).status_code == 404
    assert not store.read("SELECT * FROM deelname WHERE voorstel = ?", (fid,))
    trail = store.query(Query("statuswijzigingen", equals("object_id", fid), published_only=False)).properties
    assert [(t["van"], t["naar"], t["rol"]) for t in trail if t["collectie"] == "voorstellen"] == [
        (None, "ingediend", "participatie"),
        ("ingediend", "ingetrokken", "participatie"),
    ]


# -- privacy ---------------------------------------------------------------------------
def test_a_point_near_home_is_published_generalised_and_planners_see_it_exactly(store_client, tokens):
    exact = [187712.34, 428607.89]
    body = feature(geometry={"type": "Point", "coordinates": exact}, prive={"contact": CONTACT, "nabij_woning": True})
    response = store_client.post(
        "/collections/voorstellen/items",
        json=body,
        params={"crs": RD},
        headers=headers(tokens, "participatie", **{"Content-Crs": f"<{RD}>"}),
    )
    path = path_of(response)
    publish(store_client, tokens, path)
    public = store_client.get(path, params={"crs": RD}).json()["geometry"]["coordinates"]
    assert public == [187725.0, 428625.0]  # the centre of its 50 m cell
    planner = store_client.get(path, params={"crs": RD}, headers=headers(tokens, "planner"))
    assert planner.json()["geometry"]["coordinates"] == exact
    assert planner.headers["Cache-Control"] == "private, no-store"
    listed = store_client.get("/collections/voorstellen/items", params={"crs": RD, "limit": 10_000}).json()
    assert exact not in [f["geometry"]["coordinates"] for f in listed["features"]]
    assert (
        store_client.patch(
            path, json={"properties": {"status": "in uitwerking"}}, headers=headers(tokens, "planner")
        ).status_code
        == 200
    )
    assert store_client.get(path, params={"crs": RD}).json()["geometry"]["coordinates"] == public


def test_exact_locations_belong_to_proposals_only(store_client, store, tokens):
    with store.transaction() as tx:  # a hidden exact location stored for proposal 1
        tx.execute(
            "INSERT INTO deelname (voorstel, client, exacte_geom, raster_m) VALUES (1, 'test', ?, 50) "
            "ON CONFLICT DO NOTHING",
            (shapely.to_wkb(shapely.Point(187700, 428600)),),
        )
    planner = store_client.get("/collections/projecten/items/1", headers=headers(tokens, "planner")).json()
    assert planner["geometry"] == store_client.get("/collections/projecten/items/1").json()["geometry"]


def test_personal_data_appears_in_no_public_answer(store_client, store, tokens):
    response = submit(store_client, tokens, feature(prive={"contact": CONTACT}), participant="bewoner-geheim")
    path = path_of(response)
    publish(store_client, tokens, path)
    store_client.post(f"{path}/steun", headers=headers(tokens, "participatie", "bewoner-geheim"))
    answers = [
        store_client.get(url, params=params).text
        for url, params in [
            (path, {}),
            (path, {"f": "html"}),
            (f"{path}/steun", {}),
            (f"{path}/reacties", {}),
            *[
                (f"/collections/{c}/items", {"limit": 10_000})
                for c in ("voorstellen", "statuswijzigingen", "koppelkansen", "wijken")
            ],
            ("/collections/voorstellen/items", {"f": "html", "limit": 10_000}),
            ("/openapi.json", {}),
        ]
    ]
    secrets = [CONTACT, "bewoner-geheim", tokens["participatie"], "test-participatie"]
    assert not [s for s in secrets for text in answers if s in text]
    assert store.read("SELECT contact FROM deelname WHERE voorstel = ?", (response.json()["id"],)) == [(CONTACT,)]


# -- duplicate hints -------------------------------------------------------------------
def test_the_answer_to_a_submission_names_similar_proposals_nearby(store_client, store, tokens):
    existing = feature({**PROPOSAL, "titel": "Bankje bij de speeltuin aan het plein"})
    first = path_of(submit(store_client, tokens, existing, participant="buur"))
    publish(store_client, tokens, first)
    near = {"type": "Point", "coordinates": [5.8663, 51.8468]}
    before = fingerprint(store)
    dry = store_client.post(
        "/collections/voorstellen/vergelijkbaar",
        json=feature(geometry=near),
        headers={"Content-Type": "application/geo+json"},
    )
    assert dry.status_code == 200 and fingerprint(store) == before
    hints = submit(store_client, tokens, feature(geometry=near)).json()["vergelijkbaar"]
    assert hints == dry.json()["vergelijkbaar"]
    assert hints[0]["id"] == int(first.rsplit("/", 1)[1]) and hints[0]["afstand_m"] < 20
    assert hints[0]["links"][0]["href"].endswith(f"{first}?f=json")
    unrelated = feature(
        {**PROPOSAL, "titel": "Fietsenrek", "omschrijving": "Plek om fietsen te stallen"}, geometry=near
    )
    assert submit(store_client, tokens, unrelated).json()["vergelijkbaar"] == []


def test_the_dry_run_says_what_a_submission_would_be_refused_for(store_client):
    response = store_client.post(
        "/collections/voorstellen/vergelijkbaar",
        json=feature({**PROPOSAL, "categorie": "parkeren"}),
        headers={"Content-Type": "application/geo+json"},
    )
    assert response.status_code == 400 and "categorie" in response.json()["description"]


# -- support and reactions -------------------------------------------------------------
def test_support_counts_once_per_participant_and_can_be_withdrawn(store_client, store, tokens):
    path = f"/collections/voorstellen/items/{published_proposal(store)}"
    start = store_client.get(path).json()["properties"]["steun"]
    first = store_client.post(f"{path}/steun", headers=headers(tokens, "participatie"))
    again = store_client.post(f"{path}/steun", headers=headers(tokens, "participatie"))
    other = store_client.post(f"{path}/steun", headers=headers(tokens, "participatie", "bewoner-2"))
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert other.json()["steun"] == start + 2 == store_client.get(path).json()["properties"]["steun"]
    mine = store_client.get(f"{path}/steun", headers=headers(tokens, "participatie")).json()
    assert mine == {"voorstel": int(path.rsplit("/", 1)[1]), "steun": start + 2, "gesteund": True}
    withdrawn = store_client.delete(f"{path}/steun", headers=headers(tokens, "participatie"))
    assert withdrawn.json()["steun"] == start + 1 == store_client.get(path).json()["properties"]["steun"]


def test_no_support_for_hidden_or_closed_proposals(store_client, store, tokens):
    hidden = store.query(Query("voorstellen", equals("status", "ingediend"), published_only=False, limit=1)).ids[0]
    closed = published_proposal(store, "afgewezen")
    send = headers(tokens, "participatie")
    assert store_client.post(f"/collections/voorstellen/items/{hidden}/steun", headers=send).status_code == 404
    refused = store_client.post(f"/collections/voorstellen/items/{closed}/steun", headers=send)
    assert refused.status_code == 409 and "afgewezen" in refused.json()["description"]


def test_reactions_are_public_only_after_moderation(store_client, store, tokens):
    path = f"/collections/voorstellen/items/{published_proposal(store)}"
    count = store_client.get(path).json()["properties"]["reacties"]
    hostile = "<script>alert('x')</script> Mooi!"
    created = store_client.post(f"{path}/reacties", json={"tekst": hostile}, headers=headers(tokens, "participatie"))
    assert created.status_code == 201
    public = [r["tekst"] for r in store_client.get(f"{path}/reacties").json()["reacties"]]
    assert hostile not in public
    moderation = store_client.get(f"{path}/reacties", headers=headers(tokens, "moderator")).json()["reacties"]
    assert [r["status"] for r in moderation if r["tekst"] == hostile] == ["ingediend"]
    reaction = f"{path}/reacties/{created.json()['id']}"
    published = store_client.patch(reaction, json={"status": "gepubliceerd"}, headers=headers(tokens, "moderator"))
    assert published.json()["reacties"] == count + 1 == store_client.get(path).json()["properties"]["reacties"]
    assert hostile in [r["tekst"] for r in store_client.get(f"{path}/reacties").json()["reacties"]]
    rejected = store_client.patch(reaction, json={"status": "afgewezen"}, headers=headers(tokens, "moderator"))
    assert rejected.json()["reacties"] == count
    back = store_client.patch(reaction, json={"status": "gepubliceerd"}, headers=headers(tokens, "moderator"))
    assert back.status_code == 409


def test_every_write_is_in_the_audit_log(store_client, store, tokens):
    before = store.read("SELECT count(*) FROM auditlog")[0][0]
    path = path_of(submit(store_client, tokens))
    publish(store_client, tokens, path)
    store_client.post(f"{path}/steun", headers=headers(tokens, "participatie"))
    rows = store.read("SELECT client, rol, actie, collectie FROM auditlog ORDER BY id")[before:]
    assert [r[1:] for r in rows] == [
        ("participatie", "aanmaken", "voorstellen"),
        ("moderator", "wijzigen", "voorstellen"),
        ("participatie", "steunen", "voorstellen"),
    ]
    assert rows[0][0] == "test-participatie"


# -- abuse -----------------------------------------------------------------------------
def _policy(tmp_path, **participation) -> str:
    path = tmp_path / "wijkplan.yml"
    path.write_text(yaml.safe_dump({"deelname": participation}), encoding="utf-8")
    return str(path)


def test_anonymous_submission_is_off_by_default(store_client, tokens):
    assert submit(store_client, tokens, role=None).status_code == 401


def test_anonymous_submission_when_switched_on_is_limited_hard(store, tokens_file, tmp_path):
    policy = _policy(tmp_path, anoniem_indienen=True, limieten={"anoniem_per_uur": 2})
    client = client_for(store, tokens_file[0], policy)
    answers = [submit(client, tokens_file[1], role=None) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert int(answers[2].headers["Retry-After"]) > 0
    assert answers[0].json()["properties"]["status"] == "ingediend"
    trail = store.query(
        Query("statuswijzigingen", equals("object_id", answers[0].json()["id"]), published_only=False)
    ).properties
    assert [t["rol"] for t in trail if t["collectie"] == "voorstellen"] == ["anoniem"]


def test_a_participation_client_is_rate_limited(store, tokens_file, tmp_path):
    client = client_for(store, tokens_file[0], _policy(tmp_path, limieten={"indienen": 3, "steunen": 2}))
    tokens = tokens_file[1]
    assert [submit(client, tokens, participant=f"p{i}").status_code for i in range(4)] == [201, 201, 201, 429]
    path = f"/collections/voorstellen/items/{published_proposal(store)}/steun"
    steun = [client.post(path, headers=headers(tokens, "participatie", f"p{i}")).status_code for i in range(3)]
    assert steun == [201, 201, 429]
    assert (
        client.post(
            "/collections/projecten/items", json=feature(PROJECT), headers=headers(tokens, "planner")
        ).status_code
        == 201
    )


def test_a_token_issued_or_revoked_counts_at_once_without_a_restart(store, tokens_file, tmp_path):
    path = tmp_path / "tokens.yml"
    shutil.copy(tokens_file[0], path)
    client = client_for(store, path)
    new = Tokens(path).issue("nieuwe-app", "participatie")  # as `geoservice token` does, from elsewhere
    assert submit(client, {"participatie": new}).status_code == 201
    document = yaml.safe_load(path.read_text())
    document["tokens"] = [t for t in document["tokens"] if t["name"] != "nieuwe-app"]
    path.write_text(yaml.safe_dump(document))
    assert submit(client, {"participatie": new}).status_code == 401
    path.write_text("tokens: [")  # half written or broken: the clients read before still count
    assert submit(client, tokens_file[1]).status_code == 201
