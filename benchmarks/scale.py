"""Benchmark: the service scaled out, on the projects of `make benchmark` (100k by default).

- Workers: requests/s of first page, bbox, CQL2 filter and create with 1 and with 2 worker
  processes, on GeoPackage and on PostGIS (wrk, 16 connections, 10 s each; the load generator is
  C, so that it takes little of the two cores from the servers).
- Hot path: the first page's latency over HTTP with one connection (wrk, p50) against the
  in-process floor measured just before and just after, in alternating rounds.
- Tiles: latency of vector tiles at levels 12 to 16 (WebMercatorQuad), cold (each tile asked for
  the first time) and warm (asked again), p50 and p95 over the tiles covering the benchmark's bbox
  area, against tipg's tiles on the same PostGIS table.

    make benchmark-scale                 # 100k
    make benchmark-scale SIZES=1000000
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import time
from pathlib import Path

import httpx
import morecantile
import run
import servers
import synthetic
from pgcluster import Cluster

from geoservice.participation.tokens import Tokens
from geoservice.query import crs
from geoservice.store import GeoPackageStore

HERE = Path(__file__).resolve().parent
SECONDS, CONNECTIONS = 10, 16
HOT_ROUNDS, HOT_SECONDS = 3, 5
LEVELS = range(12, 17)
TILES_PER_LEVEL = 40
THROUGHPUT = ["first page", "bbox", "CQL2 filter", "create"]


def _wrk(
    server: servers.Server,
    workload: str,
    bbox: str,
    workdir: Path,
    connections: int = CONNECTIONS,
    seconds: int = SECONDS,
) -> dict:
    """Requests per second and median latency (ms) wrk measures on one workload."""
    request = run._request(_Recorder(server.base), server, workload, bbox)
    script = workdir / "request.lua"
    headers = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in request["headers"].items())
    body = f"wrk.body = [[{request['body'].decode()}]]\n" if request["body"] else ""
    script.write_text(
        f'wrk.method = "{request["method"]}"\nwrk.path = [[{request["path"]}]]\n{headers}{body}'
        + (_PLACES if workload == "create" else "")
    )
    load = ["-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    result = subprocess.run(
        ["wrk", *load, "-s", str(script), server.url],
        capture_output=True,
        text=True,
        check=True,
    )
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    if errors:
        raise RuntimeError(f"{server.name}, {workload}: {errors.group(1)} failed requests\n{result.stdout}")
    value, unit = re.search(r"50%\s+([\d.]+)(us|ms|s)", result.stdout).groups()
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1)),
        "p50_ms": float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit],
    }


# Created projects each at their own place, as run.new_project places them (a grid around the first).
_PLACES = """
local columns, rows, step_x, step_y = {}, {}, {}, {}
local lon, lat = {}, {}
local count = 0
request = function()
  local column = count % columns - math.floor(columns / 2)
  local row = math.floor(count / columns) % rows - math.floor(rows / 2)
  count = count + 1
  local here = string.format("[%.6f,%.6f]", lon + column * step_x, lat + row * step_y)
  return wrk.format(nil, nil, nil, (wrk.body:gsub("%[[-%d.]+,[-%d.]+%]", here, 1)))
end
""".format(*run.GRID, *run.NEW_PROJECT["geometry"]["coordinates"])


class _Recorder:
    """Stands in for an httpx client on a server's base path: records the request run._request
    would send (its path as it goes on the request line)."""

    def __init__(self, base: str):
        self.base = base

    def get(self, path: str) -> dict:
        return {"method": "GET", "path": _encoded(self.base + path), "headers": {}, "body": b""}

    def post(self, path: str, content: bytes, headers: dict) -> dict:
        return {"method": "POST", "path": _encoded(self.base + path), "headers": headers, "body": content}


def _encoded(path: str) -> str:
    """The path and query as they go on the request line (percent-encoded)."""
    return httpx.URL(f"http://server{path}").raw_path.decode()


def workers(size: int, candidates: dict, bbox: str, workdir: Path) -> list[str]:
    """The throughput table: each backend with 1 and 2 workers."""
    lines = [
        f"#### {size:,} projects: 1 and 2 workers (requests/s, wrk with {CONNECTIONS} connections)",
        "",
        "| workload | " + " | ".join(f"{name}, {n} worker{'s' * (n > 1)}" for name in candidates for n in (1, 2))
        + " | " + " | ".join(f"{name}: 2 ÷ 1" for name in candidates) + " |",
        "|" + "---|" * (1 + 3 * len(candidates)),
    ]  # fmt: skip
    rates = {}
    for name, store in candidates.items():
        for count in (1, 2):
            server = servers.ours(name, store["location"], store["tokens"], store["token"], workers=count)
            with run.running(server, workdir, size):
                for workload in THROUGHPUT:
                    rates[name, count, workload] = _wrk(server, workload, bbox, workdir)["rps"]
    for workload in THROUGHPUT:
        cells = [f"{rates[n, c, workload]:.0f}" for n in candidates for c in (1, 2)]
        ratios = [f"{rates[n, 2, workload] / rates[n, 1, workload]:.2f}×" for n in candidates]
        lines.append(f"| {workload} | " + " | ".join(cells + ratios) + " |")
    return lines


def hot_path(size: int, candidates: dict, path: Path, workdir: Path) -> list[str]:
    """The first page over HTTP (one connection, so latency is the service's own, not queueing)
    against the in-process floor measured just before and after it, round by round."""
    lines = [
        f"#### {size:,} projects: first page, one connection (wrk p50) ÷ the in-process floor",
        "",
        "| round | " + " | ".join(f"{name} (ms) | floor (ms) | {name} ÷ floor" for name in candidates) + " |",
        "|" + "---|" * (1 + 3 * len(candidates)),
    ]
    ratios: dict = {name: [] for name in candidates}
    rows = [[str(n + 1)] for n in range(HOT_ROUNDS)]
    for name, store in candidates.items():
        server = servers.ours(name, store["location"], store["tokens"], store["token"])
        with run.running(server, workdir, size):
            for row in rows:
                before = run.floor(path)["first page"]
                served = _wrk(server, "first page", "", workdir, connections=1, seconds=HOT_SECONDS)["p50_ms"]
                floor_ms = (before + run.floor(path)["first page"]) / 2
                ratios[name].append(served / floor_ms)
                row += [f"{served:.2f}", f"{floor_ms:.2f}", f"{served / floor_ms:.2f}×"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    medians = " · ".join(f"{name} {statistics.median(r):.2f}×" for name, r in ratios.items())
    return [*lines, "", f"Median ratio: {medians}."]


def _tiles_over(extent_crs84: list[float]) -> dict[int, list[morecantile.Tile]]:
    """Up to TILES_PER_LEVEL tiles per level over the area, from its middle outwards."""
    tms = morecantile.tms.get("WebMercatorQuad")
    west, south, east, north = extent_crs84
    middle = ((west + east) / 2, (south + north) / 2)
    chosen = {}
    for level in LEVELS:
        found = list(tms.tiles(west, south, east, north, [level]))
        centre = tms.tile(*middle, level)
        found.sort(key=lambda t: (t.x - centre.x) ** 2 + (t.y - centre.y) ** 2)
        chosen[level] = found[:TILES_PER_LEVEL]
    return chosen


def _latencies(server: servers.Server, path_of, tiles: list[morecantile.Tile]) -> tuple[list[float], int]:
    times, size = [], 0
    with httpx.Client(base_url=server.url, timeout=600) as client:
        for tile in tiles:
            started = time.perf_counter()
            answer = client.get(path_of(tile))
            times.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
            size += len(answer.content)
    return times, size


def _p(times: list[float], share: float) -> float:
    return statistics.quantiles(times, n=100)[int(share * 100) - 1] if len(times) > 1 else times[0]


def tiles(size: int, candidates: dict, baseline_python: Path, url: str, extent: list, workdir: Path) -> list[str]:
    """The tiles table: p50 / p95 in ms per level, cold and warm, and the mean tile size."""
    ours = "/collections/projecten/tiles/WebMercatorQuad/{z}/{y}/{x}"
    theirs = "/collections/wijkplan.projecten/tiles/WebMercatorQuad/{z}/{x}/{y}"
    servers_and_paths = [
        *((servers.ours(name, s["location"], s["tokens"], s["token"]), ours) for name, s in candidates.items()),
        (servers.tipg(baseline_python, url), theirs),
    ]
    chosen = _tiles_over(extent)
    header = [f"{server.name} {kind}" for server, _ in servers_and_paths for kind in ("cold", "warm")]
    lines = [
        f"#### {size:,} projects: vector tiles, WebMercatorQuad (p50 / p95 ms; mean tile size)",
        "",
        "| level | tiles | " + " | ".join(header) + " | size (ours) |",
        "|" + "---|" * (3 + len(header)),
    ]
    cells: dict = {}
    for server, template in servers_and_paths:
        with run.running(server, workdir, size):
            for level, found in chosen.items():
                path_of = lambda t, template=template: template.format(z=t.z, x=t.x, y=t.y)  # noqa: E731
                cold, total = _latencies(server, path_of, found)
                warm, _ = _latencies(server, path_of, found)
                cells[server.name, level] = (cold, warm, total / len(found))
    for level, found in chosen.items():
        row = [
            f"{_p(times, 0.5):.1f} / {_p(times, 0.95):.1f}"
            for server, _ in servers_and_paths
            for times in cells[server.name, level][:2]
        ]
        mean = cells[servers_and_paths[0][0].name, level][2]
        lines.append(f"| {level} | {len(found)} | " + " | ".join(row) + f" | {mean / 1024:.1f} KB |")
    return lines


def run_size(size: int, cluster: Cluster, baseline_python: Path, workdir: Path) -> str:
    path = run.working_copy(size, workdir)
    source = GeoPackageStore(path)
    url = cluster.create_database(f"scale_{size}")
    run.postgis(source, size, url)
    box_rd = synthetic.bbox_around(source)
    extent = list(crs.transformer(crs.STORAGE, crs.CRS84).transform_bounds(*box_rd))
    bbox = ",".join(f"{v:.6f}" for v in extent)
    tokens_path = workdir / f"tokens-{size}.yml"
    token = Tokens(tokens_path).issue("benchmark", "planner")
    candidates = {
        "GeoPackage": {"location": str(path), "tokens": tokens_path, "token": token},
        "PostGIS": {"location": url, "tokens": tokens_path, "token": token},
    }
    sections = [
        hot_path(size, candidates, path, workdir),
        tiles(size, candidates, baseline_python, url, extent, workdir),
        workers(size, candidates, bbox, workdir),
    ]
    return "\n\n".join("\n".join(section) for section in sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--baseline-python", type=Path, required=True, help="python of the environment with tipg")
    args = parser.parse_args()
    heading = f"wrk with {CONNECTIONS} connections, {SECONDS} s a cell; tiles one client, one after another."
    run.report(args.sizes, args.baseline_python, run_size, heading, "scale-results.md")


if __name__ == "__main__":
    main()
