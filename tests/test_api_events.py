"""The events API through HTTP: listing with filters, who sees drafts, Oslo times, networks, and
registration for the logged-in user (CSRF header, waitlist, duplicates, cancelling)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from conftest import USERS
from factories import base_id, make_event, make_network, municipality_id, user_id
from sqlmodel import select
from test_api import assert_matches, assert_problem, openapi_document

from nettverk.events.models import Registration, RegistrationStatus
from nettverk.events.operations import cancel_event, mark_held
from nettverk.networks.models import NetworkMember
from nettverk.timeutil import to_oslo, utcnow

# Setting up -----------------------------------------------------------------------------------------


def titles(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["title"] for item in response.get_json()["items"]]


def call(browser, method, url, json=None, csrf=True, **kwargs):
    """A JSON request the way a script on the site would send it: session cookie plus X-CSRFToken."""
    headers = {"X-CSRFToken": browser.csrf_token()} if csrf else {}
    return browser.client.open(url, method=method, json=json, headers=headers, **kwargs)


def registrations(db, event):
    db.expire_all()
    return {r.email: r for r in db.exec(select(Registration).where(Registration.event_id == event.id))}


# Listing and visibility -----------------------------------------------------------------------------


@pytest.fixture
def statuses(db):
    """One event in each status, all for Fosen."""
    make_event(db, "Publisert")
    make_event(db, "Utkast", publish=False)
    cancel_event(db, None, make_event(db, "Avlyst"), "Sykdom")
    past = to_oslo(utcnow()).date() - timedelta(days=10)
    mark_held(db, None, make_event(db, "Gjennomført", day=past))
    db.commit()


def test_anonymous_sees_published_cancelled_and_held_but_no_drafts(browser, statuses):
    items = browser.get("/api/v1/events").get_json()["items"]
    assert {(i["title"], i["status"], i["status_label"]) for i in items} == {
        ("Publisert", "published", "Publisert"),
        ("Avlyst", "cancelled", "Avlyst"),
        ("Gjennomført", "held", "Gjennomført"),
    }
    assert [i["title"] for i in items] == ["Gjennomført", "Publisert", "Avlyst"]  # by start, then id


@pytest.fixture
def drafts(db):
    """Drafts of Fosen, of Namdalen, of a network belonging to Fosen and Innherred, and one published."""
    bti = make_network(db, "BTI-nettverk Fosen og Innherred", slug="bti-fosen-innherred", bases=["fosen", "innherred"])
    return {
        "fosen": make_event(db, "Utkast Fosen", publish=False).id,
        "namdalen": make_event(db, "Utkast Namdalen", publish=False, base_id=base_id(db, "namdalen")).id,
        "network": make_event(
            db, "Utkast nettverk", publish=False, base_id=None, network_id=bti.id, kind="nettverksmote"
        ).id,
        "published": make_event(db, "Publisert Namdalen", base_id=base_id(db, "namdalen")).id,
    }


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        (None, {"published"}),
        ("participant", {"published"}),
        ("coordinator_fosen", {"published", "fosen", "network"}),
        ("coordinator", {"published", "namdalen"}),
        ("admin", {"published", "fosen", "namdalen", "network"}),
    ],
)
def test_drafts_are_listed_only_for_those_who_plan_them(as_role, drafts, role, visible):
    browser = as_role(role)
    listed = {item["id"] for item in browser.get("/api/v1/events").get_json()["items"]}
    assert listed == {drafts[name] for name in visible}
    # The list agrees with the event page's rule (policy "event.view"), event by event.
    for name, event_id in drafts.items():
        response = browser.get(f"/api/v1/events/{event_id}")
        assert response.status_code == (200 if name in visible else 404), (name, response.status_code)


def test_a_hidden_draft_looks_like_an_event_that_does_not_exist(browser, drafts):
    hidden = assert_problem(browser.get(f"/api/v1/events/{drafts['fosen']}"), 404)
    missing = assert_problem(browser.get("/api/v1/events/999999"), 404)
    assert (hidden["title"], hidden["detail"]) == (missing["title"], missing["detail"])


# Filters --------------------------------------------------------------------------------------------


@pytest.fixture
def spread(db):
    """Events across bases, a network, host municipalities (one merged away) and kinds."""
    bti = make_network(db, "BTI-nettverk Innherred", slug="bti-innherred", bases=["innherred"])
    make_event(db, "Fosen fagdag", host_municipality_id=municipality_id(db, "5054"))
    make_event(db, "Rissa før sammenslåingen", host_municipality_id=municipality_id(db, "1624"), kind="kurs")
    make_event(
        db,
        "Namdalen samling",
        base_id=base_id(db, "namdalen"),
        kind="samling",
        host_municipality_id=municipality_id(db, "5007"),
    )
    make_event(db, "BTI-møte Innherred", base_id=None, network_id=bti.id, kind="nettverksmote")
    make_event(db, "Innherred fagdag", base_id=base_id(db, "innherred"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("base=fosen", {"Fosen fagdag", "Rissa før sammenslåingen"}),
        ("base=innherred", {"BTI-møte Innherred", "Innherred fagdag"}),  # the base's network meets too
        ("network=bti-innherred", {"BTI-møte Innherred"}),
        ("municipality=5054", {"Fosen fagdag", "Rissa før sammenslåingen"}),  # Rissa (1624) became Indre Fosen
        ("municipality=1624", {"Rissa før sammenslåingen"}),
        ("municipality=5007", {"Namdalen samling"}),
        ("kind=samling", {"Namdalen samling"}),
        ("kind=fagdag&base=fosen", {"Fosen fagdag"}),
        ("base=namdalen&kind=fagdag", set()),
        (
            "base=&kind=",
            {"Fosen fagdag", "Rissa før sammenslåingen", "Namdalen samling", "BTI-møte Innherred", "Innherred fagdag"},
        ),
    ],
)
def test_filters(browser, spread, query, expected):
    assert set(titles(browser.get(f"/api/v1/events?{query}"))) == expected


@pytest.fixture
def around_midnight(db):
    """Events around the Oslo days of 9–11 March 2027 (winter time, UTC+1)."""
    make_event(db, "Sent 9. mars", day=date(2027, 3, 9), start_time=time(22, 0), end_time=time(23, 30))
    make_event(db, "Tidlig 10. mars", day=date(2027, 3, 10), start_time=time(0, 30), end_time=time(1, 0))
    make_event(
        db,
        "Over natten 10.–11. mars",
        start_date=date(2027, 3, 10),
        end_date=date(2027, 3, 11),
        start_time=time(20, 0),
        end_time=time(10, 0),
    )
    make_event(db, "Heldag 11. mars", day=date(2027, 3, 11), all_day=True, start_time=None, end_time=None)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # 00.30 Oslo on 10 March is still 9 March in UTC: the filter goes by Oslo days.
        ("from=2027-03-10&to=2027-03-10", {"Tidlig 10. mars", "Over natten 10.–11. mars"}),
        ("to=2027-03-09", {"Sent 9. mars"}),
        ("from=2027-03-11", {"Over natten 10.–11. mars", "Heldag 11. mars"}),
        ("from=2027-03-12", set()),
        ("to=2027-03-08", set()),
    ],
)
def test_from_and_to_are_oslo_days_and_include_events_going_on(browser, around_midnight, query, expected):
    assert set(titles(browser.get(f"/api/v1/events?{query}"))) == expected


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("base=finnes-ikke", "Ukjent kompetansebase «finnes-ikke»"),
        ("network=finnes-ikke", "Ukjent nettverk «finnes-ikke»"),
        ("municipality=12", "fire sifre"),
        ("municipality=9999", "Ukjent kommunenummer «9999»"),
        ("kind=trolldom", "Ukjent type arrangement «trolldom»"),
        ("from=10.03.2027", "«from» må være en dato"),
        ("from=2027-02-30", "«from» må være en dato"),
        ("to=9999-12-31", "«to» må være en dato"),
        ("from=2027-03-10&to=2027-03-09", "kan ikke være før"),
    ],
)
def test_invalid_filters_are_400_problems_in_norwegian(browser, query, words):
    response = browser.get(f"/api/v1/events?{query}")
    body = assert_problem(response, 400)
    assert words in body["detail"]
    assert_matches(openapi_document(browser), "/api/v1/events", "get", response)


def test_the_list_costs_the_same_number_of_queries_for_many_events(app, as_role, db):
    from sqlalchemy import event as sa_event

    network = make_network(db, "BTI-nettverk Fosen", slug="bti-fosen")
    browser = as_role("coordinator_fosen")
    statements = []

    def count(*_args):
        statements.append(1)

    def queries_for_list():
        statements.clear()
        engine = app.extensions["nettverk.engine"]
        sa_event.listen(engine, "before_cursor_execute", count)
        try:
            assert browser.get("/api/v1/events").status_code == 200
        finally:
            sa_event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    make_event(db, "Første", capacity=5, host_municipality_id=municipality_id(db, "5054"))
    one = queries_for_list()
    for n in range(8):
        make_event(
            db,
            f"Utkast {n}",
            publish=n % 2 == 0,
            network_id=network.id,
            capacity=n + 1,
            venue_municipality_id=municipality_id(db, "5020"),
        )
    assert queries_for_list() == one


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/events?base=a%00b",
        "/api/v1/events?network=a%00b",
        "/api/v1/events?a%00b=1",
        "/api/v1/bases/a%00b",
        "/api/v1/services/a%00b",
    ],
)
def test_a_nul_character_is_a_400_problem_not_a_database_error(browser, url):
    """PostgreSQL refuses NUL in text; the API refuses it first."""
    assert "ugyldig tegn" in assert_problem(browser.get(url), 400)["detail"]


# What an event looks like ---------------------------------------------------------------------------


def test_times_are_oslo_with_offset_across_daylight_saving(browser, db):
    winter = make_event(db, "Vinter", day=date(2027, 3, 9), end_time=time(15, 30))
    summer = make_event(db, "Sommer", day=date(2027, 6, 8), end_time=time(15, 30))
    # The last Sunday of March 2027: the clock goes from 02.00 to 03.00, so the day is 23 hours long.
    dst_day = make_event(db, "Sommertid", day=date(2027, 3, 28), all_day=True, start_time=None, end_time=None)
    two_days = make_event(
        db,
        "To dager i oktober",
        start_date=date(2027, 10, 30),
        end_date=date(2027, 10, 31),
        all_day=True,
        start_time=None,
        end_time=None,
    )
    got = {e["id"]: e for e in browser.get("/api/v1/events").get_json()["items"]}
    assert (got[winter.id]["starts_at"], got[winter.id]["ends_at"], got[winter.id]["all_day"]) == (
        "2027-03-09T09:00:00+01:00",
        "2027-03-09T15:30:00+01:00",
        False,
    )
    assert (got[summer.id]["starts_at"], got[summer.id]["ends_at"]) == (
        "2027-06-08T09:00:00+02:00",
        "2027-06-08T15:30:00+02:00",
    )
    assert (got[dst_day.id]["starts_at"], got[dst_day.id]["ends_at"], got[dst_day.id]["all_day"]) == (
        "2027-03-28T00:00:00+01:00",
        "2027-03-29T00:00:00+02:00",
        True,
    )
    assert (got[two_days.id]["starts_at"], got[two_days.id]["ends_at"]) == (
        "2027-10-30T00:00:00+02:00",
        "2027-11-01T00:00:00+01:00",
    )


def test_event_detail_has_programme_counts_and_places_but_no_participants(as_role, db):
    event = make_event(
        db,
        "Fagdag om BTI",
        capacity=10,
        description="**Velkommen**",
        host_municipality_id=municipality_id(db, "5054"),
        venue_name="Rissa kulturhus",
        venue_address="Rådhusveien 1",
        venue_municipality_id=municipality_id(db, "5054"),
        programme=[("09.00", "Velkommen", "Torstein Hofstad"), ("10.00", "BTI i praksis", "")],
    )
    db.add(
        Registration(
            event_id=event.id, name="Kari Hemmelig", email="kari@hemmelig.example", status=RegistrationStatus.CONFIRMED
        )
    )
    db.add(
        Registration(
            event_id=event.id, name="Ola Venter", email="ola@hemmelig.example", status=RegistrationStatus.WAITLISTED
        )
    )
    db.commit()
    browser = as_role("participant")
    response = browser.get(f"/api/v1/events/{event.id}")
    assert_matches(openapi_document(browser), "/api/v1/events/{event_id}", "get", response)
    body = response.get_json()
    assert body["title"] == "Fagdag om BTI"
    assert body["description"] == "**Velkommen**"
    assert body["programme"] == [
        {"starts": "09.00", "title": "Velkommen", "speaker": "Torstein Hofstad"},
        {"starts": "10.00", "title": "BTI i praksis", "speaker": ""},
    ]
    assert body["base"] == {"slug": "fosen", "name": "Fosen"}
    assert body["host_municipality"]["number"] == "5054"
    assert body["venue"] == {
        "name": "Rissa kulturhus",
        "address": "Rådhusveien 1",
        "municipality": {"number": "5054", "name": "Indre Fosen", "sami_name": None},
    }
    assert body["counts"] == {"confirmed": 1, "waitlisted": 1}
    assert (body["capacity"], body["seats_left"]) == (10, 9)
    assert body["registration"]["open"] is True and body["registration"]["closed_reason"] is None
    assert body["my_registration"] is None
    assert body["url"].endswith(f"/arrangementer/{event.id}")
    text = response.get_data(as_text=True)
    assert "Hemmelig" not in text and "hemmelig.example" not in text and "Venter" not in text


def test_list_items_match_the_schema_and_show_seats_left(browser, db):
    event = make_event(db, "Fullt", capacity=1)
    db.add(Registration(event_id=event.id, name="A", email="a@example.no", status=RegistrationStatus.CONFIRMED))
    db.commit()
    make_event(db, "Ubegrenset")
    response = browser.get("/api/v1/events")
    assert_matches(openapi_document(browser), "/api/v1/events", "get", response)
    got = {e["title"]: e for e in response.get_json()["items"]}
    assert (got["Fullt"]["seats_left"], got["Ubegrenset"]["seats_left"]) == (0, None)


def test_closed_registration_shows_the_reason(browser, db):
    event = make_event(db, "Fristen er ute", registration_closes_at=utcnow() - timedelta(hours=1))
    body = browser.get(f"/api/v1/events/{event.id}").get_json()
    assert body["registration"]["open"] is False
    assert body["registration"]["closed_reason"].startswith("Påmeldingsfristen gikk ut")


# Networks -------------------------------------------------------------------------------------------


def test_networks_with_bases_cadence_and_no_members(browser, db):
    network = make_network(
        db,
        "BTI-nettverk Innherred",
        slug="bti-innherred",
        bases=["innherred", "namdalen"],
        cadence="FREQ=YEARLY;BYMONTH=3,10;BYDAY=2TU",
        cadence_start=date(2027, 1, 1),
        meeting_start=time(9, 30),
        meeting_minutes=150,
        host_municipality_id=municipality_id(db, "5006"),
    )
    make_network(db, "Barnevernledernettverk Fosen", slug="ledere-fosen", kind="ledere")
    db.add(NetworkMember(network_id=network.id, user_id=user_id(db, "participant"), joined_on=date(2026, 1, 1)))
    db.commit()
    response = browser.get("/api/v1/networks")
    assert_matches(openapi_document(browser), "/api/v1/networks", "get", response)
    items = {n["slug"]: n for n in response.get_json()["items"]}
    bti = items["bti-innherred"]
    assert bti["name"] == "BTI-nettverk Innherred"
    assert bti["kind"] == "bti" and bti["kind_label"] == "BTI-nettverk"
    assert bti["bases"] == [{"slug": "innherred", "name": "Innherred"}, {"slug": "namdalen", "name": "Namdalen"}]
    assert bti["cadence"] == {
        "rule": "FREQ=YEARLY;BYMONTH=3,10;BYDAY=2TU",
        "starts_on": "2027-01-01",
        "meeting_start": "09:30",
        "meeting_minutes": 150,
    }
    assert bti["host_municipality"]["number"] == "5006"
    assert bti["member_count"] == 1
    assert items["ledere-fosen"]["cadence"]["rule"] is None
    assert items["ledere-fosen"]["bases"] == [{"slug": "fosen", "name": "Fosen"}]
    assert "vikstrand" not in response.get_data(as_text=True).lower()


# Registration ---------------------------------------------------------------------------------------

REGISTRATION = "/api/v1/events/{event_id}/registration"


def test_register_confirmed_then_waitlisted_when_full(as_role, db):
    event = make_event(db, "Ett sete", capacity=1, ask_lunch=True, ask_dietary=True)
    first, second = as_role("participant"), as_role("coordinator_fosen")
    url = REGISTRATION.format(event_id=event.id)
    document = openapi_document(first)

    response = call(
        first, "POST", url, {"municipality": "5007", "role": "Helsesykepleier", "dietary": "Nøtter", "lunch": True}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert_matches(document, REGISTRATION, "post", response)
    assert response.get_json()["status"] == "confirmed"
    assert response.get_json()["status_label"] == "Påmeldt"

    response = call(second, "POST", url)  # no body at all: every field is optional
    assert response.status_code == 201, response.get_data(as_text=True)
    assert (response.get_json()["status"], response.get_json()["status_label"]) == ("waitlisted", "På venteliste")

    stored = registrations(db, event)
    mine = stored[USERS["participant"]]
    assert (mine.status, mine.user_id, mine.name) == (
        RegistrationStatus.CONFIRMED,
        user_id(db, "participant"),
        "Hanne Vikstrand",
    )
    assert (mine.municipality_id, mine.role, mine.dietary, mine.lunch) == (
        municipality_id(db, "5007"),
        "Helsesykepleier",
        "Nøtter",
        True,
    )
    assert stored[USERS["coordinator_fosen"]].status == RegistrationStatus.WAITLISTED

    detail = first.get(f"/api/v1/events/{event.id}").get_json()
    assert detail["my_registration"]["status"] == "confirmed"
    assert detail["counts"] == {"confirmed": 1, "waitlisted": 1}
    assert detail["seats_left"] == 0


def test_duplicate_registration_is_a_409_problem(as_role, db):
    event = make_event(db, "To ganger")
    browser = as_role("participant")
    url = REGISTRATION.format(event_id=event.id)
    assert call(browser, "POST", url).status_code == 201
    response = call(browser, "POST", url, {"role": "Lærer"})
    body = assert_problem(response, 409)
    assert body["detail"] == "Du er allerede påmeldt dette arrangementet."
    assert_matches(openapi_document(browser), REGISTRATION, "post", response)
    assert len(registrations(db, event)) == 1


def test_closed_registration_is_a_409_problem_with_the_reason(as_role, db):
    event = make_event(db, "Stengt", registration_opens_at=utcnow() + timedelta(days=5))
    body = assert_problem(call(as_role("participant"), "POST", REGISTRATION.format(event_id=event.id)), 409)
    assert body["detail"].startswith("Påmeldingen åpner ")
    cancelled = make_event(db, "Avlyst")
    cancel_event(db, None, cancelled)
    db.commit()
    body = assert_problem(call(as_role("participant"), "POST", REGISTRATION.format(event_id=cancelled.id)), 409)
    assert body["detail"] == "Arrangementet er ikke åpent for påmelding."
    assert registrations(db, event) == {} and registrations(db, cancelled) == {}


def test_anonymous_registration_is_a_401_problem(browser, db):
    event = make_event(db, "Logg inn først")
    for method in ("POST", "DELETE"):
        response = call(browser, method, REGISTRATION.format(event_id=event.id))
        body = assert_problem(response, 401)
        assert "logge inn" in body["title"]
        assert_matches(openapi_document(browser), REGISTRATION, method.lower(), response)
    assert registrations(db, event) == {}


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_missing_csrf_header_is_a_400_problem_and_changes_nothing(as_role, db, method):
    event = make_event(db, "Uten nøkkel")
    browser = as_role("participant")
    url = REGISTRATION.format(event_id=event.id)
    if method == "DELETE":
        assert call(browser, "POST", url).status_code == 201
    response = call(browser, method, url, {"role": "Lærer"}, csrf=False)
    body = assert_problem(response, 400)
    assert "X-CSRFToken" in body["detail"]
    assert_matches(openapi_document(browser), REGISTRATION, method.lower(), response)
    stored = registrations(db, event)
    assert [r.status for r in stored.values()] == ([RegistrationStatus.CONFIRMED] if method == "DELETE" else [])
    response = browser.client.open(url, method=method, json={}, headers={"X-CSRFToken": "forfalsket"})
    assert_problem(response, 400)


def test_delete_cancels_and_promotes_the_first_on_the_waitlist(as_role, db):
    event = make_event(db, "Plass frigjøres", capacity=1)
    url = REGISTRATION.format(event_id=event.id)
    participant, coordinator, admin = as_role("participant"), as_role("coordinator_fosen"), as_role("admin")
    assert call(participant, "POST", url).get_json()["status"] == "confirmed"
    assert call(coordinator, "POST", url).get_json()["status"] == "waitlisted"
    assert call(admin, "POST", url).get_json()["status"] == "waitlisted"

    response = call(participant, "DELETE", url)
    assert response.status_code == 204
    assert response.get_data() == b""

    stored = registrations(db, event)
    assert stored[USERS["participant"]].status == RegistrationStatus.WITHDRAWN
    assert stored[USERS["coordinator_fosen"]].status == RegistrationStatus.CONFIRMED  # first in line
    assert stored[USERS["admin"]].status == RegistrationStatus.WAITLISTED
    assert participant.get(f"/api/v1/events/{event.id}").get_json()["my_registration"] is None

    response = call(participant, "DELETE", url)  # nothing left to cancel
    body = assert_problem(response, 404)
    assert body["detail"] == "Du er ikke påmeldt dette arrangementet."
    assert_matches(openapi_document(participant), REGISTRATION, "delete", response)
    # After cancelling, the person may register again (at the back of the queue).
    assert call(participant, "POST", url).get_json()["status"] == "waitlisted"


def test_registration_for_events_you_cannot_see_is_404(as_role, db):
    draft = make_event(db, "Hemmelig utkast", publish=False)
    browser = as_role("participant")
    for url in (REGISTRATION.format(event_id=draft.id), REGISTRATION.format(event_id=999999)):
        assert_problem(call(browser, "POST", url), 404)
        assert_problem(call(browser, "DELETE", url), 404)
    # The coordinator who plans it sees it, but a draft takes no registrations.
    body = assert_problem(call(as_role("coordinator_fosen"), "POST", REGISTRATION.format(event_id=draft.id)), 409)
    assert body["detail"] == "Arrangementet er ikke åpent for påmelding."
    assert registrations(db, draft) == {}


def test_base_only_event_needs_a_member_municipality(as_role, db):
    event = make_event(db, "Bare Fosen", audience="base")
    browser = as_role("participant")  # works in Namsos, not a Fosen municipality
    url = REGISTRATION.format(event_id=event.id)
    body = assert_problem(call(browser, "POST", url, {"municipality": "5007"}), 403)
    assert "bare for kommunene i kompetansebasen" in body["detail"]
    assert body["field"] == "municipality"
    assert call(browser, "POST", url, {"municipality": "5054"}).get_json()["status"] == "confirmed"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"municipality": "9999"}, 422, "Ukjent kommunenummer «9999»"),
        ({"municipality": "1624"}, 422, "ikke lenger en kommune"),
        ({"municipality": 5054}, 422, "fire sifre"),
        ({"lunch": "ja"}, 422, "«lunch» må være true, false eller null"),
        ({"role": ["a"]}, 422, "«role» må være tekst"),
        ({"dietary": "x" * 301}, 422, "høyst 300 tegn"),
        ({"role": "Lærer\u0000"}, 422, "kontrolltegn"),
        ({"municipality_id": 5}, 422, "Ukjente felt: municipality_id"),
        ([1, 2], 400, "JSON-objekt"),
    ],
)
def test_bad_registration_bodies_are_problems_and_save_nothing(as_role, db, body, status, words):
    event = make_event(db, "Feil innhold", ask_dietary=True, ask_lunch=True)
    browser = as_role("participant")
    response = call(browser, "POST", REGISTRATION.format(event_id=event.id), body)
    assert words in assert_problem(response, status)["detail"]
    assert_matches(openapi_document(browser), REGISTRATION, "post", response)
    assert registrations(db, event) == {}


def test_malformed_json_and_form_bodies_are_refused(as_role, db):
    event = make_event(db, "Ikke JSON")
    browser = as_role("participant")
    url = REGISTRATION.format(event_id=event.id)
    headers = {"X-CSRFToken": browser.csrf_token()}
    response = browser.client.post(url, data="{ikke json", content_type="application/json", headers=headers)
    assert_problem(response, 400)
    response = browser.client.post(url, data={"role": "Lærer"}, headers=headers)
    assert "application/json" in assert_problem(response, 415)["detail"]
    assert registrations(db, event) == {}


def test_registration_times_are_oslo(as_role, db):
    event = make_event(db, "Tid")
    body = call(as_role("participant"), "POST", REGISTRATION.format(event_id=event.id)).get_json()
    registered = datetime.fromisoformat(body["registered_at"])
    assert registered.utcoffset() == to_oslo(datetime.now(UTC)).utcoffset()
    assert abs(registered - datetime.now(UTC)) < timedelta(minutes=5)
