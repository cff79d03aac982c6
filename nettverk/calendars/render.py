"""The one calendar renderer: pure functions from calendar entries to iCalendar bytes (RFC 5545,
with the RFC 7986 properties). Feeds, single downloads and e-mail invitations all go through
`vevent`, so an event looks the same, with the same UID and SEQUENCE, wherever a client meets it.

Nothing here touches the database or the request: `queries.entries` builds the entries, and the
same entries always give the same bytes (DTSTAMP is the event's last change, not the time of the
request), which is what lets a feed be cached and answered with 304 by its ETag.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache

from icalendar import Alarm, Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress, vText
from markdown_it import MarkdownIt

from nettverk.text import slugify
from nettverk.timeutil import to_oslo

PRODID = "-//nettverk//Regionalt samarbeid for barn og unge//NO"
REFRESH = timedelta(hours=1)  # how often clients should poll a feed
TZID = "Europe/Oslo"
PUBLISH, REQUEST, CANCEL = "PUBLISH", "REQUEST", "CANCEL"
STATUS = {"draft": "TENTATIVE", "published": "CONFIRMED", "held": "CONFIRMED", "cancelled": "CANCELLED"}
# Control characters other than newline and tab have no meaning in a calendar text and some clients
# choke on them; newlines are escaped by icalendar, so a title can never start a property of its own.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
RENDER_VERSION = "2"  # raise when the output of `vevent` changes: cached components are then rendered again


@dataclass(frozen=True)
class ProgrammeLine:
    starts: str
    title: str
    speaker: str = ""


@dataclass(frozen=True)
class Entry:
    """What a calendar shows of one event, read from the database by `queries.entries`."""

    uid: str
    sequence: int
    status: str  # the event's status: draft, published, held, cancelled
    title: str
    starts_at: datetime  # aware UTC; for all-day events the Oslo midnights (end exclusive)
    ends_at: datetime
    all_day: bool
    created_at: datetime
    updated_at: datetime
    url: str  # the event page
    description: str = ""  # Markdown source, readable as plain text
    programme: tuple[ProgrammeLine, ...] = ()
    venue_name: str = ""
    venue_address: str = ""
    venue_municipality: str = ""
    online_url: str = ""
    organizer_name: str = ""  # the base or network that plans it
    kind_label: str = ""
    categories: tuple[str, ...] = field(default_factory=tuple)
    # The person whose calendar this is takes part (their own feed, not a draft or cancelled): an all-day
    # event blocks their time. Public feeds show all-day gatherings as free: most subscribers do not attend.
    busy: bool = False
    cancel_reason: str = ""  # in the CANCEL of a cancelled event, as in its mail


# A reminder of an all-day event rings at 09.00 the day before (Apple's own "1 day before, 09:00"): relative
# to the start, since Outlook takes only "minutes before start", Google ignores VALARM in feeds, and an
# absolute time would go wrong in another zone. DST never falls between 09.00 and the next midnight.
ALL_DAY_ALARM = timedelta(hours=-15)


def clean(text: str) -> str:
    return CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n")).strip()


def uri(text: str) -> str:
    """A link as a URI value: no whitespace (a URI has none), since a line break would otherwise make
    icalendar refuse the value and fail the whole feed."""
    return re.sub(r"\s+", "", clean(text))


def location(entry: Entry) -> str:
    """The place and the meeting link, as the event page gives them: clients show LOCATION first and make a
    link in it clickable (Outlook and Google put their own meeting links there too)."""
    parts = [clean(p) for p in (entry.venue_name, entry.venue_address, entry.venue_municipality) if clean(p)]
    if link := uri(entry.online_url):
        parts.append(link)
    return ", ".join(dict.fromkeys(parts))  # "Rissa, Rissa" says nothing twice


_MARKDOWN = MarkdownIt("js-default", {"html": False})


def _inline(tokens) -> str:
    parts, links = [], []
    for token in tokens:
        if token.type in ("text", "code_inline", "html_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif token.type == "image":
            parts.append(token.content)  # the alt text
        elif token.type == "link_open":
            links.append((len(parts), token.attrGet("href") or ""))
        elif token.type == "link_close" and links:
            start, href = links.pop()
            if (address := href.removeprefix("mailto:")) and address != "".join(parts[start:]):
                parts.append(f" ({address})")
    return "".join(parts)


def plain_text(markdown: str) -> str:
    """The Markdown of a description as the plain text a calendar shows: the words without #, ** or []()
    syntax, a link's address in brackets after its text, list items as "- " or "1. "."""
    blocks: list[tuple[str, bool]] = []  # (text, follows a list item of the same list on the next line)
    lists: list[int | None] = []  # the next number of each open ordered list, None for a bullet list
    marker, tight = "", False
    for token in _MARKDOWN.parse(markdown):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            tight = bool(lists)  # a nested list goes on under its item, a new list after a blank line
            lists.append(int(token.attrGet("start") or 1) if token.type == "ordered_list_open" else None)
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            tight = bool(lists)
        elif token.type == "list_item_open":
            marker = "  " * (len(lists) - 1) + ("- " if lists[-1] is None else f"{lists[-1]}. ")
            if lists[-1] is not None:
                lists[-1] += 1
        elif token.type == "inline":
            blocks.append((marker + _inline(token.children or []), tight))
            marker, tight = "", bool(lists)
        elif token.type in ("fence", "code_block"):
            blocks.append((token.content.rstrip("\n"), False))
    text = ""
    for index, (block, next_line) in enumerate(blocks):
        text += ("\n" if next_line else "\n\n") * (index > 0) + block
    return text.strip()


def description(entry: Entry) -> str:
    """Plain text: the description, the programme, the meeting link and the way back to the page."""
    blocks = []
    if text := plain_text(clean(entry.description)):
        blocks.append(text)
    if entry.programme:
        lines = [
            f"{clean(p.starts)} {clean(p.title)}" + (f" – {clean(p.speaker)}" if clean(p.speaker) else "")
            for p in entry.programme
        ]
        blocks.append("Program:\n" + "\n".join(lines))
    if entry.online_url:
        blocks.append(f"Digitalt møte: {clean(entry.online_url)}")
    if entry.status == "cancelled":
        blocks.insert(0, f"AVLYST: {reason}" if (reason := clean(entry.cancel_reason)) else "AVLYST.")
    blocks.append(f"Påmelding og mer informasjon: {entry.url}")
    return "\n\n".join(blocks)


@lru_cache(maxsize=16)  # one sender for every event of a feed; parseaddr is not free
def _address(mail_from: str) -> str:
    return parseaddr(mail_from)[1] or "ikke-svar@nettverk.localhost"


def vevent(
    entry: Entry,
    *,
    mail_from: str,
    method: str = PUBLISH,
    alarm_minutes: int | None = None,
    attendee: tuple[str, str] | None = None,
    stamp: datetime | None = None,
) -> Event:
    """The one VEVENT of an event. `attendee` (e-mail, name) is set for invitations, and `stamp`, when
    the message was made (its DTSTAMP; the event's last change when not given).

    A CANCEL of an event that goes on takes one attendee out (RFC 5546 3.2.5): it carries no STATUS, which
    would cancel the event itself; the caller gives it a SEQUENCE above the attendee's last message."""
    event = Event()
    event.add("uid", entry.uid)
    event.add("sequence", entry.sequence)
    event.add("dtstamp", stamp or entry.updated_at)
    event.add("created", entry.created_at)
    event.add("last-modified", entry.updated_at)
    if entry.all_day:
        event.add("dtstart", to_oslo(entry.starts_at).date())
        event.add("dtend", to_oslo(entry.ends_at).date())
        # The attendee's own copy, or their own feed, blocks the days; elsewhere an all-day fagdag is free time.
        event.add("transp", "OPAQUE" if entry.busy or attendee is not None else "TRANSPARENT")
    else:
        event.add("dtstart", to_oslo(entry.starts_at))
        event.add("dtend", to_oslo(entry.ends_at))
    summary = clean(entry.title)
    if entry.status == "cancelled":
        summary = f"Avlyst: {summary}"
    event.add("summary", summary)
    event.add("description", description(entry))
    if place := location(entry):
        event.add("location", place)
    event.add("url", entry.url, parameters={"VALUE": "URI"})
    if link := uri(entry.online_url):
        event.add("conference", link, parameters={"VALUE": "URI", "FEATURE": "VIDEO", "LABEL": "Digitalt møte"})
    if method != CANCEL:
        event.add("status", STATUS.get(entry.status, "CONFIRMED"))
    elif entry.status == "cancelled":
        event.add("status", "CANCELLED")
    if entry.categories:
        event.add("categories", [clean(c) for c in entry.categories if clean(c)])
    organizer = vCalAddress(f"mailto:{_address(mail_from)}")
    organizer.params["CN"] = vText(clean(entry.organizer_name) or "nettverk")
    event.add("organizer", organizer)
    if attendee is not None:
        email, name = attendee
        person = vCalAddress(f"mailto:{email}")
        person.params.update(
            {
                "CN": vText(clean(name) or email),
                "ROLE": "REQ-PARTICIPANT",
                "PARTSTAT": "DECLINED" if method == CANCEL else "ACCEPTED",
                "RSVP": "FALSE",
            }
        )
        event.add("attendee", person)
    if alarm_minutes and entry.status != "cancelled":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", ALL_DAY_ALARM if entry.all_day else timedelta(minutes=-alarm_minutes))
        event.add_component(alarm)
    return event


def oslo_timezone() -> Timezone:
    """Europe/Oslo as the rule Norway has followed since 1996 (CET, CEST from the last Sunday of March
    to the last Sunday of October): the form Outlook, Google and Apple write themselves."""
    zone = Timezone()
    zone.add("tzid", TZID)
    zone.add("x-lic-location", TZID)
    daylight = TimezoneDaylight()
    daylight.add("tzname", "CEST")
    daylight.add("tzoffsetfrom", timedelta(hours=1))
    daylight.add("tzoffsetto", timedelta(hours=2))
    daylight.add("dtstart", datetime(1970, 3, 29, 2, 0))
    daylight.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1su"})
    standard = TimezoneStandard()
    standard.add("tzname", "CET")
    standard.add("tzoffsetfrom", timedelta(hours=2))
    standard.add("tzoffsetto", timedelta(hours=1))
    standard.add("dtstart", datetime(1970, 10, 25, 3, 0))
    standard.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1su"})
    zone.add_component(daylight)
    zone.add_component(standard)
    return zone


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(oslo_timezone())
    return calendar


END_CALENDAR = b"END:VCALENDAR\r\n"


def feed_component(entry: Entry, *, mail_from: str, alarm_minutes: int | None = None) -> bytes:
    """The VEVENT of one event as a feed shows it: `feed` is the calendar's lines around these."""
    return vevent(entry, mail_from=mail_from, alarm_minutes=alarm_minutes).to_ical()


def component_digest(entry: Entry, *, mail_from: str, alarm_minutes: int | None = None) -> str:
    """Changes whenever `feed_component` of the entry could: it covers every field of the entry (its
    repr), the sender, the reminder and the renderer's version (raise RENDER_VERSION on a change of code)."""
    key = f"{RENDER_VERSION}|{mail_from}|{alarm_minutes}|{entry!r}"
    return hashlib.sha256(key.encode()).hexdigest()


def feed(
    entries: list[Entry],
    *,
    name: str,
    url: str,
    mail_from: str,
    about: str = "",
    alarm_minutes: int | None = None,
    components: list[bytes] | None = None,
) -> bytes:
    """A subscribable calendar (METHOD:PUBLISH) with its name, refresh interval and source.

    `components`, when given, are the entries' VEVENTs rendered before (`feed_component`, in the same
    order): the result is the same bytes, without rendering each event again."""
    calendar = _calendar(PUBLISH)
    # icalendar writes a property it has no type for (NAME, X-WR-*) as it is, unescaped: a line break in
    # a name would stop the rendering (or, under -O, start a property of its own). They are TEXT.
    calendar.add("name", vText(clean(name)))
    calendar.add("x-wr-calname", vText(clean(name)))
    if about:
        calendar.add("description", clean(about))
        calendar.add("x-wr-caldesc", vText(clean(about)))
    calendar.add("x-wr-timezone", TZID)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")  # Outlook's name for the same interval
    calendar.add("source", url, parameters={"VALUE": "URI"})
    calendar.add("url", url, parameters={"VALUE": "URI"})
    if components is None:
        components = [feed_component(entry, mail_from=mail_from, alarm_minutes=alarm_minutes) for entry in entries]
    # icalendar writes a calendar as its own lines, then each subcomponent's, then END:VCALENDAR.
    head = calendar.to_ical()
    return head[: -len(END_CALENDAR)] + b"".join(components) + END_CALENDAR


def single(entry: Entry, *, mail_from: str) -> bytes:
    """One event to download and open ("Legg i kalenderen")."""
    calendar = _calendar(PUBLISH)
    calendar.add_component(vevent(entry, mail_from=mail_from))
    return calendar.to_ical()


def invitation(
    entry: Entry, method: str, *, attendee: tuple[str, str], mail_from: str, stamp: datetime | None = None
) -> bytes:
    """An iTIP message (RFC 5546) for one participant: REQUEST puts or updates the event in their
    calendar, CANCEL takes it out. Same UID as the feeds, so it is one event in the client.

    Pass `stamp`, the time the message is made: with a METHOD, DTSTAMP is when the message was created
    (RFC 5545 3.8.7.2), and a client orders two messages of the same SEQUENCE by it, so a REQUEST after
    a CANCEL (someone cancels, then registers again) is newer, not a repeat of the first invitation."""
    calendar = _calendar(method)
    calendar.add_component(vevent(entry, mail_from=mail_from, method=method, attendee=attendee, stamp=stamp))
    return calendar.to_ical()


def filename(entry: Entry) -> str:
    """'fagdag-om-bti-2026-03-10.ics': ASCII only, safe in a Content-Disposition header."""
    return f"{slugify(entry.title)[:60].strip('-')}-{to_oslo(entry.starts_at):%Y-%m-%d}.ics"
