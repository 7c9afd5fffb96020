"""Collections of one geometry family beside each mixed collection, and the schemas that declare
every collection's geometry type (OGC API - Features Part 5). On both backends."""

import pyogrio
import pytest
import shapely
from test_participation import feature, headers, path_of, submit

from geoservice.domain.model import COLLECTIONS, FAMILIES, TABLES

VIEWS = [c for c in COLLECTIONS.values() if c.source]
RD = "http://www.opengis.net/def/crs/EPSG/0/28992"


def _all(client, name: str, **params) -> dict:
    return client.get(f"/collections/{name}/items", params={"limit": 10_000, **params}).json()


@pytest.mark.parametrize("name", [n for n, c in TABLES.items() if c.mixed])
def test_the_families_of_a_mixed_collection_hold_each_of_its_features_once(client, name):
    whole = {f["id"]: f for f in _all(client, name)["features"]}
    seen = []
    for family in TABLES[name].families:
        part = _all(client, f"{name}-{family.name}")
        assert part["numberMatched"] == len(part["features"])
        for found in part["features"]:
            assert found["geometry"]["type"] in family.types
            assert found == whole[found["id"]]
            seen.append(found["id"])
    assert sorted(seen) == sorted(whole)


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "5.85,51.84,5.87,51.85"},
        {"datetime": "2027-01-01/2027-12-31"},
        {"thema": "groen"},
        {"filter": "planjaar BETWEEN 2027 AND 2029 AND thema IN ('riolering', 'verharding')"},
        {"crs": RD, "sortby": "-budget_indicatie", "properties": "titel,planjaar"},
        {"skipGeometry": "true"},
        {"limit": "7", "offset": "14"},
    ],
    ids=["bbox", "datetime", "equality", "cql2", "crs-sortby-properties", "skipGeometry", "paging"],
)
def test_a_family_answers_every_query_as_its_collection_does_for_that_family(client, params):
    whole = _all(client, "projecten", **{k: v for k, v in params.items() if k not in ("limit", "offset")})
    lines = [
        f for f in whole["features"] if params.get("skipGeometry") or f["geometry"]["type"] in FAMILIES["lijnen"].types
    ]
    answer = client.get("/collections/projecten-lijnen/items", params={"limit": 10_000, **params})
    assert answer.status_code == 200, answer.text
    start, size = int(params.get("offset", 0)), int(params.get("limit", 10_000))
    if params.get("skipGeometry"):
        assert all(f["geometry"] is None for f in answer.json()["features"])
        return
    assert answer.json()["features"] == lines[start : start + size]
    assert answer.json()["numberMatched"] == len(lines)


def test_a_family_shows_no_unpublished_proposal_but_its_submitter_sees_it(store_client, tokens):
    path = path_of(submit(store_client, tokens))
    fid = int(path.rsplit("/", 1)[1])
    assert store_client.get(f"/collections/voorstellen-punten/items/{fid}").status_code == 404
    own = store_client.get(f"/collections/voorstellen-punten/items/{fid}", headers=headers(tokens, "participatie"))
    assert own.status_code == 200
    assert (
        store_client.get(
            f"/collections/voorstellen-lijnen/items/{fid}", headers=headers(tokens, "participatie")
        ).status_code
        == 404
    )


def test_a_family_follows_writes_to_its_collection(store_client, tokens):
    line = {"type": "LineString", "coordinates": [[5.8600, 51.8430], [5.8640, 51.8432]]}
    path = path_of(submit(store_client, tokens, feature(geometry=line), role="moderator"))
    fid = int(path.rsplit("/", 1)[1])
    assert (
        store_client.get(
            f"/collections/voorstellen-lijnen/items/{fid}", headers=headers(tokens, "moderator")
        ).status_code
        == 200
    )
    store_client.patch(
        path,
        json={"geometry": {"type": "Point", "coordinates": [5.8662, 51.8467]}},
        headers=headers(tokens, "moderator"),
    )
    moved = {
        name: store_client.get(f"/collections/{name}/items/{fid}", headers=headers(tokens, "moderator")).status_code
        for name in ("voorstellen-lijnen", "voorstellen-punten")
    }
    assert moved == {"voorstellen-lijnen": 404, "voorstellen-punten": 200}


def test_families_are_read_only(store_client, tokens):
    response = store_client.post(
        "/collections/projecten-punten/items", json=feature(), headers=headers(tokens, "planner")
    )
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_a_family_downloads_as_one_layer_of_its_type(client, tmp_path):
    package = tmp_path / "lijnen.gpkg"
    package.write_bytes(client.get("/downloads/projecten-lijnen.gpkg").content)
    [(layer, geometry_type)] = pyogrio.list_layers(package)
    frame = pyogrio.read_dataframe(package)
    assert (layer, geometry_type) == ("projecten-lijnen", "MultiLineString")
    assert len(frame) == _all(client, "projecten-lijnen")["numberMatched"]
    assert set(shapely.get_type_id(frame.geometry.values)) == {5}


def test_mixed_collections_point_to_their_families_and_back(client):
    links = client.get("/collections/projecten").json()["links"]
    related = {link["href"].replace("http://testserver/v1", "") for link in links if link["rel"] == "related"}
    assert related == {
        "/collections/projecten-punten",
        "/collections/projecten-lijnen",
        "/collections/projecten-vlakken",
    }
    assert "projecten-punten" in client.get("/collections/projecten").json()["description"]
    back = client.get("/collections/projecten-vlakken").json()["links"]
    assert any(link["href"].endswith("/collections/projecten") and link["rel"] == "related" for link in back)


# -- schemas ---------------------------------------------------------------------------------
FORMATS = {
    "wijken": "geometry-polygon-or-multipolygon",
    "statuswijzigingen": "geometry-point",
    "projecten": "geometry-any",
    "projecten-punten": "geometry-point-or-multipoint",
    "voorstellen-lijnen": "geometry-linestring",
    "koppelkansen-vlakken": "geometry-polygon-or-multipolygon",
}


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_every_collection_has_a_schema_with_its_roles_and_geometry_type(client, name):
    collection = COLLECTIONS[name]
    meta = client.get(f"/collections/{name}").json()
    [link] = [
        link
        for link in meta["links"]
        if link["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/schema" and link["type"] == "application/schema+json"
    ]
    response = client.get(link["href"].replace("http://testserver/v1", ""))
    assert response.headers["Content-Type"] == "application/schema+json"
    properties = response.json()["properties"]
    roles = {key: value["x-ogc-role"] for key, value in properties.items() if "x-ogc-role" in value}
    assert roles["id"] == "id" and roles["geometry"] == "primary-geometry"
    assert "type" not in properties["geometry"]
    assert properties["geometry"]["format"] == FORMATS.get(name, collection.geometry_format)
    expected_time = {1: {"primary-instant"}, 2: {"primary-interval-start", "primary-interval-end"}}.get(
        len(collection.temporal), set()
    )
    assert set(roles.values()) - {"id", "primary-geometry"} == expected_time
    assert [key for key in properties if key not in ("id", "geometry")] == [f.name for f in collection.fields]


def test_the_schema_is_a_page_too(client):
    page = client.get("/collections/voorstellen/schema", params={"f": "html"})
    assert page.status_code == 200 and "primary-geometry" in page.text and "geometry-any" in page.text


QGIS_LOOKS_FOR = [  # the conformance classes by which QGIS (3.28 and later) decides what to ask the server
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/0.0/conf/basic-spatial-operators",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
]


def test_the_conformance_declaration_names_what_qgis_looks_for(client):
    declared = client.get("/conformance").json()["conformsTo"]
    assert [uri for uri in QGIS_LOOKS_FOR if uri not in declared] == []
    assert "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/core-roles-features" in declared


@pytest.mark.parametrize("name", ["projecten", "projecten-punten", "wijken"])
def test_every_collection_advertises_its_crs_and_storage_crs(client, name):
    meta = client.get(f"/collections/{name}").json()
    assert meta["storageCrs"] == RD and RD in meta["crs"]
