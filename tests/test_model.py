"""The domain model: fields, allowed values and lifecycles."""

import pytest

from geoservice.domain.lifecycle import allowed_transition
from geoservice.domain.model import (
    CATEGORIEEN,
    COLLECTIONS,
    FASEN,
    PROJECTEN,
    STATUSSEN,
    TABLES,
    THEMAS,
    VOORSTELLEN,
)


def test_the_six_collections_are_modelled_with_one_of_one_geometry_family_for_each_mix():
    assert set(TABLES) == {"wijken", "buurten", "projecten", "voorstellen", "koppelkansen", "statuswijzigingen"}
    assert set(COLLECTIONS) - set(TABLES) == {
        f"{name}-{family}"
        for name in ("projecten", "voorstellen", "koppelkansen")
        for family in ("punten", "lijnen", "vlakken")
    }
    for view in (COLLECTIONS[name] for name in set(COLLECTIONS) - set(TABLES)):
        assert not view.editable and not view.mixed and view.fields == TABLES[view.source].fields


@pytest.mark.parametrize("collection", COLLECTIONS.values(), ids=lambda c: c.name)
def test_every_collection_has_its_id_and_title_among_its_fields(collection):
    names = [f.name for f in collection.fields]
    assert len(names) == len(set(names))
    assert collection.id_field == "id" or collection.id_field in names
    assert collection.title_field in names


def test_domain_values_are_the_dutch_terms():
    assert THEMAS == ("verharding", "riolering", "groen", "spelen", "verlichting", "water", "verkeer")
    assert "spelen, bewegen en ontmoeten" in CATEGORIEEN
    assert PROJECTEN.field_map["fase"].values == FASEN
    assert VOORSTELLEN.field_map["status"].values == STATUSSEN


@pytest.mark.parametrize(
    "old,new",
    [
        ("gepland", "voorbereiding"),
        ("voorbereiding", "inspraak"),
        ("inspraak", "uitvoering"),
        ("uitvoering", "gereed"),
        ("gepland", "gepland"),
    ],
)
def test_projects_move_one_phase_forward(old, new):
    assert allowed_transition(PROJECTEN, old, new)


@pytest.mark.parametrize(
    "old,new",
    [
        ("gepland", "uitvoering"),
        ("gereed", "gepland"),
        ("inspraak", "voorbereiding"),
        ("gepland", "gereed"),
    ],
)
def test_projects_cannot_skip_or_go_back(old, new):
    assert not allowed_transition(PROJECTEN, old, new)


@pytest.mark.parametrize(
    "old,new",
    [
        ("ingediend", "gepubliceerd"),
        ("gepubliceerd", "in uitwerking"),
        ("in uitwerking", "in uitvoering"),
        ("in uitvoering", "gerealiseerd"),
        ("ingediend", "afgewezen"),
        ("gepubliceerd", "samengevoegd"),
    ],
)
def test_proposals_follow_their_process(old, new):
    assert allowed_transition(VOORSTELLEN, old, new)


@pytest.mark.parametrize(
    "old,new",
    [
        ("ingediend", "gerealiseerd"),
        ("gerealiseerd", "gepubliceerd"),
        ("afgewezen", "gepubliceerd"),
        ("samengevoegd", "in uitwerking"),
        ("in uitvoering", "afgewezen"),
    ],
)
def test_proposals_cannot_jump_or_revive(old, new):
    assert not allowed_transition(VOORSTELLEN, old, new)


def test_every_status_and_phase_has_a_transition_rule():
    assert set(PROJECTEN.lifecycle[1]) == set(FASEN)
    assert set(VOORSTELLEN.lifecycle[1]) == set(STATUSSEN)
