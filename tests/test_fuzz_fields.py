"""Random Unicode text and numeric and date edge values in every writable field, on both backends:
each write is refused with a 400 problem that changes nothing, or stored exactly as given."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_participation import PROJECT, PROPOSAL, feature, headers

from geoservice.domain.model import PROJECTEN, SAFE_INTEGER, VOORSTELLEN

EDGE_INTEGERS = st.sampled_from(
    [
        0,
        -1,
        1,
        2000,
        2100,
        10_000_000,
        10**10,
        10**10 + 1,
        SAFE_INTEGER,
        SAFE_INTEGER + 1,
        2**63 - 1,
        2**63,
        -(2**63),
        2**64,
    ]
)
EDGE_DATES = st.one_of(
    st.dates(),
    st.sampled_from(
        [
            dt.date(1, 1, 1),
            dt.date(1899, 12, 31),
            dt.date(1900, 1, 1),
            dt.date(2199, 12, 31),
            dt.date(2200, 1, 1),
            dt.date(9999, 12, 31),
        ]
    ),
)


PRINTABLE = st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"])


def _values(field):
    """Values for a field: mostly of its kind (edges and any Unicode included), now and then another kind."""
    if field.values:
        return st.one_of(st.sampled_from(field.values), st.sampled_from(field.values), st.text(max_size=5))
    of_kind = {
        "string": st.one_of(
            st.text(PRINTABLE, min_size=1, max_size=130), st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)
        ),
        "integer": st.one_of(EDGE_INTEGERS, st.integers()),
        "number": st.one_of(st.floats(allow_nan=False, allow_infinity=False), EDGE_INTEGERS),
        "date": EDGE_DATES.map(dt.date.isoformat),
        "datetime": st.datetimes(timezones=st.timezones()).map(dt.datetime.isoformat),
        "integer-list": st.lists(st.one_of(st.integers(1, 30), EDGE_INTEGERS), max_size=4),
    }[field.kind]
    return st.one_of(*[of_kind] * 6, st.none(), st.text(max_size=5), st.integers(), st.booleans())


def _changes(collection):
    writable = [
        f for f in collection.fields if not f.derived and f.name not in ("status", "fase", "samengevoegd_met", "reden")
    ]
    return st.lists(st.sampled_from(writable), min_size=1, max_size=3, unique=True).flatmap(
        lambda fields: st.fixed_dictionaries({f.name: _values(f) for f in fields})
    )


def _same(given_value, stored, kind: str) -> bool:
    if kind == "datetime":
        moment = dt.datetime.fromisoformat(given_value)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        return dt.datetime.fromisoformat(stored) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    if kind == "date":
        return stored == dt.date.fromisoformat(given_value).isoformat()
    if kind == "number":
        return stored == float(given_value)
    return stored == given_value


def _written_exactly_or_refused(client, store, collection, base: dict, role: str, changes: dict, tokens):
    before = store.count(collection.name)
    response = client.post(
        f"/collections/{collection.name}/items", json=feature({**base, **changes}), headers=headers(tokens, role)
    )
    assert response.status_code in (201, 400), response.text
    if response.status_code == 400:
        assert response.headers["Content-Type"] == "application/problem+json" and response.json()["detail"]
        assert store.count(collection.name) == before
        return
    stored = client.get(
        response.headers["Location"].replace("http://testserver", ""), headers=headers(tokens, role)
    ).json()["properties"]
    for name, value in changes.items():
        if value is not None:
            assert _same(value, stored[name], collection.field_map[name].kind), (name, value, stored[name])


FUZZ = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize(
    "collection,base,role",
    [(PROJECTEN, PROJECT, "planner"), (VOORSTELLEN, PROPOSAL, "moderator")],
    ids=["projecten", "voorstellen"],
)
def test_every_writable_field_is_stored_as_given_or_refused(store_client, store, tokens, collection, base, role):
    @FUZZ
    @given(_changes(collection))
    def write(changes):
        _written_exactly_or_refused(store_client, store, collection, base, role, changes, tokens)

    write()
