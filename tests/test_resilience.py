"""Abuse and failure, against a real server on both backends: many clients at once lose no write
and leave exact counts; a server killed in a write burst keeps every write it acknowledged."""

import os
import random
import signal
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
import yaml
from conftest import serving
from test_participation import PROPOSAL

from geoservice.query.filters import equals
from geoservice.store import GeoPackageStore, Query
from geoservice.store.postgis import PostGISStore

CLIENTS = 20
BURST_SECONDS = float(os.environ.get("GEOSERVICE_BURST_SECONDS", "60"))
POINTS = [[5.8662 + dx, 51.8467 + dy] for dx in (-0.002, 0, 0.002) for dy in (-0.001, 0, 0.001)]


@dataclass
class Ledger:
    """What the server acknowledged: new proposals, and support changes per proposal."""

    created: list = field(default_factory=list)
    support: Counter = field(default_factory=Counter)
    changes: int = 0
    errors: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _participant_client(server, token: str, number: int) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        timeout=60,
        headers={"Authorization": f"Bearer {token}", "Participant-Id": f"bewoner-{number}"},
    )


def _work(server, token: str, number: int, targets: list[int], ledger: Ledger, until: float) -> None:
    """One client: submit a proposal, then support or withdraw support for a random published one (as
    one of 20 participants), again and again."""
    rng = random.Random(number)
    with _participant_client(server, token, number) as client:
        while time.monotonic() < until:
            try:
                _step(client, rng, targets, ledger, number)
            except httpx.TransportError:
                return  # the server is gone
            except Exception as error:
                with ledger.lock:
                    ledger.errors.append(repr(error))


def _step(client, rng, targets, ledger: Ledger, number: int) -> None:
    body = {
        "type": "Feature",
        "properties": {**PROPOSAL, "titel": f"Voorstel van bewoner {number}"},
        "geometry": {"type": "Point", "coordinates": rng.choice(POINTS)},
    }
    created = client.post("/collections/voorstellen/items", json=body, headers={"Content-Type": "application/geo+json"})
    if created.status_code != 201:
        raise AssertionError(f"submit: {created.status_code} {created.text}")
    with ledger.lock:
        ledger.created.append(created.json()["id"])
    target = rng.choice(targets)
    method = client.post if rng.random() < 0.6 else client.delete
    answer = method(
        f"/collections/voorstellen/items/{target}/steun",
        headers={"Participant-Id": f"bewoner-{number}-{rng.randrange(20)}"},
    )
    if answer.status_code not in (200, 201):
        raise AssertionError(f"support: {answer.status_code} {answer.text}")
    if answer.json()["gewijzigd"]:
        with ledger.lock:
            ledger.support[target] += 1 if method == client.post else -1
            ledger.changes += 1


def _burst(server, token: str, targets: list[int], seconds: float) -> tuple[Ledger, list[threading.Thread]]:
    ledger, until = Ledger(), time.monotonic() + seconds
    threads = [threading.Thread(target=_work, args=(server, token, n, targets, ledger, until)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    return ledger, threads


@pytest.fixture
def high_limits(tmp_path) -> str:
    path = tmp_path / "wijkplan.yml"
    path.write_text(yaml.safe_dump({"deelname": {"limieten": {"indienen": 100_000, "steunen": 100_000}}}))
    return str(path)


def _targets(store) -> list[int]:
    return store.query(Query("voorstellen", equals("status", "gepubliceerd"), limit=5)).ids


def _support_rows(store, fid) -> int:
    return store.read("SELECT count(*) FROM steunbetuigingen WHERE voorstel = ?", (fid,))[0][0]


def _reopen(store):
    """A fresh handle on the store as it is on disk or in the database now."""
    if isinstance(store, GeoPackageStore):
        return GeoPackageStore(store.path)
    return PostGISStore(store.location)


def test_twenty_clients_for_a_minute_lose_no_write_and_keep_exact_counts(store, tokens_file, high_limits, tmp_path):
    targets = _targets(store)
    start = {fid: store.get("voorstellen", fid).properties[0]["steun"] for fid in targets}
    with serving(store.location, tmp_path, tokens_file[0], high_limits) as server:
        ledger, threads = _burst(server, tokens_file[1]["participatie"], targets, BURST_SECONDS)
        for thread in threads:
            thread.join()
        log = server.log.read_text()
    assert not ledger.errors, ledger.errors[:5]
    check = _reopen(store)
    stored = set(check.query(Query("voorstellen", limit=1_000_000, published_only=False)).ids)
    assert len(ledger.created) > CLIENTS and set(ledger.created) <= stored
    for fid in targets:
        steun = check.get("voorstellen", fid).properties[0]["steun"]
        assert steun == start[fid] + ledger.support[fid] == _support_rows(check, fid)
    requests = [line for line in log.splitlines() if '"POST ' in line or '"DELETE ' in line]
    assert len(requests) >= len(ledger.created)
    assert not [line for line in requests if "127.0.0.1" in line or "bewoner-" in line or "Bearer" in line]
    print(
        f"\n{type(store).__name__}: {len(ledger.created)} proposals and "
        f"{ledger.changes} support changes by {CLIENTS} clients in {BURST_SECONDS:g} s"
    )


def test_a_server_killed_in_a_write_burst_keeps_every_acknowledged_write(store, tokens_file, high_limits, tmp_path):
    targets = _targets(store)
    with serving(store.location, tmp_path, tokens_file[0], high_limits) as server:
        ledger, threads = _burst(server, tokens_file[1]["participatie"], targets, 30)
        while len(ledger.created) < 200:
            time.sleep(0.05)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        for thread in threads:
            thread.join()
    check = _reopen(store)
    if isinstance(check, GeoPackageStore):
        with sqlite3.connect(check.path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert (
                conn.execute("SELECT count(*) FROM rtree_voorstellen_geom").fetchone()
                == conn.execute("SELECT count(*) FROM voorstellen").fetchone()
            )
    stored = set(check.query(Query("voorstellen", limit=1_000_000, published_only=False)).ids)
    assert set(ledger.created) <= stored
    for fid in targets:
        assert check.get("voorstellen", fid).properties[0]["steun"] == _support_rows(check, fid)
    written = sum(1 for fid in stored if fid >= min(ledger.created))
    print(f"\n{type(store).__name__}: killed after {len(ledger.created)} acknowledged proposals; {written} stored")
