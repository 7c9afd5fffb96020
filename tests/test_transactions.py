"""OGC API - Features Part 4: create, replace, update and delete, with bearer tokens."""

import json

import pytest
import shapely

from geoservice.query.crs import RD
from geoservice.query.filters import equals
from geoservice.store import Query

PROJECT = {
    "titel": "Vervangen riolering Teststraat",
    "thema": "riolering",
    "soort": "vervanging",
    "fase": "gepland",
    "start": "2028-03-01",
    "eind": "2028-06-30",
    "planjaar": 2028,
    "budget_indicatie": 250000,
}
POINT_LONLAT = {"type": "Point", "coordinates": [5.8662, 51.8467]}  # Stadscentrum
POINT_RD = {"type": "Point", "coordinates": [187700.0, 428600.0]}
GEOJSON = {"Content-Type": "application/geo+json"}


def feature(properties=PROJECT, geometry=POINT_LONLAT) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def auth(tokens, role="planner", **headers) -> dict:
    return {"Authorization": f"Bearer {tokens[role]}", **GEOJSON, **headers}


def create(client, tokens, body=None, **headers):
    return client.post("/collections/projecten/items", json=body or feature(), headers=auth(tokens, **headers))


def total(client, collection="projecten") -> int:
    return client.get(f"/collections/{collection}/items", params={"limit": 1}).json()["numberMatched"]


def test_create_answers_201_with_location_and_the_stored_feature(store_client, tokens):
    before = total(store_client)
    response = create(store_client, tokens)
    assert response.status_code == 201
    location = response.headers["Location"]
    stored = store_client.get(location.replace("http://testserver", "")).json()
    assert stored["properties"]["titel"] == PROJECT["titel"]
    assert stored["properties"]["buurtcode"] == "BU02680101"
    assert response.json()["id"] == stored["id"]
    assert total(store_client) == before + 1


def test_create_honours_content_crs(store_client, tokens):
    response = create(store_client, tokens, feature(geometry=POINT_RD), **{"Content-Crs": f"<{RD}>"})
    assert response.status_code == 201
    url = response.headers["Location"].replace("http://testserver", "")
    served = store_client.get(url, params={"crs": RD}).json()["geometry"]
    assert served["coordinates"] == POINT_RD["coordinates"]


def test_content_type_with_charset_is_accepted(store_client, tokens):
    body = feature({**PROJECT, "titel": "Herinrichting Sint Jansstraat café"})
    response = store_client.post(
        "/collections/projecten/items",
        content=encoded(body, "latin-1"),
        headers={**auth(tokens), "Content-Type": "application/geo+json; charset=ISO-8859-1"},
    )
    assert response.status_code == 201
    assert response.json()["properties"]["titel"].endswith("café")


def encoded(document, encoding) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode(encoding)


def test_replace_changes_the_whole_feature(store_client, tokens):
    url = create(store_client, tokens).headers["Location"].replace("http://testserver", "")
    replaced = {**PROJECT, "fase": "voorbereiding", "titel": "Vervangen riolering en herstraten"}
    response = store_client.put(url, json=feature(replaced), headers=auth(tokens))
    assert response.status_code == 200
    assert store_client.get(url).json()["properties"]["titel"] == "Vervangen riolering en herstraten"


def test_patch_merges_properties_and_keeps_the_rest(store_client, tokens):
    url = create(store_client, tokens).headers["Location"].replace("http://testserver", "")
    response = store_client.patch(
        url,
        json={"properties": {"budget_indicatie": 300000, "inspraak_tot": None}},
        headers=auth(tokens, **{"Content-Type": "application/merge-patch+json"}),
    )
    assert response.status_code == 200
    props = store_client.get(url).json()["properties"]
    assert props["budget_indicatie"] == 300000 and props["titel"] == PROJECT["titel"]


def test_patch_can_move_the_geometry(store_client, tokens):
    url = create(store_client, tokens).headers["Location"].replace("http://testserver", "")
    moved = {"type": "Point", "coordinates": [5.8540, 51.8430]}
    response = store_client.patch(url, json={"geometry": moved}, headers=auth(tokens))
    assert response.status_code == 200
    served = shapely.geometry.shape(store_client.get(url).json()["geometry"])
    assert served.distance(shapely.geometry.shape(moved)) < 1e-6


def test_delete_removes_the_feature(store_client, tokens):
    url = create(store_client, tokens).headers["Location"].replace("http://testserver", "")
    assert store_client.delete(url, headers=auth(tokens)).status_code == 204
    assert store_client.get(url).status_code == 404
    assert store_client.delete(url, headers=auth(tokens)).status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_without_a_token_are_401_and_change_nothing(store_client, method):
    before = store_client.get("/collections/projecten/items/1").json()
    url = "/collections/projecten/items" + ("" if method == "post" else "/1")
    kwargs = {} if method == "delete" else {"json": feature()}
    response = getattr(store_client, method)(url, headers=GEOJSON, **kwargs)
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert store_client.get("/collections/projecten/items/1").json() == before


def test_unknown_token_is_401(store_client):
    response = store_client.post(
        "/collections/projecten/items", json=feature(), headers={"Authorization": "Bearer niet-geldig", **GEOJSON}
    )
    assert response.status_code == 401


def test_wrong_role_is_403_and_changes_nothing(store_client, tokens):
    before = total(store_client)
    response = create(store_client, tokens, role="moderator")
    assert response.status_code == 403
    assert total(store_client) == before


def test_boundaries_are_read_only(store_client, tokens):
    response = store_client.delete("/collections/wijken/items/WK026801", headers=auth(tokens))
    assert response.status_code == 405
    assert "POST" not in response.headers["Allow"]


def test_options_lists_the_allowed_methods(store_client):
    assert set(store_client.options("/collections/projecten/items/1").headers["Allow"].split(", ")) == {
        "GET",
        "HEAD",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
    }
    assert store_client.options("/collections/buurten/items").headers["Allow"] == "GET, HEAD, OPTIONS"


BAD_BODIES = {
    "unknown field": (feature({**PROJECT, "kleur": "rood"}), 400, "kleur"),
    "value outside the domain": (feature({**PROJECT, "fase": "misschien"}), 400, "fase"),
    "wrong type": (feature({**PROJECT, "planjaar": "2028"}), 400, "planjaar"),
    "invalid geometry": (
        feature(
            geometry={
                "type": "Polygon",
                "coordinates": [[[5.86, 51.84], [5.87, 51.85], [5.87, 51.84], [5.86, 51.85], [5.86, 51.84]]],
            }
        ),
        400,
        "invalid",
    ),
    "geometry outside the municipality": (
        feature(geometry={"type": "Point", "coordinates": [4.9, 52.37]}),
        400,
        "not inside",
    ),
    "not a geometry": (feature(geometry={"type": "Cirkel", "coordinates": [1]}), 400, "geometry"),
    "not a feature": ({"type": "FeatureCollection", "features": []}, 400, "Feature"),
    "missing geometry": (feature(geometry=None), 400, "geometry"),
}


@pytest.mark.parametrize("body,status,message", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_bodies_are_refused_naming_the_problem(store_client, tokens, body, status, message):
    before = total(store_client)
    response = create(store_client, tokens, body)
    assert response.status_code == status
    assert message in response.json()["description"]
    assert total(store_client) == before


def test_unsupported_content_crs_is_400(store_client, tokens):
    response = create(store_client, tokens, **{"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/2154>"})
    assert response.status_code == 400 and "Content-Crs" in response.json()["description"]


def test_body_that_is_not_json_is_415_or_400(store_client, tokens):
    as_text = store_client.post(
        "/collections/projecten/items",
        content=b"titel=x",
        headers={**auth(tokens), "Content-Type": "application/x-www-form-urlencoded"},
    )
    broken = store_client.post("/collections/projecten/items", content=b"{niet: json", headers=auth(tokens))
    assert as_text.status_code == 415 and broken.status_code == 400


def test_oversized_body_is_413(store_client, tokens):
    big = feature({**PROJECT, "omschrijving": "x" * 1_100_000})
    assert create(store_client, tokens, big).status_code == 413


def test_skipping_a_phase_is_refused(store_client, tokens):
    url = create(store_client, tokens).headers["Location"].replace("http://testserver", "")
    response = store_client.patch(url, json={"properties": {"fase": "gereed"}}, headers=auth(tokens))
    assert response.status_code == 400 and "cannot go from 'gepland' to 'gereed'" in response.json()["description"]
    assert store_client.get(url).json()["properties"]["fase"] == "gepland"


def test_moderator_publishes_a_proposal(store_client, tokens, store):
    waiting = store.query(Query("voorstellen", equals("status", "ingediend"), published_only=False, limit=1))
    url = f"/collections/voorstellen/items/{waiting.ids[0]}"
    assert store_client.get(url).status_code == 404
    response = store_client.patch(
        url, json={"properties": {"status": "gepubliceerd"}}, headers=auth(tokens, "moderator")
    )
    assert response.status_code == 200
    assert store_client.get(url).json()["properties"]["status"] == "gepubliceerd"
