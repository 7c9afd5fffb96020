"""The servers the benchmark measures side by side, each in a process of its own (uvicorn, one
worker): the service on GeoPackage and on PostGIS, stock pygeoapi with its GeoJSON and its
PostgreSQL provider, and tipg."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from geoservice.settings import API_PATH

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from pgcluster import free_port  # noqa: E402  (the test suite's throwaway-cluster helpers)

RD = "http://www.opengis.net/def/crs/EPSG/0/28992"


@dataclass
class Server:
    """How to start one server and where its projects are."""

    name: str
    command: list[str]
    env: dict
    items_path: str
    port: int = field(default_factory=free_port)
    token: str | None = None
    writes: bool = True
    filters: bool = True
    process: subprocess.Popen | None = None
    base: str = ""  # the API's base path
    cwd: Path = ROOT  # the checkout it runs from

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base}"

    def start(self, log_dir: Path) -> Server:
        log = open(log_dir / f"{self.name}.log", "w")  # noqa: SIM115 - the server process writes it while it runs
        self.process = subprocess.Popen(
            [*self.command, "--port", str(self.port)],
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {log.name}")
            try:
                if httpx.get(self.url, timeout=2).status_code < 500:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start")

    def peak_rss_mb(self) -> float:
        """The server process's peak resident memory (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


def ours(name: str, store: str, tokens: Path, token: str, workers: int = 1, **settings) -> Server:
    """The service on a store; settings: further GEOSERVICE_ variables (name in lower case)."""
    command = [sys.executable, "-m", "geoservice.ops.cli", "serve"]
    env = {"GEOSERVICE_STORE": store, "GEOSERVICE_TOKENS": str(tokens), "GEOSERVICE_WORKERS": str(workers)}
    env.update({f"GEOSERVICE_{key.upper()}": str(value) for key, value in settings.items()})
    return Server(name, command, env, "/collections/projecten/items", token=token, base=API_PATH)


def _pygeoapi_config(port: int, provider: dict, bbox: list) -> dict:
    return {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port},
            "url": f"http://127.0.0.1:{port}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["en-US"],
            "limits": {"default_items": 100, "max_items": 10000},
            "pretty_print": False,
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OSM"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "benchmark",
                "description": "benchmark",
                "keywords": ["benchmark"],
                "keywords_type": "theme",
                "terms_of_service": "https://example.org",
                "url": "https://example.org",
            },
            "license": {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "benchmark", "url": "https://example.org"},
            "contact": {"name": "benchmark", "email": "benchmark@example.org", "url": "https://example.org"},
        },
        "resources": {
            "projecten": {
                "type": "collection",
                "title": "projecten",
                "description": "projecten",
                "keywords": ["projecten"],
                "extents": {"spatial": {"bbox": bbox, "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
                "providers": [{"type": "feature", "editable": True, **provider}],
            }
        },
    }


def stock_pygeoapi(
    name: str, python: Path, workdir: Path, provider: dict, bbox: list, writes: bool = True, filters: bool = True
) -> Server:
    """pygeoapi 0.24 as shipped: its Starlette app under uvicorn, configured for one provider."""
    server = Server(name, [], {}, "/collections/projecten/items", writes=writes, filters=filters)
    config, openapi = workdir / f"{name}.yml", workdir / f"{name}-openapi.yml"
    config.write_text(yaml.safe_dump(_pygeoapi_config(server.port, provider, bbox)))
    bindir = python.parent
    subprocess.run(
        [bindir / "pygeoapi", "openapi", "generate", config, "--output-file", openapi],
        check=True,
        capture_output=True,
        env={**os.environ, "PYGEOAPI_CONFIG": str(config)},
    )
    server.command = [str(bindir / "uvicorn"), "pygeoapi.starlette_app:APP", "--host", "127.0.0.1"]
    server.env = {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    return server


def tipg(python: Path, database_url: str) -> Server:
    """tipg on the same PostGIS schema; it publishes wijkplan.projecten and writes nothing."""
    command = [str(python.parent / "uvicorn"), "tipg.main:app", "--host", "127.0.0.1"]
    env = {"DATABASE_URL": database_url, "TIPG_DB_SCHEMAS": '["wijkplan"]', "TIPG_MAX_FEATURES_PER_QUERY": "10000"}
    return Server("tipg", command, env, "/collections/wijkplan.projecten/items", writes=False)
