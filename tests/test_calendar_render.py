"""The iCalendar renderer (nettverk.calendars.render) as pure functions: its bytes are read back by two
independent parsers, `icalendar` and `vobject`, and checked on the wire (CRLF, folding at 75 octets
without splitting a UTF-8 sequence, no property smuggled in through text). No database, no app.

Times are written out as explicit UTC instants, with the Oslo wall clock they must show, so a test
never relies on the code it checks to convert them."""

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from dateutil.rrule import rrulestr

from nettverk.calendars.render import (
    CANCEL,
    REQUEST,
    Entry,
    ProgrammeLine,
    description,
    feed,
    invitation,
    single,
)
from nettverk.timeutil import oslo_midnight, oslo_to_utc

OSLO = ZoneInfo("Europe/Oslo")
MAIL_FROM = "nettverk <ikke-svar@nettverk.example>"
ORGANIZER = "mailto:ikke-svar@nettverk.example"
FEED_URL = "https://nettverk.example/kalender/base/3.ics"
ATTENDEE = ("kari.nordmann@namsos.kommune.example", "Kari Nordmann")
PRODID = "-//nettverk//Regionalt samarbeid for barn og unge//NO"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def make_entry(**fields) -> Entry:
    values = dict(
        uid="11111111-2222-3333-4444-555555555555@nettverk",
        sequence=3,
        status="published",
        title="Fagdag om BTI",
        starts_at=utc(2026, 6, 15, 7, 0),
        ends_at=utc(2026, 6, 15, 13, 30),
        all_day=False,
        created_at=utc(2026, 1, 5, 10, 0),
        updated_at=utc(2026, 2, 1, 12, 34, 56),
        url="https://nettverk.example/arrangementer/7",
        description="Om tidlig innsats.",
        programme=(ProgrammeLine("09.00", "Velkommen", "Kari"),),
        venue_name="Rådhuset",
        venue_address="Kirkegata 1",
        venue_municipality="Levanger",
        organizer_name="Innherred kompetansebase",
        kind_label="Fagdag",
        categories=("Fagdag", "Innherred kompetansebase"),
    )
    values.update(fields)
    return Entry(**values)


# Reading the output -------------------------------------------------------------------------------

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def cleaned(text: str) -> str:
    """What the renderer promises to keep of a text: newlines (any of CRLF, LF, lone CR) as LF, tabs,
    and everything else but control characters; surrounding whitespace trimmed. Written here again
    rather than imported, so a change to render.clean shows up."""
    return CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def rfc6868(value: str) -> str:
    """vobject hands back parameter values as written; icalendar decodes RFC 6868 (^n, ^', ^^)."""
    return re.sub(r"\^([n'^])", lambda m: {"n": "\n", "'": '"', "^": "^"}[m.group(1)], value)


def ical_text(value) -> str:
    """icalendar has no type for NAME and X-WR-* and hands them back as written (vUnknown), so their TEXT
    escapes (RFC 5545 3.3.11) are undone here."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value.to_ical().decode())


def physical_lines(raw: bytes) -> list[bytes]:
    assert raw.endswith(b"\r\n")
    return raw[:-2].split(b"\r\n")


def content_lines(raw: bytes) -> list[str]:
    """Unfolded content lines (RFC 5545 3.1)."""
    text = raw.decode("utf-8")
    return re.sub(r"\r\n[ \t]", "", text)[:-2].split("\r\n")


def components(raw: bytes) -> list[tuple[str, list[str]]]:
    """(path, content lines) of every component, e.g. ("VCALENDAR/VEVENT/VALARM", [...]), from a plain
    reading of BEGIN/END lines: what any client sees, whatever a parser would make of it."""
    found, stack = [], []
    for line in content_lines(raw):
        if line.startswith("BEGIN:"):
            stack.append((line[6:], []))
        elif line.startswith("END:"):
            name, lines = stack.pop()
            assert name == line[4:], f"END:{line[4:]} closes BEGIN:{name}"
            found.append(("/".join([n for n, _ in stack] + [name]), lines))
        else:
            assert stack, f"property outside a component: {line!r}"
            stack[-1][1].append(line)
    assert not stack
    return found


def names(lines: list[str]) -> list[str]:
    return [re.match(r"[A-Za-z0-9-]+", line).group(0).upper() for line in lines]


def parse_both(raw: bytes):
    """The calendar as icalendar and as vobject (validating) read it; both must find one calendar."""
    text = raw.decode("utf-8")
    with_ical = icalendar.Calendar.from_ical(raw)
    for component in with_ical.walk():
        assert component.errors == [], (component.name, component.errors)
    calendars = list(vobject.readComponents(text, validate=True))
    assert len(calendars) == 1
    return with_ical, calendars[0]


def check_wire(raw: bytes) -> None:
    """CRLF everywhere, no physical line over 75 octets, none splitting a UTF-8 sequence."""
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert raw.count(b"\r") == raw.count(b"\r\n")
    for line in physical_lines(raw):
        assert len(line) <= 75, line
        line.decode("utf-8")  # a fold inside a multi-byte sequence leaves half a character on each side
    raw.decode("utf-8")


VEVENT_PROPERTIES = {
    "UID",
    "SEQUENCE",
    "DTSTAMP",
    "CREATED",
    "LAST-MODIFIED",
    "DTSTART",
    "DTEND",
    "SUMMARY",
    "DESCRIPTION",
    "LOCATION",
    "URL",
    "CONFERENCE",
    "STATUS",
    "CATEGORIES",
    "ORGANIZER",
    "TRANSP",
}
REQUIRED = [
    "UID",
    "SEQUENCE",
    "DTSTAMP",
    "LAST-MODIFIED",
    "DTSTART",
    "DTEND",
    "SUMMARY",
    "DESCRIPTION",
    "URL",
    "ORGANIZER",
]


def expected_status(entry: Entry, method: str) -> str | None:
    """A CANCEL of an event that goes on takes one attendee out: no STATUS at all (RFC 5546 3.2.5)."""
    if method == CANCEL:
        return "CANCELLED" if entry.status == "cancelled" else None
    return {"draft": "TENTATIVE", "published": "CONFIRMED", "held": "CONFIRMED", "cancelled": "CANCELLED"}[entry.status]


def check_calendar(
    raw: bytes,
    method: str,
    entries: list[Entry],
    *,
    is_feed: bool = False,
    attendee: tuple[str, str] | None = None,
    alarm: bool = False,
):
    """Everything a calendar of `entries` must hold, on the wire and through both parsers."""
    check_wire(raw)
    parts = components(raw)
    paths = [path for path, _ in parts]
    assert paths.count("VCALENDAR") == 1
    assert paths.count("VCALENDAR/VTIMEZONE") == 1
    assert paths.count("VCALENDAR/VEVENT") == len(entries)
    assert set(paths) <= {
        "VCALENDAR",
        "VCALENDAR/VTIMEZONE",
        "VCALENDAR/VTIMEZONE/DAYLIGHT",
        "VCALENDAR/VTIMEZONE/STANDARD",
        "VCALENDAR/VEVENT",
        "VCALENDAR/VEVENT/VALARM",
    }
    top = dict(parts)["VCALENDAR"]
    assert top[:4] == ["VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", f"METHOD:{method}"]
    allowed_top = {"VERSION", "PRODID", "CALSCALE", "METHOD"}
    if is_feed:
        allowed_top |= {
            "NAME",
            "X-WR-CALNAME",
            "DESCRIPTION",
            "X-WR-CALDESC",
            "X-WR-TIMEZONE",
            "REFRESH-INTERVAL",
            "X-PUBLISHED-TTL",
            "SOURCE",
            "URL",
        }
        assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in top
        assert "X-PUBLISHED-TTL:PT1H" in top
        assert {"NAME", "X-WR-CALNAME"} <= set(names(top))
    assert set(names(top)) <= allowed_top
    assert len(names(top)) == len(set(names(top)))
    assert dict(parts)["VCALENDAR/VTIMEZONE"][0] == "TZID:Europe/Oslo"

    vevents = [lines for path, lines in parts if path == "VCALENDAR/VEVENT"]
    for lines in vevents:
        props = names(lines)
        allowed = VEVENT_PROPERTIES | ({"ATTENDEE"} if attendee else set())
        assert set(props) <= allowed, set(props) - allowed  # no ATTENDEE or X-INJECT out of a text
        assert len(props) == len(set(props)), props  # and nothing twice
        assert set(REQUIRED) <= set(props)
        assert ("ATTENDEE" in props) == (attendee is not None)
        for stamp in ("DTSTAMP", "LAST-MODIFIED", "CREATED"):
            assert re.fullmatch(rf"{stamp}:\d{{8}}T\d{{6}}Z", next(x for x in lines if x.startswith(stamp + ":")))
    alarms = [lines for path, lines in parts if path == "VCALENDAR/VEVENT/VALARM"]
    if not alarm:
        assert alarms == []

    with_ical, with_vobject = parse_both(raw)
    # icalendar
    assert str(with_ical["VERSION"]) == "2.0"
    assert str(with_ical["PRODID"]) == PRODID
    assert str(with_ical["CALSCALE"]) == "GREGORIAN"
    assert str(with_ical["METHOD"]) == method
    zones = with_ical.walk("VTIMEZONE")
    assert len(zones) == 1 and str(zones[0]["TZID"]) == "Europe/Oslo"
    events = with_ical.walk("VEVENT")
    assert len(events) == len(entries)
    # vobject
    assert with_vobject.version.value == "2.0"
    assert with_vobject.prodid.value == PRODID
    assert with_vobject.calscale.value == "GREGORIAN"
    assert with_vobject.method.value == method
    assert len(with_vobject.contents["vtimezone"]) == 1
    assert with_vobject.vtimezone.tzid.value == "Europe/Oslo"
    assert len(with_vobject.contents.get("vevent", [])) == len(entries)

    for entry, ical_event, vobject_event in zip(entries, events, with_vobject.vevent_list, strict=True):
        status = expected_status(entry, method)
        summary = ("Avlyst: " if entry.status == "cancelled" else "") + cleaned(entry.title)
        text = description(entry)
        assert not CONTROL.search(text.replace("\n", ""))  # of the control characters only LF and tab survive
        place = ", ".join(
            dict.fromkeys(
                p for p in map(cleaned, (entry.venue_name, entry.venue_address, entry.venue_municipality)) if p
            )
        )
        link = re.sub(r"\s", "", cleaned(entry.online_url))
        place = ", ".join(p for p in (place, link) if p)
        organizer_name = cleaned(entry.organizer_name) or "nettverk"

        assert str(ical_event["UID"]) == entry.uid
        assert int(ical_event["SEQUENCE"]) == entry.sequence
        assert ical_event["DTSTAMP"].dt == entry.updated_at
        assert ical_event["LAST-MODIFIED"].dt == entry.updated_at
        assert str(ical_event["SUMMARY"]) == summary
        assert str(ical_event["DESCRIPTION"]) == text
        assert str(ical_event["URL"]) == entry.url
        assert str(ical_event.get("STATUS")) == str(status)
        assert str(ical_event["ORGANIZER"]) == ORGANIZER
        assert ical_event["ORGANIZER"].params["CN"] == organizer_name
        assert str(ical_event.get("LOCATION", "")) == place

        assert vobject_event.uid.value == entry.uid
        assert int(vobject_event.sequence.value) == entry.sequence
        assert vobject_event.dtstamp.value == entry.updated_at
        assert vobject_event.contents["last-modified"][0].value == entry.updated_at
        assert vobject_event.summary.value == summary
        assert vobject_event.description.value == text
        assert vobject_event.url.value == entry.url
        assert (vobject_event.status.value if "status" in vobject_event.contents else None) == status
        assert vobject_event.organizer.value == ORGANIZER
        assert rfc6868(vobject_event.organizer.params["CN"][0]) == organizer_name
        assert (vobject_event.location.value if "location" in vobject_event.contents else "") == place

        if attendee:
            email, name = attendee
            partstat = "DECLINED" if method == CANCEL else "ACCEPTED"
            assert str(ical_event["ATTENDEE"]) == f"mailto:{email}"
            assert ical_event["ATTENDEE"].params["CN"] == (cleaned(name) or email)
            assert ical_event["ATTENDEE"].params["PARTSTAT"] == partstat
            assert vobject_event.attendee.value == f"mailto:{email}"
            assert rfc6868(vobject_event.attendee.params["CN"][0]) == (cleaned(name) or email)
            assert vobject_event.attendee.params["PARTSTAT"] == [partstat]
        else:
            assert "ATTENDEE" not in ical_event
            assert "attendee" not in vobject_event.contents

        # an all-day event is free time, except in an attendee's own copy or feed
        transp = ("OPAQUE" if entry.busy or attendee else "TRANSPARENT") if entry.all_day else None
        assert (str(ical_event["TRANSP"]) if "TRANSP" in ical_event else None) == transp
        assert (vobject_event.transp.value if "transp" in vobject_event.contents else None) == transp

        if alarm and entry.status != "cancelled":
            (ical_alarm,) = ical_event.walk("VALARM")
            trigger = timedelta(hours=-15) if entry.all_day else timedelta(hours=-1)  # 09.00 the day before
            assert ical_alarm["TRIGGER"].dt == trigger
            assert str(ical_alarm["ACTION"]) == "DISPLAY"
            assert vobject_event.valarm.trigger.value == trigger
            assert len(vobject_event.contents["valarm"]) == 1
        else:
            assert ical_event.walk("VALARM") == []
            assert "valarm" not in vobject_event.contents
    return with_ical, with_vobject


def all_renderings(entry: Entry, attendee: tuple[str, str] = ATTENDEE) -> dict[str, tuple[bytes, str, dict]]:
    """name -> (bytes, METHOD, keywords for check_calendar)."""
    return {
        "feed": (
            feed(
                [entry], name="Innherred – samlinger", url=FEED_URL, mail_from=MAIL_FROM, about="Fagdager og samlinger."
            ),
            "PUBLISH",
            {"is_feed": True},
        ),
        "single": (single(entry, mail_from=MAIL_FROM), "PUBLISH", {}),
        "request": (
            invitation(entry, REQUEST, attendee=attendee, mail_from=MAIL_FROM),
            REQUEST,
            {"attendee": attendee},
        ),
        "cancel": (invitation(entry, CANCEL, attendee=attendee, mail_from=MAIL_FROM), CANCEL, {"attendee": attendee}),
    }


RENDERINGS = ["feed", "single", "request", "cancel"]


# Required properties and STATUS -------------------------------------------------------------------


@pytest.mark.parametrize("kind", RENDERINGS)
@pytest.mark.parametrize("status", ["draft", "published", "held", "cancelled"])
def test_required_properties_and_status(kind, status):
    entry = make_entry(status=status)
    raw, method, options = all_renderings(entry)[kind]
    with_ical, with_vobject = check_calendar(raw, method, [entry], **options)
    expected = {"draft": "TENTATIVE", "published": "CONFIRMED", "held": "CONFIRMED", "cancelled": "CANCELLED"}[status]
    if kind == "cancel":  # the event cancelled, or one attendee taken out of an event that goes on (no STATUS)
        expected = "CANCELLED" if status == "cancelled" else None
    assert with_ical.walk("VEVENT")[0].get("STATUS") == expected
    assert (with_vobject.vevent.status.value if "status" in with_vobject.vevent.contents else None) == expected


def test_feed_properties():
    entry = make_entry()
    raw = feed([entry], name="Innherred – samlinger", url=FEED_URL, mail_from=MAIL_FROM, about="Fagdager.")
    with_ical, with_vobject = check_calendar(raw, "PUBLISH", [entry], is_feed=True)
    assert ical_text(with_ical["NAME"]) == "Innherred – samlinger"
    assert ical_text(with_ical["X-WR-CALNAME"]) == "Innherred – samlinger"
    assert with_ical["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert with_ical["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert str(with_ical["X-PUBLISHED-TTL"]) == "PT1H"
    assert with_vobject.contents["name"][0].value == "Innherred – samlinger"
    assert with_vobject.contents["x-wr-calname"][0].value == "Innherred – samlinger"
    (refresh,) = with_vobject.contents["refresh-interval"]
    assert refresh.value == "PT1H" and refresh.params == {"VALUE": ["DURATION"]}
    assert with_vobject.contents["x-published-ttl"][0].value == "PT1H"


def test_location_only_with_a_venue():
    nowhere = make_entry(venue_name="", venue_address="", venue_municipality="", online_url="")
    online = replace(nowhere, online_url="https://meet.example/bti")
    same_twice = replace(nowhere, venue_name="Rissa", venue_municipality="Rissa")
    both = replace(same_twice, online_url=online.online_url)
    for entry, place in (
        (nowhere, None),
        (online, "https://meet.example/bti"),
        (same_twice, "Rissa"),
        (both, "Rissa, https://meet.example/bti"),
    ):
        for raw, method, options in all_renderings(entry).values():
            with_ical, with_vobject = check_calendar(raw, method, [entry], **options)
            event = with_ical.walk("VEVENT")[0]
            assert (str(event["LOCATION"]) if "LOCATION" in event else None) == place
            assert (with_vobject.vevent.location.value if "location" in with_vobject.vevent.contents else None) == place


# Times round trip ---------------------------------------------------------------------------------

# (case, starts_at UTC, ends_at UTC, all day, DTSTART line, DTEND line)
TIMES = [
    (
        "summer day",
        utc(2026, 6, 15, 7, 0),
        utc(2026, 6, 15, 13, 30),
        False,
        "DTSTART;TZID=Europe/Oslo:20260615T090000",
        "DTEND;TZID=Europe/Oslo:20260615T153000",
    ),
    (
        "winter day",
        utc(2027, 1, 12, 8, 0),
        utc(2027, 1, 12, 14, 30),
        False,
        "DTSTART;TZID=Europe/Oslo:20270112T090000",
        "DTEND;TZID=Europe/Oslo:20270112T153000",
    ),
    # 01:30 CET to 03:30 CEST across the skipped hour: one hour long
    (
        "across spring forward",
        utc(2026, 3, 29, 0, 30),
        utc(2026, 3, 29, 1, 30),
        False,
        "DTSTART;TZID=Europe/Oslo:20260329T013000",
        "DTEND;TZID=Europe/Oslo:20260329T033000",
    ),
    # the last minute before the gap to its first minute after
    (
        "edges of the gap",
        utc(2026, 3, 29, 0, 59),
        utc(2026, 3, 29, 1, 0),
        False,
        "DTSTART;TZID=Europe/Oslo:20260329T015900",
        "DTEND;TZID=Europe/Oslo:20260329T030000",
    ),
    # 01:30 CEST to 03:30 CET across the repeated hour: three hours long
    (
        "across fall back",
        utc(2026, 10, 24, 23, 30),
        utc(2026, 10, 25, 2, 30),
        False,
        "DTSTART;TZID=Europe/Oslo:20261025T013000",
        "DTEND;TZID=Europe/Oslo:20261025T033000",
    ),
    (
        "edges of the repeat",
        utc(2026, 10, 24, 23, 59),
        utc(2026, 10, 25, 2, 0),
        False,
        "DTSTART;TZID=Europe/Oslo:20261025T015900",
        "DTEND;TZID=Europe/Oslo:20261025T030000",
    ),
    (
        "multi-day over fall back",
        utc(2026, 10, 23, 7, 0),
        utc(2026, 10, 26, 14, 0),
        False,
        "DTSTART;TZID=Europe/Oslo:20261023T090000",
        "DTEND;TZID=Europe/Oslo:20261026T150000",
    ),
    (
        "multi-day over spring forward",
        utc(2030, 3, 30, 8, 0),
        utc(2030, 4, 1, 13, 0),
        False,
        "DTSTART;TZID=Europe/Oslo:20300330T090000",
        "DTEND;TZID=Europe/Oslo:20300401T150000",
    ),
    # all day: the Oslo midnights, end exclusive; 29 March 2026 is a 23-hour day
    (
        "all day on the spring-forward day",
        utc(2026, 3, 28, 23, 0),
        utc(2026, 3, 29, 22, 0),
        True,
        "DTSTART;VALUE=DATE:20260329",
        "DTEND;VALUE=DATE:20260330",
    ),
    (
        "all day in summer",
        utc(2026, 6, 14, 22, 0),
        utc(2026, 6, 15, 22, 0),
        True,
        "DTSTART;VALUE=DATE:20260615",
        "DTEND;VALUE=DATE:20260616",
    ),
    (
        "three days over fall back",
        utc(2026, 10, 23, 22, 0),
        utc(2026, 10, 26, 23, 0),
        True,
        "DTSTART;VALUE=DATE:20261024",
        "DTEND;VALUE=DATE:20261027",
    ),
    (
        "two days at new year",
        utc(2026, 12, 30, 23, 0),
        utc(2027, 1, 1, 23, 0),
        True,
        "DTSTART;VALUE=DATE:20261231",
        "DTEND;VALUE=DATE:20270102",
    ),
]


def test_the_time_cases_are_what_the_app_stores():
    """The explicit UTC instants above are what timeutil makes of the Oslo wall clock."""
    for _case, starts_at, ends_at, all_day, start_line, end_line in TIMES:
        for instant, line in ((starts_at, start_line), (ends_at, end_line)):
            value = line.split(":")[1]
            if all_day:
                assert instant == oslo_midnight(datetime.strptime(value, "%Y%m%d").date())
            else:
                wall = datetime.strptime(value, "%Y%m%dT%H%M%S")
                assert instant == oslo_to_utc(wall.date(), wall.time())


@pytest.mark.parametrize("kind", RENDERINGS)
@pytest.mark.parametrize("case", TIMES, ids=[t[0] for t in TIMES])
def test_times_round_trip(kind, case):
    _name, starts_at, ends_at, all_day, start_line, end_line = case
    entry = make_entry(starts_at=starts_at, ends_at=ends_at, all_day=all_day)
    raw, method, options = all_renderings(entry)[kind]
    with_ical, with_vobject = check_calendar(raw, method, [entry], **options)
    (lines,) = [lines for path, lines in components(raw) if path == "VCALENDAR/VEVENT"]
    assert start_line in lines and end_line in lines
    ical_event, vobject_event = with_ical.walk("VEVENT")[0], with_vobject.vevent
    parsed = {
        "icalendar": (ical_event["DTSTART"].dt, ical_event["DTEND"].dt),
        "vobject": (vobject_event.dtstart.value, vobject_event.dtend.value),
    }
    for parser, (start, end) in parsed.items():
        if all_day:
            assert type(start) is date and type(end) is date, parser
            assert start == starts_at.astimezone(OSLO).date(), parser
            assert end == ends_at.astimezone(OSLO).date(), parser  # exclusive: the day after the last
            # free in public feeds and downloads, busy in the attendee's own invitation
            assert ("TRANSP:OPAQUE" if kind in ("request", "cancel") else "TRANSP:TRANSPARENT") in lines
            continue
        for value, instant in ((start, starts_at), (end, ends_at)):
            assert isinstance(value, datetime) and value.tzinfo is not None, parser
            assert value.astimezone(UTC) == instant, parser
            assert value.utcoffset() == instant.astimezone(OSLO).utcoffset(), parser
            assert value.replace(tzinfo=None) == instant.astimezone(OSLO).replace(tzinfo=None), parser
        # (Python subtracts wall clocks within one tzinfo, so measure the length in UTC)
        assert end.astimezone(UTC) - start.astimezone(UTC) == ends_at - starts_at, parser
    if not all_day:
        assert ical_event["DTSTART"].params["TZID"] == "Europe/Oslo"
        assert ical_event["DTEND"].params["TZID"] == "Europe/Oslo"
        assert vobject_event.dtstart.params["X-VOBJ-ORIGINAL-TZID"] == ["Europe/Oslo"]
        assert vobject_event.dtend.params["X-VOBJ-ORIGINAL-TZID"] == ["Europe/Oslo"]
    else:
        assert ical_event["DTSTART"].params["VALUE"] == "DATE"
        assert vobject_event.dtstart.params["VALUE"] == ["DATE"]


# The VTIMEZONE ------------------------------------------------------------------------------------


def last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() - 6) % 7)


# EU rule: summer time from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October
TRANSITIONS = [
    datetime.combine(last_sunday(year, month), time(1), tzinfo=UTC) for year in range(2026, 2031) for month in (3, 10)
]
INSTANTS = sorted(
    {
        t + delta
        for t in TRANSITIONS
        for delta in (
            timedelta(seconds=-1),
            timedelta(0),
            timedelta(seconds=1),
            timedelta(minutes=-30),
            timedelta(minutes=30),
            timedelta(hours=-1),
            timedelta(hours=1),
            timedelta(hours=2),
            timedelta(days=-1),
            timedelta(days=1),
        )
    }
    | {utc(year, month, 15, 12) for year in range(2026, 2031) for month in (1, 7, 12)}
)


def test_transitions_are_where_zoneinfo_has_them():
    for transition in TRANSITIONS:
        before = (transition - timedelta(seconds=1)).astimezone(OSLO).utcoffset()
        after = transition.astimezone(OSLO).utcoffset()
        expected = (
            (timedelta(hours=1), timedelta(hours=2))
            if transition.month == 3
            else (timedelta(hours=2), timedelta(hours=1))
        )
        assert (before, after) == expected


def test_vtimezone_rules_give_oslo_offsets():
    with_ical, with_vobject = parse_both(single(make_entry(), mail_from=MAIL_FROM))
    zones = {
        "icalendar": with_ical.walk("VTIMEZONE")[0].to_tz(lookup_tzid=False),  # built from the rules, not a lookup
        "vobject": with_vobject.vtimezone.gettzinfo(),
    }
    for parser, zone in zones.items():
        for instant in INSTANTS:
            local, oslo = instant.astimezone(zone), instant.astimezone(OSLO)
            assert local.utcoffset() == oslo.utcoffset(), (parser, instant)
            assert local.replace(tzinfo=None) == oslo.replace(tzinfo=None), (parser, instant)
            # and back: an unambiguous Oslo wall clock reads as the same instant
            if oslo.utcoffset() == oslo.replace(fold=1).utcoffset() == oslo.replace(fold=0).utcoffset():
                wall = oslo.replace(tzinfo=None)
                assert wall.replace(tzinfo=zone).astimezone(UTC) == instant, (parser, instant)


def test_vtimezone_recurrences_are_the_transitions():
    """Expanding DAYLIGHT and STANDARD by hand (dateutil's rrule, not a tz library) gives, in UTC, exactly
    the EU transitions of 2026-2030."""
    with_ical, _ = parse_both(single(make_entry(), mail_from=MAIL_FROM))
    (zone,) = with_ical.walk("VTIMEZONE")
    found = []
    for kind, offset_to in (("DAYLIGHT", timedelta(hours=2)), ("STANDARD", timedelta(hours=1))):
        (part,) = zone.walk(kind)
        assert part["TZOFFSETTO"].td == offset_to
        assert part["TZOFFSETFROM"].td == timedelta(hours=3) - offset_to
        rule = rrulestr(part["RRULE"].to_ical().decode(), dtstart=part["DTSTART"].dt)
        for wall in rule.between(datetime(2026, 1, 1), datetime(2031, 1, 1)):
            found.append((wall - part["TZOFFSETFROM"].td).replace(tzinfo=UTC))
    assert sorted(found) == TRANSITIONS


# Hostile text -------------------------------------------------------------------------------------

NASTY = (
    'æøå ÆØÅ Snåase – Snåsa, Unjárga; áčđŋšŧž ÁČĐŊŠŦŽ: 👩‍👩‍👧 🇳🇴 👍🏽 "sitat" \\back\\slash\\n '
    "; , : \ttab \x00nul\x07bell\x1besc\x7fdel \u2028ls \x85nel"
)


def hostile_entry(**fields) -> Entry:
    return make_entry(**{**hostile_fields(), "uid": "hostile-1@nettverk", **fields})


def hostile_fields() -> dict:
    return dict(
        title="Fagdag\r\nATTENDEE:mailto:evil@example.com\r\nX-INJECT:1 " + NASTY,
        description=(
            "  Første linje\r\nAndre linje\rTredje linje\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\r\n"
            "END:VCALENDAR\nX-INJECT:1\n" + NASTY + "\n" + "Lang linje " + "ø👩‍👩‍👧" * 40 + "  "
        ),
        programme=(
            ProgrammeLine(
                "09.00\r\nX-INJECT:1",
                'Åpning; "velkommen"\r\nATTENDEE:mailto:evil@example.com',
                "Ánde Čuđi, Unjárga\nX-INJECT:1",
            ),
            ProgrammeLine("10.15\x07", "Pause ☕ " + NASTY, ""),
        ),
        venue_name='Kulturhuset "Låven"; sal 2\r\nX-INJECT:1',
        venue_address="Gate 1, 7600 Levanger\\nord\r" + NASTY,
        venue_municipality="Snåase – Snåsa",
        online_url='https://meet.example/møte?a=1;b=2,c:d\\e"f\r\nATTENDEE:mailto:evil@example.com',
        organizer_name='Nettverk "Fosen"; Snåase – Snåsa: Unjárga, 👩‍👩‍👧\r\nX-INJECT:1',
        categories=("Fagdag, kurs; m.m.", "Unjárga\nX-INJECT:1"),
    )


HOSTILE_ATTENDEE = ("kari+test@namsos.kommune.example", 'Kari "K" Nordmann; Unjárga\r\nX-INJECT:1 👩‍👩‍👧')


def test_hostile_entry_is_as_meant():
    entry = hostile_entry()
    text = description(entry)
    for piece in (
        cleaned(entry.description),
        "Program:",
        cleaned(entry.programme[0].title),
        cleaned(entry.programme[0].speaker),
        cleaned(entry.programme[1].title),
        f"Digitalt møte: {cleaned(entry.online_url)}",
        entry.url,
    ):
        assert piece in text
    assert "\r" not in text and "\x00" not in text and "\x1b" not in text and "\x7f" not in text
    assert "\t" in text and "\u2028" in text


@pytest.mark.parametrize("kind", RENDERINGS)
@pytest.mark.parametrize("status", ["published", "draft", "cancelled"])
def test_hostile_text_stays_text(kind, status):
    entry = hostile_entry(status=status)
    raw, method, options = all_renderings(entry, HOSTILE_ATTENDEE)[kind]
    with_ical, with_vobject = check_calendar(raw, method, [entry], **options)
    lines = content_lines(raw)
    assert not [line for line in lines if line.upper().startswith(("X-INJECT", "UID:EVIL", "ATTENDEE:MAILTO:EVIL"))]
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 1
    assert lines.count("END:VCALENDAR") == 1 and lines[-1] == "END:VCALENDAR"
    ical_event, vobject_event = with_ical.walk("VEVENT")[0], with_vobject.vevent
    # the link as a property: a URI has no whitespace, so the line breaks are taken out
    link = re.sub(r"\s", "", cleaned(entry.online_url))
    assert str(ical_event["CONFERENCE"]) == link
    # vobject does not know CONFERENCE (RFC 7986) and decodes it as a comma-separated TEXT list, keeping
    # the first item; its content-line parser, before that decoding, gives the value as written
    assert vobject_event.conference.value == link.split(",")[0]
    (line,) = [line for line in content_lines(raw) if line.startswith("CONFERENCE")]
    conference = vobject.base.textLineToContentLine(line)
    assert conference.value == link
    assert conference.params == {"FEATURE": ["VIDEO"], "LABEL": ["Digitalt møte"], "VALUE": ["URI"]}
    assert [str(c) for c in ical_event["CATEGORIES"].cats] == [cleaned(c) for c in entry.categories]
    assert vobject_event.categories.value == [cleaned(c) for c in entry.categories]


def test_hostile_feed_name_and_several_events():
    entries = [
        hostile_entry(),
        make_entry(uid="plain@nettverk"),
        hostile_entry(uid="hostile-2@nettverk", title="Møte\nEND:VEVENT\nBEGIN:VEVENT", status="cancelled"),
    ]
    name, about = 'Snåase – Snåsa; "kalender"\r\nX-INJECT:1 👩‍👩‍👧', "Om\rUnjárga\\; ,"
    raw = feed(entries, name=name, url=FEED_URL, mail_from=MAIL_FROM, about=about, alarm_minutes=60)
    with_ical, with_vobject = check_calendar(raw, "PUBLISH", entries, is_feed=True, alarm=True)
    assert [str(e["UID"]) for e in with_ical.walk("VEVENT")] == [e.uid for e in entries]
    assert [e.uid.value for e in with_vobject.vevent_list] == [e.uid for e in entries]
    assert ical_text(with_ical["NAME"]) == ical_text(with_ical["X-WR-CALNAME"]) == cleaned(name)
    assert str(with_ical["DESCRIPTION"]) == ical_text(with_ical["X-WR-CALDESC"]) == cleaned(about)
    assert with_vobject.contents["name"][0].value == cleaned(name)
    assert with_vobject.contents["x-wr-calname"][0].value == cleaned(name)
    assert with_vobject.contents["description"][0].value == cleaned(about)
    assert with_vobject.contents["x-wr-caldesc"][0].value == cleaned(about)
    # the alarm repeats the summary, cleaned like it
    (ical_alarm,) = with_ical.walk("VEVENT")[0].walk("VALARM")
    assert str(ical_alarm["DESCRIPTION"]) == cleaned(entries[0].title)
    assert with_vobject.vevent_list[0].valarm.description.value == cleaned(entries[0].title)


@pytest.mark.parametrize("prefix", range(6))
def test_folding_never_splits_a_character(prefix):
    """Multi-byte characters land on every byte position of the 75-octet fold."""
    title = "x" * prefix + "👩‍👩‍👧æ🇳🇴ŋ€" * 15
    entry = make_entry(
        title=title,
        description="ø" * prefix + "😀ČŧÆ" * 60,
        organizer_name="å" * prefix + "👍🏽" * 30,
        venue_name="€" * prefix + "ŋ" * 90,
    )
    for raw, method, options in all_renderings(entry, ("a@b.example", "ø" * prefix + "👩‍👩‍👧" * 10)).values():
        check_calendar(raw, method, [entry], **options)  # includes each line decoding on its own
        continued = [line for line in physical_lines(raw) if line.startswith(b" ")]
        assert len(continued) >= 8


# Many entries, determinism, alarms ----------------------------------------------------------------


def many_entries(count: int) -> list[Entry]:
    result = []
    for i in range(count):
        starts_at = utc(2026, 1, 5, 8) + timedelta(days=11 * i, hours=i % 7)
        all_day = i % 5 == 0
        if all_day:
            starts_at = datetime.combine(starts_at.astimezone(OSLO).date(), time(0), tzinfo=OSLO).astimezone(UTC)
            ends_at = datetime.combine(
                starts_at.astimezone(OSLO).date() + timedelta(days=1 + i % 3), time(0), tzinfo=OSLO
            ).astimezone(UTC)
        else:
            ends_at = starts_at + timedelta(hours=2 + i % 30)
        result.append(
            make_entry(
                uid=f"{i:08d}-aaaa-bbbb-cccc-dddddddddddd@nettverk",
                sequence=i % 4,
                status=("draft", "published", "held", "cancelled")[i % 4],
                title=f"Samling {i} – Unjárga 👩‍👩‍👧",
                starts_at=starts_at,
                ends_at=ends_at,
                all_day=all_day,
                updated_at=utc(2026, 1, 1) + timedelta(minutes=i),
                url=f"https://nettverk.example/arrangementer/{i}",
                venue_name="" if i % 3 else f"Sal {i}",
            )
        )
    return result


def test_many_entries():
    entries = many_entries(150)
    raw = feed(entries, name="Alle", url=FEED_URL, mail_from=MAIL_FROM)
    with_ical, with_vobject = check_calendar(raw, "PUBLISH", entries, is_feed=True)
    uids = [str(e["UID"]) for e in with_ical.walk("VEVENT")]
    assert len(uids) == len(set(uids)) == 150
    assert uids == [e.uid for e in entries]
    assert [e.uid.value for e in with_vobject.vevent_list] == uids
    for entry, event in zip(entries, with_vobject.vevent_list, strict=True):
        assert int(event.sequence.value) == entry.sequence
        if not entry.all_day:
            assert event.dtstart.value.astimezone(UTC) == entry.starts_at
            assert event.dtend.value.astimezone(UTC) == entry.ends_at


def test_same_entries_same_bytes():
    entries = many_entries(40)
    first = feed(entries, name="Alle", url=FEED_URL, mail_from=MAIL_FROM, alarm_minutes=30)
    again = feed([replace(e) for e in entries], name="Alle", url=FEED_URL, mail_from=MAIL_FROM, alarm_minutes=30)
    assert first == again
    entry = hostile_entry()
    assert single(entry, mail_from=MAIL_FROM) == single(replace(entry), mail_from=MAIL_FROM)
    for method in (REQUEST, CANCEL):
        assert invitation(entry, method, attendee=ATTENDEE, mail_from=MAIL_FROM) == invitation(
            replace(entry), method, attendee=ATTENDEE, mail_from=MAIL_FROM
        )
    # and a change the renderer shows gives other bytes
    changed = [replace(entries[0], updated_at=entries[0].updated_at + timedelta(seconds=1)), *entries[1:]]
    assert feed(changed, name="Alle", url=FEED_URL, mail_from=MAIL_FROM, alarm_minutes=30) != first


def test_alarm_on_all_but_cancelled():
    entries = [
        make_entry(uid=f"{status}@nettverk", status=status) for status in ("draft", "published", "held", "cancelled")
    ]
    raw = feed(entries, name="Mine", url=FEED_URL, mail_from=MAIL_FROM, alarm_minutes=60)
    check_calendar(raw, "PUBLISH", entries, is_feed=True, alarm=True)  # asserts VALARM per entry both ways
    alarms = [lines for path, lines in components(raw) if path == "VCALENDAR/VEVENT/VALARM"]
    assert len(alarms) == 3
    for lines in alarms:
        assert "TRIGGER:-PT1H" in lines and "ACTION:DISPLAY" in lines
    # no alarm unless asked for, and never in a download or an invitation
    check_calendar(feed(entries, name="Mine", url=FEED_URL, mail_from=MAIL_FROM), "PUBLISH", entries, is_feed=True)
    for raw, _method, _options in all_renderings(entries[1]).values():
        assert b"VALARM" not in raw


# What an attendee's calendar shows (issue 17, points 21, 22, 24, 25) --------------------------------


def all_day_entry(**fields) -> Entry:
    return make_entry(starts_at=utc(2026, 10, 23, 22, 0), ends_at=utc(2026, 10, 26, 23, 0), all_day=True, **fields)


def test_an_all_day_event_blocks_the_days_of_those_who_attend_it():
    """Three days over the autumn DST change: free in a public feed or a download (most subscribers do not
    go), busy in an attendee's invitation and in their own feed."""
    public, own = all_day_entry(), all_day_entry(busy=True)
    expected = {"feed": "TRANSPARENT", "single": "TRANSPARENT", "request": "OPAQUE", "cancel": "OPAQUE"}
    for kind, (raw, method, options) in all_renderings(public).items():
        with_ical, with_vobject = check_calendar(raw, method, [public], **options)
        assert str(with_ical.walk("VEVENT")[0]["TRANSP"]) == expected[kind] == with_vobject.vevent.transp.value
    raw = feed([own], name="Mine", url=FEED_URL, mail_from=MAIL_FROM)
    with_ical, with_vobject = check_calendar(raw, "PUBLISH", [own], is_feed=True)
    assert str(with_ical.walk("VEVENT")[0]["TRANSP"]) == "OPAQUE" == with_vobject.vevent.transp.value


def test_taking_one_attendee_out_is_not_cancelling_the_event():
    """RFC 5546 3.2.5: a CANCEL that uninvites an attendee carries that ATTENDEE and no STATUS:CANCELLED."""
    raw = invitation(make_entry(status="published"), CANCEL, attendee=ATTENDEE, mail_from=MAIL_FROM)
    with_ical, with_vobject = check_calendar(raw, CANCEL, [make_entry()], attendee=ATTENDEE)
    (event,) = with_ical.walk("VEVENT")
    assert "STATUS" not in event and "status" not in with_vobject.vevent.contents
    assert str(event["ATTENDEE"]) == f"mailto:{ATTENDEE[0]}"
    assert str(event["SUMMARY"]) == "Fagdag om BTI"  # not "Avlyst: …": the event goes on
    cancelled = make_entry(status="cancelled", cancel_reason="For få påmeldte.")
    with_ical, _ = parse_both(invitation(cancelled, CANCEL, attendee=ATTENDEE, mail_from=MAIL_FROM))
    (event,) = with_ical.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["DESCRIPTION"]).startswith("AVLYST: For få påmeldte.\n\n")


@pytest.mark.parametrize("minutes", [15, 60, 1440])
def test_an_all_day_reminder_rings_at_nine_the_day_before(minutes):
    """Whatever the choice, the alarm of an all-day event is 09.00 Oslo time the day before, as a trigger
    relative to the start (which every client honours), also on the DST weekend."""
    entries = [all_day_entry(), make_entry(uid="timed@nettverk")]
    raw = feed(entries, name="Mine", url=FEED_URL, mail_from=MAIL_FROM, alarm_minutes=minutes)
    with_ical, with_vobject = parse_both(raw)
    all_day, timed = with_ical.walk("VEVENT")
    (alarm,) = all_day.walk("VALARM")
    assert alarm["TRIGGER"].dt == timedelta(hours=-15) == with_vobject.vevent_list[0].valarm.trigger.value
    start = datetime.combine(all_day.decoded("DTSTART"), time(0), tzinfo=OSLO)  # a DATE starts at local midnight
    assert (start + alarm["TRIGGER"].dt).replace(tzinfo=None) == datetime(2026, 10, 23, 9, 0)
    assert timed.walk("VALARM")[0]["TRIGGER"].dt == timedelta(minutes=-minutes)


def test_the_description_is_plain_text_from_the_markdown():
    markdown = (
        "# Program for dagen\n\nVi møtes **presis** kl. 09.00 i _store sal_. Les [veilederen]"
        "(https://bti.example/veileder) og <https://bti.example/skjema> før.\n\n- Ta med PC\n- Lunsj:\n"
        "  1. fisk\n  2. vegetar\n\n> Sitat fra deltaker\n\nSpørsmål: [Kari](mailto:kari@bti.example)"
    )
    text = description(make_entry(description=markdown, programme=()))
    assert text.split("\n\nPåmelding og mer informasjon:")[0] == (
        "Program for dagen\n\nVi møtes presis kl. 09.00 i store sal. Les veilederen (https://bti.example/veileder) "
        "og https://bti.example/skjema før.\n\n- Ta med PC\n- Lunsj:\n  1. fisk\n  2. vegetar\n\n"
        "Sitat fra deltaker\n\nSpørsmål: Kari (kari@bti.example)"
    )
    for syntax in ("**", "#", "](", "_store", ">"):
        assert syntax not in text
