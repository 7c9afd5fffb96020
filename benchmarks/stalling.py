"""How one client can hold up the others: the latency of a simple read while one client streams an
endless request header, and while a crowd holds 1 000 half-open connections.

    python benchmarks/stalling.py [--source DIR ...] [--seconds 10]

Each --source is a checkout of the service whose `geoservice serve` is measured (default: this one),
so that two versions can be compared side by side in one run. Prints a table of the latency of
`GET /collections/projecten/items/1` (a new connection per request, as many clients make them):
quiet, under each attack, the share of answers other than 200, and how many of the attacker's
connections the service closed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from geoservice.settings import API_PATH

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from pgcluster import free_port  # noqa: E402

READ = f"{API_PATH}/collections/projecten/items/1"
HALF_OPEN = 1000
ATTACK_ADDRESSES = 40  # the crowd comes from many addresses (127.0.1.x), as a botnet would


def _serve(source: Path, store: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(source),
        "GEOSERVICE_STORE": str(store),
        "GEOSERVICE_CONFIG": str(source / "config" / "pygeoapi.yml"),
        "GEOSERVICE_MAPS": tempfile.mkdtemp(),
        "GEOSERVICE_DOWNLOADS": tempfile.mkdtemp(),
        "GEOSERVICE_POLICY": str(source / "config" / "wijkplan.yml"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "geoservice.ops.cli", "serve", "--port", str(port)],
        cwd=source,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{READ}", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the service of {source} did not start")


def _endless_header(port: int, stop, closed) -> None:
    """Stream one header that never ends; start again whenever the server hangs up."""
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nX-Endless: ")
                while not stop.is_set():
                    sock.sendall(b"a" * 1024)
        except OSError:
            closed.value += 1
            time.sleep(0.01)


def _half_open(port: int, stop, closed) -> None:
    """Hold HALF_OPEN connections that send part of a request head and then nothing; reopen the ones
    the server closes."""
    held: list[socket.socket] = []
    while not stop.is_set():
        alive = []
        for sock in held:
            try:
                sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                raise ConnectionResetError  # an answer (408) or the end: the server closed it
            except BlockingIOError:
                alive.append(sock)
            except OSError:
                closed.value += 1
                sock.close()
        held = alive
        while len(held) < HALF_OPEN and not stop.is_set():
            source = f"127.0.1.{1 + len(held) % ATTACK_ADDRESSES}"
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=2, source_address=(source, 0))
                sock.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n")
                held.append(sock)
            except OSError:
                break
        time.sleep(0.2)
    for sock in held:
        sock.close()


def _read(port: int) -> int:
    """One read on a new connection; its status (0 when the connection failed)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(f"GET {READ} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        return int(answer.split(b" ", 2)[1])
    except (OSError, IndexError, ValueError):
        return 0


def _measure(port: int, seconds: float) -> dict:
    """Reads one after another for `seconds`: latency in ms, and how many did not answer 200."""
    latencies, failed, deadline = [], 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        status = _read(port)
        latencies.append((time.perf_counter() - started) * 1000)
        failed += status != 200
    ordered = sorted(latencies)
    return {
        "reads": len(latencies),
        "p50": statistics.median(ordered),
        "p95": ordered[int(0.95 * (len(ordered) - 1))],
        "max": ordered[-1],
        "failed": failed / len(latencies),
    }


def _under(attack, port: int, seconds: float) -> dict:
    if attack is None:
        return {**_measure(port, seconds), "closed": "–"}
    stop, closed = multiprocessing.Event(), multiprocessing.Value("i", 0)
    attacker = multiprocessing.Process(target=attack, args=(port, stop, closed), daemon=True)
    attacker.start()
    time.sleep(2)  # the attack is under way
    try:
        return {**_measure(port, seconds), "closed": closed.value}
    finally:
        stop.set()
        attacker.join(timeout=10)
        attacker.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", action="append", type=Path, help="checkout(s) to measure (default: this one)")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    store = Path(tempfile.mkdtemp()) / "wijkplan.gpkg"
    subprocess.run(
        [sys.executable, "-m", "geoservice.ops.cli", "--store", str(store), "demo"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    print(
        "| service | condition | reads | p50 ms | p95 ms | max ms | not 200 | attacker's connections closed |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    for source in args.source or [ROOT]:
        port = free_port()
        server = _serve(source.resolve(), store, port)
        try:
            for name, attack in (
                ("quiet", None),
                ("one endless header", _endless_header),
                (f"{HALF_OPEN} half-open connections", _half_open),
            ):
                row = _under(attack, port, args.seconds)
                print(
                    f"| {source.name} | {name} | {row['reads']} | {row['p50']:.1f} | {row['p95']:.1f} | "
                    f"{row['max']:.0f} | {row['failed']:.0%} | {row['closed']} |",
                    flush=True,
                )
                time.sleep(6)  # let the server shed what the attack left
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
