"""Browser tests: the app served on 127.0.0.1 by werkzeug in a thread, driven by Debian's chromium through
Playwright, checked with axe-core. Run them with `make e2e` (the normal `make test` leaves tests/e2e out).

Fixtures and helpers:
- live_server: the app on a fresh copy of a migrated SQLite database holding the demo data (reference data,
  demo users, events and referrals); mail stays in the outbox table (live_server.outbox(to)).
- desktop (1280x900) and phone (375x812, touch) pages in their own browser contexts; `page_for(device)` makes one
  by name, for journeys parametrized over ("desktop", "phone").
- check_axe(page, name): axe-core with the WCAG 2.0/2.1 A and AA rules on the page as it is now; every run is
  written to <run folder>/axe-report.txt, and a violation fails the test (with E2E_AXE=report it is only written
  down, to see all of them at once while fixing). run_axe(page) just returns the violations.
- shot(page, name): a full-page screenshot in the run folder (build/e2e/<YYYYmmdd-HHMMSS>/, or $E2E_ARTIFACTS);
  a failed test leaves FEILET-<test>-<n>-<device>.png of each of its pages there too.
- log_in(page, role): the login form filled in like a person would (roles: tests/conftest.py USERS).
A page that gets a 5xx answer or throws a JavaScript error fails its test.
"""

import os
import re
import shutil
import sqlite3
import tempfile
import threading
from datetime import datetime
from pathlib import Path

import pytest
from conftest import DEMO_PASSWORD, USERS, CheckSession, link_in, make_app, outbox
from werkzeug.serving import WSGIRequestHandler, make_server

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEVICES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 375, "height": 812},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}
TIMEOUT_MS = 15_000


def pytest_configure(config):
    """Name the run folder once, before pytest-xdist starts its workers, so they all write into it."""
    if not hasattr(config, "workerinput") and not os.environ.get("E2E_ARTIFACTS"):
        os.environ["E2E_ARTIFACTS"] = str(ROOT / "build" / "e2e" / datetime.now().strftime("%Y%m%d-%H%M%S"))


def artifacts_folder() -> Path:
    """The folder of this run: $E2E_ARTIFACTS, or build/e2e/<YYYYmmdd-HHMMSS>/ (made on first use)."""
    folder = Path(os.environ.get("E2E_ARTIFACTS") or ROOT / "build" / "e2e" / datetime.now().strftime("%Y%m%d-%H%M%S"))
    os.environ["E2E_ARTIFACTS"] = str(folder)
    (folder / "screenshots").mkdir(parents=True, exist_ok=True)
    try:
        with (folder / "axe-report.txt").open("x", encoding="utf-8") as report:
            report.write(f"axe-core WCAG report ({', '.join(AXE_TAGS)}), {datetime.now():%Y-%m-%d %H:%M:%S}\n\n")
    except FileExistsError:
        pass
    return folder


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9æøåÆØÅ_.-]+", "-", name).strip("-") or "side"


def shot(page, name: str) -> Path:
    """A full-page screenshot of what the page shows now, named <name>-<device>.png in the run folder."""
    path = artifacts_folder() / "screenshots" / f"{_safe_name(name)}-{page.device}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def run_axe(page) -> list[dict]:
    """The WCAG 2.0/2.1 A and AA violations axe-core finds on the page as it is now."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run scripts/install-browser (or make e2e)")
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, "
        "resultTypes: ['violations']}); return r.violations.map(v => ({id: v.id, impact: v.impact, "
        "help: v.help, helpUrl: v.helpUrl, nodes: v.nodes.map(n => ({target: n.target.join(' '), "
        "html: n.html.slice(0, 300), summary: n.failureSummary}))})); }",
        AXE_TAGS,
    )
    return result


def check_axe(page, name: str) -> list[dict]:
    """run_axe, with the result written to axe-report.txt; a violation fails the test."""
    result = run_axe(page)
    label = f"{name} [{page.device}] {page.url}"
    lines = [f"{'OK  ' if not result else 'FEIL'} {label}: {len(result)} brudd"]
    for violation in result:
        lines.append(f"     - {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            lines.append(f"         {node['target']}: {node['html']}")
            lines.append("           " + node["summary"].replace("\n", "\n           "))
    with (artifacts_folder() / "axe-report.txt").open("a", encoding="utf-8") as report:
        report.write("\n".join(lines) + "\n")
    if result and os.environ.get("E2E_AXE") != "report":  # E2E_AXE=report: only write them down (while fixing)
        ids = ", ".join(f"{v['id']} ({len(v['nodes'])})" for v in result)
        pytest.fail(f"axe found WCAG violations on {label}: {ids}; see {artifacts_folder() / 'axe-report.txt'}")
    return result


def pytest_terminal_summary(terminalreporter, config):
    if hasattr(config, "workerinput"):
        return
    report = Path(os.environ.get("E2E_ARTIFACTS", "/nonexistent")) / "axe-report.txt"
    if report.exists():
        lines = report.read_text(encoding="utf-8").splitlines()
        checked = sum(line.startswith(("OK  ", "FEIL")) for line in lines)
        failed = sum(line.startswith("FEIL") for line in lines)
        terminalreporter.write_line(
            f"e2e: screenshots and axe-report.txt in {report.parent} "
            f"(axe: {checked} page checks, {failed} with violations)"
        )


# ---------------------------------------------------------------- the app on a live server


@pytest.fixture(scope="session")
def demo_database():
    """A migrated SQLite database with the demo data, made once; each test serves a copy of it."""
    from nettverk.cli import upgrade_database
    from nettverk.db import get_session
    from nettverk.events.demo import create_demo_events
    from nettverk.referrals.demo import create_demo_referrals
    from nettverk.seeding import load_demo

    folder = Path(tempfile.mkdtemp(prefix="nettverk-e2e-"))
    url = f"sqlite:///{folder / 'demo.db'}"
    upgrade_database(url)
    app = make_app(url)
    with app.app_context():
        session = get_session()
        load_demo(session)
        create_demo_events(session)
        create_demo_referrals(session)
        from nettverk.competence.demo import create_demo_competence

        create_demo_competence(session)
        session.commit()
    app.extensions["nettverk.engine"].dispose()
    yield folder / "demo.db"
    shutil.rmtree(folder, ignore_errors=True)


class LiveServer:
    def __init__(self, app, server):
        self.app = app
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_port}"
        self._session = None

    @property
    def db(self) -> CheckSession:
        """A session of the test's own for setting up and checking (call db.expire_all() before reading)."""
        if self._session is None:
            self._session = CheckSession(self.app.extensions["nettverk.engine"], expire_on_commit=False)
        return self._session

    def outbox(self, to=None):
        return outbox(self.db, to)

    def link_in_mail(self, to: str, path_prefix: str) -> str:
        """The full URL of the first link starting with path_prefix in the newest mail to `to`."""
        messages = self.outbox(to)
        assert messages, f"no mail to {to}"
        return self.url + link_in(messages[-1], path_prefix)

    def close(self):
        if self._session is not None:
            self._session.rollback()
            self._session.close()
        self.server.shutdown()
        self.server.server_close()
        self.app.extensions["nettverk.engine"].dispose()


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # one line per request drowns the test output; errors still log
        pass


@pytest.fixture
def live_server(demo_database, tmp_path):
    copy = tmp_path / "nettverk.db"
    with sqlite3.connect(demo_database) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    app = make_app(f"sqlite:///{copy}")
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    live = LiveServer(app, server)
    app.config["BASE_URL"] = live.url  # links in mail point at this server
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    yield live
    live.close()
    thread.join(timeout=10)


# ---------------------------------------------------------------- browser and pages


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser (or make e2e)")
    with sync_playwright() as playwright:
        # LANGUAGE=nb: chromium's own language (chromium-l10n), so date and time fields read dd.mm.åååå and
        # 24 hours as for our users; the context's locale alone sets only what the page sees.
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, env={**os.environ, "LANGUAGE": "nb"}
        )
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.e2e_failed = report.failed


@pytest.fixture
def page_for(browser, live_server, request):
    """page_for("desktop" | "phone") -> a new page in a context of its own (own cookies), on the live server."""
    contexts = []

    def make(device: str):
        context = browser.new_context(
            base_url=live_server.url,
            locale="nb-NO",
            timezone_id="Europe/Oslo",
            bypass_csp=True,  # lets check_axe add axe.min.js as a script tag; the app's CSP is tested over HTTP
            **DEVICES[device],
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.device = device
        page.server_errors = []
        page.script_errors = []
        page.on("response", lambda r: r.status >= 500 and page.server_errors.append(f"{r.status} {r.url}"))
        page.on("pageerror", lambda error: page.script_errors.append(str(error)))
        contexts.append((context, page))
        return page

    yield make
    problems = []
    for number, (context, page) in enumerate(contexts, start=1):
        if getattr(request.node, "e2e_failed", False):  # what the page showed when the test failed
            name = f"FEILET-{_safe_name(request.node.name)}-{number}-{page.device}.png"
            try:
                page.screenshot(path=str(artifacts_folder() / "screenshots" / name), full_page=True)
            except Exception:  # noqa: BLE001, S110 - a page that cannot be photographed does not hide the failure
                pass
        problems += [f"[{page.device}] server error: {e}" for e in page.server_errors]
        problems += [f"[{page.device}] JavaScript error: {e}" for e in page.script_errors]
        context.close()
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def desktop(page_for):
    return page_for("desktop")


@pytest.fixture
def phone(page_for):
    return page_for("phone")


@pytest.fixture(name="check_axe")
def check_axe_fixture():
    return check_axe


@pytest.fixture(name="run_axe")
def run_axe_fixture():
    return run_axe


@pytest.fixture(name="shot")
def shot_fixture():
    return shot


def log_in(page, role: str, password: str = DEMO_PASSWORD):
    """Log in through the form as the demo user of `role` (a key of tests/conftest.py USERS) or an e-mail."""
    page.goto("/logg-inn")
    page.get_by_label("E-post").fill(USERS.get(role, role))
    page.get_by_label("Passord").fill(password)
    page.get_by_role("button", name="Logg inn").click()
    page.wait_for_load_state()
    assert "/logg-inn" not in page.url, f"login as {role} failed: {page.url}"


@pytest.fixture(name="log_in")
def log_in_fixture():
    return log_in
