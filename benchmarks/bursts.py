"""Write bursts against the maps: a simple read in a loop while projects are created at 0, 5 and 50
a second, on the demo store with its maps, served by one worker; and the same without maps (no map
builder). Per burst: reads a second and their p95, create latency, map builder rounds and files
written per 1 000 writes (from the service's log) and the delay from a create's answer to the maps
reflecting it (the change recorded in the maps folder). --source measures another checkout beside
this one (e.g. one from before the map builder had a process of its own).

    .venv/bin/python benchmarks/bursts.py [--source DIR] [--seconds 10]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson
import run
import servers

from geoservice.domain.policy import Policy
from geoservice.ops import demo
from geoservice.participation.tokens import Tokens
from geoservice.publish import follower
from geoservice.store import GeoPackageStore

RATES = (0, 5, 50)  # writes a second
READ = "/collections/projecten/items/1"
# A round of the map builder in the service's log: the files it wrote (maps, or data files and the index).
REBUILT = re.compile(r"kaarten: (\d+) (?:maps rebuilt|files \(\d+ kB\) written) for changes (\d+) to (\d+)")


def _reads(client: httpx.Client, until: float, times: list[float]) -> None:
    while time.monotonic() < until:
        sent = time.perf_counter()
        client.get(READ).raise_for_status()
        times.append((time.perf_counter() - sent) * 1000)


def _writes(client: httpx.Client, rate: int, until: float, token: str, made: list[tuple[float, float]]) -> None:
    """Creates at rate a second (on schedule: a slow answer is not made up for by waiting less)."""
    headers = {"Content-Type": "application/geo+json", "Authorization": f"Bearer {token}"}
    due = time.monotonic()
    while rate and due < until:
        time.sleep(max(0.0, due - time.monotonic()))
        sent = time.perf_counter()
        body = orjson.dumps(run.new_project(len(made)))
        client.post("/collections/projecten/items", content=body, headers=headers).raise_for_status()
        made.append(((time.perf_counter() - sent) * 1000, time.monotonic()))
        due += 1 / rate


def _reflected(maps: Path, store: GeoPackageStore, since: int, made: list, limit_s: float = 60) -> list[float]:
    """Seconds from each create's answer until the maps reflected it (watched every 50 ms)."""
    creates = [c.sequence for c in store.changes_since(since, 100_000) if c.collection == "projecten"]
    answered = dict(zip(creates, (moment for _, moment in made)))
    delays, deadline = {}, time.monotonic() + limit_s
    while len(delays) < len(answered) and time.monotonic() < deadline:
        shown = (follower.applied(maps) or (0, ""))[0]
        now = time.monotonic()
        delays.update({seq: now - moment for seq, moment in answered.items() if seq <= shown and seq not in delays})
        time.sleep(0.05)
    return list(delays.values())


def burst(server: servers.Server, log: Path, store: GeoPackageStore, maps: Path, rate: int, seconds: float) -> dict:
    since, log_from = store.last_change(), log.stat().st_size
    reads, made = [], []
    until = time.monotonic() + seconds
    with httpx.Client(base_url=server.url, timeout=60) as reader, httpx.Client(base_url=server.url, timeout=60) as w:
        threads = [threading.Thread(target=_reads, args=(reader, until, reads))]
        threads.append(threading.Thread(target=_writes, args=(w, rate, until, server.token, made)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    delays = _reflected(maps, store, since, made) if rate and (maps / "index.html").exists() else []
    rounds = [(int(n), int(a), int(b)) for n, a, b in REBUILT.findall(_log_after(log, log_from))]
    return {"reads": reads, "writes": [ms for ms, _ in made], "delays": delays, "rounds": rounds}


def _log_after(log: Path, offset: int) -> str:
    with open(log, encoding="utf-8") as text:
        text.seek(offset)
        return text.read()


def _p(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1] if len(values) > 1 else values[0]


def row(name: str, rate: int, result: dict, seconds: float) -> str:
    reads, writes, delays, rounds = result["reads"], result["writes"], result["delays"], result["rounds"]
    per_thousand = "–"
    if writes and rounds:
        scale = 1000 / len(writes)
        per_thousand = f"{len(rounds) * scale:.0f} / {sum(n for n, _, _ in rounds) * scale:.0f}"
    create = f"{statistics.median(writes):.1f} / {_p(writes, 0.95):.1f}" if writes else "–"
    delay = f"{statistics.median(delays):.1f} / {_p(delays, 0.95):.1f} s" if delays else "–"
    return (
        f"| {name} | {rate} | {len(reads) / seconds:.0f} | {_p(reads, 0.95):.1f} | {create} | {per_thousand} "
        f"| {delay} |"
    )


def measure(source: Path, name: str, with_maps: bool, seconds: float, workdir: Path, demo_path: Path) -> list[str]:
    folder = workdir / re.sub(r"\W+", "-", f"{name} {'maps' if with_maps else 'none'}").strip("-")
    folder.mkdir()
    path = run.copy_of(demo_path, folder / "wijkplan.gpkg")
    store = GeoPackageStore(path)
    maps = folder / "maps"
    if with_maps:
        follower.rebuild(store, Policy.load(servers.ROOT / "config" / "wijkplan.yml"), maps)
    token = Tokens(folder / "tokens.yml").issue("benchmark", "planner")
    server = servers.ours("service", str(path), folder / "tokens.yml", token, maps=maps)  # no maps: nothing to follow
    server.cwd = source
    label = f"{name}, {'with maps' if with_maps else 'no maps'}"
    with run.running(server, folder, 340):
        log = folder / "service.log"
        return [row(label, rate, burst(server, log, store, maps, rate, seconds), seconds) for rate in RATES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", action="append", type=Path, default=[], help="another checkout to measure")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    sources = {"this checkout": servers.ROOT, **{str(s): s.resolve() for s in args.source}}
    lines = [
        f"Write bursts, {args.seconds:.0f} s each, demo store (GeoPackage), one worker; p50 / p95.",
        "",
        "| service | writes/s | reads/s | read p95 ms | create ms | rebuilds per 1 000 writes (rounds / files) "
        "| write to map |",
        "|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        demo_path = Path(folder) / "demo.gpkg"
        demo.build(str(demo_path), Policy.load(servers.ROOT / "config" / "wijkplan.yml"))
        for name, source in sources.items():
            for with_maps in (True, False):
                lines += measure(source, name, with_maps, args.seconds, Path(folder), demo_path)
                print(f"measured {name}", file=sys.stderr)
    text = f"Run {time.strftime('%Y-%m-%d %H:%M')} on {run.machine()}. " + "\n".join(lines) + "\n"
    (Path(__file__).resolve().parent / "bursts-results.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
