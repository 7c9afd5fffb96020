"""Real clients against the service run by `geoservice serve` under uvicorn, on both backends:
GDAL's OAPIF driver (through pyogrio) and OWSLib."""

import httpx
import pyogrio
import pytest
import shapely
from owslib.ogcapi.features import Features

from geoservice.domain.model import COLLECTIONS
from geoservice.store import Query

LAYERS = list(COLLECTIONS)  # the six collections, then those of one geometry family
RD = "http://www.opengis.net/def/crs/EPSG/0/28992"


def gdal(live) -> str:
    return f"OAPIF:{live.url}"


def owslib(live, token: str | None = None) -> Features:
    """An OWSLib client with headers of its own (OWSLib shares one module-level dict by default)."""
    client = Features(live.url)
    client.headers = {k: v for k, v in client.headers.items() if k != "Authorization"}
    if token:
        client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_uvicorn_serves_the_landing_page(live):
    response = httpx.get(live.url, params={"f": "json"})
    assert response.status_code == 200
    assert response.json()["title"] == "Wijkplan geoservice"


def test_gdal_lists_every_collection(live):
    assert [name for name, _ in pyogrio.list_layers(gdal(live))] == LAYERS


@pytest.mark.parametrize("layer", LAYERS)
def test_gdal_pages_through_a_whole_collection(live, demo_store, layer):
    frame = pyogrio.read_dataframe(gdal(live), layer=layer, PAGE_SIZE=100, fid_as_index=True)
    everything = demo_store.query(Query(layer, limit=10_000))
    id_field = COLLECTIONS[layer].id_field
    ids = frame.index if id_field == "id" else frame[id_field]
    assert len(frame) == everything.number_matched
    assert sorted(ids) == sorted(everything.ids)
    assert frame.crs.to_epsg() == 28992
    pages = [line for line in live.requests() if f"/{layer}/items" in line and "limit=100&" in line]
    assert len(pages) >= everything.number_matched // 100


def test_gdal_reads_rd_coordinates_as_stored(live, demo_store):
    frame = pyogrio.read_dataframe(gdal(live), layer="wijken")
    stored = demo_store.query(Query("wijken", limit=100))
    by_code = dict(zip(stored.ids, stored.geometries))
    assert all(geometry.equals_exact(by_code[code], 0) for code, geometry in zip(frame.wijkcode, frame.geometry))


def test_gdal_bbox_is_answered_by_the_server(live, demo_store):
    box = (187000, 428000, 188500, 429500)
    frame = pyogrio.read_dataframe(gdal(live), layer="projecten", bbox=box)
    everything = demo_store.query(Query("projecten", limit=10_000))
    expected = sum(g.intersects(shapely.box(*box)) for g in everything.geometries)
    assert 0 < len(frame) == expected
    assert any("bbox=" in line and f"bbox-crs={RD}" in line for line in live.requests())


WHERE = [
    "thema = 'groen' AND planjaar > 2026",
    "start >= '2027-01-01'",
    "titel LIKE 'Veil%' OR inspraak_tot IS NULL",
    "NOT (fase = 'gepland')",
]


@pytest.mark.parametrize("where", WHERE)
def test_gdal_pushes_its_where_to_the_server_as_cql(live, gdal_demo_path, where):
    served = pyogrio.read_dataframe(gdal(live), layer="projecten", where=where)
    local = pyogrio.read_dataframe(gdal_demo_path, layer="projecten", where=where)
    assert sorted(served.titel) == sorted(local.titel) and len(served) > 0
    assert any("filter=" in line and "filter-lang=cql-text" in line for line in live.requests()[-3:])


def test_gdal_reads_typed_fields(live):
    info = pyogrio.read_info(gdal(live), layer="projecten")
    types = dict(zip(info["fields"], info["ogr_types"]))
    assert types["start"] == "OFTDate" and types["planjaar"] == "OFTInteger"
    assert info["layer_metadata"]["TITLE"] == "Projecten wijkbeheerplan"


def test_owslib_lists_collections_and_queryables(live):
    client = owslib(live)
    assert sorted(client.feature_collections()) == sorted(LAYERS)
    queryables = client.collection_queryables("projecten")["properties"]
    assert queryables["thema"]["enum"][0] == "verharding"


def test_owslib_reads_items_with_a_filter(live, demo_store):
    client = owslib(live)
    page = client.collection_items("projecten", filter="thema = 'water' AND planjaar <= 2027", limit=1000)
    assert page["numberMatched"] == len(page["features"]) > 0
    assert all(f["properties"]["thema"] == "water" for f in page["features"])


def test_owslib_creates_updates_and_deletes_with_a_token(live_writable, tokens):
    client = owslib(live_writable, tokens["planner"])
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [5.8662, 51.8467]},
        "properties": {
            "titel": "Bankjes Stadscentrum",
            "thema": "groen",
            "soort": "nieuwe aanleg",
            "fase": "gepland",
            "start": "2029-04-01",
            "eind": "2029-05-01",
            "planjaar": 2029,
        },
    }
    before = client.collection_items("projecten", limit=1)["numberMatched"]
    assert client.collection_item_create("projecten", feature)
    created = client.collection_items("projecten", filter="titel = 'Bankjes Stadscentrum'")["features"][0]
    feature["properties"]["fase"] = "voorbereiding"
    assert client.collection_item_update("projecten", created["id"], feature)
    assert client.collection_item("projecten", created["id"])["properties"]["fase"] == "voorbereiding"
    assert client.collection_item_delete("projecten", created["id"])
    assert client.collection_items("projecten", limit=1)["numberMatched"] == before


def test_owslib_without_a_token_is_refused(live_writable):
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [5.8662, 51.8467]},
        "properties": {"titel": "x"},
    }
    with pytest.raises(RuntimeError, match="bearer token"):
        owslib(live_writable).collection_item_create("projecten", feature)
