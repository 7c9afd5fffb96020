"""A write is applied as acknowledged, or refused and changes nothing: no member of a body is
accepted and then dropped, no role clears through PUT what it may not change through PATCH, and
no deletion or withdrawal leaves other features pointing at nothing. On both backends."""

import pytest
from snapshots import fingerprint
from test_participation import PROJECT, PROPOSAL, feature, headers, path_of, publish, submit

ITEM = "/collections/voorstellen/items"


def _refused(client, store, call, status=400, mentions=""):
    before = fingerprint(store)
    response = call()
    assert response.status_code == status, response.text
    assert mentions in response.json()["detail"]
    assert response.headers["Content-Type"] == "application/problem+json"
    assert fingerprint(store) == before
    return response


@pytest.mark.parametrize("method", ["put", "patch"])
def test_private_details_are_only_taken_when_submitting(store_client, store, tokens, method):
    path = path_of(submit(store_client, tokens))
    body = feature(prive={"contact": "jan@example.org"})
    _refused(
        store_client,
        store,
        lambda: getattr(store_client, method)(path, json=body, headers=headers(tokens, "moderator")),
        mentions="prive",
    )


def test_a_note_explains_a_change_of_status_or_is_refused(store_client, store, tokens):
    path = path_of(submit(store_client, tokens))
    moderator = headers(tokens, "moderator")
    _refused(
        store_client,
        store,
        lambda: store_client.patch(
            path, json={"properties": {"titel": "Anders"}, "toelichting": "waarom"}, headers=moderator
        ),
        mentions="toelichting",
    )
    response = store_client.patch(
        path, json={"properties": {"status": "gepubliceerd"}, "toelichting": "Past in het wijkplan"}, headers=moderator
    )
    assert response.status_code == 200
    trail = store_client.get("/collections/statuswijzigingen/items", params={"object_id": response.json()["id"]})
    assert trail.json()["features"][-1]["properties"]["toelichting"] == "Past in het wijkplan"


def test_a_note_given_when_creating_explains_the_creation(store_client, tokens):
    response = store_client.post(
        "/collections/projecten/items",
        json=feature(PROJECT, toelichting="Raadsbesluit 12"),
        headers=headers(tokens, "planner"),
    )
    trail = store_client.get(
        "/collections/statuswijzigingen/items", params={"object_id": response.json()["id"], "collectie": "projecten"}
    )
    assert [f["properties"]["toelichting"] for f in trail.json()["features"]] == ["Raadsbesluit 12"]


def test_a_participant_writes_no_notes(store_client, store, tokens):
    _refused(
        store_client,
        store,
        lambda: submit(store_client, tokens, feature(toelichting="Mijn naam is Jan")),
        mentions="toelichting",
    )


@pytest.mark.parametrize(
    "members,mentions",
    [
        ({"links": []}, "links"),
        ({"bbox": [5.8, 51.8, 5.9, 51.9]}, "bbox"),
        ({"id": 999}, "id"),
        ({"titel": "x"}, "titel"),
    ],
)
def test_members_the_write_would_not_apply_are_refused(store_client, store, tokens, members, mentions):
    _refused(store_client, store, lambda: submit(store_client, tokens, feature(**members)), mentions=mentions)


def test_a_replacement_keeps_the_id_in_its_path(store_client, store, tokens):
    current = store_client.get(f"{ITEM}/2").json()
    moderator = headers(tokens, "moderator")
    _refused(
        store_client,
        store,
        lambda: store_client.put(
            f"{ITEM}/2", json={**feature(current["properties"], current["geometry"]), "id": 3}, headers=moderator
        ),
        mentions="id",
    )


def test_a_feature_read_can_be_written_back_but_computed_fields_not_changed(store_client, store, tokens):
    current = store_client.get(f"{ITEM}/2").json()
    moderator = headers(tokens, "moderator")
    written = store_client.put(
        f"{ITEM}/2", json={**feature(current["properties"], current["geometry"]), "id": 2}, headers=moderator
    )
    assert written.status_code == 200
    for name, value in (("steun", 10_000), ("wijkcode", "WK026809"), ("gepubliceerd", "2020-01-01T00:00:00Z")):
        _refused(
            store_client,
            store,
            lambda name=name, value=value: store_client.patch(
                f"{ITEM}/2", json={"properties": {name: value}}, headers=moderator
            ),
            mentions=f"{name}: computed",
        )
    _refused(
        store_client,
        store,
        lambda: submit(store_client, tokens, feature({**PROPOSAL, "steun": 5}), role="moderator"),
        mentions="steun: computed",
    )


def test_a_participant_replacing_their_proposal_keeps_what_the_municipality_set(store_client, tokens):
    path = path_of(submit(store_client, tokens))
    store_client.patch(
        path, json={"properties": {"projecten": [1], "bron": "balie"}}, headers=headers(tokens, "moderator")
    )
    replaced = store_client.put(
        path, json=feature({**PROPOSAL, "titel": "Bankje met leuning"}), headers=headers(tokens, "participatie")
    )
    assert replaced.status_code == 200
    props = replaced.json()["properties"]
    assert (props["titel"], props["projecten"], props["bron"]) == ("Bankje met leuning", [1], "balie")


def test_links_name_existing_projects(store_client, store, tokens):
    path = path_of(submit(store_client, tokens))
    _refused(
        store_client,
        store,
        lambda: store_client.patch(
            path, json={"properties": {"projecten": [1, 99_999]}}, headers=headers(tokens, "moderator")
        ),
        mentions="no project 99999",
    )


def test_a_project_that_proposals_link_to_cannot_be_deleted(store_client, store, tokens):
    path = path_of(submit(store_client, tokens))
    store_client.patch(path, json={"properties": {"projecten": [1]}}, headers=headers(tokens, "moderator"))
    _refused(
        store_client,
        store,
        lambda: store_client.delete("/collections/projecten/items/1", headers=headers(tokens, "planner")),
        status=409,
        mentions="linked",
    )


def _merged_pair(client, tokens):
    """A published proposal with support, and another merged into it; their paths."""
    target, merged = (path_of(submit(client, tokens, participant=f"indiener-{n}")) for n in (1, 2))
    for path in (target, merged):
        publish(client, tokens, path)
        client.post(f"{path}/steun", headers=headers(tokens, "participatie", "steuner"))
    client.patch(
        merged,
        json={"properties": {"status": "samengevoegd", "samengevoegd_met": int(target.rsplit("/", 1)[1])}},
        headers=headers(tokens, "moderator"),
    )
    return target, merged


@pytest.mark.parametrize("role", ["moderator", "participatie"])
def test_a_proposal_others_were_merged_into_stays(store_client, store, tokens, role):
    target, _ = _merged_pair(store_client, tokens)
    _refused(
        store_client,
        store,
        lambda: store_client.delete(target, headers=headers(tokens, role, "indiener-1")),
        status=409,
        mentions="merged into",
    )
    assert store_client.get(f"{target}/steun").json()["steun"] == 1


@pytest.mark.parametrize("target_status", ["ingediend", "samengevoegd", "afgewezen"])
def test_a_merge_names_a_published_open_proposal(store_client, store, tokens, target_status):
    moderator = headers(tokens, "moderator")
    if target_status == "ingediend":
        target = path_of(submit(store_client, tokens, participant="ander"))
    elif target_status == "samengevoegd":
        _, target = _merged_pair(store_client, tokens)
    else:
        target = path_of(submit(store_client, tokens, participant="ander"))
        store_client.patch(target, json={"properties": {"status": "afgewezen", "reden": "dubbel"}}, headers=moderator)
    path = path_of(submit(store_client, tokens))
    publish(store_client, tokens, path)
    _refused(
        store_client,
        store,
        lambda: store_client.patch(
            path,
            json={"properties": {"status": "samengevoegd", "samengevoegd_met": int(target.rsplit("/", 1)[1])}},
            headers=moderator,
        ),
        mentions="samengevoegd_met",
    )


def test_merged_with_is_only_said_of_a_merged_proposal(store_client, store, tokens):
    path = path_of(submit(store_client, tokens))
    _refused(
        store_client,
        store,
        lambda: store_client.patch(
            path, json={"properties": {"samengevoegd_met": 2}}, headers=headers(tokens, "moderator")
        ),
        mentions="samengevoegd_met",
    )
