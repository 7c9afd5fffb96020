"""Benchmark: derived data under writes. On projects and as many proposals (100k on GeoPackage and
on PostGIS, then 1M on PostGIS), served by the service with one worker, one client:

- reads of koppelkansen (first page of 100) and of the wijken, each right after a write (a project
  created somewhere in the municipality), against the same reads with no write before them;
- the write itself;
- deriving everything whole (in-process, on the store itself);
- a new policy (afstand_m 25 -> 30): the service started with it, how long until its background has
  derived everything whole, and the koppelkansen reads meanwhile (one every half second).

p50 / p95 in ms over 40 rounds. The data sets (the projects of `make benchmark` with synthetic
proposals added, derived whole once) are kept in benchmarks/data/. Beyond 100k, the 100k set is
copied to other Dutch cities (as `make benchmark-national` does) on PostGIS: ten cities as dense as
the 100k set; only Nijmegen has wijken, so the copies count in no wijk summary.

    make benchmark-derived                              # 100k on both backends, 1M on PostGIS
    make benchmark-derived DERIVED_SIZES=100000:both
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import national
import numpy as np
import orjson
import run
import servers
import synthetic
from pgcluster import Cluster
from tqdm import tqdm

from geoservice.derived import derivation
from geoservice.domain.policy import Policy
from geoservice.ops import backup
from geoservice.participation.tokens import Tokens
from geoservice.query import crs
from geoservice.store import GeoPackageStore, changes, open_store, postgis

HERE = Path(__file__).resolve().parent
ROUNDS = 40
POLICY_FILE = servers.ROOT / "config" / "wijkplan.yml"
POLICY = Policy.load(POLICY_FILE)
BASE = 100_000  # larger sets are this one in as many cities
STEP = 1_000_000  # the ids of copy n start after n * STEP
KOPPELKANSEN = "/collections/koppelkansen/items?limit=100"


def data_set(size: int) -> Path:
    """The projects of `make benchmark` and as many synthetic proposals, derived whole; made once."""
    path = run.DATA / f"wijkplan-{size}-{run._schema_id()}.gpkg"
    if path.exists():
        return path
    aside = run.copy_of(run.geopackage(size), path.with_suffix(".partial"))
    fresh = GeoPackageStore(aside)
    with contextlib.closing(fresh), tqdm(total=size, desc=f"proposals {size}") as progress:
        synthetic.load_proposals(fresh, size, progress=progress)
        derivation.derive_whole(fresh, POLICY)
    os.replace(aside, path)
    return path


def on_postgis(path: Path, url: str, size: int) -> str:
    """The data set in PostGIS; beyond BASE, copied to size / BASE cities."""
    source, target = GeoPackageStore(path), postgis.create(url)
    with contextlib.closing(source), contextlib.closing(target):
        backup.copy(source, target)
        minx, miny, maxx, maxy = source.extent("buurten")
    if size > BASE:
        outside = {"wijkcode": "NULL", "buurtcode": "NULL"}
        for table in ("projecten", "voorstellen"):
            national.copy_to_cities(url, table, size // BASE, ((minx + maxx) / 2, (miny + maxy) / 2), STEP, outside)
        store = open_store(url)  # the process's shared store: measure() closes it
        with store.transaction() as tx:
            store.continue_ids(tx)
            for table in ("projecten", "voorstellen"):
                store.announce(tx, table, changes.CREATED, [], changes.EVERYWHERE, True)
    return url


def _percentiles(times: list[float]) -> str:
    cuts = statistics.quantiles(times, n=20)
    return f"{statistics.median(times):.1f} / {cuts[18]:.1f}"


def _timed(send) -> float:
    started = time.perf_counter()
    answer = send()
    answer.raise_for_status()
    return (time.perf_counter() - started) * 1000


def _new_projects(store, count: int) -> list[bytes]:
    """Bodies of projects planned next year, each at another random place in the municipality."""
    area = store.areas()[3].buffer(-300)
    rng = np.random.default_rng(7)
    xy = synthetic._points_inside(rng, area, count)
    lon, lat = crs.transformer(crs.STORAGE, crs.CRS84).transform(xy[:, 0], xy[:, 1])
    year = time.localtime().tm_year + 1
    props = {**run.NEW_PROJECT["properties"], "planjaar": year, "start": f"{year}-04-01", "eind": f"{year}-05-01"}
    return [
        orjson.dumps(
            {**run.NEW_PROJECT, "geometry": {"type": "Point", "coordinates": [float(x), float(y)]}, "properties": props}
        )
        for x, y in zip(lon, lat)
    ]


def measure(name: str, location: str, tokens: Path, token: str, workdir: Path, size: int) -> dict:
    store = open_store(location)
    with contextlib.closing(store):
        started = time.perf_counter()
        derivation.derive_whole(store, POLICY)
        whole_s = time.perf_counter() - started
        pairs = store.count("koppelkansen")
        bodies = _new_projects(store, ROUNDS)
    server = servers.ours(name, location, tokens, token)
    reads = {"koppelkansen": KOPPELKANSEN, "wijken": "/collections/wijken/items"}
    quiet, after, writes = {k: [] for k in reads}, {k: [] for k in reads}, []
    headers = {"Content-Type": "application/geo+json", "Authorization": f"Bearer {token}"}
    with run.running(server, workdir, size), httpx.Client(base_url=server.url, timeout=600) as client:
        for body in bodies:
            for kind, path in reads.items():
                quiet[kind].append(_timed(lambda path=path: client.get(path)))
            writes.append(
                _timed(lambda body=body: client.post("/collections/projecten/items", content=body, headers=headers))
            )
            for kind, path in reads.items():
                after[kind].append(_timed(lambda path=path: client.get(path)))
    return {"quiet": quiet, "after": after, "writes": writes, "whole_s": whole_s, "pairs": pairs}


def new_policy(name: str, location: str, tokens: Path, token: str, workdir: Path, size: int) -> dict:
    """The service started with a new policy: seconds until koppelkansen are derived under it (as
    their stamp shows), the reads meanwhile, and the koppelkansen before and after."""
    wider = workdir / "wijkplan-wider.yml"
    text = POLICY_FILE.read_text(encoding="utf-8")
    wider.write_text(text.replace("afstand_m: 25 ", "afstand_m: 30 "), encoding="utf-8")
    assert wider.read_text(encoding="utf-8") != text, "the policy file no longer says afstand_m: 25"
    server = servers.ours(name, location, tokens, token, policy=wider)
    started, reads = time.perf_counter(), []
    with run.running(server, workdir, size), httpx.Client(base_url=server.url, timeout=600) as client:
        first = client.get(KOPPELKANSEN)
        while True:
            sent = time.perf_counter()
            answer = client.get(KOPPELKANSEN)
            reads.append((time.perf_counter() - sent) * 1000)
            if answer.headers["Derived-At"] != first.headers["Derived-At"]:
                break
            time.sleep(0.5)
    took = time.perf_counter() - started
    before, after = first.json()["numberMatched"], answer.json()["numberMatched"]
    return {"took_s": took, "reads": reads, "before": before, "after": after}


def table(size: int, results: dict) -> list[str]:
    cities = f" ({size // BASE} cities)" if size > BASE else ""
    lines = [
        f"#### {size:,} projects and {size:,} proposals{cities} "
        f"(p50 / p95 ms; one worker, one client, {ROUNDS} rounds)",
        "",
        "| backend | koppelkansen read | … right after a write | wijken read | … right after a write | the write "
        "| derived whole | koppelkansen |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        cells = [
            _percentiles(r["quiet"]["koppelkansen"]),
            _percentiles(r["after"]["koppelkansen"]),
            _percentiles(r["quiet"]["wijken"]),
            _percentiles(r["after"]["wijken"]),
            _percentiles(r["writes"]),
            f"{r['whole_s']:.1f} s",
            f"{r['pairs']:,}",
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "New policy (afstand_m 25 -> 30), the service started with it: until derived whole in the background, "
        "and the koppelkansen reads meanwhile (one every 0.5 s; the data derived before is served).",
        "",
        "| backend | derived under the new policy after | reads meanwhile (p50 / p95 ms, count) "
        "| koppelkansen before → after |",
        "|---|---|---|---|",
    ]
    for name, r in results.items():
        change = r["policy"]
        reads = f"{_percentiles(change['reads'])} ({len(change['reads'])})" if len(change["reads"]) > 1 else "-"
        lines.append(f"| {name} | {change['took_s']:.0f} s | {reads} | {change['before']:,} → {change['after']:,} |")
    return lines


def run_size(size: int, backends: list[str], cluster: Cluster, workdir: Path) -> list[str]:
    path = data_set(min(size, BASE))
    tokens = workdir / f"tokens-{size}.yml"
    token = Tokens(tokens).issue("benchmark", "planner")
    results = {}
    for backend in backends:
        if backend == "GeoPackage":
            location = str(run.copy_of(path, workdir / f"wijkplan-{size}.gpkg"))
        else:
            location = on_postgis(path, cluster.create_database(f"derived_{size}"), size)
        results[backend] = measure(backend, location, tokens, token, workdir, size)
        results[backend]["policy"] = new_policy(backend, location, tokens, token, workdir, size)
    return table(size, results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", default="100000:both,1000000:postgis", help="size:backends, comma separated (both or postgis)"
    )
    args = parser.parse_args()
    cluster = Cluster().start()
    sections = [f"Run {time.strftime('%Y-%m-%d %H:%M')} on {run.machine()}; derived data under writes."]
    try:
        with tempfile.TemporaryDirectory() as workdir:
            for spec in args.sizes.split(","):
                size, which = spec.split(":")
                backends = ["GeoPackage", "PostGIS"] if which == "both" else ["PostGIS"]
                sections.append("\n".join(run_size(int(size), backends, cluster, Path(workdir))))
    finally:
        cluster.stop()
    text = "\n\n".join(sections) + "\n"
    (HERE / "derived-results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
