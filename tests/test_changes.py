"""The change log: every write announces itself in its transaction, refusals announce nothing,
numbers grow in commit order, and the maps follow it from any process."""

import dataclasses
import json
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import shapely
from conftest import POLICY, copy_store, serving
from test_cli import geoservice
from test_import import _frame, _mapping

from geoservice.domain.policy import Maps, Policy
from geoservice.domain.validation import ValidationError
from geoservice.ops import backup
from geoservice.publish import follower
from geoservice.store import GeoPackageStore, Query, changes, participation
from geoservice.store.private import Actor

PLANNER = Actor("planner", "gemeente")
PARTICIPANT = Actor("participatie", "app", "deelnemer-1")
MODERATOR = Actor("moderator", "redactie")
PROJECT = {
    "titel": "Herinrichting Zwanenveld-Noord",
    "thema": "groen",
    "soort": "herinrichting",
    "fase": "gepland",
    "planjaar": 2029,
    "start": "2029-03-01",
    "eind": "2029-06-30",
}
PROPOSAL = {"titel": "Bankje bij de speeltuin", "soort": "idee", "categorie": "overig"}
POINT = shapely.Point(187700, 428600)

RULES = Policy.load(POLICY)  # the policy the demo store was derived under


def _new(store, since: int) -> list[changes.Change]:
    return store.changes_since(since)


def _codes(store, collection: str, fid) -> set[str]:
    p = store.get(collection, fid, published_only=False).properties[0]
    return {p["wijkcode"], p["buurtcode"]}


def test_every_kind_of_write_is_announced_with_its_areas_and_publicity(store):
    start = store.last_change()
    [project] = store.insert("projecten", [(PROJECT, POINT)], PLANNER)
    [proposal] = store.insert("voorstellen", [(PROPOSAL, POINT)], PARTICIPANT)
    store.update("voorstellen", proposal, {"status": "gepubliceerd"}, actor=MODERATOR)
    participation.support(store, proposal, PARTICIPANT)
    participation.react(store, proposal, PARTICIPANT, "Goed plan")
    store.update("projecten", project, {"fase": "voorbereiding"}, actor=PLANNER)
    store.delete("projecten", project, PLANNER)
    areas = _codes(store, "voorstellen", proposal)
    announced = [(c.collection, c.kind, c.ids, c.areas, c.public) for c in _new(store, start)]
    assert announced == [
        ("projecten", "aanmaken", [project], areas, True),
        ("voorstellen", "aanmaken", [proposal], areas, False),  # not yet published
        ("voorstellen", "wijzigen", [proposal], areas, True),
        ("voorstellen", "steunen", [proposal], areas, True),
        ("voorstellen", "reageren", [proposal], areas, False),  # awaiting moderation
        ("projecten", "wijzigen", [project], areas, True),
        ("projecten", "verwijderen", [project], areas, True),
    ]
    numbers = [c.sequence for c in _new(store, start)]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_a_move_announces_the_areas_before_and_after(store):
    [project] = store.insert("projecten", [(PROJECT, POINT)], PLANNER)
    before = _codes(store, "projecten", project)
    start = store.last_change()
    buurten = store.query(Query.every("buurten"))
    elsewhere = next(g for p, g in zip(buurten.properties, buurten.geometries) if p["wijkcode"] not in before)
    store.update("projecten", project, {}, shapely.point_on_surface(elsewhere), actor=PLANNER)
    after = _codes(store, "projecten", project)
    assert before != after
    [change] = _new(store, start)
    assert change.areas == before | after


def test_a_refused_write_announces_nothing(store):
    start = store.last_change()
    with pytest.raises(ValidationError):
        store.insert("projecten", [({**PROJECT, "thema": "kunst"}, POINT)], PLANNER)
    with pytest.raises(ValidationError):
        store.update("projecten", 1, {"planjaar": 1500}, actor=PLANNER)
    assert store.last_change() == start


def test_an_import_and_a_restore_are_announced(store, tmp_path):
    _frame().to_file(tmp_path / "plan.geojson")
    start = store.last_change()
    result = geoservice(
        "--store", store.location, "--maps", str(tmp_path / "geen-kaarten"),
        "import", str(tmp_path / "plan.geojson"), "--collectie", "projecten", "--mapping", _mapping(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [imported] = _new(store, start)
    assert (imported.collection, imported.kind, len(imported.ids), imported.public) == (
        "projecten",
        "aanmaken",
        3,
        True,
    )
    backup.export(store, tmp_path / "backup.gpkg")
    restored = tmp_path / "restored.gpkg"
    backup.restore(tmp_path / "backup.gpkg", str(restored))
    announced = GeoPackageStore(restored).changes_since(0)
    assert {(c.kind, c.areas) for c in announced} == {("herstellen", changes.EVERYWHERE)}


def test_a_follower_never_sees_a_number_appear_below_one_it_read(store):
    """Writers in parallel, a follower reading as they go: it misses no change."""
    seen, done = [], threading.Event()

    def follow(last: int):
        while not done.is_set() or store.changes_since(last):
            for change in store.changes_since(last):
                seen.append(change.sequence)
                last = change.sequence

    start = store.last_change()
    reader = threading.Thread(target=follow, args=(start,))  # from before the first write, however late it starts
    reader.start()
    writers = [
        threading.Thread(target=lambda n=n: [
            store.update("projecten", 1 + n, {"planjaar": 2030 + i % 5}, actor=PLANNER) for i in range(15)
        ])
        for n in range(4)
    ]  # fmt: skip
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    done.set()
    reader.join()
    assert seen == [c.sequence for c in store.changes_since(start)] and len(seen) == 60


# -- the maps follow -----------------------------------------------------------------------------
@pytest.fixture
def mapped_copy(demo_path, tmp_path):
    store = GeoPackageStore(copy_store(demo_path, tmp_path / "wijkplan.gpkg"))
    follower.rebuild(store, RULES, tmp_path / "maps")
    return store, tmp_path / "maps"


def _titles(directory: Path, wijk: str = "*") -> set[str]:
    """The titles of the features in the maps' data files (of one wijk, or of all)."""
    return {
        feature["properties"]["titel"]
        for path in (directory / "wijk").glob(f"{wijk}.json")
        for feature in json.loads(path.read_bytes())["features"]
    }


def test_catching_up_writes_only_the_data_of_the_wijken_public_changes_touched(mapped_copy):
    store, directory = mapped_copy
    assert follower.catch_up(store, RULES, directory) == []
    [unpublished] = store.insert("voorstellen", [(PROPOSAL, POINT)], PARTICIPANT)
    assert follower.catch_up(store, RULES, directory) == []  # nothing public changed
    store.update("voorstellen", unpublished, {"status": "gepubliceerd"}, actor=MODERATOR)
    wijk = store.get("voorstellen", unpublished).properties[0]["wijkcode"]
    written = {p.relative_to(directory).as_posix() for p in follower.catch_up(store, RULES, directory)}
    assert written == {f"wijk/{wijk}.json", "index.html"}  # the pages load the data: none is made again
    assert PROPOSAL["titel"] in _titles(directory, wijk) and PROPOSAL["titel"] in _titles(directory)


def _across_a_wijk_border(store) -> tuple[shapely.Point, shapely.Point, str]:
    """Two points 6 m apart on either side of a border between two wijken, and the wijk of the second."""
    buurten = store.query(Query("buurten", limit=None))
    for i, j in zip(*shapely.STRtree(buurten.geometries).query(buurten.geometries, predicate="touches")):
        (a, b), (first, second) = (
            (buurten.geometries[i], buurten.geometries[j]),
            (buurten.properties[i], buurten.properties[j]),
        )
        border = a.boundary.intersection(b.boundary)
        if first["wijkcode"] == second["wijkcode"] or border.length < 50:
            continue
        middle = shapely.line_interpolate_point(shapely.line_merge(border), 0.5, normalized=True)
        around = [shapely.Point(middle.x + dx, middle.y + dy) for dx in (-3, 0, 3) for dy in (-3, 0, 3)]
        inside_a, inside_b = [p for p in around if a.contains(p)], [p for p in around if b.contains(p)]
        if inside_a and inside_b:
            return inside_a[0], inside_b[0], second["wijkcode"]
    raise AssertionError("no border between wijken found")


def test_a_koppelkans_in_another_wijk_than_its_project_follows_the_project(mapped_copy):
    store, directory = mapped_copy
    at_project, at_proposal, wijk = _across_a_wijk_border(store)
    [project] = store.insert("projecten", [(PROJECT, at_project)], PLANNER)
    store.insert("voorstellen", [({**PROPOSAL, "status": "gepubliceerd"}, at_proposal)])
    follower.catch_up(store, RULES, directory)
    assert PROJECT["titel"] not in _titles(directory, wijk)  # the project lies in the other wijk ...
    assert any(PROJECT["titel"] in title for title in _titles(directory, wijk))  # ... its koppelkans here
    store.update("projecten", project, {"titel": "Herinrichting Zwanenveld-Zuid"}, actor=PLANNER)
    follower.catch_up(store, RULES, directory)
    assert any("Herinrichting Zwanenveld-Zuid" in title for title in _titles(directory, wijk))


def test_every_page_is_made_again_when_the_boundaries_or_the_map_settings_change(mapped_copy, tmp_path):
    store, directory = mapped_copy
    pages = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*.html"))
    buurt = store.query(Query("buurten", limit=1)).ids[0]
    store.update("buurten", buurt, {"buurtnaam": "Nieuwe naam"}, actor=PLANNER)
    written = sorted(p.relative_to(directory).as_posix() for p in follower.catch_up(store, RULES, directory))
    assert [p for p in written if p.endswith(".html")] == pages
    assert "Buurt Nieuwe naam" in (directory / "buurt" / f"{buurt}.html").read_text()
    other = dataclasses.replace(RULES, kaarten=Maps(ondergrond="osm"))
    store.insert("projecten", [(PROJECT, POINT)], PLANNER)
    written = sorted(p.relative_to(directory).as_posix() for p in follower.catch_up(store, other, directory))
    assert [p for p in written if p.endswith(".html")] == pages
    assert "tile.openstreetmap.org" in (directory / "overzicht.html").read_text()
    assert follower.catch_up(store, other, directory) == []


def test_a_full_build_removes_the_maps_of_areas_no_longer_there(mapped_copy):
    store, directory = mapped_copy
    gone = [directory / "buurt" / "BU99999999.html", directory / "wijk" / "WK999999.json"]
    for path in gone:
        path.write_text("van een buurt die er niet meer is")
    follower.rebuild(store, RULES, directory)
    assert not any(path.exists() for path in gone)
    assert len(list(directory.rglob("*.html"))) == 55


def test_maps_of_a_replaced_store_are_rebuilt_whole(mapped_copy, demo_path):
    store, directory = mapped_copy
    store.insert("projecten", [(PROJECT, POINT)], PLANNER)
    follower.catch_up(store, RULES, directory)
    assert PROJECT["titel"] in _titles(directory)
    store.close()
    for log in (f"{store.location}-wal", f"{store.location}-shm"):
        Path(log).unlink(missing_ok=True)
    copy_store(demo_path, Path(store.location))  # another store at the same place, with a shorter log
    assert len(follower.catch_up(GeoPackageStore(store.location), RULES, directory)) > 50
    assert PROJECT["titel"] not in _titles(directory)


def test_an_import_without_a_service_rebuilds_the_touched_maps_itself(mapped_copy, tmp_path):
    store, directory = mapped_copy
    _frame().to_file(tmp_path / "plan.geojson")
    result = geoservice(
        "--store", store.location, "--maps", str(directory),
        "import", str(tmp_path / "plan.geojson"), "--collectie", "projecten", "--mapping", _mapping(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0 and "map files written" in result.stdout, result.stderr
    assert "Herstraten Molenstraat" in _titles(directory)


def test_an_import_into_a_served_store_shows_in_the_services_maps(mapped_copy, tmp_path):
    """Another process writes (an import with the maps elsewhere): the service's maps follow."""
    store, directory = mapped_copy
    rows = pd.DataFrame({**_frame().drop(columns="geometry"), "naam": ["Import uit een ander proces"] * 3})
    _frame(rows).to_file(tmp_path / "plan.geojson")
    with serving(store.location, tmp_path, maps=directory, maps_interval_s=0.2):
        result = geoservice(
            "--store", store.location, "--maps", str(tmp_path / "geen-kaarten"),
            "import", str(tmp_path / "plan.geojson"), "--collectie", "projecten", "--mapping", _mapping(tmp_path),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        deadline = time.monotonic() + 30
        while "Import uit een ander proces" not in _titles(directory):
            assert time.monotonic() < deadline, "the service's maps did not follow the import"
            time.sleep(0.2)
