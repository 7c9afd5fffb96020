"""The QGIS project the service offers, opened by QGIS itself (Debian's python3-qgis, headless)."""

import json
import subprocess
from pathlib import Path

import httpx

from geoservice.domain.model import COLLECTIONS, TABLES

SYSTEM_PYTHON = "/usr/bin/python3"  # python3-qgis is for the system Python only
OPEN = Path(__file__).with_name("qgis_open.py")


def test_qgis_opens_every_collection_with_the_features_the_api_reports(live, tmp_path):
    project = tmp_path / "wijkplan.qgs"
    answer = httpx.get(f"{live.url}/qgis/wijkplan.qgs")
    assert answer.headers["Content-Type"] == "application/x-qgis-project"
    project.write_bytes(answer.content)
    run = subprocess.run(
        [SYSTEM_PYTHON, str(OPEN), str(project)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    opened = json.loads(run.stdout.strip().splitlines()[-1])
    assert opened["opened"] and opened["crs"] == "EPSG:28992"
    layers = opened["layers"]
    assert set(layers) == {name for name, c in COLLECTIONS.items() if not c.mixed}
    for name, layer in layers.items():
        assert layer["valid"] and layer["labels"], name
        assert layer["drawn"] == layer["features"] == _matched(live, name), name  # every feature drawn
    for name, collection in TABLES.items():
        members = [n for n in layers if COLLECTIONS[n].table == name]
        assert sum(layers[n]["drawn"] for n in members) == _matched(live, name), name
        assert {layers[n]["group"] for n in members} == ({collection.title["nl"]} if collection.mixed else {None})
    assert {layers[n]["geometry"] for n in ("projecten-punten", "projecten-lijnen", "projecten-vlakken")} == {
        "Point",
        "Line",
        "Polygon",
    }
    assert layers["projecten-lijnen"]["renderer"] == layers["voorstellen-punten"]["renderer"] == "categorizedSymbol"


def _matched(live, name: str) -> int:
    return httpx.get(f"{live.url}/collections/{name}/items", params={"limit": 1}).json()["numberMatched"]


def test_the_landing_page_links_the_qgis_project(client):
    links = [link["href"] for link in client.get("/?f=json").json()["links"]]
    assert "http://testserver/v1/qgis/wijkplan.qgs" in links
