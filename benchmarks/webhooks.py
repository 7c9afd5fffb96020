"""Webhook benchmark: 100 subscriptions to every change, a receiver on a loopback port (a process
of its own, keeping connections alive), changes written one after another; the time from a
change's commit to its arrival (p50/p95) and the deliveries per second, with the dispatcher
polling as the service does (every 1 s) and faster.

    .venv/bin/python benchmarks/webhooks.py [--subscriptions 100] [--changes 50]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from geoservice.domain.policy import Policy, Webhooks
from geoservice.ops import demo
from geoservice.publish.background import Repeating
from geoservice.publish.webhooks import Dispatcher
from geoservice.store import GeoPackageStore, subscriptions
from geoservice.store.private import Actor

PLANNER = Actor("planner", "benchmark")


RECEIVER = """
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        sys.stdout.write(f"{self.headers['webhook-id']} {time.time()}\\n")  # one write: lines never mix
        sys.stdout.flush()
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_port, flush=True)
server.serve_forever()
"""


class Receiver:
    """A receiver in a process of its own (it takes no time from the service's), noting when each
    message (by webhook-id) arrived; a message that came twice counts once."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
        self.url = f"http://127.0.0.1:{self.process.stdout.readline().strip()}/hook"
        self.arrived: dict[str, float] = {}
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        for line in self.process.stdout:
            message, moment = line.split()
            self.arrived.setdefault(message, float(moment))

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


def measure(directory: Path, count: int, changes: int, interval_s: float) -> dict:
    path = directory / f"wijkplan-{interval_s}.gpkg"
    demo.build(str(path), Policy())
    store = GeoPackageStore(path)
    receiver = Receiver()
    arrived = receiver.arrived
    made = [
        subscriptions.subscribe(store, "benchmark", "planner", receiver.url, None, None, None) for _ in range(count)
    ]
    rules = Webhooks(toegestane_hosts=("127.0.0.1",), time_out_s=5)
    dispatcher = Repeating("webhooks", Dispatcher(store, rules, "http://127.0.0.1").round, interval_s)
    dispatcher.start()
    committed = {}
    for n in range(changes):
        store.update("projecten", 1 + n % 300, {"planjaar": 2030 + n % 5}, actor=PLANNER)
        committed[store.last_change()] = time.time()
        time.sleep(0.02)
    expected = count * changes
    deadline = time.monotonic() + 600
    while len(arrived) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    dispatcher.stop()
    receiver.close()
    latencies = [
        arrived[f"msg_wijkplan_{s.id}_{sequence}"] - moment
        for s in made
        for sequence, moment in committed.items()
        if f"msg_wijkplan_{s.id}_{sequence}" in arrived
    ]
    span = max(arrived.values()) - min(committed.values())
    return {
        "delivered": len(latencies),
        "expected": expected,
        "p50": statistics.median(latencies),
        "p95": statistics.quantiles(latencies, n=20)[18],
        "per_s": len(latencies) / span,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=100)
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()
    print("| dispatcher polls every | delivered | latency p50 | latency p95 | deliveries per second |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="wijkplan-webhooks-") as directory:
        for interval_s in (1.0, 0.1):
            result = measure(Path(directory), args.subscriptions, args.changes, interval_s)
            print(
                f"| {interval_s:g} s | {result['delivered']} of {result['expected']} | {result['p50']:.2f} s | "
                f"{result['p95']:.2f} s | {result['per_s']:.0f} |"
            )


if __name__ == "__main__":
    main()
