"""Weight and load time of each page type in Chromium without network (tiles answered empty),
on a desktop and a phone; with --screenshots, pictures of the main pages for the README (docs/).

    python benchmarks/pages.py [--screenshots]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, FLAGS, Visit, serving  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from geoservice.domain.policy import Policy  # noqa: E402
from geoservice.ops import demo  # noqa: E402
from geoservice.publish import follower  # noqa: E402
from geoservice.store import GeoPackageStore, Query  # noqa: E402

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PAGES = {
    "landing page": "/",
    "collections": "/collections?f=html",
    "items": "/collections/voorstellen/items?f=html",
    "proposal": "/collections/voorstellen/items/{proposal}?f=html",
    "project": "/collections/projecten/items/{project}?f=html",
    "catalogue": "/catalogus?f=html",
    "maps index": "/maps/",
    "city map": "/maps/overzicht.html",
    "wijk map": "/maps/wijk/WK026801.html",
}
SHOTS = {"landing page": False, "items": False, "proposal": True, "wijk map": False}  # whether of the whole page
REPEATS = 5
# Until the load event, or for a map until its script has drawn and listed its data (when later).
LOADED = """() => {
  const t = performance.getEntriesByType('navigation')[0], drawn = performance.getEntriesByName('wijkplan-kaart')[0];
  return Math.max(t.loadEventEnd - t.startTime, drawn ? drawn.startTime : 0);
}"""


def measure(browser, server, path: str, size: str, shot: Path | None = None, whole=False) -> tuple[int, float]:
    """(bytes received, ms until the page was ready) of one page in a fresh context."""
    visit = Visit(browser, server, viewport=SIZES[size], locale="nl-NL")  # the service speaks Dutch by default
    received = []
    visit.page.on("response", lambda response: received.append(len(response.body())))
    visit.goto(f"{server.url}{path}")
    loaded = visit.page.evaluate(LOADED)
    if shot:
        visit.page.wait_for_timeout(500)
        visit.page.screenshot(path=str(shot), full_page=whole)
    visit.context.close()
    assert not visit.foreign, visit.foreign
    return sum(received), loaded


def _followed_proposal(store) -> int:
    """A proposal the municipality works out with projects: its page shows the most."""
    page = store.query(Query.every("voorstellen"))
    return next(i for i, p in zip(page.ids, page.properties) if p["projecten"] and p["status"] == "in uitwerking")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshots", action="store_true", help="write docs/pagina-*.png")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wijkplan-pages-"))
    try:
        policy = Policy.load(str(ROOT / "config" / "wijkplan.yml"))
        demo.build(str(work / "wijkplan.gpkg"), policy)
        store = GeoPackageStore(work / "wijkplan.gpkg")
        follower.rebuild(store, policy, work / "maps")
        ids = {"proposal": _followed_proposal(store), "project": store.query(Query("projecten", limit=1)).ids[0]}
        with serving(str(work / "wijkplan.gpkg"), work, maps=work / "maps") as server, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            print("| page | size | weight | ready (median of 5) |\n|---|---|---|---|")
            for name, path in PAGES.items():
                for size in SIZES:
                    shot = ROOT / "docs" / f"pagina-{name.replace(' ', '-')}-{size}.png"
                    runs = [measure(browser, server, path.format(**ids), size) for _ in range(REPEATS)]
                    if args.screenshots and name in SHOTS:
                        measure(browser, server, path.format(**ids), size, shot, SHOTS[name])
                    weight, load = runs[-1][0], statistics.median(r[1] for r in runs)
                    print(f"| {name} | {size} | {weight / 1024:.0f} KiB | {load:.0f} ms |")
            browser.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
