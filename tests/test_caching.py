"""HTTP caching: public reads carry strong ETags that change exactly when what they show may have
changed, a client holding the current one gets a 304 without a feature being read, and answers to
token holders stay private."""

from __future__ import annotations

import time

import pytest
from test_participation import PROJECT, feature, headers

from geoservice.store import Store

PUBLIC_READS = [
    "/collections/projecten/items?limit=5",
    "/collections/projecten/items?limit=5&f=jsonfg",
    "/collections/projecten/items?limit=5&f=html",
    "/collections/projecten/items/1",
    "/collections/projecten/items/1?f=html",
    "/collections/koppelkansen/items?limit=5",
    "/collections/wijken/items?limit=2",  # with the summaries of their projects
    "/collections/buurten/items?limit=2",
]
METADATA = ["/", "/conformance", "/collections", "/collections/projecten", "/collections/projecten/queryables",
            "/collections/projecten/schema", "/openapi.json", "/catalogus", "/velden"]  # fmt: skip


@pytest.fixture
def counted_reads(monkeypatch):
    """Counts the reads of features of a store (its query and get)."""

    def count(store: Store) -> list[str]:
        reads: list[str] = []
        for name in ("query", "get"):
            original = getattr(store, name)
            monkeypatch.setattr(store, name, lambda *a, _o=original, _n=name, **k: reads.append(_n) or _o(*a, **k))
        return reads

    return count


@pytest.mark.parametrize("path", PUBLIC_READS)
def test_a_client_holding_the_current_version_gets_a_304_without_a_feature_read(
    store, store_client, counted_reads, path
):
    first = store_client.get(path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["Cache-Control"] == "public, no-cache"
    assert {"Accept", "Authorization"} <= {v.strip() for v in first.headers["Vary"].split(",")}
    reads = counted_reads(store)
    again = store_client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    assert reads == []
    assert store_client.get(path, headers={"If-None-Match": f'W/{etag}, "other"'}).status_code == 304
    assert store_client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_a_write_changes_the_tags_of_what_it_changed_only(store_client, tokens):
    tags = {path: store_client.get(path).headers["ETag"] for path in PUBLIC_READS}
    created = store_client.post(
        "/collections/projecten/items", json=feature(PROJECT), headers=headers(tokens, "planner")
    )
    assert created.status_code == 201
    after = {path: store_client.get(path).headers["ETag"] for path in PUBLIC_READS}
    changed = {path for path in PUBLIC_READS if after[path] != tags[path]}
    assert changed == {path for path in PUBLIC_READS if "/buurten/" not in path}
    for path in PUBLIC_READS:  # a client holding the old version gets the new one
        stale = store_client.get(path, headers={"If-None-Match": tags[path]})
        assert stale.status_code == (200 if path in changed else 304)


def test_a_strong_tag_promises_the_same_bytes_later_too(client):
    """A strong ETag says the body is byte for byte the same: nothing in it depends on the clock."""
    first = {path: client.get(path) for path in PUBLIC_READS + METADATA}
    time.sleep(1.01 - time.time() % 1)  # into the next second
    for path, earlier in first.items():
        later = client.get(path)
        assert later.headers["ETag"] == earlier.headers["ETag"], path
        assert later.content == earlier.content, path


def test_the_same_read_has_another_tag_in_another_format_or_language(client):
    one = client.get("/collections/projecten/items?limit=5")
    other = client.get("/collections/projecten/items?limit=5", headers={"Accept": "application/vnd.ogc.fg+json"})
    assert other.headers["ETag"] != one.headers["ETag"]
    english = client.get("/collections/projecten/items?limit=5&f=html", headers={"Accept-Language": "en"})
    dutch = client.get("/collections/projecten/items?limit=5&f=html", headers={"Accept-Language": "nl"})
    assert english.headers["ETag"] != dutch.headers["ETag"]


@pytest.mark.parametrize("path", METADATA)
def test_metadata_is_tagged_by_its_content(client, path):
    first = client.get(path)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]


def test_answers_to_token_holders_are_private_and_untagged(store_client, tokens):
    for path in ["/collections/voorstellen/items?limit=5", "/collections/projecten/items/1?f=html"]:
        answer = store_client.get(path, headers=headers(tokens, "planner"))
        assert answer.status_code == 200
        assert answer.headers["Cache-Control"] == "private, no-store"
        assert "ETag" not in answer.headers


def test_refusals_are_not_tagged(client):
    for path in ["/collections/projecten/items?limit=nul", "/collections/projecten/items/999999", "/bestaat-niet"]:
        answer = client.get(path)
        assert answer.status_code in (400, 404)
        assert "ETag" not in answer.headers and "public" not in answer.headers.get("Cache-Control", "")
