"""The OpenAPI document is true, and no request breaks the service: schemathesis calls every
operation with requests that fit the document and with requests that break it (wrong types, missing
and hostile values in parameters, headers and bodies). No answer is a server error; every refusal is
a problem (RFC 9457) with the API version; every answer matches the document."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

CONFIG = SchemathesisConfig.from_dict({"generation": {"mode": "all"}})


@schemathesis.check
def refusals_are_problems(ctx, response, case):
    """Every answer of 400 and more is problem details (a page when HTML was asked for), and says
    which API version gave it."""
    if response.status_code >= 400:
        media_type = response.headers.get("content-type", [""])[0]
        assert response.headers.get("api-version"), "no API-Version header"
        if (case.query or {}).get("f") == "html":
            assert media_type.startswith("text/html") and f"<title>{response.status_code} " in response.text
            return
        assert media_type == "application/problem+json", f"{response.status_code} answered as {media_type!r}"
        assert response.json()["status"] == response.status_code


@pytest.fixture(scope="session")
def api_schema(writable_app):
    return schemathesis.openapi.from_asgi("/openapi.json", writable_app, config=CONFIG)


# The collections of one geometry family share their code: those of points stand for all three.
schema = schemathesis.pytest.from_fixture("api_schema").exclude(path_regex=r".*-(lijnen|vlakken)")


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_to_the_document(case, tokens):
    # A CQL2 filter, a bbox with min > max or a feature outside Nijmegen fits the document's types
    # but is still refused with 400: the check that every schema-valid request succeeds does not apply.
    role = "moderator" if "voorstellen" in case.path else "planner"
    case.call_and_validate(
        headers={"Authorization": f"Bearer {tokens[role]}"}, excluded_checks=[positive_data_acceptance]
    )


def test_limit_is_a_reusable_parameter(client):
    document = client.get("/openapi.json").json()
    assert document["components"]["parameters"]["limit"]["schema"]["maximum"] == 10_000
    items = document["paths"]["/collections/projecten/items"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/limit"} in items
    assert {"$ref": "#/components/parameters/filter"} in items
    assert {"$ref": "#/components/parameters/bbox-crs"} in items


def test_only_editable_collections_document_writes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"post"} <= set(paths["/collections/projecten/items"])
    assert "post" not in paths["/collections/wijken/items"]
    assert "patch" in paths["/collections/voorstellen/items/{featureId}"]
