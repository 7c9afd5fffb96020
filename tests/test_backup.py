"""Backups: export while writes go on, restore on each backend, and nothing lost in the round trip."""

import sqlite3
import threading

import shapely
from snapshots import fingerprint
from test_cli import geoservice
from test_participation import CONTACT, feature, headers, path_of, publish, submit

from geoservice.ops import backup
from geoservice.store import GeoPackageStore, Query, open_store
from geoservice.store.postgis import PostGISStore


def _with_participation(store_client, tokens) -> None:
    """Private data of every kind: a submitter with contact details and a hidden home, support,
    a reaction."""
    body = feature(prive={"contact": CONTACT, "nabij_woning": True})
    path = path_of(submit(store_client, tokens, body))
    publish(store_client, tokens, path)
    store_client.post(f"{path}/steun", headers=headers(tokens, "participatie"))
    store_client.post(f"{path}/reacties", json={"tekst": "Mooi"}, headers=headers(tokens, "participatie"))


def _empty_location(store, tmp_path, postgres_cluster) -> str:
    if isinstance(store, GeoPackageStore):
        return str(tmp_path / "restored.gpkg")
    return postgres_cluster.create_database(f"restored_{tmp_path.name[-10:].lower()}")


def test_export_and_restore_lose_nothing(store, store_client, tokens, tmp_path, request):
    _with_participation(store_client, tokens)
    before = fingerprint(store)
    backup.export(store, tmp_path / "backup.gpkg")
    cluster = request.getfixturevalue("postgres") if isinstance(store, PostGISStore) else None
    location = _empty_location(store, tmp_path, cluster)
    backup.restore(tmp_path / "backup.gpkg", location)
    restored = open_store(location)
    assert fingerprint(restored) == before
    new = restored.insert(
        "projecten",
        [
            (
                {
                    "titel": "Na het terugzetten",
                    "thema": "groen",
                    "soort": "nieuwe aanleg",
                    "fase": "gepland",
                    "start": "2028-01-01",
                    "eind": "2028-02-01",
                    "planjaar": 2028,
                },
                shapely.Point(187700, 428600),
            )
        ],
    )
    assert new[0] == max(store.query(Query("projecten", limit=10_000)).ids) + 1  # ids go on after the restored


def test_export_while_writing_is_one_consistent_moment(store, tmp_path):
    stop = threading.Event()

    def write():
        point = shapely.Point(187700, 428600)
        while not stop.is_set():
            store.insert(
                "voorstellen", [({"titel": "Tijdens de export", "soort": "idee", "categorie": "overig"}, point)]
            )

    writer = threading.Thread(target=write)
    writer.start()
    try:
        backup.export(store, tmp_path / "backup.gpkg")
    finally:
        stop.set()
        writer.join()
    with sqlite3.connect(tmp_path / "backup.gpkg") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        proposals = {r[0] for r in conn.execute("SELECT fid FROM voorstellen")}
        created = {
            r[0]
            for r in conn.execute(
                "SELECT object_id FROM statuswijzigingen WHERE collectie = 'voorstellen' AND van IS NULL"
            )
        }
        assert proposals == created  # each proposal with its history, none without


def test_restore_refuses_to_overwrite_without_force(tmp_path, demo_path):
    backup.export(GeoPackageStore(demo_path), tmp_path / "backup.gpkg")
    target = tmp_path / "store.gpkg"
    assert geoservice("--store", str(target), "restore", str(tmp_path / "backup.gpkg")).returncode == 0
    again = geoservice("--store", str(target), "restore", str(tmp_path / "backup.gpkg"))
    assert again.returncode != 0 and "--force" in again.stderr
