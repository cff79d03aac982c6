"""HTTP at its edges: ids no id column can hold are 404 on every route with an id, and a 405 says what is allowed."""

import re

import pytest
from werkzeug.routing import IntegerConverter

from nettverk import IdConverter

# PostgreSQL's integer (every id column) ends at 2**31 - 1, SQLite's at 2**63 - 1; int() refuses > 4300 digits.
JUNK_IDS = ["2147483648", "9223372036854775808", "123456789012345678901234567890", "9" * 5000]


def routes_with_ids(app):
    """(rule, method) for every route with an <int:…> part, generated from the app's url map."""
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def url_with(rule, junk: str) -> str:
    """The rule's path with every int part set to junk and the other parts to a harmless word."""

    def part(match):
        converter = rule._converters[match.group(2)]
        return junk if isinstance(converter, IntegerConverter) else ("ics" if "format" in match.group(2) else "x")

    return re.sub(r"<(?:([^:<>]+):)?([^<>]+)>", part, rule.rule)


def test_every_int_converter_is_the_bounded_one(app):
    routes = routes_with_ids(app)
    assert len(routes) > 30  # the walk below covers the real routes, not an empty list
    assert all(
        isinstance(c, IdConverter)
        for rule, _ in routes
        for c in rule._converters.values()
        if isinstance(c, IntegerConverter)
    )


@pytest.mark.parametrize("role", [None, "admin"])
@pytest.mark.parametrize("junk", JUNK_IDS, ids=["2**31", "2**63", "30-digits", "5000-digits"])
def test_an_id_beyond_the_id_columns_is_404_on_every_route(app, as_role, role, junk):
    client = as_role(role).client
    failures = []
    for rule, method in routes_with_ids(app):
        url = url_with(rule, junk)
        response = client.open(url, method=method)
        wanted = "application/problem+json" if url.startswith("/api/") else "text/html"
        if response.status_code != 404 or response.mimetype != wanted:
            failures.append(f"{method} {rule.rule}: {response.status_code} {response.mimetype}")
    assert not failures


def test_the_largest_id_is_still_an_id(browser):
    """2**31 - 1 passes the converter and reaches the view, which does not find it (no database error)."""
    response = browser.client.get(f"/api/v1/events/{2**31 - 1}")
    assert response.status_code == 404
    assert response.get_json()["title"]


@pytest.mark.parametrize(
    "method, url, allowed",
    [
        ("POST", "/api/v1/events", {"GET", "HEAD", "OPTIONS"}),
        ("DELETE", "/api/v1/openapi.json", {"GET", "HEAD", "OPTIONS"}),
        ("PUT", "/api/v1/events/1/registration", {"POST", "DELETE", "OPTIONS"}),
        ("DELETE", "/", {"GET", "HEAD", "OPTIONS"}),
        ("PATCH", "/arrangementer/1", None),
    ],
)
def test_405_says_which_methods_are_allowed(app, browser, method, url, allowed):
    response = browser.client.open(url, method=method)
    assert response.status_code == 405
    header = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
    if allowed is None:  # what the url map says for that path
        allowed = set(app.url_map.bind("nettverk.test").allowed_methods(url))
    assert header == allowed
    assert response.mimetype == ("application/problem+json" if url.startswith("/api/") else "text/html")
