"""The OGC API - Features endpoints, in-process."""

import pytest
import shapely

from geoservice import __version__
from geoservice.domain.model import COLLECTIONS, TABLES
from geoservice.query.filters import equals
from geoservice.store import Query

RD = "http://www.opengis.net/def/crs/EPSG/0/28992"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
NIJMEGEN_LONLAT = shapely.box(5.70, 51.75, 5.95, 51.92)


def items(client, collection, **params):
    response = client.get(f"/collections/{collection}/items", params=params)
    assert response.status_code == 200, response.text
    return response


def test_landing_page_links_to_api_conformance_and_collections(client):
    rels = {link["rel"] for link in client.get("/", params={"f": "json"}).json()["links"]}
    assert {"service-desc", "conformance", "data"} <= rels


def test_conformance_declares_features_core_and_geojson(client):
    classes = client.get("/conformance", params={"f": "json"}).json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in classes


def test_openapi_document_is_served(client):
    response = client.get("/openapi", params={"f": "json"})
    assert response.status_code == 200
    assert "/collections/projecten/items" in response.json()["paths"]


def test_the_collections_are_listed_in_dutch_by_default(client):
    response = client.get("/collections", params={"f": "json"})
    titles = {c["id"]: c["title"] for c in response.json()["collections"]}
    assert {name: titles[name] for name in TABLES} == {
        "wijken": "Wijken",
        "buurten": "Buurten",
        "projecten": "Projecten wijkbeheerplan",
        "voorstellen": "Voorstellen van bewoners",
        "koppelkansen": "Koppelkansen",
        "statuswijzigingen": "Statuswijzigingen",
    }
    assert titles["projecten-punten"] == "Projecten wijkbeheerplan (punten)" and set(titles) == set(COLLECTIONS)
    assert response.headers["Content-Language"] == "nl"


def test_collections_speak_english_on_request(client):
    response = client.get("/collections/wijken", params={"f": "json", "lang": "en"})
    assert response.json()["title"] == "Districts"
    assert response.headers["Content-Language"] == "en"


def test_collection_metadata_offers_rd_and_stores_in_rd(client):
    meta = client.get("/collections/projecten", params={"f": "json"}).json()
    assert meta["storageCrs"] == RD
    assert {
        CRS84,
        RD,
        "http://www.opengis.net/def/crs/EPSG/0/4258",
        "http://www.opengis.net/def/crs/EPSG/0/3857",
    } <= set(meta["crs"])
    assert shapely.box(*meta["extent"]["spatial"]["bbox"][0]).within(NIJMEGEN_LONLAT)


def test_demo_collections_say_they_are_demo_data(client):
    for name in ("projecten", "voorstellen"):
        assert "DEMO" in client.get(f"/collections/{name}", params={"f": "json"}).json()["description"]


@pytest.mark.parametrize("name", ["wijken", "buurten", "projecten", "voorstellen"])
def test_number_matched_is_what_the_public_may_see(client, demo_store, name):
    body = items(client, name, limit=1).json()
    assert body["numberMatched"] == demo_store.query(Query(name, limit=0)).number_matched
    assert body["numberReturned"] == 1


def _by_rel(body: dict) -> dict:
    return {link["rel"]: link["href"].replace("http://testserver/v1", "") for link in body["links"]}


def test_pages_continue_after_their_last_feature_and_sorted_pages_by_offset(client):
    first = items(client, "projecten").json()
    assert len(first["features"]) == 100 and "prev" not in _by_rel(first)
    assert "cursor=" in _by_rel(first)["next"] and "offset=" not in _by_rel(first)["next"]
    second = client.get(_by_rel(first)["next"]).json()
    assert second["features"][0]["id"] > first["features"][-1]["id"]
    assert second["numberMatched"] == first["numberMatched"]
    assert "cursor=" in _by_rel(second)["next"] and "cursor=" in _by_rel(second)["self"]
    as_page = client.get(_by_rel(second)["self"].replace("f=json", "f=html"))
    assert 'rel="next"' in as_page.text  # the same page as HTML goes on too
    ordered = items(client, "projecten", sortby="-planjaar", offset=100).json()
    assert "offset=200" in _by_rel(ordered)["next"] and "offset=0" in _by_rel(ordered)["prev"]


def test_a_feature_deleted_between_two_pages_moves_nothing_past_the_reader(store_client, tokens):
    first = items(store_client, "projecten", limit=10).json()
    planner = {"Authorization": f"Bearer {tokens['planner']}"}
    gone = first["features"][0]["id"]
    assert store_client.delete(f"/collections/projecten/items/{gone}", headers=planner).status_code == 204
    second = store_client.get(_by_rel(first)["next"]).json()
    everything = items(store_client, "projecten", limit=10000).json()["features"]
    after = [f["id"] for f in everything if f["id"] > first["features"][-1]["id"]][:10]
    assert [f["id"] for f in second["features"]] == after  # an offset would have skipped one


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "nonsense"},
        {"cursor": "bmE6MTAw", "offset": "10"},
        {"cursor": "bmE6MTAw", "sortby": "planjaar"},
        {"cursor": "bmE6" + "MTAw" * 20},
    ],
)
def test_a_cursor_that_cannot_continue_is_refused(client, params):
    response = client.get("/collections/projecten/items", params=params)
    assert response.status_code == 400 and "cursor" in response.json()["detail"]
    by_offset = client.get("/collections/wijken/items", params={"cursor": "bmE6MTAw"})  # ids that are no numbers
    assert by_offset.status_code == 400


def test_paging_through_a_collection_returns_every_feature_once(client):
    seen, url = [], "/collections/voorstellen/items?limit=250"
    while url:
        body = client.get(url).json()
        seen += [f["id"] for f in body["features"]]
        url = next(
            (link["href"].replace("http://testserver/v1", "") for link in body["links"] if link["rel"] == "next"), None
        )
    assert len(seen) == len(set(seen)) == body["numberMatched"]


def test_limit_up_to_10000_returns_everything_and_beyond_is_400(client):
    body = items(client, "voorstellen", limit=10_000).json()
    assert body["numberReturned"] == body["numberMatched"]
    assert client.get("/collections/voorstellen/items", params={"limit": 10_001}).status_code == 400


def test_items_are_geojson_in_crs84_by_default(client):
    response = items(client, "projecten", limit=50)
    assert response.headers["Content-Type"].startswith("application/geo+json")
    assert response.headers["Content-Crs"] == f"<{CRS84}>"
    for feature in response.json()["features"]:
        assert shapely.geometry.shape(feature["geometry"]).within(NIJMEGEN_LONLAT)


def test_rd_output_returns_the_stored_coordinates(client, demo_store):
    response = items(client, "projecten", limit=20, crs=RD)
    assert response.headers["Content-Crs"] == f"<{RD}>"
    stored = demo_store.query(Query("projecten", limit=20))
    served = [shapely.geometry.shape(f["geometry"]) for f in response.json()["features"]]
    assert all(shapely.equals_exact(a, b, tolerance=0) for a, b in zip(stored.geometries, served))


def test_etrs89_output_is_latitude_first(client):
    feature = items(client, "wijken", limit=1, crs="http://www.opengis.net/def/crs/EPSG/0/4258").json()["features"][0]
    lat, lon = feature["geometry"]["coordinates"][0][0][0]
    assert 51.7 < lat < 52 and 5.7 < lon < 6


def test_bbox_selects_features_that_intersect_it(client):
    box = (5.85, 51.84, 5.87, 51.85)
    body = items(client, "projecten", bbox=",".join(map(str, box)), limit=1000).json()
    assert 0 < body["numberMatched"] < 340
    assert all(shapely.geometry.shape(f["geometry"]).intersects(shapely.box(*box)) for f in body["features"])


def test_property_equality_filters(client):
    body = items(client, "projecten", thema="groen", planjaar=2027, limit=1000).json()
    assert body["numberMatched"] > 0
    assert all(f["properties"]["thema"] == "groen" and f["properties"]["planjaar"] == 2027 for f in body["features"])


def test_properties_and_skip_geometry_trim_the_answer(client):
    feature = items(client, "projecten", properties="titel,fase", skipGeometry="true", limit=1).json()["features"][0]
    assert set(feature["properties"]) == {"titel", "fase"} and feature["geometry"] is None


def test_sortby_orders_descending_and_by_several_keys(client):
    features = items(client, "projecten", sortby="planjaar,-budget_indicatie", limit=1000).json()["features"]
    keys = [(f["properties"]["planjaar"], -f["properties"]["budget_indicatie"]) for f in features]
    assert keys == sorted(keys)


def test_datetime_selects_works_overlapping_the_interval(client):
    body = items(client, "projecten", datetime="2027-01-01/2027-12-31", limit=1000).json()
    assert body["numberMatched"] > 0
    assert all(
        f["properties"]["start"] <= "2027-12-31" and f["properties"]["eind"] >= "2027-01-01" for f in body["features"]
    )


def test_unmoderated_proposals_are_not_public(client, demo_store):
    hidden = demo_store.query(Query("voorstellen", equals("status", "ingediend"), published_only=False))
    assert hidden.number_matched > 0
    assert items(client, "voorstellen", status="ingediend").json()["numberMatched"] == 0
    assert client.get(f"/collections/voorstellen/items/{hidden.ids[0]}").status_code == 404


def test_single_item_by_id(client):
    feature = client.get("/collections/wijken/items/WK026807", params={"f": "json"}).json()
    assert feature["id"] == "WK026807" and feature["properties"]["wijknaam"] == "Dukenburg"


@pytest.mark.parametrize(
    "path",
    [
        "/collections/projecten/items",
        "/collections/projecten/items/1",
        "/collections/wijken/items/WK026801",
        "/collections",
        "/collections/projecten",
        "/collections/projecten/queryables",
        "/conformance",
        "/velden",
        "/catalogus",
        "/",
    ],
)
def test_html_pages_offer_no_json_ld(client, path):
    response = client.get(path, params={"f": "html"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert "f=jsonld" not in response.text and "jsonld" not in response.headers.get("Link", "")


BAD_REQUESTS = {
    "limit not a number": {"limit": "veel"},
    "negative offset": {"offset": "-1"},
    "bbox with three numbers": {"bbox": "1,2,3"},
    "unsupported crs": {"crs": "http://www.opengis.net/def/crs/EPSG/0/4326"},
    "property of the wrong type": {"planjaar": "volgend jaar"},
    "malformed filter": {"filter": "thema == 'groen'"},
    "filter on an unknown property": {"filter": "kleur = 'rood'"},
    "filter comparing a number with text": {"filter": "planjaar = 'volgend jaar'"},
    "filter language not offered": {"filter": "thema = 'groen'", "filter-lang": "ecql"},
    "unknown parameter": {"kleur": "rood"},
    "value outside the domain": {"thema": "kunst"},
    "bbox-crs without bbox": {"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/28992"},
    "unsupported format": {"f": "xml"},
    "unreadable datetime": {"datetime": "volgende week"},
    "sort on unknown field": {"sortby": "kleur"},
}


@pytest.mark.parametrize("params", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_query_parameters_get_400_with_a_message(client, params):
    response = client.get("/collections/projecten/items", params=params)
    assert response.status_code == 400
    assert response.json()["description"]


def test_missing_items_and_collections_are_404(client):
    assert client.get("/collections/projecten/items/999999").status_code == 404
    assert client.get("/collections/projecten/items/geen-nummer").status_code == 404
    assert client.get("/collections/bomen/items").status_code == 404


def test_user_text_is_escaped_in_html(store, store_client):
    hostile = "<img src=x onerror=alert(1)>"
    [new_id] = store.insert(
        "voorstellen",
        [
            (
                {
                    "titel": hostile,
                    "omschrijving": hostile,
                    "soort": "idee",
                    "categorie": "overig",
                    "status": "gepubliceerd",
                    "ingediend": "2026-05-01T10:00:00Z",
                    "auteur": hostile,
                },
                shapely.Point(187700, 428600),
            )
        ],
    )
    for path, params in (
        (f"/collections/voorstellen/items/{new_id}", {}),
        ("/collections/voorstellen/items", {"limit": 10_000}),
    ):
        page = store_client.get(path, params={"f": "html", **params}).text
        assert hostile not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_every_link_the_service_declares_is_served(client):
    documents = ["/?f=json", "/collections?f=json", *[f"/collections/{c}?f=json" for c in COLLECTIONS]]
    hrefs = {link["href"] for path in documents for link in _links(client.get(path).json())}
    own = sorted(h.replace("http://testserver", "") for h in hrefs if h.startswith("http://testserver"))
    assert len(own) > 20
    for href in own:
        assert client.get(href or "/").status_code == 200, href


def _links(document):
    if isinstance(document, dict):
        for key, value in document.items():
            yield from value if key == "links" else _links(value)
    elif isinstance(document, list):
        for item in document:
            yield from _links(item)


def test_every_answer_names_the_api_version(client):
    for path in ("/", "/collections/projecten/items?limit=1", "/collections/bomen", "/maps/"):
        assert client.get(path).headers["API-Version"] == __version__


@pytest.mark.parametrize(
    "path",
    [
        "/collections/bomen?f=json",
        "/collections/projecten/items?limit=0",
        "/collections/projecten/items/999999",
        "/?kleur=rood",
    ],
)
def test_errors_are_problem_details(client, path):
    response = client.get(path)
    problem = response.json()
    assert response.headers["Content-Type"] == "application/problem+json"
    assert problem["status"] == response.status_code and problem["detail"] and problem["title"]


def test_every_collection_links_its_licence(client):
    for name in COLLECTIONS:
        links = client.get(f"/collections/{name}", params={"f": "json"}).json()["links"]
        assert any(link["rel"] == "license" and "creativecommons.org/licenses/by/4.0" in link["href"] for link in links)


def test_the_landing_page_links_catalogue_and_field_dictionary(client):
    links = {link["href"].replace("http://testserver/v1", ""): link for link in client.get("/?f=json").json()["links"]}
    assert {"/catalogus", "/velden"} <= set(links)


def test_the_catalogue_describes_every_collection_with_its_distributions(client):
    response = client.get("/catalogus")
    assert response.headers["Content-Type"] == "application/ld+json"
    catalogue = response.json()
    assert catalogue["@type"] == "dcat:Catalog"
    datasets = {d["dct:identifier"]: d for d in catalogue["dcat:dataset"]}
    assert set(datasets) == set(TABLES)
    for name, dataset in datasets.items():
        urls = [
            d.get("dcat:downloadURL", d.get("dcat:accessURL"))["@id"].replace("http://testserver/v1", "")
            for d in dataset["dcat:distribution"]
        ]
        assert f"/collections/{name}/items" in urls and f"/downloads/{name}.gpkg" in urls
        assert dataset["dct:license"]["@id"] == "https://creativecommons.org/licenses/by/4.0/"
    assert datasets["buurten"]["dct:rights"] == "Bron: CBS, Kadaster"


def test_the_field_dictionary_comes_from_the_model(client):
    fields = client.get("/velden").json()
    status = next(f for f in fields["voorstellen"]["velden"] if f["naam"] == "status")
    assert status["waarden"][:2] == ["ingediend", "gepubliceerd"] and status["verplicht"]
    steun = next(f for f in fields["voorstellen"]["velden"] if f["naam"] == "steun")
    assert steun["afgeleid"] and steun["type"] == "integer"
    assert set(fields) == set(TABLES)


def test_the_landing_page_in_a_browser_leads_to_maps_downloads_and_metadata(client):
    page = client.get("/", headers={"Accept": "text/html"}).text
    for href in ("/maps/", "/catalogus", "/velden", "/collections?f=html", "/openapi?f=html"):
        assert f'href="http://testserver/v1{href}"' in page


@pytest.mark.parametrize(
    "path, status",
    [
        ("/collections/<script>alert(1)</script>?f=html", 404),
        ("/collections/voorstellen/items/999999?f=html", 404),
        ("/collections/voorstellen/items?f=html&limit=0", 400),
        ("/collections/voorstellen/items?f=html&filter=titel%20%3D", 400),
    ],
)
def test_a_browser_is_refused_with_a_page_and_a_client_with_a_problem(client, path, status):
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == status and page.headers["Content-Type"].startswith("text/html")
    assert f"<h1>{status} " in page.text and "<script>alert" not in page.text
    assert page.headers["X-Request-ID"] in page.text  # the reference to quote
    problem = client.get(path.replace("f=html", "f=json"))
    assert problem.status_code == status and problem.headers["Content-Type"] == "application/problem+json"


def test_the_field_dictionary_is_a_page_too(client):
    page = client.get("/velden?f=html")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    for name, collection in client.get("/velden").json().items():
        assert f'id="{name}"' in page.text
        assert all(f"<code>{field['naam']}</code>" in page.text for field in collection["velden"])


@pytest.mark.parametrize("path", ["/velden?f=html", "/conformance?f=html", "/collections/voorstellen/schema?f=html",
                                  "/collections/voorstellen/items?f=html", "/collections/geen?f=html"])  # fmt: skip
def test_the_pages_speak_english_when_asked(client, path):
    for page in (
        client.get(f"{path}&lang=en"),
        client.get(path, headers={"Accept-Language": "en-GB,en;q=0.8,nl;q=0.5"}),
    ):
        assert '<html lang="en">' in page.text and page.headers["Content-Language"].startswith("en")
    assert '<html lang="nl">' in client.get(path).text


@pytest.mark.parametrize("box", ["5.80,51.835,5.90,51.835", "5.855,51.80,5.855,51.88", "5.855,51.835,5.855,51.835"])
def test_a_bbox_without_width_or_height_is_a_line_or_a_point(client, box):
    every = client.get("/collections/wijken/items?limit=100").json()["features"]
    minx, miny, maxx, maxy = map(float, box.split(","))
    ends = [(minx, miny), (maxx, maxy)]
    shape = shapely.Point(ends[0]) if ends[0] == ends[1] else shapely.LineString(ends)
    expected = {f["id"] for f in every if shapely.geometry.shape(f["geometry"]).intersects(shape)}
    answer = client.get(f"/collections/wijken/items?bbox={box}&limit=100")
    assert answer.status_code == 200
    assert {f["id"] for f in answer.json()["features"]} == expected
    assert expected
