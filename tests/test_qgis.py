"""The QGIS project the service offers, opened by QGIS itself (Debian's python3-qgis, headless)."""
import json
import subprocess
from pathlib import Path

import httpx

from geoservice.model import COLLECTIONS

SYSTEM_PYTHON = "/usr/bin/python3"  # python3-qgis is for the system Python only
OPEN = Path(__file__).with_name("qgis_open.py")


def test_qgis_opens_every_collection_with_the_features_the_api_reports(live, tmp_path):
    project = tmp_path / "wijkplan.qgs"
    answer = httpx.get(f"{live.url}/qgis/wijkplan.qgs")
    assert answer.headers["Content-Type"] == "application/x-qgis-project"
    project.write_bytes(answer.content)
    run = subprocess.run([SYSTEM_PYTHON, str(OPEN), str(project)], capture_output=True, text=True, timeout=300,
                         env={"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    opened = json.loads(run.stdout.strip().splitlines()[-1])
    assert opened["opened"] and opened["crs"] == "EPSG:28992"
    assert set(opened["layers"]) == set(COLLECTIONS)
    for name, layer in opened["layers"].items():
        matched = httpx.get(f"{live.url}/collections/{name}/items", params={"limit": 1}).json()["numberMatched"]
        assert layer["valid"] and layer["features"] == matched and layer["labels"], name
    assert opened["layers"]["projecten"]["renderer"] == opened["layers"]["voorstellen"]["renderer"] == \
        "categorizedSymbol"


def test_the_landing_page_links_the_qgis_project(client):
    links = [link["href"] for link in client.get("/?f=json").json()["links"]]
    assert "http://testserver/qgis/wijkplan.qgs" in links
