"""A network's cadence: an RFC 5545 recurrence rule (the RRULE line calendar programs use), counted from
the network's cadence start: parse and check it, its dates, and its words in Norwegian. Pure functions, no
database.

We accept the part of the grammar a standing group needs (FREQ DAILY to YEARLY, INTERVAL, COUNT, UNTIL,
BYDAY, BYMONTH, BYMONTHDAY, WKST) and check the values ourselves before dateutil builds the rule: dateutil
accepts some impossible rules (BYMONTH=13, 30 February) and then searches thousands of years for an
occurrence that never comes.
"""

import calendar
import itertools
import re
from datetime import date, datetime, time

from dateutil.rrule import rrule, rrulestr

from nettverk.networks.models import Network
from nettverk.timeutil import MONTHS, WEEKDAYS, today_in_oslo

EXAMPLE = "For eksempel FREQ=YEARLY;BYMONTH=3,10;BYDAY=2TU (andre tirsdag i mars og oktober)."
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
ALLOWED_KEYS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTH", "BYMONTHDAY", "WKST"}
UNTIL = re.compile(r"^\d{8}(T\d{6}Z?)?$")
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


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
    after = after or today_in_oslo()
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
