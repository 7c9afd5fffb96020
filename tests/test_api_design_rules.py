"""The Dutch API Design Rules (and their Geo module), checked as a municipality checks them: the
project's Spectral ruleset (docs/adr-ruleset.yaml) over the OpenAPI document finds nothing but the
deviations explained in docs/api-design-rules.md, its rules do find what they are about, and the
live service keeps the rules the document cannot show."""

import copy
import json
import subprocess
from urllib.parse import quote

import httpx
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from geoservice.domain.model import COLLECTIONS

SPECTRAL = ROOT / "node_modules" / ".bin" / "spectral"
RULESET = ROOT / "docs" / "adr-ruleset.yaml"
# Deviations the project explains (docs/api-design-rules.md): (rule, what it is about) -> why.
EXPLAINED = {
    ("adr-query-keys-camel-case", "bbox-crs"): "OGC API - Features Part 2 and /geo/bbox-crs-query-parameter name it",
    ("adr-query-keys-camel-case", "filter-crs"): "OGC API - Features Part 3 and /geo/filter-crs-query-parameter",
    ("adr-query-keys-camel-case", "filter-lang"): "OGC API - Features Part 3 names it",
    ("adr-path-segments-kebab-case", "/tileMatrixSets"): "OGC API - Tiles names the path",
    ("adr-path-segments-kebab-case", "/tileMatrixSets/{tileMatrixSetId}"): "OGC API - Tiles names the path",
    ("adr-tls", "http://testserver/v1"): "the URL is the deployment's (GEOSERVICE_URL): https behind the proxy",
}
# A query key that is a property's name filters on that property (OGC API - Features Part 1).
FIELDS = {f.name for collection in COLLECTIONS.values() for f in collection.fields}


def _lint(*documents: dict, tmp_path) -> list[list[dict]]:
    """Spectral's findings on each document, with the ruleset."""
    paths = []
    for number, document in enumerate(documents):
        paths.append(tmp_path / f"openapi-{number}.json")
        paths[-1].write_text(json.dumps(document))
    found = subprocess.run(
        [SPECTRAL, "lint", "-q", "-r", RULESET, "-f", "json", "--fail-severity", "error", *paths],
        capture_output=True,
        text=True,
        timeout=300,
    )
    results = json.loads(found.stdout or "[]")
    return [[r for r in results if r["source"] == str(path)] for path in paths]


def _subject(document: dict, result: dict):
    """What a finding is about: a path's key, or the value at its place."""
    where = result["path"]
    if where[:1] == ["paths"] and len(where) == 2:
        return where[1]
    value = document
    for step in where:
        value = value[int(step)] if isinstance(value, list) else value[step]
    return value


@pytest.fixture(scope="module")
def client(writable_app) -> TestClient:
    """The API on the GeoPackage demo (what the rules look at does not depend on the backend)."""
    return TestClient(writable_app)


@pytest.fixture(scope="module")
def document(client) -> dict:
    return client.get("/v1/openapi.json").json()


def test_the_ruleset_finds_nothing_but_the_explained_deviations(document, tmp_path):
    [results] = _lint(document, tmp_path=tmp_path)
    found = {(r["code"], _subject(document, r)) for r in results}
    unexplained = {
        f for f in found if f not in EXPLAINED and not (f[0] == "adr-query-keys-camel-case" and f[1] in FIELDS)
    }
    assert not unexplained, [r for r in results if (r["code"], _subject(document, r)) in unexplained]
    assert set(EXPLAINED) <= found, f"explained but no longer found: {set(EXPLAINED) - found}"


def test_the_rules_find_what_they_are_about(document, tmp_path):
    def broken(change) -> dict:
        changed = copy.deepcopy(document)
        change(changed)
        return changed

    items = "/collections/projecten/items"
    cases = {
        "adr-version-header": lambda d: d["paths"]["/conformance"]["get"]["responses"]["200"]["headers"].clear(),
        "adr-no-trailing-slash": lambda d: d["paths"].update({"/collections/": d["paths"]["/collections"]}),
        "adr-doc-openapi-contact": lambda d: d["info"]["contact"].pop("email"),
        "adr-uri-version": lambda d: d["servers"][0].update(url="https://example.org/api"),
        "geo-bbox-query-parameter": lambda d: d["paths"][items]["get"].update(parameters=[]),
        "adr-problem-details": lambda d: d["components"]["responses"]["404"]["content"].pop("application/problem+json"),
        "operation-description": lambda d: d["paths"]["/conformance"]["get"].pop("description"),
    }
    results = _lint(*(broken(change) for change in cases.values()), tmp_path=tmp_path)
    for rule, found in zip(cases, results):
        assert rule in {r["code"] for r in found}, rule


def test_trailing_slashes_are_not_found_and_not_redirected(client):
    for path in ("/v1/collections/", "/v1/collections/projecten/items/", "/v1/conformance/"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/", follow_redirects=False).status_code == 200  # the root is exempt


def test_addresses_without_the_version_move_to_it_for_good(client):
    for old, new in (
        ("/", "/v1"),
        ("/collections/projecten/items?limit=2&f=json", "/v1/collections/projecten/items?limit=2&f=json"),
        ("/maps/index.html", "/v1/maps/index.html"),
    ):
        answer = client.get(old, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (308, new), old
        assert answer.headers["api-version"]
    assert client.get("/nothing-here", follow_redirects=False).status_code == 404


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(min_size=1, max_size=30), st.text(max_size=30))
@example("\n0", "")
@example("%41/..", "a&b=c")
def test_any_old_address_moves_to_the_same_address_under_the_version(client, segment, value):
    old = f"/collections/{quote(segment, safe='')}"
    answer = client.get(old, params={"q": value}, follow_redirects=False)
    if answer.status_code == 404:  # no route matches it (a line break in a path): nor under /v1
        assert client.get(f"/v1{old}", follow_redirects=False).status_code == 404
        return
    assert answer.status_code == 308
    moved = httpx.URL(answer.headers["location"])
    assert (moved.path, dict(moved.params)) == (f"/v1/collections/{segment}", {"q": value})


def test_every_answer_says_its_version_and_the_document_may_be_read_anywhere(client, document):
    for path in ("/v1", "/v1/collections/projecten/items?limit=1", "/v1/nothing", "/collections", "/v1/openapi.json"):
        answer = client.get(path, headers={"Origin": "https://elders.example"}, follow_redirects=False)
        assert answer.headers["api-version"] == document["info"]["version"], path
    assert answer.headers["access-control-allow-origin"] == "*"
    assert document["servers"][0]["url"].endswith("/v1")
