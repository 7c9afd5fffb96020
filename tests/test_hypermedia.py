"""What clients follow: Link headers beside the links in bodies (RFC 8288), links between related
things, the OpenAPI parameters as OGC API - Features Part 1 writes them, and JSON-FG read by GDAL."""

import re
from urllib.parse import unquote

import orjson
import pyogrio
import pytest
import shapely
from test_participation import headers, path_of, publish, submit

from geoservice.domain.model import COLLECTIONS
from geoservice.store import Query

LINK = re.compile(r'<([^>]*)>((?:\s*;\s*[^=;,\s]+=(?:"[^"]*"|[^;,]*))*)')
PARAM = re.compile(r';\s*([^=;,\s]+)=("[^"]*"|[^;,]*)')
RD = "http://www.opengis.net/def/crs/EPSG/0/28992"
JSONFG = "application/vnd.ogc.fg+json"


def link_header(response) -> list[dict]:
    """The Link header parsed: href and its parameters (title* decoded)."""
    found = []
    for href, params in LINK.findall(response.headers.get("Link", "")):
        entry = {"href": href}
        for key, value in PARAM.findall(params):
            entry[key.rstrip("*")] = unquote(value.split("''", 1)[1]) if key.endswith("*") else value.strip('"')
        found.append(entry)
    return found


def _same_links(response, body_links: list[dict]) -> None:
    header = [(link["href"], link["rel"], link.get("type")) for link in link_header(response)]
    assert header == [(link["href"], link["rel"], link.get("type")) for link in body_links]


@pytest.mark.parametrize(
    "path",
    [
        "/?f=json",
        "/collections?f=json",
        "/collections/projecten?f=json",
        "/collections/projecten/items?limit=5&offset=5",
        "/collections/projecten/items/1",
        "/collections/wijken/items/WK026801",
    ],
)
def test_the_links_of_a_document_are_its_link_header(client, path):
    response = client.get(path)
    _same_links(response, response.json()["links"])


def test_a_page_s_headers_carry_self_alternate_paging_and_collection(client):
    rels = {link["rel"] for link in link_header(client.get("/collections/projecten/items?limit=5&offset=5"))}
    assert {"self", "alternate", "next", "prev", "collection"} <= rels
    collection = {link["rel"] for link in link_header(client.get("/collections/projecten"))}
    assert {
        "items",
        "http://www.opengis.net/def/rel/ogc/1.0/queryables",
        "http://www.opengis.net/def/rel/ogc/1.0/schema",
        "self",
        "alternate",
    } <= collection


def test_titles_travel_in_the_header_as_utf8(client):
    titles = [link.get("title") for link in link_header(client.get("/collections/projecten/items/1"))]
    assert "Geschiedenis (statuswijzigingen)" in titles and "Dit object als JSON-FG" in titles


@pytest.mark.parametrize(
    "path",
    [
        "/collections/projecten/items?f=html",
        "/collections/projecten/items/1?f=html",
        "/collections/projecten?f=html",
        "/?f=html",
    ],
)
def test_html_pages_send_the_links_of_their_document(client, path):
    rels = {link["rel"] for link in link_header(client.get(path))}
    assert "self" in rels and "alternate" in rels


def _related(client, path: str, **kwargs) -> dict:
    document = client.get(path, **kwargs).json()
    return {
        link["title"]: link["href"].replace("http://testserver", "")
        for link in document["links"]
        if link["rel"] == "related"
    }


def test_a_proposal_links_its_history_reactions_support_koppelkansen_and_projects(store_client, tokens):
    path = path_of(submit(store_client, tokens))
    store_client.patch(path, json={"properties": {"projecten": [1, 2]}}, headers=headers(tokens, "moderator"))
    publish(store_client, tokens, path)
    related = _related(store_client, path)
    assert {
        "Geschiedenis (statuswijzigingen)",
        "Gepubliceerde reacties",
        "Steun",
        "Koppelkansen",
        "Gekoppeld project 1",
        "Gekoppeld project 2",
    } <= set(related)
    history = store_client.get(related["Geschiedenis (statuswijzigingen)"]).json()["features"]
    assert [f["properties"]["naar"] for f in history] == ["ingediend", "gepubliceerd"]
    for href in related.values():
        assert store_client.get(href).status_code == 200, href


def test_a_project_and_a_wijk_link_what_belongs_to_them(client):
    project = _related(client, "/collections/projecten/items/1")
    assert {"Koppelkansen", "Geschiedenis (statuswijzigingen)"} <= set(project)
    wijk = client.get("/collections/wijken/items/WK026801").json()
    related = {
        link["title"]: link["href"].replace("http://testserver", "")
        for link in wijk["links"]
        if link["rel"] in ("related", "enclosure")
    }
    buurten = client.get(related["Buurten van de wijk"]).json()
    assert {f["properties"]["wijkcode"] for f in buurten["features"]} == {"WK026801"} and buurten["numberReturned"]
    assert client.get(related["Geschiedenis (statuswijzigingen)"]).status_code == 200
    assert any(href.endswith("/downloads/wijken/WK026801.gpkg") for href in related.values())


# -- OpenAPI ---------------------------------------------------------------------------------
FRAGMENTS = {
    "limit": {"in": "query", "required": False, "style": "form", "explode": False, "schema_type": "integer"},
    "bbox": {"in": "query", "required": False, "style": "form", "explode": False, "schema_type": "array"},
    "datetime": {"in": "query", "required": False, "style": "form", "explode": False, "schema_type": "string"},
}


def test_limit_bbox_and_datetime_are_written_as_part_1_writes_them_on_every_items_path(client):
    document = client.get("/openapi.json").json()
    components = document["components"]["parameters"]
    for name in COLLECTIONS:
        parameters = [
            components[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
            for p in document["paths"][f"/collections/{name}/items"]["get"]["parameters"]
        ]
        by_name = {p["name"]: p for p in parameters}
        for param, expected in FRAGMENTS.items():
            if param == "datetime" and not COLLECTIONS[name].temporal:
                continue
            given = by_name[param]
            assert {k: given[k] for k in ("in", "required", "style", "explode")} == {
                k: expected[k] for k in ("in", "required", "style", "explode")
            }
            assert given["schema"]["type"] == expected["schema_type"]
        assert by_name["bbox"]["schema"] == {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}


# -- JSON-FG ------------------------------------------------------------------------------------
def test_json_fg_has_its_type_time_and_place_in_rd_beside_crs84(client, demo_store):
    response = client.get("/collections/projecten/items", params={"f": "jsonfg", "crs": RD, "limit": 3})
    assert response.headers["Content-Type"] == JSONFG and response.headers["Content-Crs"] == f"<{RD}>"
    document = response.json()
    assert document["conformsTo"] == ["http://www.opengis.net/spec/json-fg-1/0.2/conf/core"]
    assert document["featureType"] == "projecten" and document["coordRefSys"] == RD
    first = document["features"][0]
    stored = demo_store.get("projecten", first["id"])
    assert first["time"] == {"interval": [stored.properties[0]["start"], stored.properties[0]["eind"]]}
    assert shapely.geometry.shape(first["place"]).equals_exact(stored.geometries[0], 0.01)
    assert -180 < first["geometry"]["coordinates"][0][0] < 180  # CRS84 beside RD


def test_json_fg_of_an_item_and_by_accept_header(client):
    proposal = client.get("/collections/voorstellen/items", params={"limit": 1}).json()["features"][0]
    item = client.get(f"/collections/voorstellen/items/{proposal['id']}", headers={"Accept": JSONFG})
    assert item.headers["Content-Type"] == JSONFG
    body = item.json()
    assert body["time"] == {"timestamp": proposal["properties"]["ingediend"]} and body["place"] is None
    assert body["featureType"] == "voorstellen" and "coordRefSys" not in body


@pytest.mark.parametrize("name", ["projecten", "projecten-vlakken", "voorstellen-punten", "wijken"])
def test_gdal_reads_json_fg_in_rd(client, demo_store, tmp_path, name):
    path = tmp_path / f"{name}.json"
    path.write_bytes(
        client.get(f"/collections/{name}/items", params={"f": "jsonfg", "crs": RD, "limit": 10_000}).content
    )
    assert pyogrio.read_info(path)["driver"] == "JSONFG"
    frame = pyogrio.read_dataframe(path)
    stored = demo_store.query(Query(name, limit=10_000))
    assert frame.crs.to_epsg() == 28992 and len(frame) == stored.number_matched
    assert all(a.equals_exact(b, 0.01) for a, b in zip(frame.geometry, stored.geometries))


def test_json_fg_is_listed_among_the_formats(client):
    types = {link["type"] for link in client.get("/collections/projecten/items/1").json()["links"]}
    classes = orjson.loads(client.get("/conformance").content)["conformsTo"]
    assert JSONFG in types and any(c.startswith("http://www.opengis.net/spec/json-fg-1/") for c in classes)
