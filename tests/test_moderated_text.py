"""What residents wrote is public only as moderated, and nothing unpublished shows through what is
public: summaries, downloads and their ETag and Last-Modified, area codes. On both backends."""

import datetime as dt
import email.utils
from pathlib import Path

import numpy as np
import pytest
import shapely
from conftest import POLICY
from test_participation import feature, headers, path_of, publish, submit

from geoservice.domain.model import COLLECTIONS
from geoservice.domain.policy import Policy
from geoservice.publish import follower
from geoservice.query import crs
from geoservice.store import Query

PERSONAL = "Jan de Vries 06-12345678"
CLEAN = {"titel": "Bankje bij de nieuwe stoep", "omschrijving": "Een bankje langs de vernieuwde stoep."}
NOTED = {
    "titel": f"Bankje voor {PERSONAL}",
    "omschrijving": f"Bel {PERSONAL}, Zwaluwstaartpad 99, voor de sleutel.",
    "soort": "idee",
    "categorie": "spelen, bewegen en ontmoeten",
}


def _planned_project(store):
    """A project the koppelkansen look at (planned in the coming years, not finished), and a point on it."""
    year = dt.date.today().year
    page = store.query(Query("projecten", limit=10_000))
    for fid, props, geom in zip(page.ids, page.properties, page.geometries):
        if year <= props["planjaar"] <= year + 2 and props["fase"] != "gereed":
            point = crs.from_storage(np.array([shapely.point_on_surface(geom)]), crs.CRS84)[0]
            return fid, props["wijkcode"], shapely.geometry.mapping(point)
    raise AssertionError("the demo has no project planned in the coming years")


def _public_outputs(client, store, tmp_path: Path, proposal: int, wijk: str) -> dict[str, bytes]:
    """Everything the public can get that could show the proposal: by name, the bytes."""
    outputs = {}
    for name in COLLECTIONS:
        outputs[f"items {name}"] = client.get(f"/collections/{name}/items", params={"limit": 10_000}).content
        for fmt in ("gpkg", "geojson", "csv"):
            outputs[f"download {name}.{fmt}"] = client.get(f"/downloads/{name}.{fmt}").content
    item = f"/collections/voorstellen/items/{proposal}"
    for path in (
        item,
        f"{item}?f=html",
        f"/collections/statuswijzigingen/items?object_id={proposal}&f=html",
        f"/collections/koppelkansen/items?voorstel={proposal}&f=html",
        f"{item}/steun",
        f"{item}/reacties",
    ):
        outputs[path] = client.get(path).content
    outputs[f"download wijk {wijk}"] = client.get(f"/downloads/wijken/{wijk}.gpkg").content
    outputs["similar"] = client.post(
        "/collections/voorstellen/vergelijkbaar",
        json=feature(
            {**NOTED, "titel": "Bankje stoep", "omschrijving": "bankje stoep"}, client.get(item).json()["geometry"]
        ),
        headers={"Content-Type": "application/geo+json"},
    ).content
    follower.rebuild(store, Policy.load(POLICY), tmp_path / "maps")  # as the maps are published
    for path in (tmp_path / "maps").rglob("*.*"):  # pages, data files, index
        outputs[f"map {path.relative_to(tmp_path)}"] = path.read_bytes()
    return outputs


def test_a_cleaned_text_leaves_no_trace_in_any_public_output(store_client, store, tokens, tmp_path):
    _, wijk, point = _planned_project(store)
    path = path_of(submit(store_client, tokens, feature(NOTED, point)))
    cleaned = store_client.patch(path, json={"properties": CLEAN}, headers=headers(tokens, "moderator"))
    assert cleaned.status_code == 200
    assert publish(store_client, tokens, path).status_code == 200
    proposal = int(path.rsplit("/", 1)[1])
    outputs = _public_outputs(store_client, store, tmp_path, proposal, wijk)
    leaks = [name for name, content in outputs.items() if PERSONAL.encode() in content or b"Zwaluwstaartpad" in content]
    assert leaks == []
    shown = [name for name, content in outputs.items() if CLEAN["titel"].encode() in content]
    for expected in (
        "items voorstellen",
        "items statuswijzigingen",
        "items koppelkansen",
        "download voorstellen.csv",
        "download statuswijzigingen.gpkg",
        f"download wijk {wijk}",
        "similar",
        f"map maps/wijk/{wijk}.json",
    ):
        assert expected in shown  # the search reads where the text would be


def test_the_history_shows_the_title_as_it_is_now(store_client, tokens):
    path = path_of(submit(store_client, tokens, feature(NOTED)))
    store_client.patch(
        path, json={"properties": {**CLEAN, "status": "gepubliceerd"}}, headers=headers(tokens, "moderator")
    )
    trail = store_client.get(
        "/collections/statuswijzigingen/items", params={"object_id": path.rsplit("/", 1)[1]}
    ).json()["features"]
    assert [step["properties"]["naar"] for step in trail] == ["ingediend", "gepubliceerd"]
    assert {step["properties"]["titel"] for step in trail} == {CLEAN["titel"]}


# -- aggregates --------------------------------------------------------------------------
PUBLIC_FILES = (
    "/downloads/voorstellen.csv",
    "/downloads/wijken.gpkg",
    "/downloads/statuswijzigingen.geojson",
    "/downloads/koppelkansen.gpkg",
    "/downloads/wijken/WK026801.gpkg",
)


def _public_state(client) -> dict:
    state = {"wijk": client.get("/collections/wijken/items/WK026801").json()["properties"]}
    for path in PUBLIC_FILES:
        response = client.get(path)
        state[path] = (response.headers["ETag"], response.headers["Last-Modified"])
    return state


def test_unpublished_proposals_change_no_summary_etag_or_date(store_client, tokens):
    before = _public_state(store_client)
    initiative = feature({**NOTED, "soort": "initiatief", "wijkbudget": 2_500})
    path = path_of(submit(store_client, tokens, initiative))
    store_client.patch(path, json={"properties": {"titel": "Nog niet openbaar"}}, headers=headers(tokens, "moderator"))
    assert _public_state(store_client) == before
    publish(store_client, tokens, path)
    after = _public_state(store_client)
    assert after["wijk"]["voorstellen_per_status"] != before["wijk"]["voorstellen_per_status"]
    assert after["/downloads/voorstellen.csv"][0] != before["/downloads/voorstellen.csv"][0]


def test_every_version_of_a_download_has_its_own_last_modified(store_client, tokens):
    first = store_client.get("/downloads/projecten.csv")
    for change in range(2):  # within the same second
        store_client.patch(
            "/collections/projecten/items/1",
            json={"properties": {"budget_indicatie": 1000 + change}},
            headers=headers(tokens, "planner"),
        )
        second = store_client.get("/downloads/projecten.csv")
        assert second.headers["ETag"] != first.headers["ETag"]
        assert email.utils.parsedate_to_datetime(second.headers["Last-Modified"]) > email.utils.parsedate_to_datetime(
            first.headers["Last-Modified"]
        )
        since = store_client.get(
            "/downloads/projecten.csv", headers={"If-Modified-Since": first.headers["Last-Modified"]}
        )
        assert since.status_code == 200
        first = second
    assert (
        store_client.get(
            "/downloads/projecten.csv", headers={"If-Modified-Since": first.headers["Last-Modified"]}
        ).status_code
        == 304
    )


def _home_near_a_buurt_edge(store, grid_m: float):
    """A point in one buurt whose generalised point (the centre of its grid cell) lies in another."""
    page = store.query(Query("buurten", limit=100))
    for boundary in shapely.get_parts(shapely.boundary(page.geometries)):
        for distance in np.arange(0, boundary.length, 7.0):
            on_edge = boundary.interpolate(distance)
            for dx, dy in ((3, 3), (-3, -3), (3, -3), (-3, 3)):
                exact = shapely.Point(on_edge.x + dx, on_edge.y + dy)
                cell = (np.floor(np.array([exact.x, exact.y]) / grid_m) + 0.5) * grid_m
                codes, _ = store.locate([exact, shapely.Point(*cell)])
                if codes[0] != codes[1]:
                    return exact, codes[1]
    raise AssertionError("no buurt edge found")


@pytest.mark.parametrize("method", ["post", "put"])
def test_area_codes_of_a_generalised_point_come_from_the_published_point(store_client, store, tokens, method):
    exact, shown_buurt = _home_near_a_buurt_edge(store, Policy.load(POLICY).deelname.woning_raster_m)
    geometry = shapely.geometry.mapping(exact)
    send = headers(tokens, "participatie", **{"Content-Crs": f"<{crs.RD}>"})
    body = feature(geometry=geometry, prive={"nabij_woning": True})
    if method == "put":
        path = path_of(submit(store_client, tokens, feature(prive={"nabij_woning": True})))
        answer = store_client.put(path, json=feature(geometry=geometry), headers=send)
    else:
        answer = store_client.post("/collections/voorstellen/items", json=body, headers=send)
    assert answer.json()["properties"]["buurtcode"] == shown_buurt


def test_the_extent_of_proposals_is_that_of_the_municipality(store_client, tokens):
    extent = store_client.get("/collections/voorstellen").json()["extent"]["spatial"]["bbox"]
    assert extent == store_client.get("/collections/buurten").json()["extent"]["spatial"]["bbox"]
