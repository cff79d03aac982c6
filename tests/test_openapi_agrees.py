"""The OpenAPI document and the server agree on the query parameters, walked from the document itself: a value
outside a documented enum, boolean, pattern or range gets the documented 400 problem, and an empty value is the
same as none. (Every status any test sees from /api/v1 must be documented: conftest._api_statuses_are_documented;
documented paths and the url map: test_api.py::test_every_api_route_is_documented_with_its_methods.)"""

import pytest

from nettverk.api.openapi import PATHS

PATH_VALUES = {"slug": "fosen"}  # the only templated path with query parameters: bases/{slug}/competence-matrix


def query_parameters():
    for path, item in PATHS.items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    yield path, method, operation, parameter


def bad_values(schema: dict) -> list[str]:
    """Values the document rules out for a parameter's schema."""
    if "enum" in schema:
        return ["finnes-ikke", schema["enum"][0].upper() + "x"]
    if schema.get("type") == "boolean":
        return ["ja", "1", "yes", "TRUE"]
    if schema.get("type") == "integer":
        values = ["x", "1.5", "-1"]
        if "minimum" in schema:
            values.append(str(schema["minimum"] - 1))
        if "maximum" in schema:
            values.append(str(schema["maximum"] + 1))
        return values
    if "pattern" in schema:
        return ["12", "12345", "abcd"]
    return []


CHECKED = [(path, p["name"]) for path, _, _, p in query_parameters() if bad_values(p["schema"])]


def client_for(as_role, operation):
    # A service employee may list referrals, so every operation that needs a login reaches its parameters.
    return as_role("service_staff" if operation.get("security") else None).client


def test_the_walk_covers_the_enums_and_booleans():
    names = {name for _, name in CHECKED}
    assert {"kind", "method", "status", "include_historic", "service_kind", "min_level", "page"} <= names
    assert ("/api/v1/services", "kind") in CHECKED


@pytest.mark.parametrize("path, name", CHECKED)
def test_a_value_outside_the_document_is_its_documented_400(as_role, path, name):
    operation = PATHS[path]["get"]
    parameter = next(p for p in operation["parameters"] if p["name"] == name)
    assert "400" in operation["responses"]
    client = client_for(as_role, operation)
    url = path.format(**PATH_VALUES)
    for value in bad_values(parameter["schema"]):
        response = client.get(url, query_string={name: value})
        assert response.status_code == 400, f"{url}?{name}={value}: {response.status_code}"
        assert response.mimetype == "application/problem+json"
        assert name in response.get_json()["detail"] or value in response.get_json()["detail"]


@pytest.mark.parametrize("path, name", CHECKED)
def test_an_empty_value_is_the_same_as_none(as_role, path, name):
    operation = PATHS[path]["get"]
    client = client_for(as_role, operation)
    url = path.format(**PATH_VALUES)
    without = client.get(url)
    empty = client.get(url, query_string={name: ""})
    assert without.status_code == empty.status_code == 200
    assert empty.get_json() == without.get_json()


@pytest.mark.parametrize(
    "path, name", [(path, p["name"]) for path, _, _, p in query_parameters() if "enum" in p["schema"]]
)
def test_every_enum_value_is_accepted(as_role, path, name):
    operation = PATHS[path]["get"]
    parameter = next(p for p in operation["parameters"] if p["name"] == name)
    client = client_for(as_role, operation)
    for value in parameter["schema"]["enum"]:
        response = client.get(path.format(**PATH_VALUES), query_string={name: value})
        assert response.status_code == 200, f"{path}?{name}={value}: {response.status_code}"


@pytest.mark.parametrize("value, historic", [("true", True), ("false", False)])
def test_include_historic_takes_true_and_false(browser, value, historic):
    items = browser.get(f"/api/v1/municipalities?include_historic={value}").get_json()["items"]
    assert any(not m["current"] for m in items) is historic


def test_an_unknown_municipality_number_is_the_documented_400(browser):
    parameter = next(p for p in PATHS["/api/v1/events"]["get"]["parameters"] if p["name"] == "municipality")
    assert "0000" in parameter["description"]
    response = browser.client.get("/api/v1/events?municipality=0000")
    assert response.status_code == 400
    assert "0000" in response.get_json()["detail"]
