"""Every page type of the service passes axe-core (WCAG 2.1 A and AA rules) in Chromium with no
serious or critical violation, on a desktop and on a phone."""

from pathlib import Path

import pytest
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
    visit.page.goto(f"{server.url}{path}", wait_until="load")
    return visit


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("path", PAGES)
def test_every_page_type_has_no_serious_accessibility_violation_and_fits_the_screen(mapped, browser, path, size):
    server, store, _ = mapped
    path = path.format(published=store.query(Query("voorstellen", limit=1)).ids[0])
    visit = opened(browser, server, path, size)
    assert visit.page.evaluate("() => document.title")  # a page, not an error shown as text
    visit.page.evaluate(AXE)
    found = visit.page.evaluate(RUN)
    sideways = visit.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    visit.context.close()
    assert [v for v in found if v["impact"] in ("serious", "critical")] == []
    assert sideways <= 0  # no page scrolls sideways


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
