"""Map benchmark, for the demo data and a data set ten times as dense (same boundaries, ten times the
projects and proposals): the time to build every map and the size of what it writes (pages, and data
files where the pages load their features from them), how many maps draw their features from the
vector tiles (above `kaarten.tegels_vanaf` features), and what one change costs the map builder: a
published proposal is added in each of five wijken in turn, and each time the builder catches up
(time, and the files and bytes it writes). --source measures another checkout the same way (the
script runs on its code), e.g. one from before the pages loaded their features from data files.

    .venv/bin/python benchmarks/maps.py [--source DIR]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_SETS = {"demo": 1, "10× denser": 10}
CHANGES = 5  # one-change rounds measured per data set
PROPOSAL = {"titel": "Bankje bij de bushalte", "soort": "idee", "categorie": "overig", "status": "gepubliceerd"}


def _files(directory: Path) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in directory.rglob("*") if p.is_file()}


def _written(before: dict, after: dict) -> list[int]:
    """The sizes of the files written between two looks at a folder."""
    return [size for path, (moment, size) in after.items() if before.get(path, (None,))[0] != moment]


def _tiled(store, policy) -> int:
    """How many maps have more features than kaarten.tegels_vanaf (the city, wijken and buurten)."""
    from geoservice.store import Query

    counts = collections.Counter()
    for collection in ("projecten", "voorstellen", "koppelkansen"):
        for p in store.query(Query.every(collection)).properties:
            counts.update(("stad", p["wijkcode"], p["buurtcode"]))
    return sum(n > policy.kaarten.tegels_vanaf for n in counts.values())


def measure(directory: Path, density: int) -> dict:
    """Build every map of a data set, then catch up after one change at a time."""
    from geoservice.domain.policy import Policy
    from geoservice.ops import demo
    from geoservice.publish import follower
    from geoservice.store import GeoPackageStore, Query

    path = directory / f"wijkplan-{density}.gpkg"
    policy = Policy.load(str(ROOT / "config" / "wijkplan.yml"))
    demo.build(str(path), policy, projects=340 * density, proposals=680 * density)
    store = GeoPackageStore(path)
    follower.rebuild(store, policy, directory / "warm")  # imports and caches warm, as in a running builder
    maps = directory / f"maps-{density}"
    started = time.perf_counter()
    follower.rebuild(store, policy, maps)
    built = {"seconds": time.perf_counter() - started, **_sizes(maps), "tiled": _tiled(store, policy)}
    buurten = store.query(Query.every("buurten"))
    places = {p["wijkcode"]: g.representative_point() for p, g in zip(buurten.properties, buurten.geometries)}
    rounds = []
    for wijk, place in list(places.items())[:CHANGES]:
        store.insert("voorstellen", [({**PROPOSAL, "titel": f"{PROPOSAL['titel']} {wijk}"}, place)])
        before, started = _files(maps), time.perf_counter()
        follower.catch_up(store, policy, maps)
        seconds, written = time.perf_counter() - started, _written(before, _files(maps))
        rounds.append({"seconds": seconds, "files": len(written), "bytes": sum(written)})
    return {"built": built, "rounds": rounds}


def _sizes(maps: Path) -> dict:
    """Sizes in MB: all files, the city page, and per wijk and buurt page and wijk data file."""
    files = {p: p.stat().st_size / 1e6 for p in maps.rglob("*") if p.is_file()}
    of = lambda folder, suffix: [s for p, s in files.items() if p.parent.name == folder and p.suffix == suffix]  # noqa: E731
    return {
        "files": len(files),
        "total": sum(files.values()),
        "city": files[maps / "overzicht.html"],
        "wijk": of("wijk", ".html"),
        "data": of("wijk", ".json"),
        "buurt": of("buurt", ".html"),
    }


def _spread(sizes: list[float], unit: str = "MB") -> str:
    return f"{statistics.median(sizes):.3f} / {max(sizes):.3f} {unit}" if sizes else "–"


def rows(name: str, results: dict) -> tuple[list[str], list[str]]:
    """The table rows of one checkout: the build, and one change's round."""
    built, changed = [], []
    for data_set, result in results.items():
        b, r = result["built"], result["rounds"]
        built.append(
            f"| {name} | {data_set} | {b['seconds']:.1f} s | {b['files']} / {b['total']:.2f} MB | {b['tiled']} | "
            f"{b['city']:.3f} MB | {_spread(b['wijk'])} | {_spread(b['data'])} | {_spread(b['buurt'])} |"
        )
        seconds, files, kilobytes = (statistics.median(x[k] for x in r) for k in ("seconds", "files", "bytes"))
        changed.append(f"| {name} | {data_set} | {seconds * 1000:.0f} ms | {files:.0f} | {kilobytes / 1000:.0f} kB |")
    return built, changed


def _measured(source: Path) -> dict:
    """The results of one checkout, measured by this script on its code in a process of its own."""
    environment = {**os.environ, "PYTHONPATH": str(source)}
    answer = subprocess.run(
        [sys.executable, __file__, "--json"], env=environment, cwd=source, capture_output=True, text=True, check=True
    )
    return json.loads(answer.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", action="append", type=Path, default=[], help="another checkout to measure")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # measure this code, print JSON
    args = parser.parse_args()
    if args.json:
        with tempfile.TemporaryDirectory() as folder:
            results = {name: measure(Path(folder), density) for name, density in DATA_SETS.items()}
        print(json.dumps(results))
        return
    import run  # (the measuring process runs on another checkout's code, which may lack what run imports)

    built = [
        "| checkout | data set | build all | files written | maps from tiles | city page | wijk page "
        "(median / largest) | wijk data file | buurt page |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    changed = [
        "| checkout | data set | round after one change | files written | bytes written |",
        "|---|---|---|---|---|",
    ]
    for name, source in {"this checkout": ROOT, **{str(s): s.resolve() for s in args.source}}.items():
        print(f"measuring {name}", file=sys.stderr)
        more_built, more_changed = rows(name, _measured(source))
        built += more_built
        changed += more_changed
    text = f"Run {time.strftime('%Y-%m-%d %H:%M')} on {run.machine()}.\n\n" + "\n".join([*built, "", *changed]) + "\n"
    (Path(__file__).resolve().parent / "maps-results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
