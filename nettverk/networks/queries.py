"""Read side of networks: the cadence (parse, describe in Norwegian, occurrences), pages and coverage.

A cadence is an RFC 5545 recurrence rule (the RRULE line calendar programs use), counted from the
network's cadence start. We accept the part of the grammar a standing group needs (FREQ DAILY to
YEARLY, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTH, BYMONTHDAY, WKST) and check the values ourselves
before dateutil builds the rule: dateutil accepts some impossible rules (BYMONTH=13, 30 February)
and then searches thousands of years for an occurrence that never comes.
"""

import calendar
import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from dateutil.rrule import rrule, rrulestr
from sqlalchemy import or_
from sqlmodel import Session, func, select

from nettverk.accounts.models import User
from nettverk.events.models import CANCELLED, DRAFT, PUBLISHED, Event, Registration
from nettverk.networks.models import NETWORK_KINDS, Network, NetworkBase, NetworkMember
from nettverk.registry.models import BaseMembership, CompetenceBase, Municipality, Service, ServiceArea, Unit
from nettverk.text import norwegian_key
from nettverk.timeutil import MONTHS, WEEKDAYS, format_date, to_oslo, utcnow

EXAMPLE = "For eksempel FREQ=YEARLY;BYMONTH=3,10;BYDAY=2TU (andre tirsdag i mars og oktober)."
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
ALLOWED_KEYS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTH", "BYMONTHDAY", "WKST"}
UNTIL = re.compile(r"^\d{8}(T\d{6}Z?)?$")
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
BTI = "bti"
MEETING_KINDS = ("nettverksmote", "kurs")


def oslo_today() -> date:
    return to_oslo(utcnow()).date()


# The cadence --------------------------------------------------------------------------------------


class CadenceError(ValueError):
    """A recurrence rule we cannot use; the message is Norwegian and says what to write instead."""


def normalise_cadence(text: str | None) -> str:
    """'rrule:freq=yearly; bymonth=3,10' -> 'FREQ=YEARLY;BYMONTH=3,10' (empty for no cadence)."""
    text = "".join((text or "").split()).upper()
    if text.startswith("RRULE:"):
        text = text[len("RRULE:") :]
    return text.strip(";")


def _numbers(key: str, value: str, low: int, high: int, allow_negative: bool = False) -> list[int]:
    numbers = []
    for part in value.split(","):
        try:
            number = int(part)
        except ValueError:
            raise CadenceError(f"{key}={value} er ikke et tall eller en liste med tall. {EXAMPLE}") from None
        if not (low <= abs(number) <= high) or (number < 0 and not allow_negative):
            raise CadenceError(f"{key}={value}: tallene må være mellom {low} og {high}.")
        numbers.append(number)
    return numbers


def _weekdays(value: str, freq: str, has_month: bool) -> list[tuple[int | None, str]]:
    """'2TU,-1FR' -> [(2, 'TU'), (-1, 'FR')], with the ordinal ranges RFC 5545 allows."""
    days = []
    limit = 5 if freq == "MONTHLY" or has_month else 53
    for part in value.split(","):
        code, number = part[-2:], part[:-2]
        if code not in DAY_CODES:
            raise CadenceError(
                f"BYDAY={value}: ukedagene skrives MO, TU, WE, TH, FR, SA og SU, eventuelt med "
                "nummer foran, som 2TU for andre tirsdag."
            )
        if number in ("", "+"):
            days.append((None, code))
            continue
        try:
            ordinal = int(number)
        except ValueError:
            raise CadenceError(f"BYDAY={value}: {part} er ikke en gyldig ukedag. Skriv for eksempel 2TU.") from None
        if freq not in ("MONTHLY", "YEARLY"):
            raise CadenceError("Nummererte ukedager (som 2TU) kan bare brukes med FREQ=MONTHLY eller FREQ=YEARLY.")
        if not 1 <= abs(ordinal) <= limit:
            raise CadenceError(
                f"BYDAY={value}: nummeret foran ukedagen må være mellom 1 og {limit} (eller -1 for den siste)."
            )
        days.append((ordinal, code))
    return days


def cadence_parts(text: str) -> dict[str, str]:
    """Check the rule's grammar and values; returns KEY -> value. Raises CadenceError."""
    text = normalise_cadence(text)
    if not text:
        raise CadenceError(f"Skriv en regel. {EXAMPLE}")
    if "DTSTART" in text or "\n" in text:
        raise CadenceError(f"Skriv bare selve regelen, uten DTSTART (startdatoen har sitt eget felt). {EXAMPLE}")
    parts: dict[str, str] = {}
    for item in text.split(";"):
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise CadenceError(f"«{item}» er ikke på formen NAVN=VERDI. {EXAMPLE}")
        if key in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            raise CadenceError("Klokkeslettet skrives i feltet «Møtene starter kl.», ikke i regelen.")
        if key not in ALLOWED_KEYS:
            raise CadenceError(
                f"{key} kan ikke brukes i en møterytme her. Bruk FREQ, INTERVAL, BYDAY, BYMONTH, "
                "BYMONTHDAY, COUNT og UNTIL."
            )
        if key in parts:
            raise CadenceError(f"{key} står to ganger i regelen.")
        parts[key] = value
    freq = parts.get("FREQ")
    if freq is None:
        raise CadenceError(f"Regelen mangler FREQ (DAILY, WEEKLY, MONTHLY eller YEARLY). {EXAMPLE}")
    if freq not in FREQUENCIES:
        raise CadenceError(f"FREQ={freq} kan ikke brukes: velg DAILY, WEEKLY, MONTHLY eller YEARLY.")
    if "INTERVAL" in parts:
        _numbers("INTERVAL", parts["INTERVAL"], 1, 99)
        if "," in parts["INTERVAL"]:
            raise CadenceError("INTERVAL må være ett tall, for eksempel INTERVAL=6 for hver sjette uke.")
    if "UNTIL" in parts and not UNTIL.match(parts["UNTIL"]):
        raise CadenceError(
            f"UNTIL={parts['UNTIL']} er ikke en dato. Skriv for eksempel UNTIL=20281231 for "
            "til og med 31. desember 2028."
        )
    if "COUNT" in parts:
        _numbers("COUNT", parts["COUNT"], 1, 1000)
        if "UNTIL" in parts:
            raise CadenceError("Bruk enten COUNT (antall møter) eller UNTIL (sluttdato), ikke begge.")
    months = _numbers("BYMONTH", parts["BYMONTH"], 1, 12) if "BYMONTH" in parts else []
    monthdays = _numbers("BYMONTHDAY", parts["BYMONTHDAY"], 1, 31, allow_negative=True) if "BYMONTHDAY" in parts else []
    days = _weekdays(parts["BYDAY"], freq, bool(months)) if "BYDAY" in parts else []
    if (
        monthdays
        and months
        and not any(
            day < 0 or day <= (29 if month == 2 else calendar.monthrange(2001, month)[1])
            for month in months
            for day in monthdays
        )
    ):
        raise CadenceError("Ingen av månedene har den datoen (BYMONTHDAY). Velg en dag som finnes.")
    if monthdays and any(ordinal is not None for ordinal, _ in days):
        raise CadenceError("Bruk enten nummererte ukedager (som 2TU) eller datoer (BYMONTHDAY), ikke begge.")
    if "WKST" in parts and parts["WKST"] not in DAY_CODES:
        raise CadenceError("WKST må være en ukedag: MO, TU, WE, TH, FR, SA eller SU.")
    return parts


def cadence_rule(text: str, start: date) -> rrule:
    """The recurrence rule, counted from `start` (local dates; the time of day comes from the network)."""
    parts = cadence_parts(text)
    try:
        rule = rrulestr(
            ";".join(f"{k}={v}" for k, v in parts.items()), dtstart=datetime.combine(start, time()), ignoretz=True
        )
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise CadenceError(f"Regelen er ikke en gyldig gjentakelsesregel (RFC 5545). {EXAMPLE}") from error
    if "UNTIL" in parts and rule.after(datetime.combine(start, time()), inc=True) is None:
        raise CadenceError("Regelen gir ingen møtedatoer: sluttdatoen (UNTIL) er før rytmen starter.")
    return rule


def occurrences(network: Network, first: date, last: date) -> list[date]:
    """The cadence's dates from first to last (both included)."""
    if not network.cadence:
        return []
    rule = cadence_rule(network.cadence, network.cadence_start or first)
    return [
        moment.date()
        for moment in rule.between(datetime.combine(first, time()), datetime.combine(last, time(23, 59)), inc=True)
    ]


def next_occurrences(network: Network, count: int = 4, after: date | None = None) -> list[date]:
    if not network.cadence:
        return []
    after = after or oslo_today()
    try:
        rule = cadence_rule(network.cadence, network.cadence_start or after)
    except CadenceError:
        return []
    return [moment.date() for moment in itertools.islice(rule.xafter(datetime.combine(after, time()), inc=True), count)]


_ORDINALS = {
    1: "første",
    2: "andre",
    3: "tredje",
    4: "fjerde",
    5: "femte",
    -1: "siste",
    -2: "nest siste",
    -3: "tredje siste",
}
_EVERY_NTH = {
    3: "tredje",
    4: "fjerde",
    5: "femte",
    6: "sjette",
    7: "sjuende",
    8: "åttende",
    9: "niende",
    10: "tiende",
    11: "ellevte",
    12: "tolvte",
}
_UNITS = {"DAILY": "dag", "WEEKLY": "uke", "MONTHLY": "måned", "YEARLY": "år"}


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} og {items[-1]}"


def _every(freq: str, interval: int) -> str:
    unit = _UNITS[freq]
    neuter = freq == "YEARLY"
    if interval == 1:
        return f"{'hvert' if neuter else 'hver'} {unit}"
    if interval == 2:
        return f"{'annethvert' if neuter else 'annenhver'} {unit}"
    return f"{'hvert' if neuter else 'hver'} {_EVERY_NTH.get(interval, f'{interval}.')} {unit}"


def _ordinal(number: int) -> str:
    return _ORDINALS.get(number) or (f"{number}." if number > 0 else f"{-number}. siste")


def _weekday_name(code: str) -> str:
    return WEEKDAYS[DAY_CODES.index(code)]


def describe_cadence(text: str, start: date | None = None) -> str:
    """The cadence in plain Norwegian: 'andre tirsdag i mars og oktober', 'hver sjette uke på torsdag'.
    A rule we cannot put into words is shown as it is (the next dates are listed beside it anyway)."""
    if not text:
        return ""
    try:
        parts = cadence_parts(text)
    except CadenceError:
        return normalise_cadence(text)
    freq = parts["FREQ"]
    interval = int(parts.get("INTERVAL", "1"))
    months = [MONTHS[m - 1] for m in _numbers("BYMONTH", parts["BYMONTH"], 1, 12)] if "BYMONTH" in parts else []
    in_months = f" i {_join(months)}" if months else ""
    monthdays = _numbers("BYMONTHDAY", parts["BYMONTHDAY"], 1, 31, True) if "BYMONTHDAY" in parts else []
    days = _weekdays(parts["BYDAY"], freq, bool(months)) if "BYDAY" in parts else []
    plain = [_weekday_name(code) for ordinal, code in days if ordinal is None]
    numbered = [f"{_ordinal(ordinal)} {_weekday_name(code)}" for ordinal, code in days if ordinal is not None]
    dates = [("siste dag" if d == -1 else f"{_ordinal(d)} siste dag") if d < 0 else f"den {d}." for d in monthdays]

    if freq in ("DAILY", "WEEKLY"):
        if interval == 1 and sorted(plain) == sorted(WEEKDAYS[:5]):
            text_ = "hver hverdag"
        elif freq == "WEEKLY" and interval == 1 and plain:
            text_ = f"hver {_join(plain)}"
        else:
            text_ = _every(freq, interval)
            weekdays = plain or ([WEEKDAYS[start.weekday()]] if freq == "WEEKLY" and start else [])
            if sorted(plain) == sorted(WEEKDAYS[:5]):
                text_ += " på hverdager"
            elif weekdays:
                text_ += f" på {_join(weekdays)}"
        if dates:
            text_ += f", {_join(dates)}"
        text_ += in_months
    elif freq == "MONTHLY":
        what = numbered + dates + ([f"hver {_join(plain)}"] if plain else [])
        if not what:
            what = [f"den {start.day}."] if start else []
        if months:
            text_ = f"{_join(what)}{in_months}" if what else f"hver måned{in_months}"
            if interval > 1:
                text_ = f"{_every(freq, interval)}: {text_}"
        elif interval == 1:
            text_ = f"{_join(what)} i måneden" if what else "hver måned"
        else:
            text_ = f"{_join(what)} {_every(freq, interval)}" if what else _every(freq, interval)
    else:  # YEARLY
        what = numbered + dates + ([f"hver {_join(plain)}"] if plain else [])
        if months:
            if not what:
                what = [f"den {start.day}."] if start else []
            text_ = f"{_join(what)}{in_months}" if what else f"{_every(freq, 1)}{in_months}"
        elif what:
            text_ = f"{_join(what)} i året"
        elif start:
            text_ = f"{_every(freq, interval)} den {start.day}. {MONTHS[start.month - 1]}"
            interval = 1  # said already
        else:
            text_ = ""
        if interval > 1 or not text_:
            text_ = f"{_every(freq, interval)}: {text_}" if text_ else _every(freq, interval)
    if "COUNT" in parts:
        text_ += f", {int(parts['COUNT'])} ganger i alt"
    if "UNTIL" in parts:
        until = parts["UNTIL"]
        try:
            text_ += f", til og med {_date_words(date(int(until[:4]), int(until[4:6]), int(until[6:8])))}"
        except ValueError:
            pass
    return text_


def _date_words(value: date) -> str:
    return f"{value.day}. {MONTHS[value.month - 1]} {value.year}"


# Pages --------------------------------------------------------------------------------------------


def network_by_slug(session: Session, slug: str) -> Network | None:
    return session.exec(select(Network).where(Network.slug == slug)).first()


def base_ids(session: Session, network_id: int) -> set[int]:
    return set(session.exec(select(NetworkBase.base_id).where(NetworkBase.network_id == network_id)))


def bases_by_network(session: Session, network_ids: list[int] | None = None) -> dict[int, list[CompetenceBase]]:
    query = (
        select(NetworkBase.network_id, CompetenceBase)
        .join(CompetenceBase, CompetenceBase.id == NetworkBase.base_id)
        .order_by(CompetenceBase.name)
    )
    if network_ids is not None:
        query = query.where(NetworkBase.network_id.in_(network_ids))
    found = defaultdict(list)
    for network_id, base in session.exec(query):
        found[network_id].append(base)
    return found


def networks_by_kind(
    session: Session, base_id: int | None = None
) -> list[tuple[str, list[tuple[Network, list[CompetenceBase]]]]]:
    """Every network (or those of one base) with its bases, grouped by kind in the order of NETWORK_KINDS
    (two queries)."""
    query = select(Network)
    if base_id is not None:
        query = query.where(Network.id.in_(select(NetworkBase.network_id).where(NetworkBase.base_id == base_id)))
    networks = sorted(session.exec(query), key=lambda n: norwegian_key(n.name))
    bases = bases_by_network(session)
    groups = defaultdict(list)
    for network in networks:
        groups[network.kind].append((network, bases.get(network.id, [])))
    return [(kind, groups[kind]) for kind in NETWORK_KINDS if groups.get(kind)] + [
        (kind, rows) for kind, rows in groups.items() if kind not in NETWORK_KINDS
    ]


@dataclass
class MemberRow:
    member: NetworkMember
    user: User
    unit: Unit | None
    service: Service | None
    municipality: Municipality | None


def members(session: Session, network_id: int) -> list[MemberRow]:
    rows = session.exec(
        select(NetworkMember, User, Unit, Service, Municipality)
        .join(User, User.id == NetworkMember.user_id)
        .join(Unit, Unit.id == NetworkMember.unit_id, isouter=True)
        .join(Service, Service.id == Unit.service_id, isouter=True)
        .join(Municipality, Municipality.id == Unit.municipality_id, isouter=True)
        .where(NetworkMember.network_id == network_id)
    )
    return sorted((MemberRow(*row) for row in rows), key=lambda r: norwegian_key(r.user.name or r.user.email))


def is_member(session: Session, network_id: int, user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        session.exec(
            select(NetworkMember.id).where(NetworkMember.network_id == network_id, NetworkMember.user_id == user.id)
        ).first()
        is not None
    )


def meetings(session: Session, network_id: int, include_unpublished: bool) -> list[Event]:
    """The network's meetings that have not ended: published ones for everyone; for its managers also
    drafts and cancelled (skipped) ones, so they see what the planner made and skipped."""
    statuses = (DRAFT, PUBLISHED, CANCELLED) if include_unpublished else (PUBLISHED,)
    return list(
        session.exec(
            select(Event)
            .where(Event.network_id == network_id, Event.ends_at >= utcnow(), Event.status.in_(statuses))
            .order_by(Event.starts_at)
        )
    )


def unit_choices(session: Session, base_ids: set[int]) -> list[tuple[Unit, Service, Municipality | None]]:
    """Units of the services that serve the bases' municipalities (a unit placed in a municipality
    outside the bases is left out)."""
    if not base_ids:
        return []
    municipality_ids = select(BaseMembership.municipality_id).where(BaseMembership.base_id.in_(base_ids))
    services = select(ServiceArea.service_id).where(ServiceArea.municipality_id.in_(municipality_ids))
    rows = session.exec(
        select(Unit, Service, Municipality)
        .join(Service, Service.id == Unit.service_id)
        .join(Municipality, Municipality.id == Unit.municipality_id, isouter=True)
        .where(
            Unit.service_id.in_(services),
            or_(Unit.municipality_id.is_(None), Unit.municipality_id.in_(municipality_ids)),
        )
    )
    return sorted(rows, key=lambda r: (norwegian_key(r[1].name), norwegian_key(r[0].name)))


# Coverage -----------------------------------------------------------------------------------------


@dataclass
class UnitCoverage:
    unit: Unit
    service: Service
    municipality: Municipality | None
    resource_persons: int


@dataclass
class PersonLastSeen:
    user: User
    unit: Unit | None
    networks: list[str]
    last_attended: datetime | None  # None: never


@dataclass
class Newcomer:
    user: User
    unit: Unit | None
    network: Network
    joined_on: date


@dataclass
class Coverage:
    base: CompetenceBase
    bti_networks: list[Network]
    units_missing: list[UnitCoverage] = field(default_factory=list)
    units_total: int = 0
    stale: list[PersonLastSeen] = field(default_factory=list)
    resource_persons: int = 0
    newcomers: list[Newcomer] = field(default_factory=list)
    cutoff: date | None = None


def _attended(
    session: Session, kinds: tuple[str, ...], network_ids: list[int], base_id: int | None = None
) -> tuple[dict[int, datetime], dict[str, datetime]]:
    """When each person last attended an event of these kinds of these networks (or of the base itself):
    by user id and by e-mail, as a registration may be a guest's without a user."""
    where = Event.network_id.in_(network_ids)
    if base_id is not None:
        where = or_(where, Event.base_id == base_id)
    rows = session.exec(
        select(Registration.user_id, Registration.email, func.max(Event.starts_at))
        .join(Event, Event.id == Registration.event_id)
        .where(where, Event.kind.in_(kinds), Registration.attended.is_(True))
        .group_by(Registration.user_id, Registration.email)
    )
    by_user, by_email = {}, {}
    for user_id, email, last in rows:
        if user_id is not None and (user_id not in by_user or last > by_user[user_id]):
            by_user[user_id] = last
        if email and (email not in by_email or last > by_email[email]):
            by_email[email] = last
    return by_user, by_email


def _last(user: User, by_user: dict[int, datetime], by_email: dict[str, datetime]) -> datetime | None:
    found = [moment for moment in (by_user.get(user.id), by_email.get(user.email.lower())) if moment is not None]
    return max(found) if found else None


def coverage(session: Session, base: CompetenceBase, today: date | None = None) -> Coverage:
    """The base's BTI coverage in a fixed number of queries, whatever the number of units or people:
    (a) units with fewer than two ressurspersoner across the base's BTI networks, (b) ressurspersoner
    whose last BTI network meeting or course is more than a year ago (or never), (c) nyansatte:
    members of the base's networks who joined in the last 12 months and have not attended a course
    (a kurs of one of the base's networks or of the base itself)."""
    today = today or oslo_today()
    year_ago = (
        today.replace(year=today.year - 1)
        if not (today.month == 2 and today.day == 29)
        else today - timedelta(days=365)
    )
    networks = list(
        session.exec(
            select(Network)
            .join(NetworkBase, NetworkBase.network_id == Network.id)
            .where(NetworkBase.base_id == base.id)
            .order_by(Network.name)
        )
    )
    bti = [n for n in networks if n.kind == BTI]
    bti_ids = [n.id for n in bti]
    result = Coverage(base=base, bti_networks=bti, cutoff=year_ago)

    # (a) units and their ressurspersoner (distinct people: one person in two BTI networks counts once)
    units = unit_choices(session, {base.id})
    counts = (
        dict(
            session.exec(
                select(NetworkMember.unit_id, func.count(func.distinct(NetworkMember.user_id)))
                .where(
                    NetworkMember.network_id.in_(bti_ids),
                    NetworkMember.kind == "ressursperson",
                    NetworkMember.unit_id.is_not(None),
                )
                .group_by(NetworkMember.unit_id)
            ).all()
        )
        if bti_ids
        else {}
    )
    result.units_total = len(units)
    result.units_missing = sorted(
        (
            UnitCoverage(unit, service, municipality, counts.get(unit.id, 0))
            for unit, service, municipality in units
            if counts.get(unit.id, 0) < 2
        ),
        key=lambda row: (
            row.resource_persons,
            norwegian_key(row.municipality.name if row.municipality else ""),
            norwegian_key(row.unit.name),
        ),
    )

    # (b) ressurspersoner and when they last took part
    people: dict[int, PersonLastSeen] = {}
    if bti_ids:
        by_user, by_email = _attended(session, MEETING_KINDS, bti_ids)
        rows = session.exec(
            select(NetworkMember, User, Unit, Network.name)
            .join(User, User.id == NetworkMember.user_id)
            .join(Unit, Unit.id == NetworkMember.unit_id, isouter=True)
            .join(Network, Network.id == NetworkMember.network_id)
            .where(NetworkMember.network_id.in_(bti_ids), NetworkMember.kind == "ressursperson")
        )
        for _member, user, unit, network_name in rows:
            person = people.setdefault(user.id, PersonLastSeen(user, unit, [], _last(user, by_user, by_email)))
            person.networks.append(network_name)
    result.resource_persons = len(people)
    result.stale = sorted(
        (p for p in people.values() if p.last_attended is None or to_oslo(p.last_attended).date() < year_ago),
        key=lambda p: (
            p.last_attended is not None,
            to_oslo(p.last_attended) if p.last_attended else None,
            norwegian_key(p.user.name),
        ),
    )

    # (c) nyansatte
    network_ids = [n.id for n in networks]
    if network_ids:
        trained_users, trained_emails = _attended(session, ("kurs",), network_ids, base.id)
        rows = session.exec(
            select(NetworkMember, User, Unit, Network)
            .join(User, User.id == NetworkMember.user_id)
            .join(Unit, Unit.id == NetworkMember.unit_id, isouter=True)
            .join(Network, Network.id == NetworkMember.network_id)
            .where(NetworkMember.network_id.in_(network_ids), NetworkMember.joined_on > year_ago)
            .order_by(NetworkMember.joined_on.desc())
        )
        seen = set()
        for member, user, unit, network in rows:
            if user.id in seen or _last(user, trained_users, trained_emails) is not None:
                continue
            seen.add(user.id)
            result.newcomers.append(Newcomer(user, unit, network, member.joined_on))
    return result


def describe_last(moment: datetime | None) -> str:
    return format_date(moment) if moment else "aldri"
