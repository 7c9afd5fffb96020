"""Vector tiles (OGC API - Tiles): every collection on both backends in WebMercatorQuad and
NetherlandsRDNewQuad, holding exactly the published features the items show, their metadata, HTTP
caching, and QGIS showing a collection of mixed geometry as one layer."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from test_participation import PROJECT, feature, headers
from test_qgis import SYSTEM_PYTHON

from geoservice.domain.model import COLLECTIONS
from geoservice.publish import tiles
from geoservice.query import crs

RENDER = Path(__file__).with_name("qgis_tiles.py")
CITY_CRS84 = (5.70, 51.76, 5.98, 51.90)  # Nijmegen and around
CENTRE = (5.8634, 51.8437)  # near the Grote Markt


def _tile_over(tiling: tiles.TilingScheme, lon: float, lat: float, level: int) -> tuple[int, int, int]:
    x, y = crs.from_storage(crs.to_storage(shapely.Point(lon, lat), crs.CRS84), tiling.crs_uri).coords[0]
    matrix = tiling.tms.matrix(level)
    size = matrix.cellSize * matrix.tileWidth
    origin_x, origin_y = matrix.pointOfOrigin
    return level, int((origin_y - y) // size), int((x - origin_x) // size)


def _city_tile(tiling: tiles.TilingScheme) -> tuple[int, int, int]:
    """The deepest tile that holds the whole city."""
    for level in range(tiling.max_level, -1, -1):
        corners = {_tile_over(tiling, lon, lat, level) for lon in CITY_CRS84[::2] for lat in CITY_CRS84[1::2]}
        if len(corners) == 1:
            return corners.pop()
    raise AssertionError("no tile holds the city")


def _decoded(client, name: str, scheme: str, tile: tuple[int, int, int]) -> list[dict]:
    answer = client.get(f"/collections/{name}/tiles/{scheme}/{'/'.join(map(str, tile))}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == tiles.MVT
    layers = mapbox_vector_tile.decode(answer.content, default_options={"y_coord_down": True})
    assert set(layers) <= {name}
    return layers.get(name, {"features": []})["features"]


def _every(client, name: str) -> list[dict]:
    return client.get(f"/collections/{name}/items", params={"limit": 10_000}).json()["features"]


def _key(collection, found: dict):
    """What names a feature in a tile: its id, or for collections named by a code, that code."""
    return found["id"] if collection.id_field == "id" else found["properties"][collection.id_field]


@pytest.mark.parametrize("scheme", list(tiles.SCHEMES))
@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_a_tile_over_the_city_holds_every_published_feature_with_its_properties(client, name, scheme):
    collection = COLLECTIONS[name]
    every = {(f["id"] if collection.id_field == "id" else f["properties"][collection.id_field]): f
             for f in _every(client, name)}  # fmt: skip
    found = _decoded(client, name, scheme, _city_tile(tiles.SCHEMES[scheme]))
    assert {_key(collection, f) for f in found} == set(every)
    for tiled in found:
        shown = every[_key(collection, tiled)]["properties"]
        expected = {f.name: shown[f.name] for f in collection.queryable_fields if shown.get(f.name) is not None}
        assert {k: v for k, v in tiled["properties"].items() if k != "id"} == pytest.approx(expected), name


@pytest.mark.parametrize("scheme", list(tiles.SCHEMES))
def test_a_deep_tile_holds_the_features_that_meet_it_where_they_are(client, scheme):
    tiling = tiles.SCHEMES[scheme]
    every = _every(client, "projecten")
    a_point = next(f for f in every if f["geometry"]["type"] == "Point")["geometry"]["coordinates"]
    tile = _tile_over(tiling, *a_point, 15 if scheme == "WebMercatorQuad" else 12)
    bounds = tiles.tile_bounds(tiling, *tile)
    box = crs.to_storage(shapely.box(*bounds), tiling.crs_uri)
    shapes = crs.to_storage(np.array([shapely.geometry.shape(f["geometry"]) for f in every]), crs.CRS84)
    meeting = {f["id"] for f, shape in zip(every, shapes) if shape.intersects(box)}
    found = _decoded(client, "projecten", scheme, tile)
    assert meeting and {f["id"] for f in found} >= meeting
    buffered = box.buffer((bounds[2] - bounds[0]) * tiles.BUFFER / tiles.EXTENT * 1.5)
    assert all(shapes[[f["id"] for f in every].index(t["id"])].intersects(buffered) for t in found)
    points = [t for t in found if t["geometry"]["type"] == "Point"]
    assert points, "the tile holds points"
    for point in points:  # each where it is, within a tile unit
        x, y = point["geometry"]["coordinates"]
        place = (bounds[0] + x * (bounds[2] - bounds[0]) / tiles.EXTENT,
                 bounds[3] - y * (bounds[3] - bounds[1]) / tiles.EXTENT)  # fmt: skip
        stored = crs.from_storage(shapes[[f["id"] for f in every].index(point["id"])], tiling.crs_uri)
        assert shapely.Point(place).distance(stored) <= (bounds[2] - bounds[0]) / tiles.EXTENT


def test_both_backends_make_the_same_tiles(both_backends):
    for name in ("projecten", "voorstellen", "wijken", "koppelkansen"):
        for scheme, tiling in tiles.SCHEMES.items():
            tile = _tile_over(tiling, *CENTRE, 14 if scheme == "WebMercatorQuad" else 11)
            geopackage, postgis = (_decoded(c, name, scheme, tile) for c in both_backends)
            assert sorted(_summary(f) for f in geopackage) == sorted(_summary(f) for f in postgis), (name, scheme)


def _summary(found: dict) -> tuple:
    """A feature of a tile, without the moment each demo store was built."""
    properties = {k: v for k, v in found["properties"].items() if k != "bijgewerkt"}
    return found["id"], found["geometry"]["type"].removeprefix("Multi"), json.dumps(properties, sort_keys=True)


def test_unpublished_proposals_are_in_no_tile(store_client, store, tokens):
    submitted = store_client.post(
        "/collections/voorstellen/items", json=feature(), headers=headers(tokens, "participatie")
    )
    assert submitted.status_code == 201
    tiling = tiles.SCHEMES["WebMercatorQuad"]
    found = _decoded(store_client, "voorstellen", "WebMercatorQuad", _city_tile(tiling))
    assert submitted.json()["id"] not in {f["id"] for f in found}
    assert len(found) == _every(store_client, "voorstellen").__len__() < store.count("voorstellen")


def test_a_tile_is_tagged_by_its_collection_version(store_client, tokens):
    tile = _tile_over(tiles.SCHEMES["WebMercatorQuad"], *CENTRE, 14)
    path = f"/collections/projecten/tiles/WebMercatorQuad/{'/'.join(map(str, tile))}"
    first = store_client.get(path)
    assert first.headers["Cache-Control"] == "public, no-cache"
    assert store_client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    created = store_client.post(
        "/collections/projecten/items",
        json=feature(PROJECT, {"type": "Point", "coordinates": list(CENTRE)}),
        headers=headers(tokens, "planner"),
    )
    assert created.status_code == 201
    again = store_client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    tiled = mapbox_vector_tile.decode(again.content)["projecten"]["features"]
    assert created.json()["id"] in {f["id"] for f in tiled}


def test_tile_metadata_describes_both_tile_matrix_sets(client):
    sets = client.get("/tileMatrixSets").json()["tileMatrixSets"]
    assert [s["id"] for s in sets] == ["WebMercatorQuad", "NetherlandsRDNewQuad"]
    rd = client.get("/tileMatrixSets/NetherlandsRDNewQuad").json()
    assert rd["crs"] == crs.RD
    zero, twelve = rd["tileMatrices"][0], rd["tileMatrices"][12]
    assert zero["pointOfOrigin"] == [-285401.92, 903401.92] and zero["cellSize"] == 3440.64
    assert zero["tileWidth"] == zero["tileHeight"] == 256 and twelve["cellSize"] == 3440.64 / 4096
    tilesets = client.get("/collections/voorstellen/tiles").json()["tilesets"]
    assert {t["crs"] for t in tilesets} == {crs.WEB_MERCATOR, crs.RD}
    tileset = client.get("/collections/voorstellen/tiles/NetherlandsRDNewQuad").json()
    template = next(link for link in tileset["links"] if link["rel"] == "item")
    assert template["templated"] and template["href"].endswith("/NetherlandsRDNewQuad/{tileMatrix}/{tileRow}/{tileCol}")
    assert tileset["dataType"] == "vector" and tileset["layers"][0]["id"] == "voorstellen"
    tilejson = client.get("/collections/voorstellen/tiles/WebMercatorQuad?f=tilejson").json()
    assert tilejson["tiles"][0].endswith("/WebMercatorQuad/{z}/{y}/{x}")
    lon0, lat0, lon1, lat1 = tilejson["bounds"]
    assert lon0 < CENTRE[0] < lon1 and lat0 < CENTRE[1] < lat1
    conformance = client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conformance
    collection_links = client.get("/collections/voorstellen").json()["links"]
    assert any(link["rel"] == tiles.TILESETS_VECTOR for link in collection_links)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/collections/projecten/tiles/Bestaat/1/0/0", 404),
        ("/collections/projecten/tiles/WebMercatorQuad/21/0/0", 404),
        ("/collections/projecten/tiles/WebMercatorQuad/2/4/0", 404),
        ("/collections/projecten/tiles/WebMercatorQuad/2/0/-1", 404),
        ("/collections/projecten/tiles/WebMercatorQuad/99999999999/0/0", 404),
        ("/collections/bestaat/tiles/WebMercatorQuad/1/0/0", 404),
        ("/collections/projecten/tiles/NetherlandsRDNewQuad?f=tilejson", 404),
        ("/collections/projecten/tiles/WebMercatorQuad/1/0/0?f=png", 400),
        ("/collections/projecten/tiles/WebMercatorQuad/1/0/0?filter=steun>1", 400),
        ("/collections/projecten/tiles?f=xml", 400),
    ],
)
def test_tiles_that_are_not_served_are_refused_plainly(client, path, status):
    answer = client.get(path)
    assert answer.status_code == status
    assert answer.headers["Content-Type"] == "application/problem+json"


def test_qgis_shows_points_lines_and_areas_of_one_collection_as_one_layer(live, tmp_path):
    tiling = tiles.SCHEMES["WebMercatorQuad"]
    bounds = tiles.tile_bounds(tiling, *_tile_over(tiling, *CENTRE, 14))
    drawn = {}
    for name in ("projecten", "wijken"):
        run = subprocess.run(
            [SYSTEM_PYTHON, str(RENDER), f"{live.url}/collections/{name}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}",
             *map(str, bounds)],
            capture_output=True, text=True, timeout=300,
            env={"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        drawn[name] = json.loads(run.stdout.strip().splitlines()[-1])
        assert drawn[name]["valid"] and not drawn[name]["errors"]
    assert all(count > 0 for count in drawn["projecten"]["pixels"].values()), drawn
    assert drawn["wijken"]["pixels"]["areas"] > 0 and drawn["wijken"]["pixels"]["points"] == 0


@pytest.mark.parametrize("scheme", list(tiles.SCHEMES))
def test_the_tiles_of_the_first_levels_hold_the_city_once(client, scheme):
    """Tiles far larger than the country (the world at level 0) hold what lies in them, and the
    tiles of a level together hold each feature once (with its buffer, at most twice)."""
    count = len(_every(client, "wijken"))
    for level in range(3):
        size = tiles.SCHEMES[scheme].tms.matrix(level).matrixWidth
        held = [f["properties"]["wijkcode"] for row in range(size) for col in range(size)
                for f in _decoded(client, "wijken", scheme, (level, row, col))]  # fmt: skip
        assert set(held) == {f["properties"]["wijkcode"] for f in _every(client, "wijken")}
        assert count <= len(held) <= 2 * count
