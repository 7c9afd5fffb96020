"""Invariants of the demo data set."""

import collections

import numpy as np
import pytest
import shapely

from geoservice.domain.model import (
    CATEGORIEEN,
    DEMO_SOURCE,
    FASEN,
    PROJECT_SOORTEN,
    STATUSSEN,
    THEMAS,
    VOORSTEL_SOORTEN,
)
from geoservice.domain.policy import Policy
from geoservice.ops import demo
from geoservice.store import GeoPackageStore, Query


def everything(store, name):
    return store.query(Query(name, limit=1_000_000, published_only=False))


@pytest.fixture(scope="module")
def plan(demo_store):
    return everything(demo_store, "projecten")


@pytest.fixture(scope="module")
def proposals(demo_store):
    return everything(demo_store, "voorstellen")


def test_boundaries_are_the_real_cbs_areas_of_nijmegen(demo_store):
    wijken, buurten = everything(demo_store, "wijken"), everything(demo_store, "buurten")
    assert wijken.number_matched == 9 and buurten.number_matched == 44
    assert sorted(wijken.ids) == [f"WK0268{i:02d}" for i in range(1, 10)]
    assert {p["gemeentenaam"] for p in buurten.properties} == {"Nijmegen"}
    assert "'t Acker" in {p["buurtnaam"] for p in buurten.properties}
    assert abs(shapely.union_all(buurten.geometries).area / 1e6 - 57.5) < 1  # km²


def test_every_wijk_is_the_union_of_its_buurten(demo_store):
    wijken, buurten = everything(demo_store, "wijken"), everything(demo_store, "buurten")
    for code, geometry in zip(wijken.ids, wijken.geometries):
        parts = [g for p, g in zip(buurten.properties, buurten.geometries) if p["wijkcode"] == code]
        assert shapely.union_all(parts).symmetric_difference(geometry).area < 1


def test_plan_is_large_and_varied(plan):
    props = plan.properties
    assert plan.number_matched >= 300
    assert {p["thema"] for p in props} == set(THEMAS)
    assert {p["soort"] for p in props} == set(PROJECT_SOORTEN)
    assert {p["fase"] for p in props} == set(FASEN)
    assert {p["planjaar"] for p in props} == set(range(2025, 2033))
    assert {g.geom_type for g in plan.geometries} == {
        "Point",
        "LineString",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
    }
    assert all(p["start"] <= p["eind"] and p["start"].startswith(str(p["planjaar"])) for p in props)
    assert all(p["budget_indicatie"] > 0 and p["titel"] for p in props)


def test_proposals_cover_every_kind_and_status(proposals):
    props = proposals.properties
    statuses = collections.Counter(p["status"] for p in props)
    assert proposals.number_matched >= 600
    assert {p["soort"] for p in props} == set(VOORSTEL_SOORTEN)
    assert {p["categorie"] for p in props} == set(CATEGORIEEN)
    assert set(statuses) == set(STATUSSEN)
    assert proposals.number_matched - statuses["ingediend"] >= 500
    assert any(p["steun"] > 10 for p in props)


def test_rejected_and_merged_proposals_are_explained(proposals):
    ids = set(proposals.ids)
    for p in proposals.properties:
        if p["status"] == "afgewezen":
            assert p["reden"]
        if p["status"] == "samengevoegd":
            assert p["samengevoegd_met"] in ids


def test_every_wijk_and_buurt_has_projects_and_every_wijk_has_proposals(demo_store, plan, proposals):
    wijken, buurten = everything(demo_store, "wijken"), everything(demo_store, "buurten")
    assert {p["wijkcode"] for p in plan.properties} == set(wijken.ids)
    assert {p["buurtcode"] for p in plan.properties} == set(buurten.ids)
    assert {p["wijkcode"] for p in proposals.properties} == set(wijken.ids)


@pytest.mark.parametrize("name", ["projecten", "voorstellen"])
def test_every_feature_lies_in_nijmegen_and_its_codes_match_its_geometry(demo_store, name):
    page = everything(demo_store, name)
    buurten = everything(demo_store, "buurten")
    municipality = shapely.union_all(buurten.geometries)
    assert shapely.covers(municipality, page.geometries).all()
    by_code = dict(zip(buurten.ids, buurten.geometries))
    wijk_of = {p["buurtcode"]: p["wijkcode"] for p in buurten.properties}
    points = shapely.point_on_surface(page.geometries)
    for props, point in zip(page.properties, points):
        assert by_code[props["buurtcode"]].covers(point)
        assert wijk_of[props["buurtcode"]] == props["wijkcode"]


def test_some_proposals_lie_within_25_m_of_a_planned_project(plan, proposals):
    tree = shapely.STRtree(plan.geometries)
    published = [g for g, p in zip(proposals.geometries, proposals.properties) if p["status"] != "ingediend"]
    near, _ = tree.query(published, predicate="dwithin", distance=25)
    assert len(np.unique(near)) >= 100


def test_projects_share_streets(plan):
    lines = [g for g in plan.geometries if g.geom_type == "LineString"]
    tree = shapely.STRtree(lines)
    left, right = tree.query(lines, predicate="overlaps")
    assert (left != right).sum() >= 10


def test_generated_features_are_labelled_as_demo(plan, proposals):
    assert {p["bron"] for p in plan.properties + proposals.properties} == {DEMO_SOURCE}


def test_same_seed_gives_the_same_data(demo_store, tmp_path):
    demo.build(str(tmp_path / "again.gpkg"), Policy(), seed=2024)
    again = GeoPackageStore(tmp_path / "again.gpkg")
    for name in ("projecten", "voorstellen"):
        first, second = everything(demo_store, name), everything(again, name)
        strip = [{k: v for k, v in p.items() if k != "bijgewerkt"} for p in first.properties]
        assert strip == [{k: v for k, v in p.items() if k != "bijgewerkt"} for p in second.properties]
        assert shapely.equals_exact(first.geometries, second.geometries).all()
