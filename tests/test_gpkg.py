"""The store file is a valid GeoPackage that GDAL opens directly."""

import sqlite3

import pyogrio
import pytest
import shapely

from geoservice.store import gpkg

LAYERS = {
    "wijken": "MultiPolygon",
    "buurten": "MultiPolygon",
    "projecten": "Unknown",
    "voorstellen": "Unknown",
    "koppelkansen": "Unknown",
    "statuswijzigingen": "Point",
}


def test_gdal_sees_every_layer_with_its_geometry_type_and_the_version_table(gdal_demo_path):
    assert {name: kind for name, kind in pyogrio.list_layers(gdal_demo_path)} == {**LAYERS, "wijzigingen": None}


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_is_in_rd_new_with_a_spatial_index(gdal_demo_path, layer):
    info = pyogrio.read_info(gdal_demo_path, layer=layer)
    assert info["crs"] == "EPSG:28992"
    assert info["capabilities"]["fast_spatial_filter"]


@pytest.mark.parametrize("layer", LAYERS)
def test_rtree_holds_one_box_per_feature(demo_path, layer):
    with sqlite3.connect(demo_path) as conn:
        features = conn.execute(f"SELECT count(*) FROM {layer}").fetchone()[0]
        boxes = conn.execute(f"SELECT count(*) FROM rtree_{layer}_geom").fetchone()[0]
        registered = conn.execute(
            "SELECT count(*) FROM gpkg_extensions WHERE table_name = ? AND extension_name = 'gpkg_rtree_index'",
            (layer,),
        ).fetchone()[0]
    assert features > 0 and boxes == features and registered == 1


def test_file_is_marked_as_geopackage_and_passes_integrity_check(demo_path):
    with sqlite3.connect(demo_path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == gpkg.APPLICATION_ID
        assert conn.execute("PRAGMA user_version").fetchone()[0] == gpkg.USER_VERSION
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_gdal_spatial_filter_matches_exact_intersection(gdal_demo_path):
    box = (187000, 428000, 188000, 429000)
    every = pyogrio.read_dataframe(gdal_demo_path, layer="projecten")
    filtered = pyogrio.read_dataframe(gdal_demo_path, layer="projecten", bbox=box)
    expected = every[every.intersects(shapely.box(*box))]
    assert sorted(filtered.titel) == sorted(expected.titel)


def test_blobs_round_trip_every_geometry_type():
    geoms = [
        shapely.Point(1, 2),
        shapely.LineString([(0, 0), (3, 4)]),
        shapely.box(0, 0, 2, 2),
        shapely.MultiPoint([(0, 0), (1, 1)]),
        shapely.MultiLineString([[(0, 0), (1, 1)], [(2, 2), (3, 3)]]),
        shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]),
    ]
    decoded = gpkg.decode(gpkg.encode(geoms, 28992))
    assert all(shapely.equals_exact(a, b) for a, b in zip(geoms, decoded))


def test_blob_header_carries_the_envelope():
    blob = gpkg.encode([shapely.LineString([(10, 20), (30, 5)])], 28992)[0]
    assert blob[:2] == b"GP"
    conn = sqlite3.connect(":memory:")
    gpkg.register_functions(conn)
    row = conn.execute("SELECT ST_MinX(?), ST_MaxX(?), ST_MinY(?), ST_MaxY(?), ST_IsEmpty(?)", [blob] * 5).fetchone()
    assert row == (10.0, 30.0, 5.0, 20.0, 0)
