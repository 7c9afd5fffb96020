"""Map build benchmark: the time to build every map, the size of each file and how many maps draw
their features from the vector tiles (above `kaarten.tegels_vanaf` features), for the demo data and
for a data set ten times as dense (same boundaries, ten times the projects and proposals).

    .venv/bin/python benchmarks/maps.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from geoservice.domain.policy import Policy
from geoservice.ops import demo
from geoservice.publish import maps
from geoservice.store import GeoPackageStore

DATA_SETS = {"demo (340 projects, 680 proposals)": 1, "10× denser (3 400 projects, 6 800 proposals)": 10}


def measure(directory: Path, density: int) -> dict:
    path = directory / f"wijkplan-{density}.gpkg"
    policy = Policy()
    demo.build(str(path), policy, projects=340 * density, proposals=680 * density)
    store = GeoPackageStore(path)
    maps.build(store, policy, directory / "warm")  # imports and caches warm, as in a running service
    started = time.perf_counter()
    written = maps.build(store, policy, directory / f"maps-{density}")
    seconds = time.perf_counter() - started
    sizes = {kind: [p.stat().st_size / 1e6 for p in written if p.parent.name == kind] for kind in ("wijk", "buurt")}
    city = next(p for p in written if p.name == "overzicht.html").stat().st_size / 1e6
    tiled = sum("L.vectorGrid.protobuf" in p.read_text(encoding="utf-8") for p in written)
    return {"maps": len(written), "tiled": tiled, "seconds": seconds, "city": city, **sizes}


def row(name: str, result: dict) -> str:
    wijk, buurt = result["wijk"], result["buurt"]
    return (
        f"| {name} | {result['maps']} | {result['tiled']} | {result['seconds']:.1f} s | {result['city']:.2f} MB | "
        f"{statistics.median(wijk):.2f} / {max(wijk):.2f} MB | "
        f"{statistics.median(buurt):.3f} / {max(buurt):.3f} MB |"
    )


def main() -> None:
    lines = [
        "| data set | maps | from tiles | build time | city map | wijk map (median / largest) "
        "| buurt map (median / largest) |",
        "|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for name, density in DATA_SETS.items():
            lines.append(row(name, measure(Path(folder), density)))
            print(f"measured {name}", file=sys.stderr)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
