"""Registration as participants and coordinators would do it: capacity, waitlist, quotas, deadlines,
guest confirmation, cancellation links, change notices, and no overbooking under concurrency."""

import re
import threading
from datetime import date, datetime, time, timedelta

import pytest
from conftest import USERS, Browser, link_in, outbox
from factories import base_id, make_event, make_users, municipality_id
from sqlmodel import select

from nettverk.events import operations as events
from nettverk.events.models import Event, Registration, RegistrationStatus

SOON = date.today() + timedelta(days=30)


def registrations(db, event: Event) -> list[Registration]:
    db.expire_all()
    return list(db.exec(select(Registration).where(Registration.event_id == event.id).order_by(Registration.id)))


def statuses(db, event: Event) -> dict[str, str]:
    return {r.email: r.status for r in registrations(db, event)}


def register_as(app, email: str, event: Event, data=None):
    browser = Browser(app.test_client())
    browser.login(email)
    return browser, browser.post(f"/arrangementer/{event.id}/pamelding", data or {})


# Capacity and the waitlist ------------------------------------------------------------------------


def test_registration_is_one_step_for_a_logged_in_user(app, db):
    event = make_event(db)
    browser, response = register_as(app, USERS["participant"], event)
    assert response.status_code == 302
    assert statuses(db, event) == {USERS["participant"]: RegistrationStatus.CONFIRMED}
    assert "Du er påmeldt" in browser.get(f"/arrangementer/{event.id}").get_data(as_text=True)
    [mail] = outbox(db, USERS["participant"])
    assert mail.subject == "Du er påmeldt: Fagdag om BTI"
    assert "/pamelding/avmeld/" in mail.body_text


def test_full_event_puts_people_on_the_waitlist_and_promotes_in_order(app, db):
    event = make_event(db, capacity=2)
    emails = make_users(db, 5)
    for email in emails:
        register_as(app, email, event)
    assert [r.status for r in registrations(db, event)] == [
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.WAITLISTED,
    ]
    # The first confirmed cancels from "Mine påmeldinger": the oldest on the waitlist gets the seat.
    first = Browser(app.test_client())
    first.login(emails[0])
    own = registrations(db, event)[0]
    assert first.post(f"/pameldinger/{own.id}/avmeld").status_code == 302
    assert [r.status for r in registrations(db, event)] == [
        RegistrationStatus.WITHDRAWN,
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.WAITLISTED,
    ]
    assert outbox(db, emails[2])[-1].subject == "Du har fått plass: Fagdag om BTI"


def test_waitlist_is_served_by_priority_then_oldest(app, db):
    event = make_event(db, capacity=1)
    emails = make_users(db, 4)
    for email in emails:
        register_as(app, email, event)
    rows = registrations(db, event)
    rows[3].priority = 5  # a coordinator moved the last one up
    db.add(rows[3])
    db.commit()
    with app.app_context():
        events.cancel_registration(db, rows[0], None)
        db.commit()
    assert [r.status for r in registrations(db, event)] == [
        RegistrationStatus.WITHDRAWN,
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.CONFIRMED,
    ]


def test_quota_per_municipality_is_enforced_and_skips_to_the_next_on_the_waitlist(app, db):
    event = make_event(db, capacity=3, quota_per_municipality=1)
    emails = make_users(db, 3)
    osen, orland = municipality_id(db, "5020"), municipality_id(db, "5057")
    register_as(app, emails[0], event, {"municipality_id": osen})
    register_as(app, emails[1], event, {"municipality_id": osen})
    register_as(app, emails[2], event, {"municipality_id": orland})
    assert statuses(db, event) == {
        emails[0]: RegistrationStatus.CONFIRMED,
        emails[1]: RegistrationStatus.WAITLISTED,
        emails[2]: RegistrationStatus.CONFIRMED,
    }


def test_raising_capacity_promotes_the_waitlist(as_role, db):
    event = make_event(db, capacity=1)
    for role in ("participant", "service_staff"):
        as_role(role).post(f"/arrangementer/{event.id}/pamelding", {})
    coordinator = as_role("coordinator_fosen")
    form = event_form(event, capacity="2")
    assert coordinator.post(f"/arrangementer/{event.id}/rediger", form).status_code == 302
    assert sorted(statuses(db, event).values()) == [RegistrationStatus.CONFIRMED, RegistrationStatus.CONFIRMED]


def test_coordinator_moves_someone_from_the_waitlist_only_when_a_seat_is_free(as_role, db):
    event = make_event(db, capacity=1)
    for role in ("participant", "service_staff"):
        as_role(role).post(f"/arrangementer/{event.id}/pamelding", {})
    first, waiting = registrations(db, event)
    coordinator = as_role("coordinator_fosen")
    refused = coordinator.post(f"/arrangementer/{event.id}/deltakere/{waiting.id}/flytt")
    assert refused.status_code == 409
    assert coordinator.post(f"/arrangementer/{event.id}/deltakere/{first.id}/avmeld").status_code == 302
    assert statuses(db, event)[waiting.email] == RegistrationStatus.CONFIRMED


def test_coordinator_registers_on_behalf_without_confirmation(as_role, db):
    event = make_event(db)
    response = as_role("coordinator_fosen").post(
        f"/arrangementer/{event.id}/deltakere/ny",
        {"name": "Kari Lærer", "email": "kari@skole.example", "municipality_id": municipality_id(db, "5054")},
    )
    assert response.status_code == 302
    assert statuses(db, event) == {"kari@skole.example": RegistrationStatus.CONFIRMED}


def test_attendance_is_marked_after_the_event_started(as_role, db):
    event = make_event(db)
    as_role("participant").post(f"/arrangementer/{event.id}/pamelding", {})
    [registration] = registrations(db, event)
    coordinator = as_role("coordinator_fosen")
    assert coordinator.post(f"/arrangementer/{event.id}/oppmote", {"moette": registration.id}).status_code == 409
    db.expire_all()
    event = db.get(Event, event.id)
    event.starts_at = datetime.now(event.starts_at.tzinfo) - timedelta(hours=1)
    db.add(event)
    db.commit()
    assert coordinator.post(f"/arrangementer/{event.id}/oppmote", {"moette": registration.id}).status_code == 302
    assert registrations(db, event)[0].attended is True


# Guests, confirmation and cancellation links ------------------------------------------------------


def test_guest_registers_confirms_by_link_and_cancels_once(browser, db):
    event = make_event(db)
    response = browser.post(
        f"/arrangementer/{event.id}/pamelding/gjest",
        {"name": "Guri Gjest", "email": "Guri@Example.no", "municipality_id": municipality_id(db, "5054")},
    )
    assert response.status_code == 200 and "Sjekk e-posten din" in response.get_data(as_text=True)
    assert statuses(db, event) == {"guri@example.no": RegistrationStatus.UNCONFIRMED}
    confirm = link_in(outbox(db, "guri@example.no")[-1], "/pamelding/bekreft/")
    assert browser.get(confirm).status_code == 200  # a page with a button; opening the link changes nothing
    assert statuses(db, event) == {"guri@example.no": RegistrationStatus.UNCONFIRMED}
    assert browser.post(confirm).status_code == 200
    assert statuses(db, event) == {"guri@example.no": RegistrationStatus.CONFIRMED}
    assert browser.post(confirm).status_code == 410
    cancel = link_in(outbox(db, "guri@example.no")[-1], "/pamelding/avmeld/")
    assert browser.post(cancel).status_code == 302
    assert statuses(db, event) == {"guri@example.no": RegistrationStatus.WITHDRAWN}
    assert browser.post(cancel).status_code == 410
    assert browser.get(cancel).status_code == 410


def test_cancel_link_with_a_wrong_token_finds_nothing(browser, db):
    event = make_event(db)
    browser.post(f"/arrangementer/{event.id}/pamelding/gjest", {"name": "G", "email": "g@example.no"})
    assert browser.post("/pamelding/avmeld/" + "x" * 43).status_code == 404


def test_only_the_owner_can_cancel_a_registration_from_their_page(as_role, db):
    event = make_event(db)
    as_role("participant").post(f"/arrangementer/{event.id}/pamelding", {})
    [registration] = registrations(db, event)
    assert as_role("service_staff").post(f"/pameldinger/{registration.id}/avmeld").status_code == 404
    assert as_role(None).post(f"/pameldinger/{registration.id}/avmeld").status_code == 404
    assert statuses(db, event)[registration.email] == RegistrationStatus.CONFIRMED


def test_my_registrations_lists_the_event(as_role, db):
    event = make_event(db)
    participant = as_role("participant")
    participant.post(f"/arrangementer/{event.id}/pamelding", {})
    page = participant.get("/mine-pameldinger").get_data(as_text=True)
    assert "Fagdag om BTI" in page and "Påmeldt" in page


# Refusals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "window, message",
    [
        ({"registration_opens_at": "future"}, "Påmeldingen åpner"),
        ({"registration_closes_at": "past"}, "Påmeldingsfristen gikk ut"),
    ],
)
def test_registration_outside_its_window_is_refused(as_role, db, window, message):
    now = datetime.now().astimezone()
    when = {"future": now + timedelta(days=2), "past": now - timedelta(days=1)}
    overrides = {key: when[value] for key, value in window.items()}
    if "registration_closes_at" not in overrides:
        overrides["registration_closes_at"] = now + timedelta(days=10)
    if "registration_opens_at" not in overrides:
        overrides["registration_opens_at"] = now - timedelta(days=5)
    event = make_event(db, **overrides)
    response = as_role("participant").post(f"/arrangementer/{event.id}/pamelding", {})
    assert response.status_code == 409
    assert message in response.get_data(as_text=True)
    assert registrations(db, event) == []


def test_registering_twice_is_refused(as_role, db):
    event = make_event(db)
    participant = as_role("participant")
    participant.post(f"/arrangementer/{event.id}/pamelding", {})
    again = participant.post(f"/arrangementer/{event.id}/pamelding", {})
    assert again.status_code == 409
    assert len(registrations(db, event)) == 1


def test_guest_with_an_invalid_email_is_refused(browser, db):
    event = make_event(db)
    response = browser.post(f"/arrangementer/{event.id}/pamelding/gjest", {"name": "G", "email": "ikke-en-adresse"})
    assert response.status_code == 422
    assert "gyldig e-postadresse" in response.get_data(as_text=True)
    assert registrations(db, event) == []


def test_base_only_event_refuses_people_from_other_municipalities(as_role, db):
    event = make_event(db, audience="base")
    refused = as_role("participant").post(
        f"/arrangementer/{event.id}/pamelding", {"municipality_id": municipality_id(db, "5001")}
    )
    assert refused.status_code == 403
    accepted = as_role("participant").post(
        f"/arrangementer/{event.id}/pamelding", {"municipality_id": municipality_id(db, "5057")}
    )
    assert accepted.status_code == 302


# Planning: bad input, changes, cancellation -------------------------------------------------------


def event_form(event: Event | None = None, **fields) -> dict:
    day = SOON.isoformat()
    form = {
        "kind": "fagdag",
        "title": "Fagdag",
        "base_id": "",
        "audience": "region",
        "start_date": day,
        "start_time": "09:00",
        "end_date": day,
        "end_time": "15:00",
        "capacity": "30",
    }
    if event is not None:
        form.update(title=event.title, base_id=str(event.base_id or ""), capacity=str(event.capacity or ""))
    form.update(fields)
    return form


def count_events(db) -> int:
    db.expire_all()
    return len(db.exec(select(Event)).all())


def test_coordinator_plans_and_publishes_a_fagdag(as_role, db):
    coordinator = as_role("coordinator_fosen")
    response = coordinator.post(
        "/arrangementer/nytt",
        event_form(
            base_id=str(base_id(db, "fosen")),
            title="Fagdag: Tidlig inn",
            programme="09.00 Velkommen – Kari Nordmann\n10.15 Pause",
        ),
    )
    assert response.status_code == 302
    event_id = int(re.search(r"/arrangementer/(\d+)", response.headers["Location"]).group(1))
    page = coordinator.get(f"/arrangementer/{event_id}").get_data(as_text=True)
    assert "Utkast" in page and "Kari Nordmann" in page
    assert as_role(None).get(f"/arrangementer/{event_id}").status_code == 404  # drafts are hidden
    assert coordinator.post(f"/arrangementer/{event_id}/publiser").status_code == 302
    assert "09.00–15.00" in as_role(None).get(f"/arrangementer/{event_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"end_time": "08:00"}, "slutte etter at det starter"),
        ({"end_date": (SOON - timedelta(days=1)).isoformat()}, "Sluttdatoen kan ikke være før startdatoen"),
        ({"quota_per_municipality": "40"}, "Kvoten per kommune kan ikke være større"),
        ({"registration_closes_at": (SOON + timedelta(days=2)).isoformat() + "T12:00"}, "Påmeldingsfristen kan ikke"),
        ({"programme": "Velkommen uten klokkeslett"}, "Programlinje 1"),
        ({"base_id": ""}, "Velg kompetansebasen"),
    ],
)
def test_bad_event_input_is_refused_and_nothing_saved(as_role, db, fields, message):
    before = count_events(db)
    form = event_form(base_id=str(base_id(db, "fosen")))
    form.update(fields)
    response = as_role("coordinator_fosen").post("/arrangementer/nytt", form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count_events(db) == before


def test_a_start_in_the_missing_dst_hour_is_refused(as_role, db):
    last_sunday_of_march = max(date(2027, 3, d) for d in range(25, 32) if date(2027, 3, d).weekday() == 6)
    response = as_role("coordinator_fosen").post(
        "/arrangementer/nytt",
        event_form(
            base_id=str(base_id(db, "fosen")),
            start_date=last_sunday_of_march.isoformat(),
            end_date=last_sunday_of_march.isoformat(),
            start_time="02:30",
            end_time="05:00",
        ),
    )
    assert response.status_code == 422
    assert "finnes ikke" in response.get_data(as_text=True)


def test_an_event_across_the_autumn_dst_change_keeps_its_length(db):
    last_sunday_of_october = max(date(2027, 10, d) for d in range(25, 32) if date(2027, 10, d).weekday() == 6)
    event = make_event(
        db,
        start_date=last_sunday_of_october - timedelta(days=1),
        start_time=time(12),
        end_date=last_sunday_of_october,
        end_time=time(12),
    )
    assert event.ends_at - event.starts_at == timedelta(hours=25)


def test_capacity_below_the_registered_is_refused(as_role, db):
    event = make_event(db, capacity=5)
    for role in ("participant", "service_staff"):
        as_role(role).post(f"/arrangementer/{event.id}/pamelding", {})
    response = as_role("coordinator_fosen").post(f"/arrangementer/{event.id}/rediger", event_form(event, capacity="1"))
    assert response.status_code == 409
    assert "allerede 2 påmeldte" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Event, event.id).capacity == 5


def test_moving_an_event_notifies_every_registrant_and_raises_sequence(as_role, db):
    event = make_event(db, capacity=1)
    for role in ("participant", "service_staff"):
        as_role(role).post(f"/arrangementer/{event.id}/pamelding", {})
    sequence, uid = event.sequence, event.uid
    response = as_role("coordinator_fosen").post(
        f"/arrangementer/{event.id}/rediger", event_form(event, start_time="10:00")
    )
    assert response.status_code == 302
    db.expire_all()
    moved = db.get(Event, event.id)
    assert (moved.sequence, moved.uid) == (sequence + 1, uid)
    for role in ("participant", "service_staff"):  # the confirmed and the waitlisted both hear of it
        assert outbox(db, USERS[role])[-1].subject == "Endret: Fagdag om BTI"


def test_cancelling_an_event_tells_everyone_registered(as_role, db):
    event = make_event(db)
    as_role("participant").post(f"/arrangementer/{event.id}/pamelding", {})
    response = as_role("coordinator_fosen").post(f"/arrangementer/{event.id}/avlys", {"reason": "Sykdom"})
    assert response.status_code == 302
    mail = outbox(db, USERS["participant"])[-1]
    assert mail.subject == "Avlyst: Fagdag om BTI" and "Sykdom" in mail.body_text
    assert as_role(None).get(f"/arrangementer/{event.id}").status_code == 200  # stays visible, marked cancelled


def test_namdalen_coordinator_cannot_change_a_make_event(as_role, db):
    event = make_event(db)
    assert as_role("coordinator").post(f"/arrangementer/{event.id}/rediger", event_form(event)).status_code == 403
    assert (
        as_role("coordinator").post("/arrangementer/nytt", event_form(base_id=str(base_id(db, "fosen")))).status_code
        == 403
    )


# No overbooking under concurrency -----------------------------------------------------------------


def test_a_hundred_simultaneous_registrations_never_overbook(app, db):
    """100 people press "Meld meg på" at the same moment for 30 seats, each request on its own
    database connection, as several web workers would."""
    event = make_event(db, capacity=30)
    emails = make_users(db, 100, prefix="samtidig")
    browsers = []
    for email in emails:
        browser = Browser(app.test_client())
        browser.login(email)
        browser.csrf_token()
        browsers.append(browser)
    start = threading.Barrier(len(browsers))
    answers = []

    def press(browser):
        start.wait()
        answers.append(browser.post(f"/arrangementer/{event.id}/pamelding", {}).status_code)

    threads = [threading.Thread(target=press, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(302) == 100
    counted = [r.status for r in registrations(db, event)]
    assert counted.count(RegistrationStatus.CONFIRMED) == 30
    assert counted.count(RegistrationStatus.WAITLISTED) == 70


# «First come»: a guest counts from confirming the e-mail, everyone else from registering --------------


def guest_registers(browser, db, event: Event, name: str) -> str:
    """The guest fills in the form; returns the confirm link from the e-mail (not yet opened)."""
    email = f"{name.lower()}@gjest.example"
    response = browser.post(f"/arrangementer/{event.id}/pamelding/gjest", {"name": f"Gjest {name}", "email": email})
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return link_in(outbox(db, email)[-1], "/pamelding/bekreft/")


def waitlisted(db, event: Event) -> list[str]:
    db.expire_all()
    return [r.email for r in events.waitlist(db, event.id)]


def test_a_guest_who_confirms_first_gets_the_seat_before_one_who_registered_first(app, browser, db):
    event = make_event(db, capacity=1)
    confirm_a = guest_registers(browser, db, event, "A")
    confirm_b = guest_registers(browser, db, event, "B")
    assert browser.post(confirm_b).status_code == 200
    assert browser.post(confirm_a).status_code == 200
    assert statuses(db, event) == {
        "a@gjest.example": RegistrationStatus.WAITLISTED,
        "b@gjest.example": RegistrationStatus.CONFIRMED,
    }
    assert waitlisted(db, event) == ["a@gjest.example"]


def test_the_waitlist_and_moving_up_follow_the_time_each_registration_started_to_count(app, browser, db, as_role):
    """Guests C, D, E register in that order and confirm E, C, then a logged-in user U registers, then D
    confirms: the waitlist is E, C, U, D, on the coordinator's list and when seats free up."""
    event = make_event(db, capacity=1)
    [holder, user] = make_users(db, 2)
    register_as(app, holder, event)
    confirm = {name: guest_registers(browser, db, event, name) for name in "CDE"}
    assert browser.post(confirm["E"]).status_code == 200
    assert browser.post(confirm["C"]).status_code == 200
    register_as(app, user, event)
    assert browser.post(confirm["D"]).status_code == 200, statuses(db, event)
    expected = ["e@gjest.example", "c@gjest.example", user, "d@gjest.example"]
    assert waitlisted(db, event) == expected

    coordinator = as_role("coordinator_fosen")
    listed = coordinator.get(f"/arrangementer/{event.id}/deltakere.csv").get_data().decode("utf-8-sig").splitlines()
    assert [line.split(";")[1] for line in listed[2:]] == expected  # after the header and the one seat

    page = coordinator.get(f"/arrangementer/{event.id}/deltakere").get_data(as_text=True)
    assert [page.index(email) for email in expected] == sorted(page.index(email) for email in expected)

    holder_row = next(r for r in registrations(db, event) if r.email == holder)
    coordinator.post(f"/arrangementer/{event.id}/deltakere/{holder_row.id}/avmeld")
    assert statuses(db, event)["e@gjest.example"] == RegistrationStatus.CONFIRMED
    assert outbox(db, "e@gjest.example")[-1].subject == "Du har fått plass: Fagdag om BTI"
    assert coordinator.post(f"/arrangementer/{event.id}/rediger", event_form(event, capacity="3")).status_code == 302
    seated = {email for email, status in statuses(db, event).items() if status == RegistrationStatus.CONFIRMED}
    assert seated == {"e@gjest.example", "c@gjest.example", user}
    assert waitlisted(db, event) == ["d@gjest.example"]


def test_the_event_page_says_what_first_come_means(browser, db):
    page = browser.get(f"/arrangementer/{make_event(db, capacity=5).id}").get_data(as_text=True)
    assert "Plassene fordeles etter hvem som kom først" in page
