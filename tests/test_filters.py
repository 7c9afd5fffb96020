"""CQL2 filters give exactly the features that match, on both backends: every operator class the
service declares, checked against the same predicate evaluated in Python on all features."""

import datetime as dt

import orjson
import pytest
import shapely

from geoservice.query import crs
from geoservice.store import Query

BOX = (5.85, 51.835, 5.875, 51.85)
BOX_RD = crs.area_to_storage(shapely.box(*BOX), crs.CRS84)
STADSCENTRUM = shapely.Point(187700, 428600).buffer(400)
STADSCENTRUM_84 = crs.from_storage(STADSCENTRUM, crs.CRS84)

CASES = {
    "comparison and logic": (
        "projecten",
        "thema = 'groen' AND (planjaar < 2027 OR NOT budget_indicatie <= 100000)",
        lambda p, g: p["thema"] == "groen" and (p["planjaar"] < 2027 or not p["budget_indicatie"] <= 100000),
    ),
    "LIKE": ("projecten", "titel LIKE 'Vervangen%'", lambda p, g: p["titel"].startswith("Vervangen")),
    "NOT LIKE with _": ("projecten", "titel NOT LIKE '_ieuwe%'", lambda p, g: not p["titel"][1:].startswith("ieuwe")),
    "CASEI": ("projecten", "CASEI(titel) LIKE '%SPEEL%'", lambda p, g: "speel" in p["titel"].lower()),
    "IN": ("voorstellen", "categorie IN ('groen', 'overig')", lambda p, g: p["categorie"] in ("groen", "overig")),
    "BETWEEN": ("voorstellen", "steun BETWEEN 5 AND 20", lambda p, g: 5 <= p["steun"] <= 20),
    "IS NULL": ("projecten", "inspraak_tot IS NULL", lambda p, g: p["inspraak_tot"] is None),
    "IS NOT NULL": ("voorstellen", "auteur IS NOT NULL", lambda p, g: p["auteur"] is not None),
    "property with property": (
        "projecten",
        "eind > inspraak_tot",
        lambda p, g: p["inspraak_tot"] is not None and p["eind"] > p["inspraak_tot"],
    ),
    "S_INTERSECTS": (
        "projecten",
        f"S_INTERSECTS(geometry, BBOX({','.join(map(str, BOX))}))",
        lambda p, g: g.intersects(BOX_RD),
    ),
    "S_WITHIN": ("projecten", f"S_WITHIN(geometry, {STADSCENTRUM_84.wkt})", lambda p, g: g.within(STADSCENTRUM)),
    "S_CONTAINS": (
        "buurten",
        "S_CONTAINS(geometry, POINT(5.8662 51.8467))",
        lambda p, g: g.contains(crs.to_storage(shapely.Point(5.8662, 51.8467), crs.CRS84)),
    ),
    "S_DISJOINT": (
        "voorstellen",
        f"S_DISJOINT(geometry, BBOX({','.join(map(str, BOX))}))",
        lambda p, g: g.disjoint(BOX_RD),
    ),
    "T_INTERSECTS": (
        "projecten",
        "T_INTERSECTS(INTERVAL(start, eind), INTERVAL('2027-03-01', '2027-06-30'))",
        lambda p, g: p["start"] <= "2027-06-30" and p["eind"] >= "2027-03-01",
    ),
    "T_BEFORE": ("projecten", "T_BEFORE(eind, DATE('2026-01-01'))", lambda p, g: p["eind"] < "2026-01-01"),
    "T_AFTER": (
        "voorstellen",
        "T_AFTER(ingediend, TIMESTAMP('2026-06-01T00:00:00Z'))",
        lambda p, g: p["ingediend"] > "2026-06-01T00:00:00.000Z",
    ),
    "T_DURING": (
        "projecten",
        "T_DURING(INTERVAL(start, eind), INTERVAL('2028-01-01', '2028-12-31'))",
        lambda p, g: p["start"] > "2028-01-01" and p["eind"] < "2028-12-31",
    ),
    "open interval": (
        "projecten",
        "T_INTERSECTS(INTERVAL(start, eind), INTERVAL('2031-01-01', '..'))",
        lambda p, g: p["eind"] >= "2031-01-01",
    ),
}


def everything(store, collection):
    page = store.query(Query(collection, limit=100_000))
    return {i: (p, g) for i, p, g in zip(page.ids, page.properties, page.geometries)}


@pytest.mark.parametrize("collection,text,predicate", CASES.values(), ids=CASES.keys())
def test_cql2_text_selects_exactly_the_matching_features(client, demo_store, collection, text, predicate):
    expected = {i for i, (p, g) in everything(demo_store, collection).items() if predicate(p, g)}
    body = client.get(f"/collections/{collection}/items", params={"filter": text, "limit": 10_000}).json()
    assert {f["id"] for f in body["features"]} == expected
    assert body["numberMatched"] == len(expected) > 0


def test_cql2_json_and_text_agree(client):
    text = "thema = 'water' AND planjaar >= 2028"
    document = {
        "op": "and",
        "args": [
            {"op": "=", "args": [{"property": "thema"}, "water"]},
            {"op": ">=", "args": [{"property": "planjaar"}, 2028]},
        ],
    }
    as_text = client.get("/collections/projecten/items", params={"filter": text, "limit": 1000}).json()
    as_json = client.get(
        "/collections/projecten/items",
        params={"filter": orjson.dumps(document).decode(), "filter-lang": "cql2-json", "limit": 1000},
    ).json()
    assert as_text["numberMatched"] == as_json["numberMatched"] > 0


def test_filter_crs_reads_the_geometry_in_rd(client):
    minx, miny, maxx, maxy = BOX_RD.bounds
    in_rd = client.get(
        "/collections/projecten/items",
        params={
            "filter": f"S_INTERSECTS(geometry, BBOX({minx},{miny},{maxx},{maxy}))",
            "limit": 1000,
            "filter-crs": crs.RD,
        },
    ).json()
    assert in_rd["numberMatched"] > 0


def test_bbox_crs_box_is_carried_over_exactly(client, demo_store):
    """A CRS84 box is a slightly rotated quadrilateral in RD: the answer follows its edges."""
    expected = {i for i, (p, g) in everything(demo_store, "projecten").items() if g.intersects(BOX_RD)}
    body = client.get("/collections/projecten/items", params={"bbox": ",".join(map(str, BOX)), "limit": 10_000}).json()
    assert {f["id"] for f in body["features"]} == expected


def test_datetime_instant_matches_works_going_on_that_day(client, demo_store):
    day = dt.date(2027, 5, 1).isoformat()
    expected = {i for i, (p, g) in everything(demo_store, "projecten").items() if p["start"] <= day <= p["eind"]}
    body = client.get("/collections/projecten/items", params={"datetime": day, "limit": 10_000}).json()
    assert {f["id"] for f in body["features"]} == expected
