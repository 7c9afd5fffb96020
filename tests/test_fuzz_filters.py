"""Generated CQL2 filters, well-formed and not, give the same answer on GeoPackage and PostGIS: the
same features, or the same refusal (a 400 problem). None is a server error."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geoservice.domain.model import PROJECTEN, VOORSTELLEN

SPATIAL = ["S_INTERSECTS", "S_WITHIN", "S_DISJOINT", "S_CONTAINS", "S_TOUCHES", "S_OVERLAPS", "S_CROSSES", "S_EQUALS"]
TEMPORAL = [
    "T_AFTER",
    "T_BEFORE",
    "T_INTERSECTS",
    "T_DURING",
    "T_DISJOINT",
    "T_CONTAINS",
    "T_EQUALS",
    "T_MEETS",
    "T_OVERLAPS",
    "T_BEGINS",
    "T_ENDS",
]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _literals(kind: str):
    if kind == "string":
        return TEXT.map(_quoted)
    if kind in ("integer", "number"):
        return st.one_of(
            st.integers(-(10**20), 10**20), st.floats(allow_nan=False, allow_infinity=False, width=32)
        ).map(repr)
    if kind in ("date", "datetime"):
        return st.dates().map(lambda d: f"DATE('{d.isoformat()}')")
    return st.sampled_from(["TRUE", "FALSE"])


@st.composite
def _comparison(draw, fields):
    field = draw(st.sampled_from(fields))
    kind = draw(st.sampled_from([field.kind, "string", "integer", "date"]))  # now and then the wrong kind
    name = draw(st.sampled_from([field.name, field.name, "onbekend"]))
    shape = draw(st.sampled_from(["compare", "in", "between", "null", "like"]))
    if shape == "compare":
        return f"{name} {draw(st.sampled_from(['=', '<>', '<', '<=', '>', '>=']))} {draw(_literals(kind))}"
    if shape == "in":
        return f"{name} IN ({', '.join(draw(st.lists(_literals(kind), min_size=1, max_size=4)))})"
    if shape == "between":
        return f"{name} BETWEEN {draw(_literals(kind))} AND {draw(_literals(kind))}"
    if shape == "null":
        return f"{name} IS {draw(st.sampled_from(['', 'NOT ']))}NULL"
    pattern = draw(st.text(st.sampled_from("ab%_\\eé'"), max_size=6))
    return f"{draw(st.sampled_from([name, f'CASEI({name})']))} LIKE {_quoted(pattern)}"


@st.composite
def _spatial(draw):
    x = draw(st.floats(5.75, 5.95) | st.floats(-200, 200))
    y = draw(st.floats(51.78, 51.9) | st.floats(-100, 100))
    w, h = draw(st.floats(0, 0.05)), draw(st.floats(0, 0.05))
    shape = draw(
        st.sampled_from(
            [f"BBOX({x}, {y}, {x + w}, {y + h})", f"POINT({x} {y})", f"LINESTRING({x} {y}, {x + w} {y + h})"]
        )
    )
    return f"{draw(st.sampled_from(SPATIAL))}(geometry, {shape})"


@st.composite
def _temporal(draw, times):
    left = draw(st.sampled_from(times))
    day = draw(st.dates()).isoformat()
    right = draw(
        st.sampled_from(
            [f"DATE('{day}')", f"TIMESTAMP('{day}T12:00:00Z')", f"INTERVAL('{day}', '..')", f"INTERVAL('..', '{day}')"]
        )
    )
    return f"{draw(st.sampled_from(TEMPORAL))}({left}, {right})"


def _filters(collection):
    fields = [f for f in collection.fields if f.kind != "object"]
    times = {"projecten": ["start", "eind", "INTERVAL(start, eind)"], "voorstellen": ["ingediend", "gepubliceerd"]}
    leaves = st.one_of(_comparison(fields), _spatial(), _temporal(times[collection.name]))
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from([" AND ", " OR "]), inner).map("".join),
            inner.map(lambda f: f"NOT ({f})"),
            inner.map(lambda f: f"({f})"),
        ),
        max_leaves=6,
    )


def _answer(client, collection: str, text: str):
    response = client.get(f"/collections/{collection}/items", params={"filter": text, "limit": 1000})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.headers["Content-Type"] == "application/problem+json"
        return 400, response.json()["detail"]
    document = response.json()
    return 200, document["numberMatched"], [f["id"] for f in document["features"]]


@pytest.mark.parametrize("collection", [PROJECTEN, VOORSTELLEN], ids=lambda c: c.name)
def test_generated_filters_get_the_same_answer_from_both_backends(both_backends, collection):
    @settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(_filters(collection))
    def same_answer(text):
        geopackage, postgis = (_answer(client, collection.name, text) for client in both_backends)
        assert geopackage == postgis

    same_answer()
