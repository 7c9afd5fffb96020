"""Fixtures: a demo store built once, copies of it for tests that write, the app in-process and
served by a real uvicorn process."""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pyogrio
import pytest
import shapely
from pgcluster import Cluster, free_port
from playwright.sync_api import sync_playwright
from starlette.testclient import TestClient

from geoservice.api.app import create_app
from geoservice.domain.model import ROLES
from geoservice.domain.policy import Policy
from geoservice.ops import demo
from geoservice.participation.tokens import Tokens
from geoservice.publish import follower, maps
from geoservice.settings import API_PATH, Settings
from geoservice.store import GeoPackageStore, Store, open_store
from geoservice.store.postgis import PostGISStore

ROOT = Path(__file__).resolve().parent.parent
CONFIG = str(ROOT / "config" / "pygeoapi.yml")
POLICY = str(ROOT / "config" / "wijkplan.yml")
NO_MAPS = str(Path(tempfile.gettempdir()) / "wijkplan-tests-no-maps")  # never built: tests leave data/maps alone


BACKENDS = ["geopackage", "postgis"]


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory) -> Path:
    """The demo store as a GeoPackage, built once for the session; tests must not write to it."""
    path = tmp_path_factory.mktemp("demo") / "wijkplan.gpkg"
    demo.build(str(path), Policy.load(POLICY))
    built = _last_change(path)
    yield path
    assert _last_change(path) == built, "the shared demo store was written to; a test that writes takes a copy"


def _last_change(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT max(volgnummer) FROM wijzigingen").fetchone()[0]


def copy_store(source: Path, target: Path) -> Path:
    """A consistent copy of a GeoPackage store, with what its write-ahead log holds (SQLite's backup)."""
    with contextlib.closing(sqlite3.connect(source)) as read, contextlib.closing(sqlite3.connect(target)) as write:
        read.backup(write)
    return target


@pytest.fixture(scope="session")
def gdal_demo_path(demo_path, tmp_path_factory) -> Path:
    """A copy of the demo store for GDAL to open in the test process.

    GDAL links a SQLite of its own. When it closes a file that Python's SQLite also holds open in
    the same process, POSIX drops the locks of both; another process then takes itself for the last
    reader and removes the write-ahead log under the open connections ("disk I/O error")."""
    return copy_store(demo_path, tmp_path_factory.mktemp("gdal") / "wijkplan.gpkg")


@pytest.fixture(scope="session", autouse=True)
def gdal_keeps_off_the_shared_store(demo_path):
    """GDAL (pyogrio, geopandas) refuses the shared demo store: a test gives it `gdal_demo_path`."""
    patch = pytest.MonkeyPatch()
    for name in ("read_dataframe", "read_arrow", "read_info", "list_layers", "open_arrow"):
        patch.setattr(pyogrio, name, _refusing(getattr(pyogrio, name), demo_path))
    yield
    patch.undo()


def _refusing(function, shared: Path):
    def guarded(path_or_buffer, *args, **kwargs):
        if isinstance(path_or_buffer, str | Path) and Path(path_or_buffer) == shared:
            raise AssertionError("GDAL must not open the shared demo store in this process: use gdal_demo_path")
        return function(path_or_buffer, *args, **kwargs)

    return guarded


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster for the session, with the demo store in a template database."""
    cluster = Cluster().start()
    try:
        demo.build(cluster.create_database("demo_template"), Policy.load(POLICY))
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def demo_location(request, demo_path) -> str:
    """Where the read-only demo store of each backend is."""
    if request.param == "geopackage":
        return str(demo_path)
    return request.getfixturevalue("postgres").shared_database("demo_read", "demo_template")


@pytest.fixture(scope="session")
def demo_store(demo_location) -> Store:
    return open_store(demo_location)


@pytest.fixture(scope="session")
def both_backends(demo_path, postgres):
    """The API in-process on the demo store of each backend, side by side, for reading only."""
    stores = GeoPackageStore(demo_path), PostGISStore(postgres.shared_database("demo_both", "demo_template"))
    yield [client_for(s) for s in stores]
    for s in stores:
        s.close()


@pytest.fixture(params=BACKENDS)
def store(request, demo_path, tmp_path):
    """A private copy of the demo store that a test may change, on each backend."""
    if request.param == "geopackage":
        copy = GeoPackageStore(copy_store(demo_path, tmp_path / "wijkplan.gpkg"))
        yield copy
        copy.close()
        return
    cluster = request.getfixturevalue("postgres")
    name = f"test_{next(_numbers)}"
    copy = PostGISStore(cluster.create_database(name, "demo_template"))
    yield copy
    copy.close()
    cluster.drop_database(name)


_numbers = itertools.count()


def client_for(store: Store, tokens_path=None, policy=POLICY, maps=NO_MAPS) -> TestClient:
    """The API on a store, in-process (with another policy file or maps folder when given)."""
    settings = Settings(
        store=store.location,
        config=CONFIG,
        url="http://testserver",
        policy=str(policy),
        tokens=str(tokens_path or "no-tokens.yml"),
        maps=str(maps),
        downloads=tempfile.mkdtemp(prefix="wijkplan-downloads-"),
    )
    return TestClient(create_app(settings, store))


@pytest.fixture(scope="session")
def tokens_file(tmp_path_factory):
    """A tokens file with one client per role; returns (path, {role: token})."""
    path = tmp_path_factory.mktemp("tokens") / "tokens.yml"
    tokens = Tokens(path)
    return path, {role: tokens.issue(f"test-{role}", role) for role in ROLES}


@pytest.fixture(scope="session")
def tokens(tokens_file) -> dict:
    return tokens_file[1]


@pytest.fixture(scope="session")
def writable_app(demo_path, tokens_file, tmp_path_factory):
    """The ASGI application on a session-wide copy of the GeoPackage demo store, with the test tokens."""
    path = copy_store(demo_path, tmp_path_factory.mktemp("writable") / "wijkplan.gpkg")
    return create_app(
        Settings(
            store=str(path),
            config=CONFIG,
            url="http://testserver",
            policy=POLICY,
            maps=NO_MAPS,
            downloads=str(tmp_path_factory.mktemp("downloads")),
            tokens=str(tokens_file[0]),
        )
    )


@pytest.fixture(scope="session")
def client(demo_store) -> TestClient:
    """The API on the demo store, in-process."""
    return client_for(demo_store)


@pytest.fixture
def store_client(store, tokens_file) -> TestClient:
    """The API on a private copy of the demo store, with the test tokens."""
    return client_for(store, tokens_file[0])


@dataclass
class LiveServer:
    """`geoservice serve` (uvicorn) in a process of its own, with its access log in a file."""

    url: str  # the API's root (the service's and the API's base path)
    log: Path
    process: subprocess.Popen

    @property
    def root(self) -> str:
        """The service's own root, before the API's base path."""
        return self.url.removesuffix(API_PATH)

    def requests(self) -> list[str]:
        """The request lines the server has logged so far."""
        return [line.split('"')[1] for line in self.log.read_text().splitlines() if '"' in line]


def followers(server) -> list[Path]:
    """The /proc folders of the background processes (`maps --follow`) the served process started."""
    children = [p for p in Path("/proc").glob("[0-9]*") if _parent(p) == server.process.pid]
    return [p for p in children if b"--follow" in (p / "cmdline").read_bytes()]


def _parent(process: Path) -> int | None:
    try:
        return int((process / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


@contextlib.contextmanager
def serving(location: str, directory: Path, tokens_path=None, policy=POLICY, maps=NO_MAPS, **settings):
    """The service in a process of its own; settings: further GEOSERVICE_ variables (name in lower case)."""
    port = free_port()
    env = {
        **os.environ,
        "GEOSERVICE_STORE": location,
        "GEOSERVICE_CONFIG": CONFIG,
        "GEOSERVICE_MAPS": str(maps),
        "GEOSERVICE_DOWNLOADS": str(directory / "downloads"),
        "GEOSERVICE_TOKENS": str(tokens_path or "no-tokens.yml"),
        "GEOSERVICE_POLICY": str(policy),
        **{f"GEOSERVICE_{name.upper()}": str(value) for name, value in settings.items()},
    }
    env.pop("GEOSERVICE_URL", None)
    log = directory / f"access-{port}.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "geoservice.ops.cli", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}{API_PATH}", log, process)
    try:
        _wait_until_up(server, process)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def live(demo_location, tmp_path_factory):
    """The demo store of each backend served by a real uvicorn process on a free loopback port."""
    with serving(demo_location, tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture
def live_writable(store, tokens_file, tmp_path):
    """A private copy of the demo store of each backend, served with the test tokens."""
    with serving(store.location, tmp_path, tokens_file[0]) as server:
        yield server


def _wait_until_up(server: LiveServer, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {server.log.read_text()}")
        try:
            if httpx.get(f"{server.url}/conformance?f=json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {server.url} did not come up in {seconds} s")


# -- in Chromium ----------------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TILE_HOST = urlparse(maps.BASE_MAPS["pdok"][0]).hostname
HOSTILE = "<img src=x onerror=alert(1)>"
BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


# Whether nothing on the page is still loading (a map's script marks its section busy until its data
# is drawn and listed).
SETTLED = "() => !document.querySelector('[aria-busy=true]')"


class Visit:
    """One page in a fresh browser context: its console errors, dialogs and requests to other hosts."""

    def __init__(self, browser, server, **options):
        self.context = browser.new_context(**options)
        self.page = self.context.new_page()
        self.errors, self.dialogs, self.foreign, self.tiles = [], [], [], 0
        own = urlparse(server.url).netloc
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.route("**/*", lambda route: self._route(route, own))

    def goto(self, url: str) -> None:
        """Open a page and wait until it has loaded, a map's data included."""
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function(SETTLED)

    def _route(self, route, own: str) -> None:
        host = urlparse(route.request.url)
        if host.netloc == own:
            route.continue_()
        elif host.hostname == TILE_HOST:  # no internet here: an empty tile
            self.tiles += 1
            route.fulfill(status=200, body=BLANK_PNG, content_type="image/png")
        else:
            self.foreign.append(route.request.url)
            route.abort()


@pytest.fixture(scope="module")
def mapped(tmp_path_factory, demo_path):
    """A copy of the demo store with a hostile proposal, its maps, and the service serving both."""
    directory = tmp_path_factory.mktemp("maps")
    path = copy_store(demo_path, directory / "wijkplan.gpkg")
    store = GeoPackageStore(path)
    store.insert(
        "voorstellen",
        [
            (
                {
                    "titel": HOSTILE,
                    "omschrijving": HOSTILE,
                    "soort": "idee",
                    "categorie": "overig",
                    "status": "gepubliceerd",
                    "auteur": HOSTILE,
                },
                shapely.Point(187700, 428600),
            )
        ],
    )
    follower.rebuild(store, Policy.load(POLICY), directory / "maps")
    with serving(str(path), directory, maps=directory / "maps") as server:
        yield server, store, directory / "maps"


# The longest files start first, so that the test processes finish together.
LONGEST_FIRST = ("test_openapi.py", "test_accessibility.py", "test_maps.py", "test_qgis.py")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: LONGEST_FIRST.index(item.path.name) if item.path.name in LONGEST_FIRST else 99)
