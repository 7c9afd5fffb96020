"""Benchmark at national scale: ten million projects on PostGIS (about what 340 municipalities
would hold), served by the service with one worker.

The data set is built once and kept aside in benchmarks/data/national/ (a PostgreSQL cluster of its
own, started and stopped by each run): the 1M projects of `make benchmark` (in Nijmegen) copied in,
then copied to nine other Dutch cities (each copy moved as a whole, with ids of its own), and the
table analysed: ten cities of a million projects each. Measured with one client as `make benchmark`
measures (median of 15 after a first answer): first page, a bbox holding about 1 000 projects, a
CQL2 filter, a single item, a vector tile at level 14 cold (the first answer) and warm; the rate
of a whole-layer download at limit 1000 (following next links for a minute); the server's peak RSS.
Koppelkansen and wijk summaries are not derived here (`make benchmark-derived` measures them).

    make benchmark-national                  # 10M
    make benchmark-national NATIONAL=2000000
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import httpx
import morecantile
import psycopg
import run
import servers
import synthetic
from pgcluster import Cluster

from geoservice.participation.tokens import Tokens
from geoservice.query import crs
from geoservice.store import GeoPackageStore, changes, open_store

HERE = Path(__file__).resolve().parent
BASE = 1_000_000  # the data set of `make benchmark` the national one is made of
# Where the copies go: the centres of other cities in RD (metres).
CITIES = {
    "Amsterdam": (121_000, 487_000), "Rotterdam": (92_500, 437_500), "Den Haag": (81_000, 455_000),
    "Utrecht": (136_000, 456_000), "Eindhoven": (161_000, 383_000), "Groningen": (234_000, 582_000),
    "Tilburg": (133_000, 397_000), "Almere": (145_000, 487_000), "Breda": (112_000, 400_000),
}  # fmt: skip
DOWNLOAD_S = 60


def national(cluster: Cluster, size: int) -> str:
    """The database of size projects, built when it is not there yet; its URL."""
    name = f"national_{size}_in_{len(CITIES) + 1}_cities"  # a new recipe makes a database of its own
    url = cluster.url(name)
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    if exists:
        return url
    source = GeoPackageStore(run.geopackage(BASE))
    build = f"{name}_building"  # renamed when whole: an interrupted build is started again
    cluster.drop_database(build)
    run.postgis(source, BASE, cluster.create_database(build), derive=False)
    minx, miny, maxx, maxy = source.extent("buurten")
    _copies(cluster.url(build), size // BASE, ((minx + maxx) / 2, (miny + maxy) / 2))
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{build}" RENAME TO "{name}"')
    return url


def _copies(url: str, times: int, centre: tuple[float, float]) -> None:
    """The projects copied times - 1 more, each copy moved to a city of its own and numbered after
    the ones before."""
    copy_to_cities(url, "projecten", times, centre, BASE, {"titel": "'Project ' || (fid + {step})"})
    store = open_store(url)
    with store.transaction() as tx:
        store.continue_ids(tx)
        store.announce(tx, "projecten", changes.CREATED, [], changes.EVERYWHERE, True)
    store.close()


def copy_to_cities(url: str, table: str, times: int, centre: tuple, step: int, changed: dict) -> None:
    """The features of a table with fid up to step copied times - 1 more, copy n moved from the
    centre to the n-th city with n * step added to its fid; changed: SQL for other columns (of the
    copy, {step} its fid offset). The caller continues the ids and announces the copies."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET search_path TO wijkplan, public")
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'wijkplan' "
                "AND table_name = %s ORDER BY ordinal_position",
                (table,),
            )
        ]
        names = ", ".join(f'"{c}"' for c in columns)
        for copy, (x, y) in enumerate(list(CITIES.values())[: times - 1], start=1):
            offset = copy * step
            moved = {"fid": f"fid + {offset}", "geom": f"ST_Translate(geom, {x - centre[0]}, {y - centre[1]})"}
            moved.update({column: sql.format(step=offset) for column, sql in changed.items()})
            chosen = ", ".join(moved.get(c, f'"{c}"') for c in columns)
            started = time.perf_counter()
            conn.execute(f'INSERT INTO "{table}" ({names}) SELECT {chosen} FROM "{table}" WHERE fid <= {step}')
            print(f"{table}: copy {copy + 1} of {times}: {time.perf_counter() - started:.0f} s", flush=True)
        conn.execute(f'VACUUM ANALYZE "{table}"')


def measure(server: servers.Server, bbox: str, tile: morecantile.Tile, total: int) -> list[tuple[str, str]]:
    tile_path = f"/collections/projecten/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"
    rows = []
    with httpx.Client(base_url=server.url, timeout=600) as client:
        cold_s, warm_ms, tile_answer = run.timed(lambda: client.get(tile_path))
        workloads = {
            "first page": "/collections/projecten/items?limit=100",
            "bbox": f"/collections/projecten/items?limit=1000&bbox={bbox}",
            "CQL2 filter": f"/collections/projecten/items?limit=100&filter-lang=cql2-text&filter={run.FILTER}",
            "single item": f"/collections/projecten/items/{total - 4242}",
        }
        for workload, path in workloads.items():
            _, ms, answer = run.timed(lambda path=path: client.get(path))
            body = answer.json()
            held = body.get("numberMatched", body.get("id"))
            rows.append((workload, f"{ms:.1f} ms ({held})"))
        size_kb = len(tile_answer.content) / 1e3
        rows.append((f"tile z{tile.z} cold / warm", f"{cold_s * 1000:.0f} / {warm_ms:.1f} ms ({size_kb:.0f} kB)"))
    features, seconds, _ = run.follow(server, DOWNLOAD_S)
    rows.append(("whole layer, limit 1000", f"{features / seconds:,.0f} features/s"))
    rows.append(("peak RSS", f"{server.peak_rss_mb():.0f} MB"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000_000)
    size = parser.parse_args().size
    cluster = Cluster(kept=run.DATA / "national").start()
    workdir = run.DATA / "national-run"
    workdir.mkdir(exist_ok=True)
    try:
        url = national(cluster, size)
        store = open_store(url)
        box_rd = synthetic.bbox_around(store, 1_000 * size // BASE)  # of Nijmegen's million, about 1 000
        total = store.count("projecten")
        store.close()
        west, south, east, north = crs.transformer(crs.STORAGE, crs.CRS84).transform_bounds(*box_rd)
        bbox = f"{west:.6f},{south:.6f},{east:.6f},{north:.6f}"
        tile = morecantile.tms.get("WebMercatorQuad").tile((west + east) / 2, (south + north) / 2, 14)
        tokens_path = workdir / "tokens.yml"
        token = Tokens(tokens_path).issue("benchmark", "planner")
        server = servers.ours("ours (PostGIS)", url, tokens_path, token, derive_interval_s=0)
        server.start(workdir)
        try:
            rows = measure(server, bbox, tile, total)
        finally:
            server.stop()
    finally:
        cluster.stop()
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M')} on {run.machine()}; {total:,} projects on PostGIS, one worker, "
        "one client (median of 15, of 3 after a first answer over 0.5 s; in brackets what the answer holds).",
        "",
        "| workload | ours (PostGIS) |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in rows],
    ]
    text = "\n".join(lines) + "\n"
    (HERE / "national-results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
