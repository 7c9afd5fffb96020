"""The neighbourhood maps: built for every area, served by the service, opened in headless Chromium
(Debian's chromium driven by Playwright), private, escaped and kept current after writes."""

import html
import json
import os
import re
import signal
import time
from pathlib import Path

import httpx
import pytest
import yaml
from conftest import HOSTILE, POLICY, Visit, followers, serving
from test_accessibility import SIZES, assert_accessible, opened

from geoservice.domain.policy import Policy
from geoservice.publish import follower, maps
from geoservice.store import Query

# Every feature drawn on the map, by layer and id (markers inside clusters included, and the
# features drawn on the tiles of vector tile layers).
DRAWN = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const seen = {project: new Set(), voorstel: new Set(), koppelkans: new Set()};
  const add = p => { if (p && seen[p.laag]) seen[p.laag].add(p.id); };
  const walk = layer => {
    add(layer.feature && layer.feature.properties);
    Object.entries(layer._vectorTiles || {}).filter(([key]) => layer._tiles[key]).forEach(([, tile]) => {
      Object.values(tile._features).forEach(drawn => add(drawn.feature.properties));
    });
    if (layer.getLayers) layer.getLayers().forEach(walk);
  };
  map.eachLayer(walk);
  return Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, v.size]));
}"""
# Whether every vector tile layer on the map has all its tiles in view.
TILES_LOADED = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map), grids = [];
  map.eachLayer(layer => { if (L.VectorGrid && layer instanceof L.VectorGrid) grids.push(layer); });
  return grids.every(grid => Object.keys(grid._tiles).length > 0 && Object.values(grid._tiles).every(t => t.loaded));
}"""


class MapVisit(Visit):
    """A visit that counts what the map drew."""

    def open(self, url: str) -> dict:
        self.goto(url)
        drawn = self.drawn()
        self.context.close()
        return drawn

    def drawn(self) -> dict:
        self.page.wait_for_function(TILES_LOADED)
        return self.page.evaluate(DRAWN)

    def settled(self, seconds: float = 10) -> dict:
        """What the map drew once it stopped changing (tiles drawn again after a filter come one by one)."""
        deadline, before = time.monotonic() + seconds, None
        while (now := self.drawn()) != before and time.monotonic() < deadline:
            before = now
            self.page.wait_for_timeout(300)
        return now


def _matched(server, collection: str, key: str, code: str) -> int:
    answer = httpx.get(f"{server.url}/collections/{collection}/items", params={key: code, "limit": 1})
    return answer.json()["numberMatched"]


def _pages(store) -> list[tuple[str, str, str]]:
    wijken = store.query(Query("wijken", limit=100)).ids
    buurten = store.query(Query("buurten", limit=1000)).ids
    return [("wijk", "wijkcode", c) for c in wijken] + [("buurt", "buurtcode", c) for c in buurten]


def _hostile_proposal(store) -> tuple[int, str]:
    """The id and buurt of the proposal the `mapped` store got with a hostile title."""
    fid = store.query(Query("voorstellen", limit=10_000)).ids[-1]
    return fid, store.get("voorstellen", fid).properties[0]["buurtcode"]


def _hostile_buurt_map(served, browser) -> tuple[MapVisit, int]:
    """A visit to the map of the hostile proposal's buurt (on a served store fixture), and the
    proposal's id."""
    server, store, _ = served
    fid, buurt = _hostile_proposal(store)
    visit = MapVisit(browser, server)
    visit.goto(f"{server.url}/maps/buurt/{buurt}.html")
    return visit, fid


def test_every_area_has_a_map_linked_from_the_index(mapped):
    server, store, _ = mapped
    index = httpx.get(f"{server.url}/maps/")
    assert index.status_code == 200
    links = set(re.findall(r'<a href="([^"]+)"', index.text))
    assert links == {"overzicht.html", *[f"{kind}/{code}.html" for kind, _, code in _pages(store)]}
    assert len(links) == 1 + 9 + 44
    landing = [link["href"] for link in httpx.get(f"{server.url}/?f=json").json()["links"]]
    assert f"{server.url}/maps/" in landing


def test_every_map_draws_what_the_api_holds_with_no_error_and_no_third_party(mapped, browser):
    server, store, _ = mapped
    for kind, key, code in _pages(store):
        visit = MapVisit(browser, server)
        drawn = visit.open(f"{server.url}/maps/{kind}/{code}.html")
        expected = {
            "project": _matched(server, "projecten", key, code),
            "voorstel": _matched(server, "voorstellen", key, code),
            "koppelkans": _matched(server, "koppelkansen", key, code),
        }
        assert drawn == expected, f"{kind} {code}"
        assert not visit.errors and not visit.foreign, (code, visit.errors, visit.foreign)
        assert not visit.dialogs
        assert visit.tiles > 0


def test_the_city_map_draws_everything(mapped, browser):
    server, _, _ = mapped
    visit = MapVisit(browser, server)
    drawn = visit.open(f"{server.url}/maps/overzicht.html")
    totals = {
        laag: httpx.get(f"{server.url}/collections/{c}/items", params={"limit": 1}).json()["numberMatched"]
        for laag, c in (("project", "projecten"), ("voorstel", "voorstellen"), ("koppelkans", "koppelkansen"))
    }
    assert drawn == totals and not visit.errors and not visit.foreign


def test_user_text_is_shown_as_text_and_runs_nothing(mapped, browser):
    visit, _ = _hostile_buurt_map(mapped, browser)
    page = visit.page
    assert HOSTILE in page.locator("section.wijkplan-tabel").inner_text()
    page.evaluate("""() => { const map = Object.values(window).find(v => v instanceof L.Map);
      const walk = l => { if (l.feature && l.feature.properties.laag === 'voorstel') l.openPopup && l.openPopup();
                          if (l.getLayers) l.getLayers().forEach(walk); };
      map.eachLayer(walk); }""")
    page.wait_for_timeout(300)
    assert page.locator("img[src='x']").count() == 0
    visit.context.close()
    assert not visit.dialogs and not visit.errors


def test_a_map_whose_data_does_not_load_says_so_and_breaks_nothing(mapped, browser):
    server, _, _ = mapped
    visit = MapVisit(browser, server)
    visit.page.route("**/maps/wijk/*.json", lambda route: route.fulfill(status=503, body="bezet"))
    visit.goto(f"{server.url}/maps/wijk/WK026801.html")  # settles: the section is no longer busy
    alert = visit.page.get_by_role("alert").inner_text()
    drawn = visit.page.evaluate(DRAWN)
    controls = visit.page.locator(".wijkplan-fasen, .wijkplan-legenda, .leaflet-control-layers-toggle").count()
    visit.context.close()
    assert "kon haar gegevens niet laden" in alert and drawn == {"project": 0, "voorstel": 0, "koppelkans": 0}
    assert controls == 3 and not visit.dialogs
    assert all(error.startswith("Failed to load resource") for error in visit.errors)  # the browser's, no script's


@pytest.fixture(scope="module")
def tiled(mapped, tmp_path_factory):
    """The maps of `mapped` with every map drawing its features from the vector tiles, served."""
    _, store, _ = mapped
    directory = tmp_path_factory.mktemp("tiled")
    settings = yaml.safe_load(Path(POLICY).read_text(encoding="utf-8"))
    settings["kaarten"]["tegels_vanaf"] = 0
    policy = directory / "wijkplan.yml"
    policy.write_text(yaml.safe_dump(settings), encoding="utf-8")
    follower.rebuild(store, Policy.load(policy), directory / "maps")
    with serving(store.location, directory, policy=policy, maps=directory / "maps") as server:
        yield server, store, directory / "maps"


def test_maps_drawn_from_tiles_draw_what_the_api_holds(tiled, browser):
    server, store, _ = tiled
    areas = [(None, None, None), *_pages(store)[:9:3], *_pages(store)[9::11]]  # the city, wijken, buurten
    for kind, key, code in areas:
        path = f"{kind}/{code}.html" if kind else "overzicht.html"
        visit = MapVisit(browser, server)
        drawn = visit.open(f"{server.url}/maps/{path}")
        expected = {
            laag: _matched(server, collection, key, code) if key else _matched(server, collection, "f", "json")
            for laag, collection in maps.COLLECTION_OF.items()
        }
        assert drawn == expected, path
        assert not visit.errors and not visit.foreign and not visit.dialogs, (path, visit.errors, visit.foreign)


def test_a_click_on_a_feature_from_the_tiles_opens_its_popup_with_text_as_text(tiled, browser):
    visit, fid = _hostile_buurt_map(tiled, browser)
    page = visit.page
    visit.drawn()
    x, y = page.evaluate(
        """(fid) => {
      const map = Object.values(window).find(v => v instanceof L.Map);
      let grid;
      map.eachLayer(l => { if (l instanceof L.VectorGrid && l._url.includes("voorstellen")) grid = l; });
      for (const [key, tile] of Object.entries(grid._vectorTiles)) {
        const drawn = grid._tiles[key] && tile._features[fid];
        if (drawn) {
          const box = tile.getContainer().getBoundingClientRect();
          return [box.left + drawn.feature._point.x, box.top + drawn.feature._point.y];
        }
      }
    }""",
        fid,
    )
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content")
    assert HOSTILE in popup.inner_text() and page.locator("img[src='x']").count() == 0
    assert popup.locator("a").first.get_attribute("href") == f"../../collections/voorstellen/items/{fid}?f=html"
    visit.context.close()
    assert not visit.dialogs and not visit.errors


def test_the_phase_filter_hides_projects_drawn_from_tiles(tiled, browser):
    server, _, _ = tiled
    visit = MapVisit(browser, server)
    page = visit.page
    visit.goto(f"{server.url}/maps/overzicht.html")
    page.evaluate("() => { document.querySelector('.wijkplan-fasen').open = true; }")
    for box in page.locator(".wijkplan-fasen input").all():
        if box.get_attribute("value") != "gepland":
            box.uncheck()
    drawn = visit.settled()
    visit.context.close()
    assert drawn["project"] == _matched(server, "projecten", "fase", "gepland") > 0
    assert drawn["voorstel"] == _matched(server, "voorstellen", "f", "json")


@pytest.mark.parametrize("size", SIZES)
def test_a_map_drawn_from_tiles_has_no_serious_accessibility_violation_and_fits_the_screen(tiled, browser, size):
    server, _, _ = tiled
    visit = opened(browser, server, "/maps/overzicht.html", size)
    visit.page.wait_for_function(TILES_LOADED)
    assert_accessible(visit)


# The names in the layer list, and the captions of the tables under the map.
NAMES = """() => [
  [...document.querySelectorAll('.leaflet-control-layers-overlays label')].map(l => l.textContent.trim()),
  [...document.querySelectorAll('section.wijkplan-tabel caption')].map(c => c.textContent)]"""


def test_the_page_has_scale_legend_attribution_and_dutch_layer_names(mapped, browser):
    server, store, directory = mapped
    page = (directory / "wijk" / "WK026801.html").read_text()
    assert "L.control.scale" in page and "wijkplan-legenda" in page
    assert "Bron: CBS, Kadaster" in page and "BRT-Achtergrondkaart" in page
    visit = MapVisit(browser, server)
    visit.goto(f"{server.url}/maps/wijk/WK026801.html")
    layers, captions = visit.page.evaluate(NAMES)
    visit.context.close()
    projects = store.query(Query("projecten", limit=None)).properties
    years = sorted({p["planjaar"] for p in projects if p["wijkcode"] == "WK026801"})
    assert layers == [*(f"Projecten {year}" for year in years), "Voorstellen (punten)",
                      "Voorstellen (lijnen en vlakken)", "Koppelkansen"]  # fmt: skip
    counts = [_matched(server, c, "wijkcode", "WK026801") for c in maps.COLLECTION_OF.values()]
    assert captions == [f"{name} ({n})" for name, n in zip(("Projecten", "Voorstellen", "Koppelkansen"), counts)]


def test_pages_hold_no_features_their_wijk_data_files_hold_them_all(mapped):
    _, store, directory = mapped
    pages = [path.read_text() for path in directory.rglob("*.html")]
    held = {}
    for path in (directory / "wijk").glob("*.json"):
        for feature in json.loads(path.read_bytes())["features"]:
            held[(feature["properties"]["laag"], feature["properties"]["id"])] = path.stem
    for laag, collection in maps.COLLECTION_OF.items():
        page = store.query(Query(collection, limit=None))
        assert {fid: held.get((laag, fid)) for fid in page.ids} == {
            fid: p["wijkcode"] for fid, p in zip(page.ids, page.properties)
        }, collection  # each published feature in its own wijk's file, once
    assert len(pages) == 55 and not any(HOSTILE in page for page in pages)


def test_a_write_brings_its_maps_up_to_date_in_the_background(mapped, tokens_file, tmp_path, browser):
    _, store, _ = mapped
    directory = tmp_path / "maps"
    follower.rebuild(store, Policy.load(POLICY), directory)  # as `geoservice maps`, under the service's policy
    files = {path: path.read_bytes() for path in directory.rglob("*") if path.is_file()}
    with serving(store.location, tmp_path, tokens_file[0], maps=directory, maps_interval_s=1) as server:
        [builder] = followers(server)  # one process beside the service, which builds no maps itself
        planner = {"Authorization": f"Bearer {tokens_file[1]['planner']}", "Content-Type": "application/geo+json"}
        body = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [5.8662, 51.8467]},
            "properties": {
                "titel": "Nieuwe bomen Achtergrondstraat",
                "thema": "groen",
                "soort": "nieuwe aanleg",
                "fase": "gepland",
                "start": "2028-03-01",
                "eind": "2028-04-01",
                "planjaar": 2028,
            },
        }
        started, before = time.monotonic(), store.last_change()
        created = httpx.post(f"{server.url}/collections/projecten/items", json=body, headers=planner)
        answered = time.monotonic() - started
        assert created.status_code == 201
        buurt, wijk = created.json()["properties"]["buurtcode"], created.json()["properties"]["wijkcode"]
        made = next(c.sequence for c in store.changes_since(before) if c.collection == "projecten")
        deadline = time.monotonic() + 30
        while httpx.get(f"{server.url}/status").json()["kaarten"]["volgnummer"] < made:
            assert time.monotonic() < deadline, "the maps of the new project's wijk were not brought up to date"
            time.sleep(0.2)
        rewritten = {path.relative_to(directory).as_posix() for path, was in files.items() if path.read_bytes() != was}
        # no page is made again (the other service on this store, under another policy, may derive
        # koppelkansen elsewhere: test_changes shows that a change rewrites no other wijk's data)
        assert {f"wijk/{wijk}.json", "index.html", "volgnummer"} <= rewritten
        assert {path for path in rewritten if path.endswith(".html")} == {"index.html"}
        for path in (f"buurt/{buurt}.html", f"wijk/{wijk}.html", "overzicht.html"):
            visit = MapVisit(browser, server)
            visit.goto(f"{server.url}/maps/{path}")
            shown = visit.page.locator("section.wijkplan-tabel").inner_text()
            visit.context.close()
            assert "Nieuwe bomen Achtergrondstraat" in shown, path
            assert int(UPDATED.search(shown)[1]) >= made, path  # each says how current it is
            assert not visit.errors, (path, visit.errors)
        other = next(p for p in (directory / "buurt").iterdir() if p.stem != buurt)
        visit = MapVisit(browser, server)
        visit.goto(f"{server.url}/maps/buurt/{other.name}")
        assert "Nieuwe bomen Achtergrondstraat" not in visit.page.locator("section.wijkplan-tabel").inner_text()
        visit.context.close()
        os.kill(server.process.pid, signal.SIGKILL)  # the service gone without a word: its builder follows
        deadline = time.monotonic() + 10
        while builder.exists():
            assert time.monotonic() < deadline, "the map builder outlived its service"
            time.sleep(0.2)
    assert answered < 2  # the answer did not wait for the maps


UPDATED = re.compile(r"Bijgewerkt op \d{4}-\d\d-\d\d \d\d:\d\d UTC \(wijziging (\d+)\)")


SERVICE_PAGES = [
    "/?f=html",
    "/collections?f=html",
    "/collections/voorstellen?f=html",
    "/collections/voorstellen/items?f=html",
    "/collections/voorstellen/queryables?f=html",
    "/conformance?f=html",
    "/openapi?f=html",
]


@pytest.mark.parametrize("path", SERVICE_PAGES)
def test_the_service_pages_work_offline_under_their_security_policy(mapped, browser, path):
    server, _, _ = mapped
    visit = MapVisit(browser, server)
    visit.page.goto(f"{server.url}{path}", wait_until="load")
    policy = httpx.get(f"{server.url}{path}").headers["Content-Security-Policy"]
    visit.context.close()
    assert "default-src 'self'" in policy
    assert not visit.errors and not visit.foreign and not visit.dialogs, (visit.errors, visit.foreign)


def test_a_proposal_page_shows_what_residents_wrote_as_text(mapped, browser):
    server, store, _ = mapped
    fid, _ = _hostile_proposal(store)
    visit = MapVisit(browser, server)
    page = visit.page
    for url in (
        f"{server.url}/collections/voorstellen/items/{fid}?f=html",
        f"{server.url}/collections/voorstellen/items?f=html&auteur={HOSTILE}",
    ):
        page.goto(url, wait_until="load")
        assert page.get_by_text(HOSTILE, exact=True).count() >= 1
        assert page.locator("img[src='x']").count() == 0
        shape = page.locator("#kaart .leaflet-interactive")
        assert shape.count() == 1
        shape.hover(force=True)
        assert HOSTILE in page.locator(".leaflet-tooltip").inner_text()
        assert page.locator("img[src='x']").count() == 0
    visit.context.close()
    assert not visit.dialogs and not visit.errors and not visit.foreign


def test_the_maps_index_shows_area_names_as_text(demo_store):
    """Wijk names come from the municipality's own files too: the index escapes them in the map's
    tooltips and in its list."""
    layers = maps.Layers.read(demo_store)
    layers.wijken.properties = [{**p, "wijknaam": HOSTILE} for p in layers.wijken.properties]
    page = maps.index(layers)
    # the tooltips put the name into the page as HTML: in the map's data it must already be escaped
    tooltips = [json.loads(f'"{name}"') for name in re.findall(r'"naam": "((?:[^"\\]|\\.)*)"', page)]
    assert tooltips and all(name == html.escape(HOSTILE) for name in tooltips)
    assert HOSTILE not in page and '<li><a href="wijk/' in page
