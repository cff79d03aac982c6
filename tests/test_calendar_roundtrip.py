"""Every calendar the app serves over HTTP (each feed kind and the single download) read back by two
independent parsers, icalendar and vobject: start, end, time zone, UID, SEQUENCE and the text equal
what was stored, also for events on the DST weekends, all-day and multi-day events and hostile text.
(The renderer's own tests cover more cases; invitations are checked in test_invitations.py.)"""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject
from conftest import USERS
from factories import make_event
from icalendar import Calendar
from sqlmodel import select

from nettverk.accounts.models import User
from nettverk.calendars.operations import create_token
from nettverk.events.models import Event
from nettverk.networks.models import Network, NetworkMember

OSLO = ZoneInfo("Europe/Oslo")
HOSTILE = "Fagdag; «æøå», Unjárga\\Snåase 👩‍👩‍👧\r\nATTENDEE:mailto:evil@example.com"
NEXT = date.today().year + 1


def last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def make(db, title: str, start: date, end: date, start_time: time | None, end_time: time | None, **fields) -> Event:
    """A published event with a place that needs escaping; all-day without times."""
    times = {"start_time": start_time, "end_time": end_time, "all_day": start_time is None}
    place = {"venue_name": "Rissa; samfunnshus", "venue_address": "Rådhusveien 13, 7100 Rissa"}
    return make_event(db, title, start, end_date=end, **times, **place, **fields)


@pytest.fixture
def stored(db):
    """A DST-weekend meeting (spring and autumn), an all-day and a multi-day event with a hostile title."""
    network = db.exec(select(Network).where(Network.slug == "bti-nettverk-fosen")).one()
    spring, autumn = last_sunday(NEXT, 3), last_sunday(NEXT, 10)
    meeting = {"kind": "nettverksmote", "base": None, "network_id": network.id}
    return [
        make(db, "Vårmøte over sommertid", spring - timedelta(days=1), spring, time(22), time(9), **meeting),
        make(db, "Høstmøte over vintertid", autumn, autumn, time(1), time(4), **meeting),
        make(db, HOSTILE, date(NEXT, 6, 9), date(NEXT, 6, 9), None, None),
        make(db, "Samling over tre dager", date(NEXT, 9, 14), date(NEXT, 9, 16), time(10), time(15)),
    ]


def personal_feed_path(db) -> str:
    """A personal feed of the Fosen network's member Per Lysvold, registered nowhere."""
    per = db.exec(select(User).where(User.email == USERS["service_staff"])).one()
    network = db.exec(select(Network).where(Network.slug == "bti-nettverk-fosen")).one()
    assert (
        db.exec(
            select(NetworkMember).where(NetworkMember.user_id == per.id, NetworkMember.network_id == network.id)
        ).first()
        is not None
    )
    link = create_token(db, per)
    db.commit()
    return f"/kalender/personlig/{link.token}.ics"


def both(raw: bytes) -> tuple[dict, dict]:
    """{UID: VEVENT} as icalendar and as vobject (validating) read the same bytes."""
    with_icalendar = {str(e["UID"]): e for e in Calendar.from_ical(raw).walk("VEVENT")}
    (calendar,) = vobject.readComponents(raw.decode("utf-8"), validate=True)
    with_vobject = {e.uid.value: e for e in calendar.vevent_list}
    assert with_icalendar.keys() == with_vobject.keys()
    return with_icalendar, with_vobject


def assert_round_trip(event: Event, parsed_icalendar, parsed_vobject) -> None:
    for start, end, sequence, summary in (
        (
            parsed_icalendar.decoded("DTSTART"),
            parsed_icalendar.decoded("DTEND"),
            int(parsed_icalendar["SEQUENCE"]),
            str(parsed_icalendar["SUMMARY"]),
        ),
        (
            parsed_vobject.dtstart.value,
            parsed_vobject.dtend.value,
            int(parsed_vobject.sequence.value),
            parsed_vobject.summary.value,
        ),
    ):
        assert sequence == event.sequence
        assert summary == event.title.replace("\r\n", "\n")
        if event.all_day:  # DATE values, the end exclusive
            assert (start, end) == (event.starts_at.astimezone(OSLO).date(), event.ends_at.astimezone(OSLO).date())
        else:
            assert (start, end) == (event.starts_at, event.ends_at)  # the same instants
            assert start.utcoffset() == event.starts_at.astimezone(OSLO).utcoffset()
            assert end.utcoffset() == event.ends_at.astimezone(OSLO).utcoffset()
    if not event.all_day:
        assert parsed_icalendar["DTSTART"].params["TZID"] == "Europe/Oslo"


@pytest.mark.parametrize("kind", ["base", "network", "municipality", "personal"])
def test_every_feed_kind_round_trips_through_two_parsers(db, browser, stored, kind):
    paths = {
        "base": "/kalender/kompetansebaser/fosen.ics",
        "network": "/kalender/nettverk/bti-nettverk-fosen.ics",
        "municipality": "/kalender/kommuner/5054.ics",
    }
    path = paths.get(kind) or personal_feed_path(db)
    response = browser.get(path)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert b"\r\nATTENDEE" not in response.data  # the hostile title stayed text
    with_icalendar, with_vobject = both(response.data)
    expected = {
        "base": stored,
        "municipality": stored,  # hosted nowhere, but Indre Fosen is a member of Fosen
        "network": stored[:2],
        "personal": stored[:2],  # Per is a member of the network
    }[kind]
    for event in expected:
        assert_round_trip(event, with_icalendar[event.uid], with_vobject[event.uid])


def test_the_single_download_round_trips_through_two_parsers(db, browser, stored):
    for event in stored:
        response = browser.get(f"/arrangementer/{event.id}/kalender.ics")
        assert response.status_code == 200
        with_icalendar, with_vobject = both(response.data)
        assert list(with_icalendar) == [event.uid]
        assert_round_trip(event, with_icalendar[event.uid], with_vobject[event.uid])
