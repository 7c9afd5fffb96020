"""The `geoservice` command: building the demo store on each backend, and issuing tokens."""

import subprocess
import sys

import pytest
import yaml

from geoservice.participation.tokens import Tokens, digest
from geoservice.store import open_store


def geoservice(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geoservice.ops.cli", *args], capture_output=True, text=True)


@pytest.fixture(params=["geopackage", "postgis"])
def empty_location(request, tmp_path):
    if request.param == "geopackage":
        return str(tmp_path / "wijkplan.gpkg")
    return request.getfixturevalue("postgres").create_database(f"cli_{tmp_path.name[-12:].lower()}")


def test_demo_builds_once_and_is_replaced_only_with_force(empty_location):
    built = geoservice("--store", empty_location, "demo")
    assert built.returncode == 0, built.stderr
    assert "projecten 340" in built.stdout
    again = geoservice("--store", empty_location, "demo")
    assert again.returncode != 0 and "--force" in again.stderr
    assert geoservice("--store", empty_location, "demo", "--if-missing").returncode == 0
    forced = geoservice("--store", empty_location, "demo", "--force", "--seed", "7")
    assert forced.returncode == 0, forced.stderr
    store = open_store(empty_location)
    assert store.count("projecten") == 340 and store.count("voorstellen") == 680
    assert store.count("koppelkansen") > 0  # derived already, for those who open the store itself


def test_database_password_is_not_printed(postgres):
    url = postgres.create_database("cli_secret").replace("postgres@", "postgres:geheim@")
    built = geoservice("--store", url, "demo")
    assert "geheim" not in built.stdout + built.stderr


def test_token_is_shown_once_and_stored_hashed(tmp_path):
    path = tmp_path / "tokens.yml"
    issued = geoservice("--tokens", str(path), "token", "afdeling-wegen", "--role", "planner")
    token = issued.stdout.strip().splitlines()[-1]
    stored = yaml.safe_load(path.read_text())["tokens"]
    assert stored == [{"name": "afdeling-wegen", "role": "planner", "sha256": digest(token)}]
    assert token not in path.read_text()
    assert Tokens(path).identify(f"Bearer {token}").role == "planner"


def test_unknown_role_is_refused(tmp_path):
    refused = geoservice("--tokens", str(tmp_path / "t.yml"), "token", "x", "--role", "admin")
    assert refused.returncode != 0 and "invalid choice" in refused.stderr
