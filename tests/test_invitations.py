"""Calendar invitations in e-mail: whoever gets a seat gets an iTIP REQUEST, a change of anything the calendar
shows an updated REQUEST (higher SEQUENCE), a cancellation of the event or of the seat a CANCEL, all with the
event's UID, and each message that changes a person's copy a higher SEQUENCE than the one before; the
waitlisted get the text only. Everything is done over HTTP as people would, then the outbox message is built
into the real MIME message (or delivered to an SMTP server) and its calendar part read by two independent
parsers, icalendar and vobject."""

import email
import email.policy
import socket
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parseaddr
from functools import partial

import icalendar
import pytest
import vobject
from aiosmtpd.controller import Controller
from conftest import USERS, Browser, link_in, make_app, outbox
from factories import make_event, municipality_id
from sqlmodel import select

from nettverk.calendars import queries as calendar_queries
from nettverk.calendars import render
from nettverk.db import get_session
from nettverk.events.models import Event, Registration, RegistrationStatus
from nettverk.mail.operations import _to_email
from nettverk.registry.models import CompetenceBase
from nettverk.scheduler.runner import run_job
from nettverk.timeutil import OSLO, to_oslo

SOON = date.today() + timedelta(days=30)
NEXT_YEAR = date.today().year + 1
NOTE_REQUEST = "Legg arrangementet i kalenderen din ved å godta invitasjonen eller åpne vedlegget"
NOTE_CANCEL = "tar du det ut ved å åpne avlysningen eller vedlegget"
PARTICIPANT, STAFF = USERS["participant"], USERS["service_staff"]


# Set-up -------------------------------------------------------------------------------------------

# A published fagdag in Fosen, 30 days ahead, 09.00–15.00 Oslo time, with a place for LOCATION.
fosen_event = partial(make_event, venue_name="Rissa kulturhus")


def fosen(db) -> CompetenceBase:
    return db.exec(select(CompetenceBase).where(CompetenceBase.slug == "fosen")).one()


def stored(db, event: Event) -> Event:
    db.expire_all()
    return db.get(Event, event.id)


def registration_of(db, event: Event, address: str) -> Registration:
    db.expire_all()
    return db.exec(
        select(Registration)
        .where(Registration.event_id == event.id, Registration.email == address)
        .order_by(Registration.id.desc())
    ).first()


def event_form(event: Event, **fields) -> dict:
    day = SOON.isoformat()
    form = {
        "kind": "fagdag",
        "title": event.title,
        "base_id": str(event.base_id),
        "audience": "region",
        "start_date": day,
        "start_time": "09:00",
        "end_date": day,
        "end_time": "15:00",
        "capacity": str(event.capacity or ""),
        "venue_name": event.venue_name,
    }
    form.update(fields)
    return form


# Reading what the participant receives ------------------------------------------------------------


def received(app, message) -> email.message.EmailMessage:
    """The outbox message as the recipient's client parses it: built by the outbox, sent as bytes."""
    raw = _to_email(message, app.config["MAIL_FROM"]).as_bytes()
    return email.message_from_bytes(raw, policy=email.policy.default)


def last_mail(app, db, address: str, subject_start: str = ""):
    mails = [m for m in outbox(db, address) if m.subject.startswith(subject_start)]
    assert mails, f"no mail to {address} starting {subject_start!r}"
    return mails[-1], received(app, mails[-1])


def alternatives(message) -> list:
    """The parts of the multipart/alternative (the message itself, or the first part of a mixed one)."""
    if message.get_content_type() == "multipart/mixed":
        message = next(message.iter_parts())
    assert message.get_content_type() == "multipart/alternative"
    return list(message.iter_parts())


def calendar_part(message):
    parts = [p for p in alternatives(message) if p.get_content_type() == "text/calendar"]
    return parts[0] if parts else None


def invitation_of(message) -> tuple[str, bytes]:
    """(the method parameter of the text/calendar part, its bytes), after checking the MIME structure."""
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = list(message.iter_parts())
    assert [p.get_content_type() for p in alternatives(message)] == ["text/plain", "text/html", "text/calendar"]
    part = calendar_part(message)
    assert part.get_content_charset() == "utf-8"
    ics = part.get_payload(decode=True)
    # The same bytes, attached as a file for clients that show only the text or the HTML.
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invitation.ics"
    assert attachment.get_payload(decode=True) == ics
    return part.get_param("method"), ics


def texts(message) -> tuple[str, str]:
    parts = {p.get_content_type(): p.get_content() for p in alternatives(message)}
    return parts["text/plain"], parts["text/html"]


class Parsed:
    """One invitation read by icalendar and by vobject, checked to agree on what both read."""

    def __init__(self, ics: bytes):
        self.ics = ics
        self.calendar = icalendar.Calendar.from_ical(ics)
        [self.event] = self.calendar.walk("VEVENT")
        self.vcal = vobject.readOne(ics.decode("utf-8"))
        self.vevent = self.vcal.vevent
        assert str(self.calendar["METHOD"]) == self.vcal.method.value
        assert str(self.event["UID"]) == self.vevent.uid.value
        assert int(self.event["SEQUENCE"]) == int(self.vevent.sequence.value)
        assert self.status == (self.vevent.status.value if "status" in self.vevent.contents else None)
        assert self.event.decoded("DTSTART") == self.vevent.dtstart.value
        assert self.event.decoded("DTEND") == self.vevent.dtend.value

    @property
    def method(self) -> str:
        return str(self.calendar["METHOD"])

    @property
    def uid(self) -> str:
        return str(self.event["UID"])

    @property
    def sequence(self) -> int:
        return int(self.event["SEQUENCE"])

    @property
    def status(self) -> str | None:
        """None in a CANCEL that takes one attendee out of an event that goes on (RFC 5546 3.2.5)."""
        return str(self.event["STATUS"]) if "STATUS" in self.event else None

    @property
    def stamp(self) -> datetime:
        return self.event.decoded("DTSTAMP")


def parsed(message, method: str) -> Parsed:
    parameter, ics = invitation_of(message)
    assert parameter == method
    invitation = Parsed(ics)
    assert invitation.method == method
    return invitation


def assert_times(invitation: Parsed, event: Event) -> None:
    """DTSTART/DTEND are Oslo wall times with TZID Europe/Oslo, and the same instants as stored."""
    for name, stored_at, vprop in (
        ("DTSTART", event.starts_at, invitation.vevent.dtstart),
        ("DTEND", event.ends_at, invitation.vevent.dtend),
    ):
        prop = invitation.event[name]
        assert prop.params["TZID"] == "Europe/Oslo"
        # vobject builds the zone from the message's VTIMEZONE and keeps the TZID it read.
        assert vprop.params["X-VOBJ-ORIGINAL-TZID"] == ["Europe/Oslo"]
        assert vobject.icalendar.TimezoneComponent.pickTzid(vprop.value.tzinfo) == "Europe/Oslo"
        for value in (invitation.event.decoded(name), vprop.value):
            assert value.tzinfo is not None
            assert value == stored_at  # the same instant
            local = to_oslo(stored_at)
            assert value.replace(tzinfo=None) == local.replace(tzinfo=None)  # the same Oslo wall time
            assert value.utcoffset() == local.utcoffset()


def assert_people(app, invitation: Parsed, address: str, name: str, organizer_name: str) -> None:
    sender = parseaddr(app.config["MAIL_FROM"])[1]
    organizer, attendee = invitation.event["ORGANIZER"], invitation.event["ATTENDEE"]
    assert str(organizer) == f"mailto:{sender}" and organizer.params["CN"] == organizer_name
    assert str(attendee) == f"mailto:{address}" and attendee.params["CN"] == name
    assert invitation.vevent.organizer.value == f"mailto:{sender}"
    assert invitation.vevent.organizer.params["CN"] == [organizer_name]
    assert invitation.vevent.attendee.value == f"mailto:{address}"


def assert_no_invitation(mail, message) -> None:
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert (mail.calendar_method, mail.calendar_ics) == ("", "")
    text, html = texts(message)
    assert "kalenderen din" not in text and "kalenderen din" not in html


def register_as(app, address: str, event: Event, data=None) -> Browser:
    browser = Browser(app.test_client())
    browser.login(address)
    assert browser.post(f"/arrangementer/{event.id}/pamelding", data or {}).status_code == 302
    return browser


def feed_uids(app, db, event: Event) -> list[str]:
    """The UIDs in the base's subscribable feed, rendered by the same renderer as the feeds are."""
    with app.app_context():
        session = get_session()
        scope = calendar_queries.base_scope(session.get(CompetenceBase, event.base_id))
        ics = render.feed(
            calendar_queries.entries(session, calendar_queries.events_of(session, scope)),
            name=scope.name,
            url="http://nettverk.test/feed",
            mail_from=app.config["MAIL_FROM"],
        )
    return [str(e["UID"]) for e in icalendar.Calendar.from_ical(ics).walk("VEVENT")]


# A seat gives a REQUEST ---------------------------------------------------------------------------


def test_one_click_registration_mails_a_request_for_the_event(app, db):
    event = fosen_event(db)
    register_as(app, PARTICIPANT, event)
    mail, message = last_mail(app, db, PARTICIPANT, "Du er påmeldt")
    assert mail.calendar_method == "REQUEST"
    invitation = parsed(message, "REQUEST")
    event = stored(db, event)
    assert invitation.uid == event.uid
    assert invitation.uid in feed_uids(app, db, event)  # the same event as in the feeds
    assert invitation.sequence == event.sequence
    assert invitation.status == "CONFIRMED"
    assert str(invitation.event["SUMMARY"]) == "Fagdag om BTI"
    assert str(invitation.event["LOCATION"]) == "Rissa kulturhus"
    assert_times(invitation, event)
    registration = registration_of(db, event, PARTICIPANT)
    assert_people(app, invitation, PARTICIPANT, registration.name, fosen(db).name)
    text, html = texts(message)
    assert NOTE_REQUEST in text and NOTE_REQUEST in html
    assert "/pamelding/avmeld/" in text  # the rest of the mail is still there


def test_guest_gets_the_request_when_confirming_not_before(app, db, browser):
    event = fosen_event(db)
    browser.post(
        f"/arrangementer/{event.id}/pamelding/gjest",
        {"name": "Guri Gjest", "email": "guri@example.no", "municipality_id": municipality_id(db, "5054")},
    )
    asking, message = last_mail(app, db, "guri@example.no", "Bekreft påmeldingen")
    assert_no_invitation(asking, message)
    assert browser.post(link_in(asking, "/pamelding/bekreft/")).status_code == 200
    _, message = last_mail(app, db, "guri@example.no", "Du er påmeldt")
    invitation = parsed(message, "REQUEST")
    assert invitation.uid == stored(db, event).uid
    assert_people(app, invitation, "guri@example.no", "Guri Gjest", fosen(db).name)


def test_coordinator_registering_someone_sends_them_the_request(app, db, as_role):
    event = fosen_event(db)
    response = as_role("coordinator_fosen").post(
        f"/arrangementer/{event.id}/deltakere/ny",
        {"name": "Kari Lærer", "email": "kari@skole.example", "municipality_id": municipality_id(db, "5054")},
    )
    assert response.status_code == 302
    _, message = last_mail(app, db, "kari@skole.example", "Du er påmeldt")
    invitation = parsed(message, "REQUEST")
    assert_people(app, invitation, "kari@skole.example", "Kari Lærer", fosen(db).name)
    assert_times(invitation, stored(db, event))


@pytest.mark.parametrize("day, offset", [(date(NEXT_YEAR, 1, 14), 1), (date(NEXT_YEAR, 7, 14), 2)])
def test_times_are_oslo_time_in_winter_and_summer(app, db, day, offset):
    event = fosen_event(db, start_date=day, end_date=day, start_time=time(9, 30), end_time=time(15, 15))
    register_as(app, PARTICIPANT, event)
    invitation = parsed(last_mail(app, db, PARTICIPANT, "Du er påmeldt")[1], "REQUEST")
    assert_times(invitation, stored(db, event))
    start = invitation.event.decoded("DTSTART")
    assert (start.hour, start.minute, start.utcoffset()) == (9, 30, timedelta(hours=offset))
    assert start.astimezone(UTC).hour == 9 - offset
    assert b"DTSTART;TZID=Europe/Oslo:" in invitation.ics and b"BEGIN:VTIMEZONE" in invitation.ics


def test_all_day_event_is_sent_as_dates(app, db):
    event = fosen_event(db, all_day=True, start_time=None, end_time=None, end_date=SOON + timedelta(days=1))
    register_as(app, PARTICIPANT, event)
    invitation = parsed(last_mail(app, db, PARTICIPANT, "Du er påmeldt")[1], "REQUEST")
    assert invitation.event.decoded("DTSTART") == SOON == invitation.vevent.dtstart.value
    assert invitation.event.decoded("DTEND") == SOON + timedelta(days=2)  # exclusive end
    # the attendee's own copy blocks the two days (a public feed shows them as free)
    assert str(invitation.event["TRANSP"]) == "OPAQUE" == invitation.vevent.transp.value


# The waitlist: text only, until a seat comes ------------------------------------------------------


def test_waitlisted_get_no_invitation_and_the_promoted_get_one(app, db):
    event = fosen_event(db, capacity=1)
    first = register_as(app, PARTICIPANT, event)
    register_as(app, STAFF, event)
    assert registration_of(db, event, STAFF).status == RegistrationStatus.WAITLISTED
    assert_no_invitation(*last_mail(app, db, STAFF, "Du står på venteliste"))
    # The first cancels from "Mine påmeldinger": the seat goes to the waitlist, with a REQUEST.
    own = registration_of(db, event, PARTICIPANT)
    assert first.post(f"/pameldinger/{own.id}/avmeld").status_code == 302
    assert registration_of(db, event, STAFF).status == RegistrationStatus.CONFIRMED
    mail, message = last_mail(app, db, STAFF, "Du har fått plass")
    invitation = parsed(message, "REQUEST")
    assert invitation.uid == stored(db, event).uid
    assert_people(app, invitation, STAFF, registration_of(db, event, STAFF).name, fosen(db).name)
    assert NOTE_REQUEST in texts(message)[0]


def test_coordinator_moving_someone_from_the_waitlist_sends_the_request(app, db, as_role):
    event = fosen_event(db, capacity=3, quota_per_municipality=1)
    osen = municipality_id(db, "5020")
    register_as(app, PARTICIPANT, event, {"municipality_id": osen})
    register_as(app, STAFF, event, {"municipality_id": osen})  # Osen's quota is used: waitlisted
    waiting = registration_of(db, event, STAFF)
    assert waiting.status == RegistrationStatus.WAITLISTED
    coordinator = as_role("coordinator_fosen")
    # A larger quota (same capacity) moves no one by itself; the coordinator moves the person.
    assert (
        coordinator.post(
            f"/arrangementer/{event.id}/rediger", event_form(event, quota_per_municipality="2")
        ).status_code
        == 302
    )
    assert registration_of(db, event, STAFF).status == RegistrationStatus.WAITLISTED
    assert coordinator.post(f"/arrangementer/{event.id}/deltakere/{waiting.id}/flytt").status_code == 302
    assert registration_of(db, event, STAFF).status == RegistrationStatus.CONFIRMED
    invitation = parsed(last_mail(app, db, STAFF, "Du har fått plass")[1], "REQUEST")
    assert invitation.uid == stored(db, event).uid


# A change of time or place: an updated REQUEST ----------------------------------------------------


def test_moving_the_event_sends_an_updated_request_to_the_confirmed_only(app, db, as_role):
    event = fosen_event(db, capacity=1)
    register_as(app, PARTICIPANT, event)
    register_as(app, STAFF, event)  # waitlisted
    before = parsed(last_mail(app, db, PARTICIPANT, "Du er påmeldt")[1], "REQUEST")
    response = as_role("coordinator_fosen").post(
        f"/arrangementer/{event.id}/rediger", event_form(event, start_time="10:00", end_time="16:00")
    )
    assert response.status_code == 302
    event = stored(db, event)
    assert to_oslo(event.starts_at).time() == time(10)
    mail, message = last_mail(app, db, PARTICIPANT, "Endret")
    after = parsed(message, "REQUEST")
    assert after.uid == before.uid == event.uid
    assert after.sequence == event.sequence > before.sequence
    assert after.status == "CONFIRMED"
    assert_times(after, event)
    assert after.event.decoded("DTSTART").astimezone(OSLO).hour == 10
    assert NOTE_REQUEST in texts(message)[0] and NOTE_REQUEST in texts(message)[1]
    # The waitlisted hear of the change too, without a calendar part.
    assert_no_invitation(*last_mail(app, db, STAFF, "Endret"))


def test_moving_the_place_sends_an_updated_request(app, db, as_role):
    event = fosen_event(db)
    register_as(app, PARTICIPANT, event)
    before = parsed(last_mail(app, db, PARTICIPANT, "Du er påmeldt")[1], "REQUEST")
    response = as_role("coordinator_fosen").post(
        f"/arrangementer/{event.id}/rediger", event_form(event, venue_name="Fosen folkehøgskole")
    )
    assert response.status_code == 302
    after = parsed(last_mail(app, db, PARTICIPANT, "Endret")[1], "REQUEST")
    assert (after.uid, after.sequence) == (before.uid, stored(db, event).sequence)
    assert after.sequence > before.sequence
    assert str(after.event["LOCATION"]) == "Fosen folkehøgskole"


def test_a_change_calendars_do_not_show_mails_no_one(app, db, as_role):
    event = fosen_event(db)
    register_as(app, PARTICIPANT, event)
    count, sequence = len(outbox(db, PARTICIPANT)), stored(db, event).sequence
    response = as_role("coordinator_fosen").post(
        f"/arrangementer/{event.id}/rediger", event_form(event, capacity="40", reminder_days="3")
    )
    assert response.status_code == 302
    assert len(outbox(db, PARTICIPANT)) == count
    assert stored(db, event).sequence == sequence


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "Fagdag om BTI og stafettlogg"},
        {"description": "Ta med **lunsj**. Se [veilederen](https://bti.example/v)."},
    ],
)
def test_a_new_title_or_description_sends_an_updated_request(app, db, as_role, fields):
    event = fosen_event(db)
    register_as(app, PARTICIPANT, event)
    before = parsed(last_mail(app, db, PARTICIPANT, "Du er påmeldt")[1], "REQUEST")
    response = as_role("coordinator_fosen").post(f"/arrangementer/{event.id}/rediger", event_form(event, **fields))
    assert response.status_code == 302
    mail, message = last_mail(app, db, PARTICIPANT, "Endret")
    after = parsed(message, "REQUEST")
    assert after.uid == before.uid and after.sequence == stored(db, event).sequence > before.sequence
    assert str(after.event["SUMMARY"]) == fields.get("title", "Fagdag om BTI")
    if "description" in fields:  # plain text, the link kept as its address
        assert str(after.event["DESCRIPTION"]).startswith("Ta med lunsj. Se veilederen (https://bti.example/v).")
    text = texts(message)[0]
    assert "Opplysningene er endret" in text and "Tid eller sted" not in text


def test_an_online_meeting_link_is_in_the_location(app, db, as_role):
    event = fosen_event(db, online_url="https://meet.example/bti-fosen")
    register_as(app, PARTICIPANT, event)
    invitation = parsed(last_mail(app, db, PARTICIPANT, "Du er påmeldt")[1], "REQUEST")
    assert str(invitation.event["LOCATION"]) == "Rissa kulturhus, https://meet.example/bti-fosen"
    assert invitation.vevent.location.value == "Rissa kulturhus, https://meet.example/bti-fosen"


# Cancellations: CANCEL ----------------------------------------------------------------------------


def test_cancelling_the_event_sends_cancel_to_the_confirmed_only(app, db, as_role):
    event = fosen_event(db, capacity=1)
    register_as(app, PARTICIPANT, event)
    register_as(app, STAFF, event)  # waitlisted
    request = parsed(last_mail(app, db, PARTICIPANT, "Du er påmeldt")[1], "REQUEST")
    response = as_role("coordinator_fosen").post(f"/arrangementer/{event.id}/avlys", {"reason": "Sykdom"})
    assert response.status_code == 302
    event = stored(db, event)
    mail, message = last_mail(app, db, PARTICIPANT, "Avlyst")
    assert mail.calendar_method == "CANCEL"
    cancel = parsed(message, "CANCEL")
    assert cancel.uid == request.uid == event.uid
    assert cancel.sequence == event.sequence > request.sequence
    assert cancel.status == "CANCELLED"
    assert_times(cancel, event)
    assert_people(app, cancel, PARTICIPANT, registration_of(db, event, PARTICIPANT).name, fosen(db).name)
    text, html = texts(message)
    assert "Sykdom" in text and NOTE_CANCEL in text and NOTE_CANCEL in html
    # the reason is in what the calendar shows, too
    assert str(cancel.event["DESCRIPTION"]).startswith("AVLYST: Sykdom\n\n")
    assert cancel.vevent.description.value.startswith("AVLYST: Sykdom")
    assert_no_invitation(*last_mail(app, db, STAFF, "Avlyst"))


def test_cancelling_a_registration_by_link_sends_cancel(app, db, browser):
    event = fosen_event(db)
    browser.post(f"/arrangementer/{event.id}/pamelding/gjest", {"name": "Guri Gjest", "email": "guri@example.no"})
    assert browser.post(link_in(outbox(db, "guri@example.no")[-1], "/pamelding/bekreft/")).status_code == 200
    confirmed = outbox(db, "guri@example.no")[-1]
    request = parsed(received(app, confirmed), "REQUEST")
    assert browser.post(link_in(confirmed, "/pamelding/avmeld/")).status_code == 302
    assert registration_of(db, event, "guri@example.no").status == RegistrationStatus.WITHDRAWN
    mail, message = last_mail(app, db, "guri@example.no", "Avmeldt")
    cancel = parsed(message, "CANCEL")
    # RFC 5546 3.2.5: uninviting one attendee: that ATTENDEE, no STATUS:CANCELLED, a higher SEQUENCE
    assert (cancel.uid, cancel.sequence) == (request.uid, request.sequence + 1)
    assert cancel.stamp >= request.stamp
    assert cancel.status is None
    assert str(cancel.event["ATTENDEE"]) == "mailto:guri@example.no"
    assert NOTE_CANCEL in texts(message)[0]


def test_coordinator_cancelling_a_registration_sends_cancel(app, db, as_role):
    event = fosen_event(db)
    register_as(app, PARTICIPANT, event)
    registration = registration_of(db, event, PARTICIPANT)
    response = as_role("coordinator_fosen").post(f"/arrangementer/{event.id}/deltakere/{registration.id}/avmeld")
    assert response.status_code == 302
    cancel = parsed(last_mail(app, db, PARTICIPANT, "Avmeldt")[1], "CANCEL")
    assert (cancel.uid, cancel.status) == (stored(db, event).uid, None)  # the event goes on


def test_leaving_the_waitlist_sends_no_calendar_part(app, db):
    event = fosen_event(db, capacity=1)
    register_as(app, PARTICIPANT, event)
    waiting = register_as(app, STAFF, event)
    own = registration_of(db, event, STAFF)
    assert waiting.post(f"/pameldinger/{own.id}/avmeld").status_code == 302
    assert_no_invitation(*last_mail(app, db, STAFF, "Avmeldt"))


def test_each_message_that_changes_a_persons_copy_has_a_higher_sequence(app, db, as_role):
    """Register, cancel, register again, the event moves, cancel again, register, the event is cancelled: every
    message has a higher SEQUENCE than the one before (RFC 5546 2.1.4), so no client takes one for an old copy,
    whatever the DTSTAMPs; the others registered only follow the event's own changes."""
    event = fosen_event(db)
    participant = register_as(app, PARTICIPANT, event)
    register_as(app, STAFF, event)
    coordinator = as_role("coordinator_fosen")

    def cancel_own():
        assert participant.post(f"/pameldinger/{registration_of(db, event, PARTICIPANT).id}/avmeld").status_code == 302

    def register_again():
        assert participant.post(f"/arrangementer/{event.id}/pamelding", {}).status_code == 302

    def move():
        assert (
            coordinator.post(
                f"/arrangementer/{event.id}/rediger", event_form(event, start_time="10:00", end_time="16:00")
            ).status_code
            == 302
        )

    for step in (cancel_own, register_again, move, cancel_own, register_again):
        step()
    assert coordinator.post(f"/arrangementer/{event.id}/avlys", {"reason": "Sykdom"}).status_code == 302
    messages = [
        parsed(received(app, mail), mail.calendar_method) for mail in outbox(db, PARTICIPANT) if mail.calendar_method
    ]
    assert [m.method for m in messages] == ["REQUEST", "CANCEL", "REQUEST", "REQUEST", "CANCEL", "REQUEST", "CANCEL"]
    sequences = [m.sequence for m in messages]
    assert sequences == sorted(set(sequences)), sequences  # strictly rising
    assert [m.status for m in messages] == ["CONFIRMED", None, "CONFIRMED", "CONFIRMED", None, "CONFIRMED", "CANCELLED"]
    assert len({m.uid for m in messages}) == 1
    # STAFF stayed registered: their copy moved and was cancelled with the event's own sequence
    staff = [parsed(received(app, mail), mail.calendar_method) for mail in outbox(db, STAFF) if mail.calendar_method]
    assert [(m.method, m.sequence) for m in staff] == [
        ("REQUEST", messages[0].sequence),
        ("REQUEST", stored(db, event).sequence - 1),
        ("CANCEL", stored(db, event).sequence),
    ]


# The outbox page and real delivery ----------------------------------------------------------------


def test_outbox_shows_which_messages_carry_an_invitation(app, db, as_role):
    event = fosen_event(db)
    register_as(app, PARTICIPANT, event)
    admin = as_role("admin")
    page = admin.get("/admin/utboks").get_data(as_text=True)
    assert "Kalenderinvitasjon" in page and "METHOD:REQUEST" in page
    mail, _ = last_mail(app, db, PARTICIPANT, "Du er påmeldt")
    detail = admin.get(f"/admin/utboks/{mail.id}").get_data(as_text=True)
    assert "METHOD:REQUEST" in detail and "BEGIN:VCALENDAR" in detail


class Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp(database_url, app):
    """An SMTP server on loopback and an app (on the seeded database) that delivers to it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    mail_app = make_app(database_url, SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False, SMTP_TIMEOUT=5)
    yield mail_app, collector
    mail_app.extensions["nettverk.engine"].dispose()
    controller.stop()


def test_delivered_invitation_survives_smtp(db, smtp):
    mail_app, collector = smtp
    event = fosen_event(db)
    register_as(mail_app, PARTICIPANT, event)  # queued by the request
    assert run_job("deliver_mail", app=mail_app).sent == 1  # sent by the scheduler's sender
    deadline = clock.monotonic() + 15  # generous: CI shares the machine
    while not collector.messages and clock.monotonic() < deadline:
        clock.sleep(0.01)
    [message] = collector.messages
    assert message["To"] == PARTICIPANT
    invitation = parsed(message, "REQUEST")
    assert invitation.uid == stored(db, event).uid
    assert_times(invitation, stored(db, event))
    [sent] = outbox(db, PARTICIPANT)
    assert sent.status == "sent" and sent.calendar_method == "REQUEST"
