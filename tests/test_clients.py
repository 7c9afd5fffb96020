"""Real clients against the service run by `geoservice serve` under uvicorn."""
import httpx
import pyogrio
import pytest

from geoservice.store import Query

LAYERS = ["wijken", "buurten", "projecten", "voorstellen"]


def test_uvicorn_serves_the_landing_page(live_url):
    response = httpx.get(live_url, params={"f": "json"})
    assert response.status_code == 200
    assert response.json()["title"] == "Wijkplan geoservice"


def test_gdal_lists_the_four_collections(live_url):
    assert [name for name, _ in pyogrio.list_layers(f"OAPIF:{live_url}")] == LAYERS


@pytest.mark.parametrize("layer", LAYERS)
def test_gdal_pages_through_a_whole_collection(live_url, demo_store, layer):
    frame = pyogrio.read_dataframe(f"OAPIF:{live_url}", layer=layer, PAGE_SIZE=100)
    expected = demo_store.query(Query(layer, limit=0)).number_matched
    assert len(frame) == expected
    assert frame.crs.to_epsg() == 28992


def test_gdal_reads_rd_coordinates_as_stored(live_url, demo_store):
    frame = pyogrio.read_dataframe(f"OAPIF:{live_url}", layer="wijken")
    stored = demo_store.query(Query("wijken", limit=100))
    by_code = dict(zip(stored.ids, stored.geometries))
    assert all(geometry.equals_exact(by_code[code], 0) for code, geometry in zip(frame.wijkcode, frame.geometry))


def test_gdal_reads_typed_fields(live_url):
    info = pyogrio.read_info(f"OAPIF:{live_url}", layer="projecten")
    types = dict(zip(info["fields"], info["ogr_types"]))
    assert types["start"] == "OFTDate" and types["planjaar"] == "OFTInteger"
    assert info["layer_metadata"]["TITLE"] == "Projecten wijkbeheerplan"
