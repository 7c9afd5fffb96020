"""Benchmark: the service against stock pygeoapi (GeoJSON and PostgreSQL providers), tipg and the
floor, over HTTP on one machine in one run, on synthetic data of 100k and 1M projects.

    make benchmark                      # 100k and 1M
    make benchmark SIZES=100000         # one size

Prints a table per size (median latency in ms, requests/s with 4 clients, peak RSS) with the
ratios to the service on GeoPackage, and writes it to benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import itertools
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
import servers
import shapely
import synthetic
from pgcluster import Cluster
from tqdm import tqdm

from geoservice.derived import derivation
from geoservice.domain.model import COLLECTIONS, TABLES
from geoservice.domain.policy import Policy
from geoservice.ops import demo
from geoservice.participation.tokens import Tokens
from geoservice.publish import geojson
from geoservice.query import crs
from geoservice.query.filters import intersects
from geoservice.store import GeoPackageStore, Query, changes, gpkg, private, staging

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
CONCURRENCY = 4
SLOW_SECONDS = 0.5
FILTER = "thema='groen' AND planjaar=2028"
NEW_PROJECT = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [5.8662, 51.8467]},
    "properties": {
        "titel": "Benchmark",
        "thema": "groen",
        "soort": "nieuwe aanleg",
        "fase": "gepland",
        "start": "2029-04-01",
        "eind": "2029-05-01",
        "planjaar": 2029,
    },
}
GRID = (41, 21, 0.0005, 0.00035)  # columns, rows and spacing (degrees) of the places of created projects


def new_project(number: int) -> dict:
    """The number-th project the create workload sends: each at its own place on a grid of about
    35 m around the first, so that created projects make no koppelkansen with each other (every
    place of the grid lies in a buurt of the demo; a wider grid reached into the Waal)."""
    columns, rows, step_x, step_y = GRID
    lon, lat = NEW_PROJECT["geometry"]["coordinates"]
    column, row = number % columns - columns // 2, number // columns % rows - rows // 2
    return {**NEW_PROJECT, "geometry": {"type": "Point", "coordinates": [lon + column * step_x, lat + row * step_y]}}


_created = itertools.count()
READS = ["first page", "deep page", "bbox", "CQL2 filter", "single item"]
WORKLOADS = [*READS, "create"]


# -- data ----------------------------------------------------------------------------------
def _boundaries(target) -> None:
    wijken, buurten = demo.boundary_features(demo.load_buurten())
    target.insert("wijken", wijken)
    target.insert("buurten", buurten)


def _schema_id() -> str:
    """Changes with the store's schema, so that data sets generated for another are not reused."""
    text = repr([(c.name, c.fields, c.geometry_types) for c in COLLECTIONS.values()]) + repr(private.TABLES)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def geopackage(size: int) -> Path:
    path = DATA / f"projecten-{size}-{_schema_id()}.gpkg"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        with staging(str(path)) as target, tqdm(total=size, desc=f"GeoPackage {size}") as progress:
            _boundaries(target)
            synthetic.load(target, size, progress=progress)
    with contextlib.closing(GeoPackageStore(path)) as store:
        derived(store)
    return path


def derived(store) -> None:
    """Koppelkansen and wijk summaries current, as a running service keeps them, before anything
    is measured (derived whole once, when the data set is new)."""
    derivation.keep_up(store, Policy.load(servers.ROOT / "config" / "wijkplan.yml"))


def working_copy(size: int, workdir: Path) -> Path:
    """A copy of the generated data set for one run to serve and write to (the set stays as made)."""
    return copy_of(geopackage(size), workdir / f"projecten-{size}.gpkg")


def copy_of(path: Path, copy: Path) -> Path:
    """A consistent copy of a GeoPackage (SQLite's backup: what is still in the log comes along)."""
    source, target = sqlite3.connect(path), sqlite3.connect(copy)
    with contextlib.closing(source), contextlib.closing(target):
        source.backup(target)
    return copy


def _batches(source: GeoPackageStore, size: int):
    for offset in range(0, size, synthetic.BATCH):
        yield source.query(Query("projecten", limit=synthetic.BATCH, offset=offset))


def postgis(source: GeoPackageStore, size: int, url: str, derive: bool = True) -> None:
    """The same projects (same ids) in PostGIS, with koppelkansen and wijk summaries derived unless
    told not to."""
    from geoservice.store import postgis as backend

    target = backend.create(url)
    with contextlib.closing(target), tqdm(total=size, desc=f"PostGIS {size}") as progress:
        _boundaries(target)
        for page in _batches(source, size):
            with target.transaction() as tx:  # the features as they are, ids and derived fields kept
                target.copy_in(tx, TABLES["projecten"], page)
                target.announce(tx, "projecten", changes.CREATED, page.ids, changes.areas_of(*page.properties), True)
            progress.update(len(page.ids))
        with target.transaction() as tx:
            target.continue_ids(tx)
        if derive:
            derived(target)


def geojson_file(source: GeoPackageStore, size: int) -> Path:
    """The same projects as one GeoJSON file in CRS84, as stock pygeoapi's GeoJSON provider reads."""
    path = DATA / f"projecten-{size}-{_schema_id()}.geojson"
    if not path.exists():
        with open(path, "wb") as out, tqdm(total=size, desc=f"GeoJSON {size}") as progress:
            out.write(b'{"type":"FeatureCollection","features":[')
            for number, page in enumerate(_batches(source, size)):
                features = b",".join(orjson.dumps(f) for f in geojson.features(page, crs.CRS84))
                out.write((b"," if number else b"") + features)
                progress.update(len(page.ids))
            out.write(b"]}")
    return path


# -- measuring -----------------------------------------------------------------------------
def _request(client: httpx.Client, server: servers.Server, workload: str, bbox: str) -> httpx.Response:
    items = server.items_path
    if workload == "create":
        headers = {"Content-Type": "application/geo+json"}
        if server.token:
            headers["Authorization"] = f"Bearer {server.token}"
        return client.post(items, content=orjson.dumps(new_project(next(_created))), headers=headers)
    path = {
        "first page": f"{items}?limit=100",
        "deep page": f"{items}?limit=100&offset=50000",
        "bbox": f"{items}?limit=1000&bbox={bbox}",
        "CQL2 filter": f"{items}?limit=100&filter-lang=cql2-text&filter={FILTER}",
        "single item": f"{items}/4242",
    }[workload]
    return client.get(path)


def _answer(response: httpx.Response):
    """What the answer holds, to see whether servers agree: numberMatched or the id."""
    if response.status_code >= 400 or not response.content:
        return f"HTTP {response.status_code}"
    body = response.json()
    return body.get("numberMatched", len(body.get("features", []))) if "features" in body else body.get("id")


def timed(send) -> tuple[float, float, httpx.Response]:
    """send() once (its seconds), then 15 times more (3 when the first took long): the median of
    those in ms, and the last answer."""
    started = time.perf_counter()
    response = send()
    first = time.perf_counter() - started
    times = []
    for _ in range(3 if first > SLOW_SECONDS else 15):
        started = time.perf_counter()
        response = send()
        times.append(time.perf_counter() - started)
    return first, statistics.median(times) * 1000, response


def measure(server: servers.Server, workload: str, bbox: str) -> dict:
    with httpx.Client(base_url=server.url, timeout=600) as client:
        first, median_ms, response = timed(lambda: _request(client, server, workload, bbox))
    result = {"ms": median_ms, "answer": _answer(response)}
    total = CONCURRENCY * (2 if first > SLOW_SECONDS else 10)
    result["rps"] = _throughput(server, workload, bbox, total)
    return result


def _throughput(server: servers.Server, workload: str, bbox: str, total: int) -> float:
    def work(count: int) -> None:
        with httpx.Client(base_url=server.url, timeout=600) as client:
            for _ in range(count):
                _request(client, server, workload, bbox)

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(work, [total // CONCURRENCY] * CONCURRENCY))
    return total / (time.perf_counter() - started)


def follow(server: servers.Server, limit_seconds: float) -> tuple[int, float, bool]:
    """The layer page by page at limit 1000 following next links, as QGIS and GDAL do, for at most
    limit_seconds: (features read, seconds taken, whether that was the whole layer)."""
    url, features, started = f"{server.items_path}?limit=1000", 0, time.perf_counter()
    with httpx.Client(base_url=server.url, timeout=600) as client:
        while url and time.perf_counter() - started <= limit_seconds:
            body = client.get(url).json()
            features += len(body["features"])
            url = next((link["href"] for link in body.get("links", []) if link["rel"] == "next"), None)
    return features, time.perf_counter() - started, url is None


def download(server: servers.Server, limit_seconds: float) -> dict:
    """The whole layer, or how far a reader got in limit_seconds."""
    features, seconds, whole = follow(server, limit_seconds)
    if not whole:
        return {"s": None, "answer": f"stopped after {limit_seconds:.0f} s at {features} features"}
    return {"s": seconds, "answer": features}


def floor(path: Path, bbox_ids: list[int] | None = None) -> dict:
    """Reading the same rows with sqlite3 and serialising them with orjson, in-process: the same
    features as the servers answer (geometries in CRS84), without HTTP, paging or filtering (the
    first page, and the bbox when its features' ids are given)."""
    conn = sqlite3.connect(path)
    names = [r[1] for r in conn.execute("PRAGMA table_info(projecten)")][2:]
    columns = ", ".join(["fid", "geom", *names])

    def serialise(rows) -> bytes:
        geometries = shapely.to_geojson(crs.from_storage(gpkg.decode([row[1] for row in rows]), crs.CRS84))
        return orjson.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "id": row[0],
                        "geometry": orjson.Fragment(g),
                        "properties": dict(zip(names, row[2:])),
                    }
                    for row, g in zip(rows, geometries)
                ],
            }
        )

    reads = {"first page": lambda: conn.execute(f"SELECT {columns} FROM projecten ORDER BY fid LIMIT 100").fetchall()}
    if bbox_ids:
        marks = ",".join("?" * len(bbox_ids))
        reads["bbox"] = lambda: conn.execute(
            f"SELECT {columns} FROM projecten WHERE fid IN ({marks}) ORDER BY fid", bbox_ids
        ).fetchall()
    results = {}
    for workload, read in reads.items():
        times = []
        for _ in range(30):
            started = time.perf_counter()
            serialise(read())
            times.append(time.perf_counter() - started)
        results[workload] = statistics.median(times) * 1000
    return results


# -- the run -------------------------------------------------------------------------------
@contextlib.contextmanager
def running(server: servers.Server, workdir: Path, size: int):
    print(f"{size:,} projects: {server.name}", file=sys.stderr)
    server.start(workdir)
    try:
        yield server
    finally:
        server.stop()


def run_size(size: int, cluster: Cluster, baseline_python: Path, workdir: Path) -> str:
    path = working_copy(size, workdir)
    source = GeoPackageStore(path)
    url = cluster.create_database(f"bench_{size}")
    postgis(source, size, url)
    box_rd = synthetic.bbox_around(source)
    box = ",".join(f"{v:.6f}" for v in crs.transformer(crs.STORAGE, crs.CRS84).transform_bounds(*box_rd))
    extent = [float(v) for v in box.split(",")]
    tokens_path = workdir / f"tokens-{size}.yml"
    token = Tokens(tokens_path).issue("benchmark", "planner")
    database = {
        "host": "127.0.0.1",
        "port": cluster.port,
        "dbname": f"bench_{size}",
        "user": "postgres",
        "password": "",
        "search_path": ["wijkplan", "public"],
    }
    candidates = [
        servers.ours("ours (GeoPackage)", str(path), tokens_path, token),
        servers.ours("ours (PostGIS)", url, tokens_path, token),
        servers.stock_pygeoapi(
            "pygeoapi GeoJSON",
            baseline_python,
            workdir,
            {"name": "GeoJSON", "data": str(geojson_file(source, size)), "id_field": "id"},
            extent,
            filters=False,
        ),
        servers.stock_pygeoapi(
            "pygeoapi PostgreSQL",
            baseline_python,
            workdir,
            {
                "name": "PostgreSQL",
                "data": database,
                "id_field": "fid",
                "table": "projecten",
                "geom_field": "geom",
                "storage_crs": servers.RD,
            },
            extent,
        ),
        servers.tipg(baseline_python, url),
    ]
    results = {server.name: {} for server in candidates}
    for server in candidates:  # reads first, on the data as generated
        with running(server, workdir, size):
            for workload in READS:
                results[server.name][workload] = measure(server, workload, box)
            results[server.name]["download"] = download(server, limit_seconds=900)
            results[server.name]["rss"] = server.peak_rss_mb()
    for server in (s for s in candidates if s.writes):  # then writes, which change the data
        with running(server, workdir, size):
            results[server.name]["create"] = measure(server, "create", box)
    bbox_ids = source.query(
        Query("projecten", intersects(crs.area_to_storage(shapely.box(*extent), crs.CRS84)), limit=1000)
    ).ids
    return table(size, results, floor(path, bbox_ids), len(bbox_ids))


def _cell(result: dict | None) -> str:
    if result is None:
        return "n/a"
    return f"{result['ms']:.1f} ms · {result['rps']:.0f}/s"


def _ratio(theirs: dict | None, ours: dict) -> str:
    return "n/a" if theirs is None else f"{theirs['ms'] / ours['ms']:.1f}×"


def table(size: int, results: dict, floor_ms: dict, bbox_features: int) -> str:
    names = list(results)
    ours = results[names[0]]
    header = ["workload", *names, "GeoJSON ÷ ours", "pygeoapi-PG ÷ ours", "tipg ÷ ours", "ours ÷ floor"]
    lines = [
        f"### {size:,} projects (bbox: {bbox_features} features)",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for workload in WORKLOADS:
        cells = [_cell(results[n].get(workload)) + _mark(results, n, workload) for n in names]
        ratios = [_ratio(results[n].get(workload), ours[workload]) for n in names[2:]]
        floor_ratio = f"{ours[workload]['ms'] / floor_ms[workload]:.1f}×" if workload in floor_ms else ""
        lines.append(f"| {workload} | " + " | ".join(cells + ratios + [floor_ratio]) + " |")
    downloads = []
    for n in names:
        d = results[n]["download"]
        downloads.append(f"{d['s']:.1f} s" if d["s"] is not None else d["answer"])
    lines.append("| whole layer (limit 1000) | " + " | ".join(downloads) + " | | | | |")
    lines.append("| peak RSS | " + " | ".join(f"{results[n]['rss']:.0f} MB" for n in names) + " | | | | |")
    floor_text = ", ".join(f"{k} {v:.2f} ms" for k, v in floor_ms.items())
    lines += [
        "",
        f"Floor (sqlite3 rows to CRS84 GeoJSON with shapely and orjson, in-process, no HTTP): {floor_text}.",
        "",
        "† a different answer (numberMatched, or the id of the item):",
    ]
    lines += [
        f"- {n}, {w}: {results[n][w]['answer']} where the service answers {ours[w]['answer']}"
        for n in names
        for w in READS
        if _mark(results, n, w)
    ]
    return "\n".join(lines)


def _mark(results: dict, name: str, workload: str) -> str:
    mine = results[next(iter(results))].get(workload)
    theirs = results[name].get(workload)
    if mine is None or theirs is None or workload == "create":
        return ""
    return "" if theirs["answer"] == mine["answer"] else " †"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument(
        "--baseline-python", type=Path, required=True, help="python of the environment with stock pygeoapi and tipg"
    )
    args = parser.parse_args()
    heading = f"one uvicorn worker per server, {CONCURRENCY} clients for requests/s."
    report(args.sizes, args.baseline_python, run_size, heading, "results.md")


def report(sizes: str, baseline_python: Path, run_size, heading: str, name: str) -> None:
    """run_size(size, cluster, baseline_python, workdir) for each size, with a throwaway PostgreSQL
    cluster; the sections printed and written to benchmarks/<name>."""
    cluster = Cluster().start()
    sections = [f"Run {dt.datetime.now():%Y-%m-%d %H:%M} on {machine()}; {heading}"]
    try:
        with tempfile.TemporaryDirectory() as workdir:
            for size in (int(s) for s in sizes.split(",")):
                sections.append(run_size(size, cluster, baseline_python, Path(workdir)))
    finally:
        cluster.stop()
    text = "\n\n".join(sections) + "\n"
    (HERE / name).write_text(text)
    print(text)


def machine() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":")[1].strip() for line in lines if line.startswith("model name")), "?")
    return f"{cpu}, {sum(line.startswith('processor') for line in lines)} cores"


if __name__ == "__main__":
    main()
