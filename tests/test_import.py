"""geoservice import: a municipality's own files in every format, with a mapping, CRS detection,
a report of every rejected row, all-or-nothing by default and idempotent."""

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml
from conftest import copy_store
from snapshots import fingerprint
from test_cli import geoservice

from geoservice.ops import importer
from geoservice.query import crs
from geoservice.query.filters import equals
from geoservice.store import Query

PROJECTS = pd.DataFrame(
    {
        "naam": ["Herstraten Molenstraat", "Nieuwe bomen Hazelaarpad", "Riool Kerkstraat"],
        "werksoort": ["verharding", "groen", "riolering"],
        "jaar": [2028, 2029, 2030],
        "begin": ["2028-03-01", "2029-04-01", "2030-05-01"],
        "einde": ["2028-06-30", "2029-05-01", "2030-09-30"],
        "nummer": ["P-1", "P-2", "P-3"],
    }
)
LONLAT = [(5.8662, 51.8467), (5.8600, 51.8430), (5.8540, 51.8430)]
MAPPING = {
    "velden": {"titel": "naam", "thema": "werksoort", "planjaar": "jaar", "start": "begin", "eind": "einde"},
    "vast": {"soort": "groot onderhoud", "fase": "gepland"},
    "sleutel": "nummer",
}


def _mapping(tmp_path, **extra) -> str:
    path = tmp_path / "mapping.yml"
    path.write_text(yaml.safe_dump({**MAPPING, **extra}), encoding="utf-8")
    return str(path)


def _frame(rows=PROJECTS, points=LONLAT, to=None) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(rows.copy(), geometry=gpd.points_from_xy(*zip(*points)), crs="EPSG:4326")
    return frame.to_crs(to) if to else frame


def _imported(store) -> list[dict]:
    page = store.query(Query("projecten", limit=10_000, published_only=False))
    return [p for p in page.properties if (p["bron"] or "").startswith("plan.")]


@pytest.mark.parametrize("suffix,to", [(".gpkg", crs.STORAGE), (".shp", None), (".geojson", None)])
def test_files_of_each_format_are_loaded_through_the_mapping(store, tmp_path, suffix, to):
    path = tmp_path / f"plan{suffix}"
    _frame(to=to).to_file(path)
    report = importer.load(store, path, "projecten", importer.Mapping.load(_mapping(tmp_path)))
    assert (report.read, report.stored, report.rejected) == (3, 3, [])
    stored = _imported(store)
    assert {p["titel"] for p in stored} == set(PROJECTS["naam"])
    assert {p["buurtcode"] for p in stored} >= {"BU02680101"}


@pytest.mark.parametrize("columns,points", [(("x", "y"), LONLAT), (("X_RD", "Y_RD"), None)])
def test_csv_with_x_y_in_wgs84_or_rd_is_detected_and_transformed(store, tmp_path, columns, points):
    table = PROJECTS.copy()
    rd = crs.transformer(crs.CRS84, crs.STORAGE)
    coordinates = points or [rd.transform(*p) for p in LONLAT]
    table[columns[0]], table[columns[1]] = zip(*coordinates)
    table.to_csv(tmp_path / "plan.csv", index=False)
    mapping = importer.Mapping.load(_mapping(tmp_path, x=columns[0], y=columns[1]))
    report = importer.load(store, tmp_path / "plan.csv", "projecten", mapping)
    assert report.stored == 3
    page = store.query(Query("projecten", equals("bron", "plan.csv#P-1"), published_only=False))
    assert page.geometries[0].distance(shapely.Point(rd.transform(*LONLAT[0]))) < 0.01


def test_broken_rows_are_each_reported_and_nothing_is_stored(store, tmp_path):
    rows = PROJECTS.astype({"jaar": object})
    rows.loc[1, "werksoort"] = "kunst"
    rows.loc[2, "jaar"] = "volgend jaar"
    path = tmp_path / "plan.geojson"
    _frame(rows, [LONLAT[0], LONLAT[1], (4.9, 52.37)]).to_file(path)
    before = fingerprint(store)
    report = importer.load(store, path, "projecten", importer.Mapping.load(_mapping(tmp_path)))
    reasons = dict(report.rejected)
    assert set(reasons) == {2, 3} and "thema" in reasons[2] and "planjaar" in reasons[3]
    assert report.stored == 0 and fingerprint(store) == before
    skipped = importer.load(store, path, "projecten", importer.Mapping.load(_mapping(tmp_path)), skip_invalid=True)
    assert skipped.stored == 1 and [p["titel"] for p in _imported(store)] == ["Herstraten Molenstraat"]


def test_importing_the_same_file_again_changes_nothing_and_a_changed_row_is_updated(store, tmp_path):
    path = tmp_path / "plan.gpkg"
    _frame().to_file(path)
    mapping = importer.Mapping.load(_mapping(tmp_path))
    importer.load(store, path, "projecten", mapping)
    before = fingerprint(store)
    again = importer.load(store, path, "projecten", mapping)
    assert (again.stored, again.unchanged) == (0, 3) and fingerprint(store) == before
    changed = PROJECTS.copy()
    changed.loc[0, "naam"] = "Herstraten Molenstraat en Molenpad"
    _frame(changed).to_file(path)
    third = importer.load(store, path, "projecten", mapping)
    assert (third.stored, third.unchanged) == (1, 2)
    assert len(_imported(store)) == 3 and "Herstraten Molenstraat en Molenpad" in {p["titel"] for p in _imported(store)}


def test_own_boundaries_replace_the_buurten_they_name(store, tmp_path):
    buurten = store.query(Query("buurten", limit=1000))
    frame = gpd.GeoDataFrame(pd.DataFrame(buurten.properties), geometry=list(buurten.geometries), crs=crs.STORAGE)
    frame.loc[0, "buurtnaam"] = "Nieuwe naam"
    frame[
        ["buurtcode", "buurtnaam", "wijkcode", "wijknaam", "gemeentecode", "gemeentenaam", "jaar", "bron", "geometry"]
    ].to_file(tmp_path / "buurten.gpkg")
    report = importer.load(store, tmp_path / "buurten.gpkg", "buurten")
    assert (report.stored, report.unchanged) == (1, len(buurten.ids) - 1)
    assert store.get("buurten", buurten.ids[0]).properties[0]["buurtnaam"] == "Nieuwe naam"


def test_the_command_reports_rejected_rows_and_fails(demo_path, tmp_path):
    store_path = copy_store(demo_path, tmp_path / "store.gpkg")
    rows = PROJECTS.copy()
    rows.loc[0, "werksoort"] = "kunst"
    _frame(rows).to_file(tmp_path / "plan.geojson")
    result = geoservice(
        "--store",
        str(store_path),
        "import",
        str(tmp_path / "plan.geojson"),
        "--collectie",
        "projecten",
        "--mapping",
        _mapping(tmp_path),
    )
    assert result.returncode != 0 and "row 1: thema" in result.stdout and "nothing stored" in result.stderr
