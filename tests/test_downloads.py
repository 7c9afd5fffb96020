"""Open-data downloads, on both backends: every collection in three formats and a GeoPackage per
wijk, advertised as enclosures, current, without personal data, sent again only when changed."""

import io
import threading

import pandas as pd
import pyogrio
import pytest
import shapely
from test_participation import CONTACT, feature, path_of, publish, submit

from geoservice.domain.model import COLLECTIONS, TABLES


def _enclosures(client, collection) -> dict:
    links = client.get(f"/collections/{collection}", params={"f": "json"}).json()["links"]
    return {link["type"]: link["href"].replace("http://testserver", "") for link in links if link["rel"] == "enclosure"}


def _matched(client, collection, **params) -> int:
    return client.get(f"/collections/{collection}/items", params={"limit": 1, **params}).json()["numberMatched"]


@pytest.mark.parametrize("collection", list(COLLECTIONS))
def test_every_collection_offers_geopackage_geojson_and_csv_of_what_the_api_serves(client, collection, tmp_path):
    enclosures = _enclosures(client, collection)
    assert set(enclosures) == {"application/geopackage+sqlite3", "application/geo+json", "text/csv; charset=utf-8"}
    expected = _matched(client, collection)
    package = tmp_path / "download.gpkg"
    package.write_bytes(client.get(enclosures["application/geopackage+sqlite3"]).content)
    frame = pyogrio.read_dataframe(package, layer=collection)
    assert len(frame) == expected and frame.crs.to_epsg() == 28992
    document = client.get(enclosures["application/geo+json"]).json()
    assert len(document["features"]) == expected
    answer = client.get(enclosures["text/csv; charset=utf-8"])
    table = pd.read_csv(io.StringIO(answer.text))
    assert len(table) == expected and {"x", "y", "wkt"} <= set(table.columns)
    if expected:
        assert shapely.from_wkt(table["wkt"][0]).is_valid


def test_a_wijk_geopackage_holds_everything_of_the_wijk(client, tmp_path):
    wijk = client.get("/collections/wijken/items/WK026801").json()
    [link] = [link for link in wijk["links"] if link["rel"] == "enclosure"]
    package = tmp_path / "wijk.gpkg"
    package.write_bytes(client.get(link["href"].replace("http://testserver", "")).content)
    layers = dict(pyogrio.list_layers(package))
    assert set(layers) == set(TABLES)
    for name in ("projecten", "voorstellen", "koppelkansen", "buurten"):
        assert len(pyogrio.read_dataframe(package, layer=name)) == _matched(client, name, wijkcode="WK026801")


def test_an_unchanged_file_is_not_sent_twice_and_a_change_makes_a_new_one(store_client, tokens):
    url = "/downloads/voorstellen.geojson"
    first = store_client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert store_client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert store_client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    publish(store_client, tokens, path_of(submit(store_client, tokens)))
    changed = store_client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(changed.json()["features"]) == len(first.json()["features"]) + 1


def test_downloads_hold_no_personal_data(store_client, tokens):
    response = submit(
        store_client, tokens, feature(prive={"contact": CONTACT, "nabij_woning": True}), participant="bewoner-geheim"
    )
    publish(store_client, tokens, path_of(response))
    files = [
        store_client.get(f"/downloads/{name}.{fmt}").content
        for name in COLLECTIONS
        for fmt in ("gpkg", "geojson", "csv")
    ] + [store_client.get("/downloads/wijken/WK026801.gpkg").content]
    for secret in (CONTACT, "bewoner-geheim", "test-participatie"):
        assert not [f for f in files if secret.encode() in f]
    gpkg = store_client.get("/downloads/voorstellen.gpkg").content
    assert b"steunbetuigingen" not in gpkg and b"deelname" not in gpkg and b"auditlog" not in gpkg


@pytest.mark.parametrize(
    "path", ["/downloads/bomen.gpkg", "/downloads/projecten.shp", "/downloads/wijken/WK999999.gpkg"]
)
def test_unknown_downloads_are_404(client, path):
    assert client.get(path).status_code == 404


def test_a_snapshot_does_not_see_writes_made_while_it_is_read(store):
    project = (
        {
            "titel": "Tijdens het lezen",
            "thema": "groen",
            "soort": "nieuwe aanleg",
            "fase": "gepland",
            "start": "2028-01-01",
            "eind": "2028-02-01",
            "planjaar": 2028,
        },
        shapely.Point(187700, 428600),
    )
    before = store.count("projecten")
    with store.snapshot():
        first = store.count("projecten")
        writer = threading.Thread(target=store.insert, args=("projecten", [project]))
        writer.start()
        writer.join()
        assert store.count("projecten") == first == before
    assert store.count("projecten") == before + 1
