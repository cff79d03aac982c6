"""Refuse personal identification in the free text of a referral (henvendelse), and identity numbers in
every other free text that others read.

docs/ARCHITECTURE.md («Identity guard»): a referral carries the least the receiving team needs, and its free
text holds no fødselsnummer/D-nummer, no phone numbers and no other contact details. `ensure_clean` checks every
free-text field of a form *before* anything is stored, so the caller can refuse the whole form.
Other text uses a smaller set of checks (`PUBLIC`, `ANONYMOUS`, see the end of this module).

What is found:

- fødselsnummer, D-nummer, H-nummer and synthetic test numbers: 11 digits with a plausible birth date
  and both modulus-11 check digits right, also written with the date as a date ("20.01.34 02435") or
  the last five digits as 3 + 2 ("030146 037 69");
- Norwegian phone numbers in their usual written forms, and any number written with a leading "+";
- e-mail addresses, also with the "@" spelled out ("kari(at)kommune.no").

Names cannot be recognised by a pattern; the form's help text has to ask for that.

This guards against mistakes made in good faith (a pasted line from the case file), not against
someone set on getting a number through. It is tuned so that the ordinary numbers a referral is full of
— years, dates, times, case references, postal codes, counts, amounts — are never refused.

The messages say what kind of thing was found and never repeat it, so the number or address is not
shown back on the page, written to a log line or put into an error report.

Pure functions, standard library only.
"""

import calendar
import re
from collections.abc import Callable, Mapping

_REASON = "fritekst i henvendelsen skal ikke inneholde opplysninger som kan identifisere barnet eller familien."
ID_NUMBER_MESSAGE = (
    "Teksten ser ut til å inneholde et fødselsnummer eller D-nummer. "
    "Fjern det: henvendelsen skal ikke identifisere barnet eller foreldrene."
)
PHONE_MESSAGE = f"Teksten ser ut til å inneholde et telefonnummer. Fjern det: {_REASON}"
EMAIL_MESSAGE = f"Teksten ser ut til å inneholde en e-postadresse. Fjern den: {_REASON}"

# Separators people type inside numbers: space, no-break space, narrow no-break space (thousands
# separator in Norwegian locales), full stop, hyphen, and en dash (word processors turn "-" into "–").
_SPACES = " \u00a0\u202f"
_SPACE = f"[{_SPACES}]"
_SEPARATOR = f"[{_SPACES}.\\-\u2013]"


# --- fødselsnummer and D-nummer --------------------------------------------------------------------

# DDMMYY + individnummer (3) + two check digits, written as one run or with one separator after the
# date part: "01019012345", "010190 12345", "010190-12345"; the date part also as a date, with a
# separator after it: "01.01.90 12345", "01.01.1990-12345", "01/01/90 12345"; and the last five digits
# also as 3 + 2 after a separator: "010190 123 45", "01.01.90 123 45". The digits must not be part of
# a longer run: 12 or more digits in a row are an account number, a KID or a long case reference, and
# looking for a fødselsnummer inside them would refuse such numbers about once in a few hundred. Only
# digits end a run; letters and punctuation do not, so "fnr:01019012345" and "(01019012345)" are found.
# A date alone, a case reference ("2025/00123-4") or an organisation number (9 digits) is no candidate.
_ID_CANDIDATE = re.compile(
    r"(?<!\d)(?:(?P<run>\d{6})"
    + _SEPARATOR
    + "?"
    + r"|(?P<day>\d\d)(?P<date_sep>[./\-])(?P<month>\d\d)(?P=date_sep)(?:19|20)?(?P<year>\d\d)"
    + _SEPARATOR
    + ")"
    + r"(?:(?P<rest>\d{5})|(?P<individual>\d{3})"
    + _SEPARATOR
    + r"(?P<check>\d\d))(?!\d)"
)

_K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

# Adjustments to the date part that still identify a person, or look exactly like a number that does:
# - D-nummer (people without a fødselsnummer, e.g. foreign workers): day + 40, so the day is 41-71;
# - H-nummer (help number, used by health services before the real number is known): month + 40;
#   NAV's synthetic test numbers (Dolly) use the same month + 40;
# - Skatteetaten's synthetic test numbers (Tenor / Test-Norge): month + 80.
# Synthetic numbers belong to nobody, but they are refused too: then the form behaves in training,
# demos and tests exactly as with real numbers, and a sender learns the rule with harmless data.
# D-nummer and the month offsets combine (synthetic D-numbers exist).
_D_NUMBER_DAY_OFFSET = 40
_H_NUMBER_MONTH_OFFSET = 40
_SYNTHETIC_MONTH_OFFSET = 80


def _check_digit(digits: list[int], weights: tuple[int, ...]) -> int | None:
    """The modulus-11 check digit for `digits`, or None when it would be 10 (no number is issued then)."""
    remainder = sum(weight * digit for weight, digit in zip(weights, digits, strict=True)) % 11
    if remainder == 0:
        return 0
    if remainder == 1:
        return None
    return 11 - remainder


def _has_valid_check_digits(digits: list[int]) -> bool:
    # From 2032 Skatteetaten will also issue numbers whose first check digit is 1-3 higher than this
    # computes. They are not accepted here yet; when they are, this is the one place to change.
    return _check_digit(digits[:9], _K1_WEIGHTS) == digits[9] and _check_digit(digits[:10], _K2_WEIGHTS) == digits[10]


def _is_plausible_birth_date(day: int, month: int, year: int) -> bool:
    """DD, MM, YY of an identity number, after undoing the D-, H- and synthetic adjustments."""
    if day > _D_NUMBER_DAY_OFFSET:
        day -= _D_NUMBER_DAY_OFFSET
    if month > _SYNTHETIC_MONTH_OFFSET:
        month -= _SYNTHETIC_MONTH_OFFSET
    elif month > _H_NUMBER_MONTH_OFFSET:
        month -= _H_NUMBER_MONTH_OFFSET
    if not 1 <= month <= 12:
        return False
    # The century is coded in the individnummer, and those series are being changed (D-nummer 2021,
    # new numbers from 2032), so it is not used. Taking 20YY treats every YY divisible by 4 as a leap
    # year; that only errs for 29 February 1900, and towards refusing.
    return 1 <= day <= calendar.monthrange(2000 + year, month)[1]


def contains_id_number(text: str) -> bool:
    """True if `text` holds a fødselsnummer, D-nummer, H-nummer or synthetic test number."""
    for match in _ID_CANDIDATE.finditer(text):
        date_part = match["run"] or match["day"] + match["month"] + match["year"]
        digits = [int(character) for character in date_part + (match["rest"] or match["individual"] + match["check"])]
        day, month, year = (digits[0] * 10 + digits[1], digits[2] * 10 + digits[3], digits[4] * 10 + digits[5])
        if _is_plausible_birth_date(day, month, year) and _has_valid_check_digits(digits):
            return True
    return False


# --- phone numbers -------------------------------------------------------------------------------

# A phone number has no check digit, so the written form carries the evidence. Norwegian numbers have
# 8 digits and start with 2-9; we look for the forms people actually write and nothing looser:
#   98765432    98 76 54 32 and 987 65 432 (also with "." or "-")    9876 5432
# A number must stand alone: not glued to a word or code ("BV20241234", "ABC-2024…", "2024/…") and not
# the decimals of another number ("25000000,50").
_STANDS_ALONE_BEFORE = r"(?<!\w)(?<!\w[-/])(?<!\d[.,])"
_STANDS_ALONE_AFTER = r"(?!\w)(?![-/.,]\d)"
# A grouped form must also not be a slice of a longer row of digit groups: "12 34 56 78 90", lists such
# as "5001 5006 5007", and "2019 2020 2021" are not phone numbers.
_NOT_AFTER_GROUP = f"(?<!\\d{_SEPARATOR})"
_NOT_BEFORE_GROUP = f"(?!{_SEPARATOR}\\d)"

_NORWEGIAN_PHONE = re.compile(
    _STANDS_ALONE_BEFORE
    + r"(?:[2-9]\d{7}"  # 98765432
    + "|"
    + _NOT_AFTER_GROUP
    + "(?:"
    + r"[2-9]\d(?P<sep>["
    + _SPACES
    + r".\-])\d\d(?P=sep)\d\d(?P=sep)\d\d"  # 98 76 54 32, 98.76.54.32
    + r"|[2-9]\d\d(?P<sep3>["
    + _SPACES
    + r".\-])\d\d(?P=sep3)\d{3}"  # 987 65 432, 912.34.567
    + r"|[2-9]\d{3}"
    + _SPACE
    + r"\d{4}"  # 9876 5432
    + ")"
    + _NOT_BEFORE_GROUP
    + ")"
    + _STANDS_ALONE_AFTER
)

# "0047" and 8 digits in any grouping: the prefix is evidence enough.
_NORWEGIAN_PHONE_WITH_0047 = re.compile(
    _STANDS_ALONE_BEFORE + r"0047" + _SEPARATOR + r"?[2-9](?:" + _SEPARATOR + r"?\d){7}(?!\d)"
)

# "+", a country code and the rest: "+47 987 65 432", "+46 70 123 45 67", "+44 (0)20 7946 0958".
# A "+" right before digits is a phone number in practice, so only the length is checked: at least 7
# digits. E.164 caps a number at 15, but a number is often followed by more digits ("+47 98765432
# 2019"), and a longer match still begins with a phone number, so there is no upper limit.
_INTERNATIONAL_PHONE = re.compile(r"(?<![\w+])\+\(?[1-9](?:\)?" + _SEPARATOR + r"?\(?\d)*")
_MIN_INTERNATIONAL_DIGITS = 7

# Words right before or after a phone-shaped number that say it is something else: an amount
# ("kr 25000000", "25000000 kr"), a case number ("Saksnr. 20241234", "sak nr 20241234"), a post box
# and postal code ("Pb 2500 7100 Rissa"), weeks ("uke 26 27 28 29") or times ("kl 2100 2230").
_OTHER_NUMBER_WORDS = (
    "kr",
    "nok",
    "sak",
    "saksnr",
    "saksnummer",
    "arkivsak",
    "ref",
    "referanse",
    "journalpost",
    "løpenr",
    "postboks",
    "pb",
    "uke",
    "uker",
    "kl",
    "klokka",
    "klokken",
)
_OTHER_NUMBER_BEFORE = re.compile(
    r"\b(?:" + "|".join(_OTHER_NUMBER_WORDS) + r")\b\.?:?\s*(?:nr\.?:?\s*)?$", re.IGNORECASE
)
_AMOUNT_AFTER = re.compile(r"\s*(?:kr\b|kroner\b|nok\b|,-)", re.IGNORECASE)
_CONTEXT_CHARACTERS = 30
_FIRST_YEAR, _LAST_YEAR = 1900, 2099


def _is_date(year: int, month: int, day: int) -> bool:
    return _FIRST_YEAR <= year <= _LAST_YEAR and 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _is_something_else(text: str, match: re.Match[str]) -> bool:
    """True when a phone-shaped match is more likely a date, years, an amount, a case number, weeks or times."""
    found = match.group()
    if found.isdigit():  # a date without separators: "31122019", "20191231"
        day_first = _is_date(int(found[4:]), int(found[2:4]), int(found[:2]))
        if day_first or _is_date(int(found[:4]), int(found[4:6]), int(found[6:])):
            return True
    # "2019 2020" is two years; phone numbers starting or ending with a year-like group are rare.
    if any(len(group) == 4 and _FIRST_YEAR <= int(group) <= _LAST_YEAR for group in re.split(_SEPARATOR, found)):
        return True
    before = text[max(0, match.start() - _CONTEXT_CHARACTERS) : match.start()]
    return bool(_OTHER_NUMBER_BEFORE.search(before) or _AMOUNT_AFTER.match(text, match.end()))


def contains_phone_number(text: str) -> bool:
    """True if `text` holds a Norwegian phone number in a usual written form, or a number with a "+"."""
    if any(not _is_something_else(text, match) for match in _NORWEGIAN_PHONE.finditer(text)):
        return True
    if _NORWEGIAN_PHONE_WITH_0047.search(text):
        return True
    return any(
        sum(character.isdigit() for character in match.group()) >= _MIN_INTERNATIONAL_DIGITS
        for match in _INTERNATIONAL_PHONE.finditer(text)
    )


# --- e-mail addresses ----------------------------------------------------------------------------

# Practical, not RFC 5322: local@domain.tld. The local part takes the characters real addresses use
# (dots, plus-addressing, apostrophes, letters such as æøå); the domain may hold any letters
# ("trøndelag.no") and hyphens; the top-level domain is at least two letters. The look-behind makes
# the search start only at the beginning of a word, which keeps it linear on long words.
_EMAIL_LOCAL_CHARACTERS = r"[\w.!#$%&'*+/=?^`{|}~-]"
_EMAIL = re.compile(f"(?<!{_EMAIL_LOCAL_CHARACTERS}){_EMAIL_LOCAL_CHARACTERS}+@" + r"(?:[\w-]+\.)+[^\W\d_]{2,}")
# "@" and "." spelled out in brackets, as people write addresses to keep them from robots:
# "kari(at)kommune.no", "kari [at] kommune [dot] no", "kari (krøllalfa) kommune (punktum) no". Only in
# brackets: "at" is an ordinary Norwegian word.
_SPELLED_AT = re.compile(r"\s*[(\[{]\s*(?:at|krøllalfa|alfakrøll)\s*[)\]}]\s*", re.IGNORECASE)
_SPELLED_DOT = re.compile(r"\s*[(\[{]\s*(?:dot|punktum)\s*[)\]}]\s*", re.IGNORECASE)


def contains_email_address(text: str) -> bool:
    """True if `text` holds an e-mail address."""
    text = _SPELLED_DOT.sub(".", _SPELLED_AT.sub("@", text))
    return "@" in text and _EMAIL.search(text) is not None


# --- the checks a form uses ----------------------------------------------------------------------

Checks = tuple[tuple[Callable[[str], bool], str], ...]

# Referral content (docs/ARCHITECTURE.md §3, «Identity guard»): no identity number, phone number or e-mail address.
REFERRAL: Checks = (
    (contains_id_number, ID_NUMBER_MESSAGE),
    (contains_phone_number, PHONE_MESSAGE),
    (contains_email_address, EMAIL_MESSAGE),
)

# Text others read that is not about a family (event descriptions and programmes, which are public and go
# into public feeds; material descriptions; a cancellation's reason): an identity number never belongs
# there, but the organiser's or author's work phone and e-mail do ("Spørsmål: kari@kommune.no").
PUBLIC_ID_NUMBER_MESSAGE = (
    "Teksten ser ut til å inneholde et fødselsnummer eller D-nummer. Fjern det: "
    "andre kan lese teksten, og fødselsnummer skal aldri stå i nettverk."
)
PUBLIC: Checks = ((contains_id_number, PUBLIC_ID_NUMBER_MESSAGE),)

# An anonymous evaluation's comment: coordinators read it, and any contact detail in it would undo the
# anonymity (the writer's own) or name a third person, so all three kinds are refused, with that reason.
_ANONYMOUS_REASON = "svaret er anonymt, og skal ikke inneholde opplysninger som kan identifisere deg eller andre."
ANONYMOUS: Checks = (
    (
        contains_id_number,
        f"Teksten ser ut til å inneholde et fødselsnummer eller D-nummer. Fjern det: {_ANONYMOUS_REASON}",
    ),
    (contains_phone_number, f"Teksten ser ut til å inneholde et telefonnummer. Fjern det: {_ANONYMOUS_REASON}"),
    (contains_email_address, f"Teksten ser ut til å inneholde en e-postadresse. Fjern den: {_ANONYMOUS_REASON}"),
)


def find_problems(text: str | None, checks: Checks = REFERRAL) -> list[str]:
    """Messages in Norwegian, one per kind of identifying information found in `text`, in a fixed
    order; empty when the text is clean. The messages never contain what was found."""
    if not text:
        return []
    return [message for check, message in checks if check(text)]


def ensure_clean(fields: Mapping[str, str | None], checks: Checks = REFERRAL) -> dict[str, list[str]]:
    """Field name -> problems for every free-text field that is not clean; an empty dict when all are.
    The caller refuses the whole form when the result is not empty, and stores nothing."""
    problems = {}
    for name, value in fields.items():
        found = find_problems(value, checks)
        if found:
            problems[name] = found
    return problems
