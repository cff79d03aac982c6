"""A draft event is hidden from everyone who may not plan it: every route that names it (its page, .ics, API,
participants, evaluation, edit, publish …) answers as for an id that does not exist (404), never 403, so its pages
cannot be probed to learn that it exists (policy.hidden_from). Who may do what is the matrix of test_permissions."""

import pytest
from test_permissions import FOSEN_MANAGERS, ROLES, _routes, _url, make_url_values

from nettverk.db import get_session
from nettverk.events.models import Event, EventStatus

MISSING = 999_999
PAGES = {
    "events.event_detail",
    "events.participants",
    "events.participants_export",
    "events.event_edit",
    "events.event_cancel",
    "events.event_publish",
    "calendars.event_ics",
    "api.event",
    "evaluations.results",
}


@pytest.fixture
def draft_values(app):
    """The permission matrix's objects, with its Fosen fagdag turned back into a draft."""
    values = make_url_values(app)
    with app.app_context():
        session = get_session()
        event = session.get(Event, values["event_id"])
        event.status = EventStatus.DRAFT
        session.add(event)
        session.commit()
    return values


def _event_routes(app):
    return sorted((rule for rule in _routes(app) if "event_id" in rule.arguments), key=lambda r: r.rule)


def test_every_route_of_a_draft_answers_404_to_those_who_may_not_plan_it(app, as_role, draft_values):
    rules = _event_routes(app)
    assert {rule.endpoint for rule in rules} >= PAGES
    for role in [r for r in ROLES if r not in FOSEN_MANAGERS]:
        browser = as_role(role)
        for rule in rules:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS", "DELETE"}):
                answers = []
                for event_id in (draft_values["event_id"], MISSING):
                    url = _url(rule, {**draft_values, "event_id": event_id})
                    answers.append((browser.get(url) if method == "GET" else browser.post(url, {})).status_code)
                where = f"{method} {url} as {role or 'anonymous'}: {answers}"
                # The same answer as for a missing id: 404, or what anyone gets there (the login, or the network's
                # 403 for skipping one of its meetings, refused before the meeting is looked up).
                assert answers[0] == answers[1] and answers[0] >= 300, where
                if rule.endpoint in PAGES:
                    assert answers[0] == 404, where


def test_those_who_plan_a_draft_still_open_its_pages(app, as_role, draft_values):
    for role in FOSEN_MANAGERS:
        browser = as_role(role)
        for rule in _event_routes(app):
            if "GET" in rule.methods:
                url = _url(rule, draft_values)
                assert browser.get(url).status_code == 200, f"GET {url} as {role}"


def test_a_published_events_planning_pages_still_answer_403(as_role, app):
    """Refusing the planning pages of a public event reveals nothing: the 403 stays (the matrix checks all)."""
    values = make_url_values(app)
    assert as_role("participant").get(f"/arrangementer/{values['event_id']}/deltakere").status_code == 403
