"""Who sees which events, the one table: role × event state × audience → seen or not, through HTTP on every
surface that shows events (the event page, the region calendar, a base's feed, the person's own feed, the API's
list and detail). The rule lives in policy.can_see_event / policy.visible_events: a draft only for those who
plan it (the admin and the coordinators of its bases, its own or its network's); a published, cancelled or held
event for everyone, whatever its audience. Public feeds hold no drafts at all, and a personal feed only the
drafts of the bases its owner coordinates (not the admin's every draft)."""

import re

import pytest
from conftest import USERS, Browser, in_app
from factories import base_id, make_event, make_network
from sqlmodel import select

from nettverk.accounts.models import RoleAssignment, User
from nettverk.events.models import AUDIENCES, EVENT_STATUSES, EventStatus, Registration, RegistrationStatus
from nettverk.events.operations import cancel_event, mark_held
from nettverk.timeutil import to_oslo

# The event is Fosen's own and a meeting of a network of Namdalen, so it is planned from both bases.
ROLES = {
    "anonymous": None,
    "participant": "participant",
    "coordinator of its base": "coordinator_fosen",
    "coordinator of its network's base": "coordinator",
    "coordinator of another base": "provider",  # given Innherred below
    "admin": "admin",
}
PLANNERS = {"coordinator of its base", "coordinator of its network's base", "admin"}
SURFACES = ["event page", "region calendar", "base feed", "personal feed", "API list", "API detail"]
STATES = list(EVENT_STATUSES)
CASES = [(state, audience) for state in STATES for audience in AUDIENCES]
FEED_URL = re.compile(r'value="http://nettverk\.test(/kalender/personlig/[A-Za-z0-9_-]+\.ics)"')


def expected(surface: str, role: str, state: str) -> bool:
    if state != EventStatus.DRAFT:
        return True
    if surface == "base feed":  # public, and cached as such: never a draft
        return False
    if surface == "personal feed":  # the drafts of the bases one coordinates, shown as TENTATIVE
        return role in PLANNERS - {"admin"}
    return role in PLANNERS


@in_app  # cancelling mails the registered
def _events(db) -> dict[tuple[str, str], object]:
    """One event per state and audience; every logged-in role is registered for those that were published."""
    network = make_network(db, "Synlighetsnettverk", bases=("namdalen",))
    people = [db.exec(select(User).where(User.email == email)).one() for email in USERS.values()]
    events = {}
    for state, audience in CASES:
        title = f"Synlighet {state} {audience}"
        held = state == EventStatus.HELD
        event = make_event(
            db,
            title,
            days=-3 if held else 20,
            publish=state != EventStatus.DRAFT,
            network_id=network.id,
            audience=audience,
        )
        if state != EventStatus.DRAFT:
            db.add_all(
                Registration(
                    event_id=event.id, name=p.name or p.email, email=p.email, status=RegistrationStatus.CONFIRMED
                )
                for p in people
            )
        if state == EventStatus.CANCELLED:
            cancel_event(db, None, event)
        elif held:
            mark_held(db, None, event)
        db.commit()
        events[(state, audience)] = event
    assert {e.status for e in events.values()} == set(EventStatus)
    provider = db.exec(select(User).where(User.email == USERS["provider"])).one()
    db.add(RoleAssignment(user_id=provider.id, role="coordinator", base_id=base_id(db, "innherred")))
    db.commit()
    return events


def _seen(surface: str, browser: Browser, app, events: dict) -> dict[tuple[str, str], bool]:
    if surface == "event page":
        return {case: browser.get(f"/arrangementer/{e.id}").status_code == 200 for case, e in events.items()}
    if surface == "API detail":
        return {case: browser.get(f"/api/v1/events/{e.id}").status_code == 200 for case, e in events.items()}
    if surface == "region calendar":
        months = {f"{to_oslo(e.starts_at):%Y-%m}" for e in events.values()}
        page = "".join(browser.get(f"/kalender?maaned={month}").get_data(as_text=True) for month in months)
        return {case: f'href="/arrangementer/{e.id}"' in page for case, e in events.items()}
    if surface == "API list":
        response = browser.get("/api/v1/events?base=fosen")
        assert response.status_code == 200
        ids = {item["id"] for item in response.get_json()["items"]}
        return {case: e.id in ids for case, e in events.items()}
    if surface == "base feed":
        feed = browser.get("/kalender/kompetansebaser/fosen.ics").get_data(as_text=True)
    else:  # the person's own feed, read as a calendar program does: the secret link, no login
        page = browser.post("/kalender/min-lenke", {"tilbake": "profil"}).get_data(as_text=True)
        feed = Browser(app.test_client()).get(FEED_URL.search(page).group(1)).get_data(as_text=True)
    return {case: f"UID:{e.uid}" in feed for case, e in events.items()}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("surface", SURFACES)
def test_who_sees_which_events(app, db, as_role, surface, role):
    if surface == "personal feed" and ROLES[role] is None:
        pytest.skip("only a logged-in person makes a personal feed")
    events = _events(db)
    seen = _seen(surface, as_role(ROLES[role]), app, events)
    assert seen == {(state, audience): expected(surface, role, state) for state, audience in CASES}
