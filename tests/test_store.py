"""The store: queries, derived fields, and refusal of bad input with nothing changed."""

import datetime as dt

import pytest
import shapely
from snapshots import fingerprint

from geoservice.domain.model import PROJECTEN, WIJKEN
from geoservice.domain.validation import ValidationError
from geoservice.query.filters import during, equals, intersects
from geoservice.store import GeoPackageStore, NotFound, Query

CENTRE = shapely.Point(187700, 428600)  # Stadscentrum, Nijmegen
PROJECT = {
    "titel": "Vervangen riolering Teststraat",
    "omschrijving": "Test",
    "thema": "riolering",
    "soort": "vervanging",
    "fase": "gepland",
    "start": "2028-03-01",
    "eind": "2028-06-30",
    "planjaar": 2028,
    "budget_indicatie": 250000,
}


def test_insert_derives_codes_and_time_from_the_geometry(store):
    [new_id] = store.insert("projecten", [(PROJECT, CENTRE.buffer(10))])
    stored = store.get("projecten", new_id).properties[0]
    assert (stored["buurtcode"], stored["wijkcode"]) == ("BU02680101", "WK026801")
    assert stored["bijgewerkt"].endswith("Z")


def test_derived_codes_given_by_a_client_are_refused_not_replaced(store):
    before = store.count("projecten")
    with pytest.raises(ValidationError, match="buurtcode: computed by the service"):
        store.insert("projecten", [({**PROJECT, "buurtcode": "BU02680970"}, CENTRE)])
    assert store.count("projecten") == before


def test_a_derived_value_may_be_written_back_unchanged_but_not_changed(store):
    [new_id] = store.insert("projecten", [(PROJECT, CENTRE)])
    stored = store.get("projecten", new_id).properties[0]
    store.replace("projecten", new_id, {**stored, "titel": "Nieuwe titel"}, CENTRE)
    assert store.get("projecten", new_id).properties[0]["titel"] == "Nieuwe titel"
    with pytest.raises(ValidationError, match="wijkcode: computed by the service"):
        store.update("projecten", new_id, {"wijkcode": "WK026809"})


def test_ids_keep_growing_after_a_delete(store):
    [first] = store.insert("projecten", [(PROJECT, CENTRE)])
    store.delete("projecten", first)
    [second] = store.insert("projecten", [(PROJECT, CENTRE)])
    assert second > first
    assert store.get("projecten", second).properties[0]["titel"] == PROJECT["titel"]


def test_replace_moves_the_phase_forward(store):
    [new_id] = store.insert("projecten", [(PROJECT, CENTRE)])
    store.replace("projecten", new_id, {**PROJECT, "fase": "voorbereiding"}, CENTRE)
    assert store.get("projecten", new_id).properties[0]["fase"] == "voorbereiding"


def test_delete_of_a_missing_feature_is_not_found(store):
    with pytest.raises(NotFound):
        store.delete("projecten", 999_999)


BAD_INPUT = {
    "unknown field": ({**PROJECT, "kleur": "rood"}, CENTRE, "unknown field"),
    "value not in the domain": ({**PROJECT, "thema": "kunst"}, CENTRE, "thema"),
    "wrong type": ({**PROJECT, "planjaar": "2028"}, CENTRE, "planjaar"),
    "boolean as integer": ({**PROJECT, "budget_indicatie": True}, CENTRE, "budget_indicatie"),
    "missing required field": ({k: v for k, v in PROJECT.items() if k != "titel"}, CENTRE, "titel"),
    "bad date": ({**PROJECT, "start": "1 maart 2028"}, CENTRE, "start"),
    "end before start": ({**PROJECT, "eind": "2027-01-01"}, CENTRE, "eind"),
    "hostile long text": ({**PROJECT, "titel": "<script>" * 100}, CENTRE, "titel"),
    "self-intersecting polygon": (
        PROJECT,
        shapely.Polygon([(187600, 428500), (187700, 428600), (187700, 428500), (187600, 428600)]),
        "invalid",
    ),
    "empty geometry": (PROJECT, shapely.LineString(), "empty"),
    "missing geometry": (PROJECT, None, "missing"),
    "outside the municipality": (PROJECT, shapely.Point(155000, 463000), "not inside"),
    "coordinates in degrees": (PROJECT, shapely.Point(5.86, 51.84), "not inside"),
    "too many vertices": (
        PROJECT,
        shapely.LineString([(187000 + i * 0.01, 428600) for i in range(10_001)]),
        "vertices",
    ),
}


@pytest.mark.parametrize("props,geometry,message", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_refused_naming_the_problem_and_changes_nothing(store, props, geometry, message):
    before = fingerprint(store)
    with pytest.raises(ValidationError, match=message):
        store.insert("projecten", [(PROJECT, CENTRE), (props, geometry)])
    assert fingerprint(store) == before


def test_geometry_type_outside_the_collection_is_refused(store):
    with pytest.raises(ValidationError, match="type MultiPoint not allowed in voorstellen"):
        store.insert(
            "voorstellen",
            [
                (
                    {
                        "titel": "x",
                        "soort": "idee",
                        "categorie": "groen",
                        "status": "ingediend",
                        "ingediend": "2026-01-01T10:00:00Z",
                    },
                    shapely.MultiPoint([(187700, 428600), (187710, 428610)]),
                )
            ],
        )


def test_phase_cannot_skip_and_nothing_changes(store):
    [new_id] = store.insert("projecten", [(PROJECT, CENTRE)])
    before = fingerprint(store)
    with pytest.raises(ValidationError, match="cannot go from 'gepland' to 'gereed'"):
        store.replace("projecten", new_id, {**PROJECT, "fase": "gereed"}, CENTRE)
    assert fingerprint(store) == before


def test_rejection_needs_a_reason(store):
    proposal = {
        "titel": "Bankje",
        "soort": "idee",
        "categorie": "overig",
        "status": "afgewezen",
        "ingediend": "2026-01-01T10:00:00Z",
    }
    with pytest.raises(ValidationError, match="reden"):
        store.insert("voorstellen", [(proposal, CENTRE)])


def test_duplicate_area_code_is_refused(store):
    wijk = store.get("wijken", "WK026801")
    props = {k: v for k, v in wijk.properties[0].items() if not WIJKEN.field_map[k].derived}
    before = fingerprint(store)
    with pytest.raises(ValidationError, match="wijkcode"):
        store.insert("wijken", [(props, wijk.geometries[0])])
    assert fingerprint(store) == before


def test_bbox_is_tested_exactly_not_by_envelope(store):
    diagonal = shapely.LineString([(187600, 428500), (187800, 428700)])
    [new_id] = store.insert("projecten", [(PROJECT, diagonal)])
    corner_box = (187780, 428500, 187800, 428520)  # inside the line's envelope, away from the line
    near_box = (187690, 428590, 187710, 428610)  # crossed by the line
    assert new_id not in store.query(Query("projecten", intersects(shapely.box(*corner_box)), limit=10_000)).ids
    assert new_id in store.query(Query("projecten", intersects(shapely.box(*near_box)), limit=10_000)).ids


def test_bbox_query_pages_and_counts_exact_matches(demo_store):
    box = shapely.box(185000, 427000, 189000, 430000)
    whole = demo_store.query(Query("projecten", intersects(box), limit=10_000))
    everything = demo_store.query(Query("projecten", limit=10_000))
    expected = {i for i, g in zip(everything.ids, everything.geometries) if g.intersects(box)}
    assert set(whole.ids) == expected and whole.number_matched == len(expected)
    second = demo_store.query(Query("projecten", intersects(box), offset=10, limit=10))
    assert second.ids == whole.ids[10:20] and second.number_matched == len(expected)


def test_unpublished_proposals_are_hidden_unless_asked(demo_store):
    public = demo_store.query(Query("voorstellen", limit=10_000))
    everything = demo_store.query(Query("voorstellen", limit=10_000, published_only=False))
    hidden = [i for i, p in zip(everything.ids, everything.properties) if p["gepubliceerd"] is None]
    assert {everything.properties[everything.ids.index(i)]["status"] for i in hidden} >= {"ingediend", "afgewezen"}
    assert hidden and not set(hidden) & set(public.ids)
    assert public.number_matched == everything.number_matched - len(hidden)
    with pytest.raises(NotFound):
        demo_store.get("voorstellen", hidden[0])


def test_sorting_and_equality_filter(demo_store):
    page = demo_store.query(
        Query("projecten", equals("thema", "groen"), sortby=[("budget_indicatie", False)], limit=10_000)
    )
    budgets = [p["budget_indicatie"] for p in page.properties]
    assert {p["thema"] for p in page.properties} == {"groen"}
    assert budgets == sorted(budgets, reverse=True)


def test_interval_selects_overlapping_works(demo_store):
    period = during(PROJECTEN, dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    page = demo_store.query(Query("projecten", period, limit=10_000))
    assert page.number_matched > 0
    assert all(p["start"] <= "2027-12-31" and p["eind"] >= "2027-01-01" for p in page.properties)


def test_a_store_from_before_the_geometry_families_gets_them_when_opened(store):
    before = store.count("projecten-lijnen")
    with store.transaction() as tx:
        for table in ("projecten", "voorstellen", "koppelkansen"):
            prefix = "idx_" if isinstance(store, GeoPackageStore) else ""
            tx.execute(f'DROP INDEX "{prefix}{table}_dimensie"')
            tx.execute(f'ALTER TABLE "{table}" DROP COLUMN dimensie')
    store.close()
    reopened = type(store)(store.location)
    assert reopened.count("projecten-lijnen") == before > 0
    assert sum(reopened.count(f"projecten-{family}") for family in ("punten", "lijnen", "vlakken")) == reopened.count(
        "projecten"
    )
    reopened.close()
