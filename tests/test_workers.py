"""Four worker processes behave as one service, on each backend: rate limits hold across them,
each change rebuilds its maps once, derived data is derived once, and tokens issued while they run
count in every one of them."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
import yaml
from conftest import BACKENDS, POLICY, LiveServer, copy_store, serving
from test_participation import PROJECT, feature, headers

from geoservice.derived import derivation
from geoservice.domain.policy import Policy
from geoservice.participation.tokens import Tokens
from geoservice.publish import follower
from geoservice.publish.maps import STAMP
from geoservice.store import GeoPackageStore, Store, changes, open_store
from geoservice.store.changes import DERIVED

WORKERS = 4
LIMIT = 7  # supports a minute, for the participation client of these tests
REBUILT = re.compile(r"kaarten: \d+ files \(\d+ kB\) written for changes (\d+) to (\d+)")


class Served(NamedTuple):
    server: LiveServer
    store: Store
    tokens_path: Path
    tokens: dict[str, str]  # role -> token
    maps: Path


@pytest.fixture(scope="module", params=BACKENDS)
def served(request, demo_path, tmp_path_factory) -> Served:
    """A copy of the demo store with its maps, served by four workers."""
    directory = tmp_path_factory.mktemp("workers")
    if request.param == "geopackage":
        store = GeoPackageStore(copy_store(demo_path, directory / "wijkplan.gpkg"))
    else:
        cluster = request.getfixturevalue("postgres")
        store = open_store(cluster.create_database(f"workers_{directory.name}", "demo_template"))
    policy = directory / "wijkplan.yml"
    rules = yaml.safe_load(Path(POLICY).read_text(encoding="utf-8"))
    rules["deelname"]["limieten"]["steunen"] = LIMIT
    policy.write_text(yaml.safe_dump(rules), encoding="utf-8")
    follower.rebuild(store, Policy.load(policy), directory / "maps")
    tokens_path = directory / "tokens.yml"
    issued = {role: Tokens(tokens_path).issue(f"werk-{role}", role) for role in ("participatie", "planner")}
    with serving(
        store.location, directory, tokens_path, policy, directory / "maps", workers=WORKERS, maps_interval_s=0.2
    ) as server:
        yield Served(server, store, tokens_path, issued, directory / "maps")
    store.close()


def _in_parallel(call, count: int) -> list:
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(call, range(count)))


def _published(store, count: int) -> list[int]:
    rows = store.read("SELECT fid FROM voorstellen WHERE status = 'gepubliceerd' ORDER BY fid LIMIT ?", (count,))
    return [row[0] for row in rows]


def test_a_rate_limit_holds_across_the_workers(served):
    server, store, issued = served.server, served.store, served.tokens
    proposals = _published(store, 3 * LIMIT)

    def support(number: int) -> httpx.Response:
        return httpx.post(
            f"{server.url}/collections/voorstellen/items/{proposals[number]}/steun",
            headers=headers(issued, "participatie", f"steuner-{number}"),
            timeout=30,
        )

    answers = _in_parallel(support, len(proposals))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * LIMIT + [429] * (len(proposals) - LIMIT)
    assert all(1 <= int(a.headers["Retry-After"]) <= 60 for a in answers if a.status_code == 429)


def test_each_change_rebuilds_its_maps_once(served):
    server, store, issued, maps = served.server, served.store, served.tokens, served.maps
    first = store.last_change() + 1
    created = [
        httpx.post(
            f"{server.url}/collections/projecten/items",
            json=feature(PROJECT),
            headers=headers(issued, "planner"),
            timeout=30,
        )
        for _ in range(5)
    ]
    assert [answer.status_code for answer in created] == [201] * 5
    last = store.last_change()
    deadline = time.monotonic() + 60
    while int((maps / STAMP).read_text().split()[0]) < last:
        assert time.monotonic() < deadline, "the maps did not catch up within a minute"
        time.sleep(0.2)
    rebuilds = [(int(a), int(b)) for a, b in REBUILT.findall(server.log.read_text()) if int(b) >= first]
    covered = [number for start, end in rebuilds for number in range(start, end + 1)]
    assert len(covered) == len(set(covered)), f"a change was rebuilt twice: {rebuilds}"
    assert set(range(first, last + 1)) <= set(covered)


def test_derived_data_is_derived_once_for_all_workers(served):
    server, store, issued = served.server, served.store, served.tokens
    deadline = time.monotonic() + 30
    while changes.since(store, derivation.stamp(store, "koppelkansen").sequence, 1, derivation.SOURCES):
        assert time.monotonic() < deadline, "earlier changes were not derived within 30 s"
        time.sleep(0.1)  # the writes of earlier tests derived first (by the workers' background)
    before = store.last_change()
    answer = httpx.post(
        f"{server.url}/collections/projecten/items", json=feature(PROJECT), headers=headers(issued, "planner")
    )
    assert answer.status_code == 201

    def read(_: int) -> int:
        return httpx.get(f"{server.url}/collections/koppelkansen/items?limit=1", timeout=60).status_code

    assert set(_in_parallel(read, 4 * WORKERS)) == {200}
    derived = [c for c in store.changes_since(before) if c.kind == DERIVED and c.collection == "koppelkansen"]
    assert len(derived) == 1


def test_a_token_issued_while_serving_counts_in_every_worker(served):
    server = served.server
    token = Tokens(served.tokens_path).issue("nieuw-planbureau", "planner")

    def create(_: int) -> int:
        return httpx.post(
            f"{server.url}/collections/projecten/items",
            json=feature(PROJECT),
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ).status_code

    assert _in_parallel(create, 4 * WORKERS) == [201] * (4 * WORKERS)
