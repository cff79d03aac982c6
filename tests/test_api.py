"""The JSON API: the OpenAPI document matches the real routes and responses, and the content is right."""

import re

import pytest
from factories import make_event
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry
from referencing.jsonschema import DRAFT202012

DOC_URI = "urn:nettverk:openapi"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
# Real seeded values for the path parameters of each documented path.
EXAMPLE_PARAMS = {
    "/api/v1/bases/{slug}": {"slug": "fosen"},
    "/api/v1/municipalities/{number}": {"number": "5054"},
    "/api/v1/services/{slug}": {"slug": "fosen-barnevern"},
    # Operations that need a login are called anonymously here (answered 401, or 404 when existence is
    # hidden); test_api_referrals.py checks their 200 answers logged in, with real values.
    "/api/v1/interventions/{slug}": {"slug": "ukjent-tiltak"},
    "/api/v1/referrals/{public_id}": {"public_id": "ukjent-henvendelse"},
    "/api/v1/materials/{material_id}": {"material_id": 999999},
    "/api/v1/bases/{slug}/competence-matrix": {"slug": "fosen"},
}
PROBLEM_FIELDS = {"type", "title", "status", "detail"}


def openapi_document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def api_routes(app) -> dict[str, set[str]]:
    """The app's /api/v1 routes as OpenAPI paths ({name} parameters) -> lower-case methods."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes.setdefault(path, set()).update(m.lower() for m in rule.methods - IGNORED_METHODS)
    return routes


def documented_operations(document) -> dict[str, set[str]]:
    methods = {"get", "put", "post", "delete", "patch"}
    return {path: {m for m in item if m in methods} for path, item in document["paths"].items()}


def filled(path: str, event_id: int | None = None) -> str:
    return path.format(**EXAMPLE_PARAMS.get(path, {}), **({"event_id": event_id} if "{event_id}" in path else {}))


@pytest.fixture
def event_id(db):
    """A published event (the seed has none) for the paths with {event_id}."""
    return make_event(db, "Fagdag", all_day=True).id


def response_validator(document, path: str, method: str, status: str, content_type: str):
    """A JSON Schema validator for one documented response; $refs resolve within the document."""
    registry = Registry().with_resource(DOC_URI, DRAFT202012.create_resource(document))
    pointer = "/".join(
        part.replace("~", "~0").replace("/", "~1")
        for part in ("paths", path, method, "responses", status, "content", content_type, "schema")
    )
    return Draft202012Validator(
        {"$ref": f"{DOC_URI}#/{pointer}"}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def assert_matches(document, path, method, response):
    status = str(response.status_code)
    documented = document["paths"][path][method]["responses"]
    assert status in documented, f"{method.upper()} {path} answered {status}, not documented"
    content_type = response.mimetype
    assert content_type in documented[status]["content"]
    validator = response_validator(document, path, method, status, content_type)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(response.get_json())]
    assert not errors, f"{method.upper()} {filled(path)}: " + "; ".join(errors[:5])


def assert_problem(response, status: int):
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert PROBLEM_FIELDS <= body.keys()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


# The document ---------------------------------------------------------------------------------------


def test_openapi_document_is_valid_openapi_3_1(browser):
    document = openapi_document(browser)
    assert document["openapi"].startswith("3.1")
    validate_openapi(document)


def test_every_api_route_is_documented_with_its_methods(app, browser):
    assert documented_operations(openapi_document(browser)) == api_routes(app)


def test_every_api_route_documents_its_path_parameters_under_its_own_operation_id(app, browser):
    document = openapi_document(browser)
    operation_ids = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            for method in rule.methods - IGNORED_METHODS:
                operation = document["paths"][path][method.lower()]
                in_path = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
                assert in_path == set(rule.arguments), f"{method} {path}"
                operation_ids.append(operation["operationId"])
    assert len(operation_ids) == len(set(operation_ids))


def needs_login(document, path, method) -> bool:
    return bool(document["paths"][path][method].get("security"))


def test_every_documented_operation_answers(browser, event_id):
    """Public reads answer 200; changes and reads that need a login answer an anonymous caller with a
    documented problem (401, or 404 where existence is hidden), once the CSRF header lets the request
    reach the view."""
    document = openapi_document(browser)
    for path, methods in documented_operations(document).items():
        for method in methods:
            url = filled(path, event_id)
            if method == "get" and not needs_login(document, path, method):
                response = browser.client.open(url, method="GET")
                assert response.status_code == 200, f"GET {url}: {response.status_code}"
            elif method == "get":
                response = browser.client.open(url, method="GET")
                assert response.status_code in (401, 404), f"GET {url}: {response.status_code}"
                assert_matches(document, path, method, response)
            else:
                response = browser.client.open(
                    url, method=method.upper(), headers={"X-CSRFToken": browser.csrf_token()}
                )
                assert response.status_code == 401, f"{method.upper()} {url}: {response.status_code}"
                assert_matches(document, path, method, response)


def test_every_200_response_matches_its_documented_schema(browser, event_id):
    document = openapi_document(browser)
    for path, methods in documented_operations(document).items():
        for method in methods:
            operation = document["paths"][path][method]
            if "200" not in operation["responses"]:
                continue  # changes; their answers are checked above and in test_api_events.py
            if needs_login(document, path, method):
                continue  # checked logged in by test_api_referrals.py
            if "schema" not in operation["responses"]["200"]["content"]["application/json"]:
                continue  # the document itself; checked by the OpenAPI validator above
            response = browser.client.open(filled(path, event_id), method=method.upper())
            assert_matches(document, path, method, response)


@pytest.mark.parametrize(
    ("path", "url", "status"),
    [
        ("/api/v1/bases/{slug}", "/api/v1/bases/finnes-ikke", 404),
        ("/api/v1/municipalities/{number}", "/api/v1/municipalities/9999", 404),
        ("/api/v1/services/{slug}", "/api/v1/services/finnes-ikke", 404),
        ("/api/v1/services", "/api/v1/services?kind=trolldom", 400),
    ],
)
def test_error_responses_are_documented_problems(browser, path, url, status):
    response = browser.get(url)
    assert_problem(response, status)
    assert_matches(openapi_document(browser), path, "get", response)


def test_schema_validation_catches_a_wrong_response(browser):
    """The checks above can fail: a body missing a required field does not validate."""
    document = openapi_document(browser)
    validator = response_validator(document, "/api/v1/bases", "get", "200", "application/json")
    assert not validator.is_valid({"items": [{"slug": "fosen"}]})
    assert not validator.is_valid({"items": [{"slug": "fosen", "name": "Fosen", "member_count": "4"}]})


# Content --------------------------------------------------------------------------------------------


def test_bases_list_fosen_with_member_count(browser):
    items = browser.get("/api/v1/bases").get_json()["items"]
    fosen = next(b for b in items if b["slug"] == "fosen")
    assert fosen["name"] == "Fosen"
    assert fosen["member_count"] == 4


def test_base_lists_its_members(browser):
    body = browser.get("/api/v1/bases/fosen").get_json()
    assert {m["number"] for m in body["members"]} == {"5054", "5020", "5058", "5057"}


def test_municipality_shows_what_it_was_merged_from(browser):
    body = browser.get("/api/v1/municipalities/5055").get_json()
    assert body["name"] == "Heim"
    assert body["current"] is True
    merged_from = {m["number"]: m for m in body["merged_from"]}
    assert set(merged_from) == {"5011", "1571", "5012"}
    assert (merged_from["5011"]["name"], merged_from["1571"]["name"], merged_from["5012"]["name"]) == (
        "Hemne",
        "Halsa",
        "Snillfjord",
    )
    assert merged_from["5012"]["partial"] is True
    assert merged_from["5011"]["partial"] is False
    assert all(m["current"] is False and m["effective_date"] == "2020-01-01" for m in merged_from.values())


def test_historic_municipality_shows_what_it_was_merged_into(browser):
    body = browser.get("/api/v1/municipalities/5011").get_json()
    assert body["current"] is False
    assert [m["number"] for m in body["merged_into"]] == ["5055"]


def test_municipalities_exclude_historic_by_default(browser):
    numbers = {m["number"] for m in browser.get("/api/v1/municipalities").get_json()["items"]}
    assert "5055" in numbers
    assert "5011" not in numbers


def test_municipalities_include_historic_on_request(browser):
    items = browser.get("/api/v1/municipalities?include_historic=true").get_json()["items"]
    by_number = {m["number"]: m for m in items}
    assert {"5055", "5011", "1571", "5012"} <= by_number.keys()
    assert by_number["5011"]["current"] is False
    assert by_number["5011"]["valid_to"] == "2019-12-31"


def test_services_filtered_by_kind(browser):
    items = browser.get("/api/v1/services?kind=barnevern").get_json()["items"]
    assert "fosen-barnevern" in {s["slug"] for s in items}
    assert {s["kind"] for s in items} == {"barnevern"}
    assert len(items) < len(browser.get("/api/v1/services").get_json()["items"])


def test_unknown_service_kind_is_a_norwegian_problem(browser):
    body = assert_problem(browser.get("/api/v1/services?kind=trolldom"), 400)
    assert "Ukjent type tjeneste «trolldom»" in body["detail"]
    assert "barnevern" in body["detail"]


def test_service_lists_what_it_serves(browser):
    body = browser.get("/api/v1/services/fosen-barnevern").get_json()
    assert body["host_municipality"] == {"number": "5054", "name": "Indre Fosen"}
    assert {m["number"] for m in body["serves"]} == {"5054", "5020"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/bases/finnes-ikke",
        "/api/v1/municipalities/9999",
        "/api/v1/services/finnes-ikke",
        "/api/v1/nope",
    ],
)
def test_unknown_things_are_404_problems_not_html(browser, url):
    body = assert_problem(browser.get(url), 404)
    assert body["instance"] == url
