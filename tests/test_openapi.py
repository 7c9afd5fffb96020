"""The OpenAPI document is true: schemathesis calls every operation with generated requests and
checks that no answer is a server error and every answer matches the document."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance


@pytest.fixture(scope="session")
def api_schema(writable_app):
    return schemathesis.openapi.from_asgi("/openapi.json", writable_app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_to_the_document(case, tokens):
    # A CQL2 filter, a bbox with min > max or a feature outside Nijmegen fits the document's types
    # but is still refused with 400: the check that every schema-valid request succeeds does not apply.
    role = "moderator" if "voorstellen" in case.path else "planner"
    case.call_and_validate(headers={"Authorization": f"Bearer {tokens[role]}"},
                           excluded_checks=[positive_data_acceptance])


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
