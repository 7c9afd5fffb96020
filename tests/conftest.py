"""Fixtures: a demo store built once, copies of it for tests that write, the app in-process and
served by a real uvicorn process."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from geoservice import demo
from geoservice.app import create_app
from geoservice.auth import Tokens
from geoservice.model import ROLES
from geoservice.settings import Settings
from geoservice.store import GeoPackageStore

ROOT = Path(__file__).resolve().parent.parent
CONFIG = str(ROOT / "config" / "pygeoapi.yml")


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory) -> Path:
    """The demo store, built once for the session; tests must not write to it."""
    return demo.build(tmp_path_factory.mktemp("demo") / "wijkplan.gpkg").path


@pytest.fixture(scope="session")
def demo_store(demo_path) -> GeoPackageStore:
    return GeoPackageStore(demo_path)


@pytest.fixture
def store(demo_path, tmp_path) -> GeoPackageStore:
    """A private copy of the demo store that a test may change."""
    path = tmp_path / "wijkplan.gpkg"
    shutil.copy(demo_path, path)
    return GeoPackageStore(path)


def client_for(store_path, tokens_path=None) -> TestClient:
    """The API on the store at store_path, in-process."""
    settings = Settings(store=str(store_path), config=CONFIG, url="http://testserver",
                        tokens=str(tokens_path or "no-tokens.yml"))
    return TestClient(create_app(settings))


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
    """The ASGI application on a session-wide copy of the demo store, with the test tokens."""
    path = tmp_path_factory.mktemp("writable") / "wijkplan.gpkg"
    shutil.copy(demo_path, path)
    return create_app(Settings(store=str(path), config=CONFIG, url="http://testserver",
                               tokens=str(tokens_file[0])))


@pytest.fixture(scope="session")
def client(demo_path) -> TestClient:
    """The API on the demo store, in-process."""
    return client_for(demo_path)


@pytest.fixture
def store_client(store, tokens_file) -> TestClient:
    """The API on a private copy of the demo store, with the test tokens."""
    return client_for(store.path, tokens_file[0])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_url(demo_path):
    """The API served by `geoservice serve` (uvicorn) on a free loopback port."""
    port = free_port()
    env = {**os.environ, "GEOSERVICE_STORE": str(demo_path), "GEOSERVICE_CONFIG": CONFIG}
    env.pop("GEOSERVICE_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "geoservice.cli", "serve", "--port", str(port)],
                               env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode()}")
        try:
            if httpx.get(f"{url}/conformance?f=json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not come up in {seconds} s")
