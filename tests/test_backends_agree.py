"""GeoPackage and PostGIS give the same answers: the same documents apart from the time of the
answer and `bijgewerkt` (the two demo stores were built a moment apart)."""

import orjson
import pytest

RD = "http://www.opengis.net/def/crs/EPSG/0/28992"
QUERIES = [
    "/collections/wijken/items",
    "/collections/buurten/items?limit=50&offset=10",
    "/collections/projecten/items?limit=1000",
    f"/collections/projecten/items?limit=1000&crs={RD}",
    "/collections/projecten/items?bbox=5.85,51.84,5.87,51.85",
    f"/collections/projecten/items?bbox=187000,428000,188500,429500&bbox-crs={RD}",
    "/collections/projecten/items?datetime=2027-01-01/2027-12-31&sortby=-budget_indicatie,titel",
    "/collections/projecten/items?thema=groen&properties=titel,planjaar&skipGeometry=true",
    "/collections/projecten/items?filter=thema IN ('groen','water') AND planjaar BETWEEN 2026 AND 2028",
    "/collections/projecten/items?filter=CASEI(titel) LIKE '%straat%' OR inspraak_tot IS NOT NULL",
    "/collections/projecten/items?filter=T_INTERSECTS(INTERVAL(start,eind),INTERVAL('2028-01-01','..'))",
    "/collections/projecten/items?filter=S_WITHIN(geometry,POLYGON((5.84 51.83,5.88 51.83,5.88 51.86,"
    "5.84 51.86,5.84 51.83)))",
    "/collections/voorstellen/items?limit=1000&sortby=-steun",
    "/collections/voorstellen/items?filter=S_DISJOINT(geometry,BBOX(5.80,51.80,5.90,51.90)) OR steun > 30",
    '/collections/voorstellen/items?filter-lang=cql2-json&filter={"op":"t_after","args":[{"property":"ingediend"},'
    '{"timestamp":"2026-01-01T00:00:00Z"}]}',
    "/collections/projecten/items/17",
    "/collections/wijken/items/WK026805?crs=http://www.opengis.net/def/crs/EPSG/0/4258",
]


def comparable(response) -> dict:
    document = orjson.loads(response.content)
    for feature in document.get("features", [document]):
        feature["properties"].pop("bijgewerkt", None)
    return document


@pytest.mark.parametrize("url", QUERIES)
def test_both_backends_answer_alike(both_backends, url):
    geopackage, postgis = (client.get(url) for client in both_backends)
    assert geopackage.status_code == postgis.status_code == 200
    assert comparable(geopackage) == comparable(postgis)
    assert geopackage.headers["Content-Crs"] == postgis.headers["Content-Crs"]
