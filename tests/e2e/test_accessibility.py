"""WCAG 2.1 AA on every page: each role (tests/conftest.py USERS, and anonymous) visits every GET page of the app
it may see (the routes and URL values of tests/test_permissions.py), in desktop and phone size, and axe-core
finds no violation of the WCAG 2.0/2.1 A and AA rules. Forms are also checked as they look after an invalid
submit: the error summary is shown on top, links to each field in error and gets the focus.

Every page is opened on the desktop and must answer 200 with HTML. A page whose content (main, header) was
already checked in this run, for another role, is not checked again, so the crawl stays quick; a new one is
checked by axe on the desktop and on the phone, where it must also fit 375 px without sideways scrolling.
"""

import hashlib
import re

import pytest
from conftest import USERS
from playwright.sync_api import Error as PlaywrightError
from test_permissions import MATRIX, TOKENS, _allowed, _url, make_url_values

from .conftest import check_axe, log_in, shot

ROLES = [None, *USERS]
EXTRA_PAGES = {  # GET pages that a query string turns into another page
    "referrals.referral_new": [{"tiltak": "pmto-foreldretrening"}],
    "competence.search": [{"omrade": "marte-meo", "base": "alle", "niva": "awareness"}],
}
SCREENSHOTS = {  # key pages, photographed for the reviewer: endpoint -> role that shows it best
    "registry.home": None,
    "calendar.region_calendar": None,
    "events.event_detail": "participant",
    "events.my_registrations": "participant",
    "registry.base_detail": "coordinator_fosen",
    "networks.network_detail": "coordinator_fosen",
    "events.event_new": "coordinator_fosen",
    "referrals.catalog": "service_staff",
    "referrals.referral_detail": "provider",
    "referrals.referral_new": "service_staff",
    "referral_statistics.statistics_page": "coordinator_fosen",
    "registry.municipality_detail": "admin",
    "accounts.admin_home": "admin",
    "calendar.annual_wheel": None,
    "competence.matrix": "coordinator_fosen",
    "competence.home": "participant",
}
_checked: set[str] = set()  # content hashes (main, header) already checked in this run
# What differs between two visits of the same page: the form's CSRF token, and the live server's port (each
# test has its own server) in absolute addresses such as calendar links.
_VOLATILE = re.compile(
    r'(name="csrf_token"[^>]*value=")[^"]*|(value=")[^"]*("[^>]*name="csrf_token")'
    r"|127\.0\.0\.1(:|%3A)\d+"
)


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


def _fingerprints(page) -> set[str]:
    """What makes a page new to axe: its main content, and its header (the menu differs by role; which item
    is the current one does not change the rules that apply)."""
    main, header = page.evaluate(
        "() => [(document.querySelector('main') || document.body).outerHTML, "
        "(document.querySelector('header') || document.body).outerHTML]"
    )
    header = re.sub(r' aria-current="\w+"| class="is-current"', "", header)
    return {
        name + hashlib.sha256(_VOLATILE.sub("", html).encode()).hexdigest()
        for name, html in (("main:", main), ("header:", header))
    }


def _overflow(page) -> int:
    """How many pixels the page is wider than the screen (0: no sideways scrolling). A phone widens its layout
    viewport to a page that is too wide (and zooms out), so the screen's width is the measure, not the window's."""
    return page.evaluate("() => Math.max(0, document.documentElement.scrollWidth - screen.width)")


def _open(page, path, role, failures) -> bool:
    """Open a page; False (with the reason in failures) unless it answers 200 with HTML."""
    try:
        response = page.goto(path)
    except PlaywrightError as error:
        if "Download is starting" in str(error):  # a file (an attachment), not a page
            return False
        raise
    if response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
        failures.append(
            f"{path} [{page.device}] as {role or 'anonym'}: {response.status} {response.headers.get('content-type')}"
        )
        return False
    assert page.locator("main h1").count() == 1, f"{path}: a page has one h1 in main"
    return True


def _axe(page, name, failures):
    try:
        check_axe(page, name)
    except pytest.fail.Exception as error:
        failures.append(str(error))


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonym")
def test_every_page_of_each_role_passes_axe(role, live_server, page_for):
    """Each page opens on the desktop; when its content is new in this run, axe checks it there and on the
    phone, where it also must fit 375 px without sideways scrolling."""
    values = make_url_values(live_server.app)
    desktop, phone = page_for("desktop"), page_for("phone")
    if role:
        log_in(desktop, role)
        log_in(phone, role)
    failures, checked = [], 0
    for endpoint, path in pages_for(live_server.app, values, role):
        if not _open(desktop, path, role, failures):
            continue
        keys = _fingerprints(desktop)
        photograph = SCREENSHOTS.get(endpoint, "-") == role and "?" not in path
        if keys <= _checked and not photograph:
            continue
        _checked.update(keys)
        name = f"{endpoint} som {role or 'anonym'}"
        _axe(desktop, name, failures)
        if not _open(phone, path, role, failures):
            continue
        if _overflow(phone):
            failures.append(f"{path} [phone] as {role or 'anonym'}: {_overflow(phone)} px wider than 375 px")
        _axe(phone, name, failures)
        checked += 1
        if photograph:
            shot(desktop, endpoint)
            shot(phone, endpoint)
    assert checked > 0 or _checked, "no page was checked"
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- forms after an invalid submit

INVALID_FORMS = [  # (role, endpoint, query, the button that sends the form empty[, {select label: option}])
    (None, "accounts.login", "", "Logg inn"),
    (None, "accounts.forgot_password", "", "Send lenke"),
    (None, "accounts.accept_invitation", "", "Opprett konto"),
    (None, "accounts.reset_password", "", "Lagre nytt passord"),
    (None, "events.guest_register", "", "Meld meg på"),
    (None, "calendars.guest_new_link", "", "Send ny lenke"),
    (None, "calendar.region_calendar", "?maaned=2025-13&base=finnes-ikke", None),
    (None, "calendar.check_date", "?dato=2025-02-31", None),
    ("participant", "accounts.profile", "", "Bytt passord"),
    ("coordinator_fosen", "events.event_new", "", "Lagre utkast"),
    ("coordinator_fosen", "events.participants", "", "Meld på"),
    ("coordinator_fosen", "networks.network_new", "", "Opprett nettverket"),
    ("coordinator_fosen", "networks.members", "", "Legg til"),
    ("coordinator_fosen", "referral_statistics.statistics_page", "?fra=i-går&til=2020-13-01", None),
    ("municipality_contact", "registry.contact_new", "", "Lagre"),
    ("service_staff", "referrals.referral_new", "?tiltak=pmto-foreldretrening", "Send"),
    ("provider", "referrals.intervention_new", "", "Legg tiltaket i katalogen"),
    ("admin", "registry.municipality_new", "", "Lagre"),
    ("admin", "registry.base_new", "", "Lagre"),
    ("admin", "registry.service_new", "", "Lagre"),
    ("admin", "registry.unit_new", "", "Lagre"),
    ("admin", "registry.counties", "", "Legg til fylke"),
    ("admin", "registry.merger", "", "Se hva som flyttes"),
    ("admin", "registry.csv_import", "", "Importer"),
    ("admin", "accounts.invite", "", "Send invitasjon"),
    ("admin", "accounts.user_detail", "", "Gi rollen", {"Rolle": "Koordinator"}),  # a coordinator needs a base
]


def _path(app, values, endpoint, query):
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint and "GET" in rule.methods)
    return _url(rule, values) + query


def check_error_summary(page, where: str):
    """The summary is on the page, has the focus (with JavaScript), and each of its links leads to a field that
    is marked invalid and described by its message."""
    summary = page.locator("[data-error-summary]")
    assert summary.count() == 1, f"{where}: one error summary"
    assert summary.locator("h2").inner_text().startswith("Det er "), where
    links = summary.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert links or summary.locator("li").count(), f"{where}: the summary lists the errors"
    for href in links:
        assert href.startswith("#"), where
        target = page.locator(f"[id='{href[1:]}']")
        assert target.count() == 1, f"{where}: {href} leads to one element"
        field = target.evaluate(
            "el => { const c = el.matches('fieldset') ? el : el; return {tag: c.tagName, "
            "invalid: c.getAttribute('aria-invalid'), described: (c.getAttribute('aria-describedby') || '')"
            ".split(' ').filter(Boolean).map(id => (document.getElementById(id) || {}).className || '')}; }"
        )
        assert "error-message" in field["described"], f"{where}: {href} is described by its message: {field}"
        if field["tag"] != "FIELDSET":
            assert field["invalid"] == "true", f"{where}: {href} is aria-invalid"


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_forms_after_an_invalid_submit(device, live_server, page_for):
    values = make_url_values(live_server.app)
    pages, failures = {}, []
    for role, endpoint, query, button, *choices in INVALID_FORMS:
        if role not in pages:
            pages[role] = page_for(device)
            if role:
                log_in(pages[role], role)
        page = pages[role]
        where = f"{endpoint}{query} som {role or 'anonym'} [{device}]"
        page.goto(_path(live_server.app, values, endpoint, query))
        for label, option in (choices[0] if choices else {}).items():
            page.locator("main").get_by_label(label, exact=True).select_option(label=option)
        if button:
            with page.expect_navigation():
                page.locator("main").get_by_role("button", name=button, exact=True).first.click()
        check_error_summary(page, where)
        assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')"), (
            f"{where}: the focus is on the error summary"
        )
        if device == "phone" and _overflow(page):
            failures.append(f"{where}: {_overflow(page)} px wider than 375 px")
        _axe(page, f"{endpoint} med feil som {role or 'anonym'}", failures)
        if endpoint in ("events.event_new", "referrals.referral_new", "accounts.login"):
            shot(page, f"{endpoint}-med-feil")
    assert not failures, "\n".join(failures)


def test_the_error_summary_works_without_javascript(browser, live_server):
    """Without JavaScript the summary is still there, first in the form's place, and its links jump to the fields."""
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, locale="nb-NO")
    page = context.new_page()
    page.goto("/logg-inn")
    page.get_by_role("button", name="Logg inn").click()
    check_error_summary(page, "logg-inn uten JavaScript")
    page.locator("[data-error-summary] a").first.click()
    assert page.url.endswith("#email") and page.evaluate("document.activeElement.id") == "email"
    context.close()
