"""Every page type of the service passes axe-core (WCAG 2.1 A and AA rules) in Chromium with no
serious or critical violation, on a desktop and on a phone."""

from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import httpx
import pytest
import shapely
from conftest import Visit

from geoservice.store import Query

ROOT = Path(__file__).resolve().parent.parent
AXE = (ROOT / "node_modules" / "axe-core" / "axe.min.js").read_text()
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PAGES = [
    "/?f=html",
    "/collections?f=html",
    "/collections/voorstellen?f=html",
    "/collections/voorstellen/items?f=html",
    "/collections/voorstellen/items/{published}?f=html",
    "/collections/projecten/items/1?f=html",
    "/collections/projecten/items?f=html&thema=groen&lang=en",
    "/catalogus?f=html",
    "/collections/voorstellen/queryables?f=html",
    "/collections/voorstellen/schema?f=html",
    "/conformance?f=html",
    "/velden?f=html",
    "/collections/geen?f=html",
    "/maps/",
    "/maps/overzicht.html",
    "/maps/wijk/WK026801.html",
]
RUN = """async () => {
  const rules = {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}};
  const result = await axe.run(document, rules);
  return result.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,
                                      first: v.nodes[0] && v.nodes[0].target.join(' ')}));
}"""


# The share of the map that its controls cover (their boxes clipped to the map's).
COVERED = """() => {
  const map = document.querySelector('.leaflet-container').getBoundingClientRect();
  let covered = 0;
  document.querySelectorAll('.leaflet-control').forEach(c => {
    const r = c.getBoundingClientRect();
    const w = Math.max(0, Math.min(r.right, map.right) - Math.max(r.left, map.left));
    const h = Math.max(0, Math.min(r.bottom, map.bottom) - Math.max(r.top, map.top));
    covered += w * h;
  });
  return covered / (map.width * map.height);
}"""


def opened(browser, server, path: str, size: str):
    """A page at a window size, in a fresh context (axe is injected, so the page's CSP is bypassed)."""
    visit = Visit(browser, server, viewport=SIZES[size], bypass_csp=True)
    visit.goto(f"{server.url}{path}")
    return visit


def assert_accessible(visit) -> None:
    """No serious or critical axe-core violation on the visit's page, and no sideways scrolling
    (the visit is closed)."""
    visit.page.evaluate(AXE)
    found = visit.page.evaluate(RUN)
    sideways = visit.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    visit.context.close()
    assert [v for v in found if v["impact"] in ("serious", "critical")] == []
    assert sideways <= 0  # no page scrolls sideways


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("path", PAGES)
def test_every_page_type_has_no_serious_accessibility_violation_and_fits_the_screen(mapped, browser, path, size):
    server, store, _ = mapped
    path = path.format(published=store.query(Query("voorstellen", limit=1)).ids[0])
    visit = opened(browser, server, path, size)
    assert visit.page.evaluate("() => document.title")  # a page, not an error shown as text
    assert_accessible(visit)


@pytest.mark.parametrize("path", ["/maps/overzicht.html", "/maps/wijk/WK026801.html", "/maps/buurt/BU02680100.html"])
def test_on_a_phone_the_controls_leave_three_quarters_of_the_map_free(mapped, browser, path):
    server, _, _ = mapped
    visit = opened(browser, server, path, "phone")
    phone = visit.page.evaluate(COVERED)
    visit.context.close()
    visit = opened(browser, server, path, "desktop")
    legend_open = visit.page.evaluate("() => document.querySelector('.wijkplan-legenda').open")
    visit.context.close()
    assert phone <= 0.25 and legend_open


# Numbers every control in document order (shown or folded away); answers how many there are.
MARK_CONTROLS = """() => {
  const selector = 'a[href], button, select, input:not([type=hidden]), textarea, summary, [tabindex], '
    + '.leaflet-interactive';
  const controls = [...document.querySelectorAll(selector)].filter(e => e.tabIndex >= 0 && !e.disabled);
  controls.forEach((e, i) => { e.dataset.walk = i; });
  return controls.length;
}"""
# The focused control: its number, whether a focus ring shows, and whether Enter unfolds something.
FOCUSED = """() => {
  const e = document.activeElement, style = getComputedStyle(e);
  const folded = (e.tagName === 'SUMMARY' && !e.parentElement.open)
    || (e.classList.contains('leaflet-control-layers-toggle') && !e.closest('.leaflet-control-layers-expanded'));
  return [e.dataset.walk, style.outlineStyle !== 'none' || style.boxShadow !== 'none', folded];
}"""
# The numbers of the controls a user can see now (after unfolding what the walk met); of a group of
# radio buttons Tab reaches the chosen one (the arrow keys the others).
SHOWN = """() => [...document.querySelectorAll('[data-walk]')]
  .filter(e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'
          && !e.closest('details:not([open]) > :not(summary)') && !(e.type === 'radio' && !e.checked))
  .map(e => Number(e.dataset.walk))"""
FOLDED = """() => document.querySelectorAll(
  'details:not([open]), div.leaflet-control-layers:not(.leaflet-control-layers-expanded)').length"""


@pytest.mark.parametrize(
    "path",
    [
        "/?f=html",
        "/collections/projecten/items?f=html&limit=20",
        "/collections/projecten/items/1?f=html",
        "/maps/wijk/WK026801.html",
        "/maps/",
    ],
)
def test_the_keyboard_reaches_every_control_and_shows_where_it_is(mapped, browser, path):
    server, _, _ = mapped
    visit = opened(browser, server, path, "phone")
    controls = visit.page.evaluate(MARK_CONTROLS)
    reached, unmarked_focus = set(), 0
    for _ in range(2 * controls + 10):
        visit.page.keyboard.press("Tab")
        walk, ring, folded = visit.page.evaluate(FOCUSED)
        if walk is not None:
            reached.add(int(walk))
            unmarked_focus += not ring
        if folded:
            visit.page.keyboard.press("Enter")  # as a keyboard user opens a folded list
    shown, folded = set(visit.page.evaluate(SHOWN)), visit.page.evaluate(FOLDED)
    visit.context.close()
    assert len(shown) > 3 and shown <= reached and folded == 0  # each control, unfolded where folded
    assert unmarked_focus == 0  # every focused control shows a focus ring


def test_the_filter_form_builds_the_api_call(mapped, browser):
    server, _, _ = mapped
    visit = opened(browser, server, "/collections/projecten/items?f=html", "desktop")
    visit.page.select_option("select[name=thema]", "groen")
    with visit.page.expect_navigation():
        visit.page.click("form#filter button[type=submit]")
    assert parse_qsl(urlparse(visit.page.url).query) == [("f", "html"), ("thema", "groen")]  # no empty fields

    visit.page.check("#filter-view")
    with visit.page.expect_navigation():
        visit.page.click("form#filter button[type=submit]")
    query = dict(parse_qsl(urlparse(visit.page.url).query))
    visit.context.close()
    west, south, east, north = map(float, query["bbox"].split(","))
    assert west < east and south < north and query["thema"] == "groen"
    answer = httpx.get(f"{server.url}/collections/projecten/items", params={**query, "f": "json"}).json()
    view = shapely.box(west, south, east, north)
    assert answer["features"] and all(
        shapely.geometry.shape(f["geometry"]).intersects(view) for f in answer["features"]
    )
