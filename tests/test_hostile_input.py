"""Input a resident, a client or an attacker may send: values out of range, malformed parameters,
filters and bodies, characters that are no text, repeated identity headers. Every refusal is a
problem (4xx, never 5xx) that names what was wrong, and changes nothing."""

import logging

import pytest
from snapshots import fingerprint
from test_participation import PROJECT, PROPOSAL, feature, headers, path_of, publish, submit

from geoservice.store import Store

HUGE = 2**64


def _problem(response, status: int, mentions: str = ""):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["API-Version"] and response.headers["X-Request-ID"]
    document = response.json()
    assert document["status"] == status and mentions in document["detail"]
    assert document["instance"] == f"urn:uuid:{response.headers['X-Request-ID']}"
    return document


# -- numbers and dates in their domain ------------------------------------------------------
@pytest.mark.parametrize(
    "collection,properties,field",
    [
        ("projecten", {**PROJECT, "budget_indicatie": HUGE}, "budget_indicatie"),
        ("projecten", {**PROJECT, "budget_indicatie": 2**53}, "budget_indicatie"),
        ("projecten", {**PROJECT, "planjaar": 30_000}, "planjaar"),
        ("projecten", {**PROJECT, "start": "0001-01-01"}, "start"),
        ("projecten", {**PROJECT, "inspraak_tot": "9999-12-31"}, "inspraak_tot"),
        ("voorstellen", {**PROPOSAL, "wijkbudget": -1}, "wijkbudget"),
        ("voorstellen", {**PROPOSAL, "wijkbudget": HUGE}, "wijkbudget"),
        ("voorstellen", {**PROPOSAL, "projecten": [HUGE]}, "projecten"),
        ("voorstellen", {**PROPOSAL, "projecten": [1, 1]}, "projecten"),
        ("voorstellen", {**PROPOSAL, "ingediend": "0001-01-01T00:00:00+14:00"}, "ingediend"),
    ],
)
def test_values_outside_their_domain_are_refused(store_client, store, tokens, collection, properties, field):
    role = "planner" if collection == "projecten" else "moderator"
    before = fingerprint(store)
    response = store_client.post(
        f"/collections/{collection}/items", json=feature(properties), headers=headers(tokens, role)
    )
    _problem(response, 400, field)
    assert fingerprint(store) == before


@pytest.mark.parametrize(
    "query,mentions",
    [
        ({"offset": str(HUGE)}, "offset"),
        ({"limit": str(HUGE)}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"planjaar": str(HUGE)}, "planjaar"),
        ({"planjaar": "-" + str(HUGE)}, "planjaar"),
        ({"budget_indicatie": "1e400"}, "budget_indicatie"),
        ({"start": "0001-01-01"}, "start"),
        ({"datetime": "0001-01-01T00:00:00+14:00"}, "datetime"),
        ({"bbox": "1e400,0,1,1"}, "bbox"),
        ({"filter": f"planjaar = {HUGE}"}, "out of range"),
        ({"filter": "budget_indicatie > 1e999"}, "out of range"),
        ({"filter": "start > DATE('0001-01-01')"}, "date"),
    ],
)
def test_parameters_outside_their_domain_are_a_400(client, query, mentions):
    _problem(client.get("/collections/projecten/items", params=query), 400, mentions)


def test_ids_no_feature_can_have_are_not_found(client):
    _problem(client.get(f"/collections/projecten/items/{HUGE}"), 404)
    _problem(client.get(f"/collections/voorstellen/items/{HUGE}/steun"), 404)
    _problem(client.get(f"/collections/voorstellen/items/{'9' * 400}/reacties"), 404)


# -- filters of bounded size, strictly read ---------------------------------------------------------
NESTED = "(" * 13 + "planjaar = 2027" + ")" * 13
DEEP = "NOT (" * 13 + "planjaar = 2027" + ")" * 13
MANY = " OR ".join(f"planjaar = {2000 + n}" for n in range(101))
LONG_IN = "planjaar IN (" + ", ".join(str(n) for n in range(1001)) + ")"
DEEP_JSON = '{"op": "not", "args": [' * 40 + '{"op": "=", "args": [{"property": "planjaar"}, 2027]}' + "]}" * 40


@pytest.mark.parametrize(
    "text,language,mentions",
    [
        (DEEP, "cql2-text", "nested"),
        (MANY, "cql2-text", "conditions"),
        (LONG_IN, "cql2-text", "IN"),
        (DEEP_JSON, "cql2-json", "nested"),
        ('{"op": "=", "args": [1]}', "cql2-json", "arguments"),
        ('{"op": "in", "args": [{"property": "planjaar"}, 5]}', "cql2-json", "arguments"),
        (
            '{"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": "x"}]}',
            "cql2-json",
            "geometry",
        ),
        ('{"op": "t_after", "args": [{"property": "start"}, {"interval": [5, 6]}]}', "cql2-json", "date"),
        ('{"op": "=", "args": [{"property": 5}, 1]}', "cql2-json", "property"),
        ('{"bbox": [1, 2]}', "cql2-json", "bbox"),
        ('{"date": 2027}', "cql2-json", "date"),
        ("S_INTERSECTS(geometry, POLYGON((5 51, 6 52, 6 51, 5 52, 5 51)))", "cql2-text", "valid"),
        ("S_INTERSECTS(geometry, POINT(5.8 51.8 10))", "cql2-text", "2D"),
    ],
)
def test_filters_too_large_or_malformed_are_a_400(client, text, language, mentions):
    response = client.get("/collections/projecten/items", params={"filter": text, "filter-lang": language})
    _problem(response, 400, mentions)


def test_a_filter_within_the_limits_is_answered(client):
    assert client.get("/collections/projecten/items", params={"filter": NESTED}).status_code == 200


# -- bodies ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "geometry,mentions",
    [
        ({"type": "Point", "coordinates": ["5.86", "51.84"]}, "geometry"),
        ({"type": "Point", "coordinates": [True, False]}, "geometry"),
        ({"type": "Point", "coordinates": [[5.86, 51.84]]}, "geometry"),
        ({"type": "Point", "coordinates": [5.86, 51.84, 12.0]}, "heights"),
        ({"type": "LineString", "coordinates": [5.86, 51.84]}, "geometry"),
        ({"type": "GeometryCollection", "geometries": []}, "geometry"),
        ("POINT (5.86 51.84)", "geometry"),
    ],
)
def test_geometries_that_are_not_plain_geojson_are_refused(store_client, store, tokens, geometry, mentions):
    before = fingerprint(store)
    _problem(submit(store_client, tokens, feature(geometry=geometry)), 400, mentions)
    assert fingerprint(store) == before


@pytest.mark.parametrize(
    "charset,status",
    [("hex", 415), ("base64", 415), ("rot13", 415), ("nonsense", 415), ("utf-16", 201), ("latin-1", 201)],
)
def test_only_text_charsets_are_read(store_client, tokens, charset, status):
    body = (
        '{"type": "Feature", "properties": {"titel": "Bankje", "soort": "idee", "categorie": "groen"}, '
        '"geometry": {"type": "Point", "coordinates": [5.8662, 51.8467]}}'
    )
    send = {**headers(tokens, "participatie"), "Content-Type": f"application/geo+json; charset={charset}"}
    response = store_client.post(
        "/collections/voorstellen/items", content=body.encode(charset if status == 201 else "utf-8"), headers=send
    )
    assert response.status_code == status, response.text


@pytest.mark.parametrize("name", ["Authorization", "Participant-Id", "Content-Type", "Content-Crs"])
def test_identity_and_body_headers_given_twice_are_a_400(store_client, store, tokens, name):
    given = headers(tokens, "participatie", **{"Content-Crs": "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"})
    pairs = [*given.items(), (name, given[name])]
    before = fingerprint(store)
    response = store_client.post("/collections/voorstellen/items", json=feature(), headers=pairs)
    _problem(response, 400, name.lower())
    assert fingerprint(store) == before


# -- text is text -------------------------------------------------------------------------------
NOT_TEXT = ["\x00", "\x07", "\x1b[31m", "\u202e", "\u2066", "\x85", "\ufeff"]


@pytest.mark.parametrize(
    "field,character",
    [(("titel", "omschrijving", "auteur")[n % 3], c) for n, c in enumerate(NOT_TEXT)],
    ids=[f"U+{ord(c[0]):04X}" for c in NOT_TEXT],
)
def test_control_and_direction_characters_are_refused_in_text(store_client, store, tokens, field, character):
    before = fingerprint(store)
    response = submit(store_client, tokens, feature({**PROPOSAL, field: f"Bankje{character}gnp.exe"}))
    _problem(response, 400, f"{field}: character U+")
    assert fingerprint(store) == before


def test_line_breaks_and_tabs_are_text(store_client, tokens):
    response = submit(store_client, tokens, feature({**PROPOSAL, "omschrijving": "Regel een\r\nregel\ttwee"}))
    assert response.status_code == 201


@pytest.mark.parametrize("where", ["toelichting", "prive", "reactie", "reden"])
def test_every_text_a_person_writes_is_checked(store_client, store, tokens, where):
    path = path_of(submit(store_client, tokens))
    moderator = headers(tokens, "moderator")
    hostile = "Bel me\u202e 0612"
    calls = {
        "toelichting": lambda: store_client.patch(
            path, json={"properties": {"status": "gepubliceerd"}, "toelichting": hostile}, headers=moderator
        ),
        "prive": lambda: submit(store_client, tokens, feature(prive={"contact": hostile})),
        "reactie": lambda: store_client.post(
            f"{path}/reacties", json={"tekst": hostile}, headers=headers(tokens, "participatie")
        ),
        "reden": lambda: store_client.patch(
            path, json={"properties": {"status": "afgewezen", "reden": hostile}}, headers=moderator
        ),
    }
    if where == "reactie":
        publish(store_client, tokens, path)
    before = fingerprint(store)
    _problem(calls[where](), 400, "U+202E")
    assert fingerprint(store) == before


def test_no_value_becomes_a_link_or_image_on_a_page(store_client, tokens):
    hostile = {
        **PROPOSAL,
        "titel": "<img src=x onerror=alert(1)>",
        "omschrijving": "https://example.org/x.jpg",
        "auteur": "javascript:alert(1).png",
    }
    path = path_of(submit(store_client, tokens, feature(hostile)))
    publish(store_client, tokens, path)
    for page in (f"{path}?f=html", "/collections/voorstellen/items?f=html&titel=<img src=x onerror=alert(1)>"):
        response = store_client.get(page)
        assert response.status_code == 200
        text = response.text
        assert "<img" not in text and 'href="javascript' not in text and 'href="https://example.org' not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_pages_carry_a_content_security_policy_and_safety_headers(client):
    page = client.get("/collections/projecten/items?f=html")
    policy = page.headers["Content-Security-Policy"]
    assert (
        "default-src 'self'" in policy
        and "script-src 'self'" in policy
        and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    assert "https://service.pdok.nl" in policy
    for response in (page, client.get("/collections/projecten/items")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_spreadsheet_formulas_in_csv_cells_are_kept_as_text(store_client, tokens):
    for n, start in enumerate("=+-@"):
        path = path_of(
            submit(
                store_client, tokens, feature({**PROPOSAL, "titel": f'{start}HYPERLINK("x") {n}'}), participant=f"p{n}"
            )
        )
        publish(store_client, tokens, path)
    csv = store_client.get("/downloads/voorstellen.csv").text
    for start in "=+-@":
        assert f"'{start}HYPERLINK" in csv and f"\n{start}HYPERLINK" not in csv and f",{start}HYPERLINK" not in csv


# -- unexpected failures ------------------------------------------------------------------------------
def test_an_unexpected_failure_is_a_logged_problem_with_a_request_id(store_client, monkeypatch, caplog):
    def broken(self, query):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Store, "query", broken)
    with caplog.at_level(logging.ERROR, logger="geoservice"):
        response = store_client.get("/collections/projecten/items")
    document = _problem(response, 500, "request id")
    assert "disk on fire" not in document["detail"]
    assert any(response.headers["X-Request-ID"] in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    "method,path,status",
    [("GET", "/nergens", 404), ("DELETE", "/collections", 405), ("GET", "/maps/static/leaflet/niets.js", 404)],
)
def test_routing_refusals_are_problems_too(client, method, path, status):
    _problem(client.request(method, path), status)
