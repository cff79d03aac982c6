"""Free text in a referral refuses fødselsnummer/D-nummer, phone numbers and e-mail addresses (docs/ARCHITECTURE.md),
and does not refuse the ordinary numbers a referral is full of: years, dates, times, case references,
postal codes, counts and amounts. Good-faith spellings (a number written as a date or in groups, an address
with "(at)") are found too. Other free text that others read refuses identity numbers (events, materials) or,
in an anonymous evaluation, all three kinds: tested through HTTP at the end."""

from html.parser import HTMLParser

import pytest
from factories import make_event, make_referral
from sqlmodel import func, select
from test_evaluations import answer, end, evaluations_of, invited
from test_gathering_pages import event_form, plain_weekday
from test_materials import ALLOWED, assert_refused, upload
from test_referral_pages import counts, error_at

from nettverk.events.models import Event
from nettverk.privacy.identity import (
    ANONYMOUS,
    EMAIL_MESSAGE,
    ID_NUMBER_MESSAGE,
    PHONE_MESSAGE,
    PUBLIC,
    PUBLIC_ID_NUMBER_MESSAGE,
    contains_email_address,
    contains_id_number,
    contains_phone_number,
    ensure_clean,
    find_problems,
)
from nettverk.referrals.models import ReferralStatus

MESSAGES = (
    ID_NUMBER_MESSAGE,
    PHONE_MESSAGE,
    EMAIL_MESSAGE,
    PUBLIC_ID_NUMBER_MESSAGE,
    *(message for _, message in ANONYMOUS),
)

# --- building identity numbers -----------------------------------------------------------------------

K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def _append_check_digit(digits: str, weights: tuple[int, ...]) -> str | None:
    """Append the digit that makes the weighted sum plus that digit divisible by 11 (the control sum
    test), found by trying all ten; None when no single digit does (the check digit would be 10)."""
    total = sum(weight * int(digit) for weight, digit in zip(weights, digits, strict=True))
    for candidate in range(10):
        if (total + candidate) % 11 == 0:
            return digits + str(candidate)
    return None


def with_check_digits(first_nine: str) -> str | None:
    first_ten = _append_check_digit(first_nine, K1_WEIGHTS)
    return first_ten and _append_check_digit(first_ten, K2_WEIGHTS)


def id_number(date_part: str, individual: int = 999) -> str:
    """A number with valid check digits for the date part DDMMYY (already adjusted for D-/H-/synthetic),
    using the highest individnummer not above `individual` for which check digits exist."""
    for number in range(individual, -1, -1):
        full = with_check_digits(f"{date_part}{number:03d}")
        if full:
            return full
    raise AssertionError(f"no valid number for {date_part}")


def other_digit(digit: str) -> str:
    return str((int(digit) + 1) % 10)


# Generated numbers use birth dates in the late 2030s with individnummer from the 2000-2039 series, or
# the synthetic adjustments, so that none of them is a person's number today.
VALID_NUMBERS = {
    "fødselsnummer": id_number("010136"),
    "fødselsnummer 29 february in a leap year": id_number("290236"),
    "fødselsnummer 31 december": id_number("311237"),
    "fødselsnummer low individnummer": id_number("150638", individual=612),
    "D-nummer 1 january": id_number("410136"),
    "D-nummer 31 march": id_number("710337"),
    "D-nummer 29 december": id_number("691238"),
    "H-nummer january": id_number("014136"),
    "H-nummer 30 december": id_number("305236"),
    "synthetic Skatteetaten january": id_number("018136"),
    "synthetic Skatteetaten 31 december": id_number("319236"),
    "synthetic Skatteetaten D-nummer": id_number("418136"),
}

# Published examples; their check digits are verified below rather than trusted.
PUBLISHED_NUMBERS = {
    "matematikk.org example 020161 26007": "02016126007",
    "fnrinfo.no example 311299567xx": "31129956715",
    "Skatteetaten example for 2032": "02013299997",
    "NAV Dolly synthetic": "15507600333",
    "NAV Dolly synthetic D-nummer": "55507608360",
    "NAV Dolly synthetic 29 february 2020": "29422059278",
}

ALL_VALID = {**VALID_NUMBERS, **PUBLISHED_NUMBERS}


def spaced(number: str, separator: str = " ") -> str:
    return f"{number[:6]}{separator}{number[6:]}"


@pytest.mark.parametrize("number", PUBLISHED_NUMBERS.values(), ids=PUBLISHED_NUMBERS.keys())
def test_published_numbers_have_the_check_digits_we_compute(number):
    assert with_check_digits(number[:9]) == number


def test_the_helper_skips_individnummer_whose_check_digit_would_be_ten():
    # About one in six individnummer on a date gives no valid number; the helper must not invent one.
    assert [n for n in range(1000) if with_check_digits(f"010136{n:03d}") is None]


# --- identity numbers are refused --------------------------------------------------------------------


@pytest.mark.parametrize("number", ALL_VALID.values(), ids=ALL_VALID.keys())
def test_valid_identity_numbers_are_refused(number):
    assert find_problems(number) == [ID_NUMBER_MESSAGE]
    assert find_problems(f"Barnet er født {number}, bor hos mor.") == [ID_NUMBER_MESSAGE]


@pytest.mark.parametrize(
    "separator", [" ", "-", "\u00a0", "\u2013", "."], ids=["space", "hyphen", "no-break space", "en dash", "full stop"]
)
@pytest.mark.parametrize("number", VALID_NUMBERS.values(), ids=VALID_NUMBERS.keys())
def test_identity_numbers_with_a_separator_after_the_date_are_refused(number, separator):
    assert contains_id_number(spaced(number, separator))
    assert find_problems(f"Mor: {spaced(number, separator)}.") == [ID_NUMBER_MESSAGE]


PLACES = {
    "alone": "{}",
    "at the start": "{} er barnets nummer.",
    "at the end": "Barnets nummer er {}",
    "inside longer text": "Familien flyttet hit i 2019. Gutten, født {}, bor hos mor i 7100 Rissa og går i 3. klasse.",
    "followed by a full stop": "Fnr. {}.",
    "followed by a comma": "født {}, bor hos far",
    "followed by a semicolon": "født {}; bor hos far",
    "followed by a question mark": "Er det {}?",
    "in brackets": "(fnr {})",
    "in quotes": "«{}»",
    "after a colon without space": "fnr:{}",
    "after an abbreviation dot": "f.nr.{}",
    "on its own line": "Første linje\n{}\nTredje linje",
    "after a tab": "fnr\t{}",
    "after a short number": "Sak 12 {}",
    "far into a long text": "Bakgrunn for henvendelsen. " * 400 + "{}",
}


@pytest.mark.parametrize("written", [lambda n: n, spaced, lambda n: spaced(n, "-")], ids=["one run", "space", "hyphen"])
@pytest.mark.parametrize("template", PLACES.values(), ids=PLACES.keys())
def test_identity_numbers_are_found_wherever_they_stand(template, written):
    number = VALID_NUMBERS["D-nummer 31 march"]
    assert find_problems(template.format(written(number))) == [ID_NUMBER_MESSAGE]


# --- near misses are not refused ---------------------------------------------------------------------


@pytest.mark.parametrize("number", ALL_VALID.values(), ids=ALL_VALID.keys())
def test_wrong_check_digits_are_not_refused(number):
    wrong_second = number[:10] + other_digit(number[10])
    wrong_first = number[:9] + other_digit(number[9]) + number[10]
    assert find_problems(wrong_second) == []
    assert find_problems(wrong_first) == []
    assert find_problems(f"Referanse {spaced(wrong_second)} fra arkivet") == []


IMPOSSIBLE_DATES = {
    "31 february": "310236",
    "31 april": "310436",
    "29 february, not a leap year": "290237",
    "day 00": "000136",
    "day 32": "320136",
    "day 40": "400136",
    "D-nummer day 72": "720136",
    "month 00": "010036",
    "month 13": "011336",
    "month 20": "012036",
    "month 40": "014036",
    "H-nummer month 53": "015336",
    "H-nummer 31 april": "314436",
    "synthetic month 80": "018036",
    "synthetic month 93": "019336",
    "synthetic 31 april": "318436",
}


@pytest.mark.parametrize("date_part", IMPOSSIBLE_DATES.values(), ids=IMPOSSIBLE_DATES.keys())
def test_impossible_dates_are_not_refused_even_with_valid_check_digits(date_part):
    number = id_number(date_part)
    assert with_check_digits(number[:9]) == number
    assert find_problems(number) == []
    assert find_problems(f"Ref. {spaced(number)}") == []


NUMBER = VALID_NUMBERS["fødselsnummer"]
DIGIT_RUNS = {
    "10 digits, first ten": NUMBER[:10],
    "10 digits, last ten": NUMBER[1:],
    "12 digits, one added after": NUMBER + "0",
    "12 digits, one added before": "9" + NUMBER,
    "22 digits, two numbers glued": NUMBER + NUMBER,
    "6 + 6 digits": f"{NUMBER[:6]} {NUMBER[6:]}7",
    "7 + 5 digits": f"1{NUMBER[:6]} {NUMBER[6:]}",
    "long case reference": f"Saksnummer {NUMBER}0042",
}


@pytest.mark.parametrize("text", DIGIT_RUNS.values(), ids=DIGIT_RUNS.keys())
def test_shorter_and_longer_digit_runs_are_not_identity_numbers(text):
    assert find_problems(text) == []


# --- ordinary text is not refused --------------------------------------------------------------------

ORDINARY = [
    "Født 2019",
    "Barna er født 2015 og 2018.",
    "3 barn født 2015 og 2018",
    "Familien har 4 barn i alderen 2, 5, 9 og 14 år.",
    "Møte 01.02.2019 kl. 09.00.",
    "Møtet varer kl. 09.00–15.30, lunsj 11:30-12:00.",
    "Dato: 2025-03-14",
    "Dato: 31122019",
    "Dato: 20191231",
    "Sak 2024/1234",
    "Vår ref. BV-2025-00123, deres ref. 24/01234-5",
    "Saksnr. 20241234",
    "sak nr 20241234",
    "Referanse BV20241234",
    "Arkivsak ABC-20241234",
    "Familien bor i 7100 Rissa.",
    "Postboks 2500, 7100 Rissa",
    "Pb 2500 7100 Rissa",
    "Fravær uke 26 27 28 29",
    "Åpent kl 2100 2230",
    "Kommunene 5053 og 5054",
    "Kommunenummer 5001 5006 5007 5014",
    "Tiltaket koster kr 12 500 per måned.",
    "12 500 kr",
    "kr 1 250 000,-",
    "kr 25000000",
    "25000000 kr",
    "Beløpet er 25000000,50",
    "Beløp: 4 500,00 kroner",
    "Tilskudd 2019 2020",
    "Periode 2019–2020",
    "i årene 2019 2020 2021",
    "Org.nr. 987 654 321",
    "Uke 12 og 13, BTI nivå 2",
    "Rom 2034 i 3. etasje",
    "Telefontid kl. 08.00–15.30",
    "Versjon 2.3.4",
    "Tiltaket gis 2 ganger i uken i 12 uker.",
    "Barnet er 7 år og 3 måneder.",
    "12 34 56 78 90",
    "ca. 20 prosent, 4-5 ganger",
    "Fagdag i 2025 @Steinkjer",
    "",
    "   ",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_not_refused(text):
    assert find_problems(text) == []


def test_a_realistic_referral_text_is_not_refused():
    text = (
        "Møte 12.03.2025 kl. 09.00–11.30 på rådhuset, rom 2034. Sak 2024/1234, vår ref. BV-2025-00123. "
        "Familien (3 barn, født 2015, 2018 og 2021) bor i 7100 Rissa og har bodd i kommunen siden 2019. "
        "Behov: foreldreveiledning (ICDP) 2 ganger i uken i 12 uker, nivå 2 i BTI. "
        "Tiltaket koster kr 12 500 per måned, totalt kr 150 000,-. Samtykke innhentet 01.03.2025."
    )
    assert find_problems(text) == []


# --- phone numbers are refused -----------------------------------------------------------------------

PHONES = {
    "8 digits": ("98765432", "98765432"),
    "in a sentence": ("Ring mor på 98765432.", "98765432"),
    "at the start": ("41234567 er fars nummer", "41234567"),
    "landline in pairs": ("Tlf: 22 33 44 55", "22 33 44 55"),
    "mobile 3-2-3": ("tlf. 987 65 432", "987 65 432"),
    "mobile in pairs": ("mobil 98 76 54 32, etter kl. 15", "98 76 54 32"),
    "pairs with dots": ("98.76.54.32", "98.76.54.32"),
    "pairs with hyphens": ("98-76-54-32", "98-76-54-32"),
    "4-4": ("Ring 9876 5432", "9876 5432"),
    "no-break spaces": ("987\u00a065\u00a0432", "987\u00a065\u00a0432"),
    "in brackets": ("(98765432)", "98765432"),
    "two numbers": ("98765432 eller 91234567", "98765432"),
    "+47 grouped": ("+47 987 65 432", "987 65 432"),
    "+47 one run": ("+4798765432", "98765432"),
    "+47 pairs": ("+47 22 33 44 55", "22 33 44 55"),
    "+47 in brackets": ("(+47) 98765432", "98765432"),
    "0047 one run": ("0047 98765432", "98765432"),
    "0047 grouped": ("0047 987 65 432", "987 65 432"),
    "0047 glued": ("004722334455", "22334455"),
    "Sweden": ("+46 70 123 45 67", "70 123 45 67"),
    "United Kingdom with (0)": ("+44 (0)20 7946 0958", "7946 0958"),
    "North America": ("+1 (555) 123-4567", "123-4567"),
    "Finland": ("+358 40 1234567", "1234567"),
    "followed by a year": ("+47 98765432 2019", "98765432"),
}


@pytest.mark.parametrize(("text", "number"), PHONES.values(), ids=PHONES.keys())
def test_phone_numbers_are_refused(text, number):
    assert contains_phone_number(text)
    problems = find_problems(text)
    assert problems == [PHONE_MESSAGE]
    assert number not in " ".join(problems)


@pytest.mark.parametrize("text", ["+47 22 33", "+3 barn", "10+ deltakere", "2+2", "+ 2 500 kr"])
def test_short_numbers_with_a_plus_are_not_phone_numbers(text):
    assert find_problems(text) == []


# --- e-mail addresses are refused --------------------------------------------------------------------

EMAILS = [
    "ola.nordmann+bv@kommune.no",
    "kari@trøndelag.no",
    "Kari.Hansen@indre-fosen.kommune.no",
    "Skriv til søren.ås@bv.kommune.no.",
    "<post@ørland.kommune.no>",
    "mailto:kari@example.com",
    "o'neill@example.org",
    "KARI@KOMMUNE.NO",
    "e-post: kari_nordmann@xn--trndelag-e1a.no, tlf-tid 8-15",
]


@pytest.mark.parametrize("text", EMAILS)
def test_email_addresses_are_refused(text):
    assert contains_email_address(text)
    assert find_problems(text) == [EMAIL_MESSAGE]


@pytest.mark.parametrize("text", ["Marte Meo @ Fosen", "@kari", "kari@kommune", "x@y.z", "versjon@2.0"])
def test_things_with_an_at_sign_that_are_not_addresses_are_not_refused(text):
    assert find_problems(text) == []


def test_email_address_is_not_echoed():
    problems = find_problems("Mor nås på ola.nordmann+bv@kommune.no")
    assert problems == [EMAIL_MESSAGE]
    assert "nordmann" not in " ".join(problems)
    assert "kommune.no" not in " ".join(problems)


# --- messages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("message", MESSAGES)
def test_messages_hold_no_digits_and_no_address(message):
    """Every problem is one of these fixed texts, so nothing found can ever be echoed back."""
    assert not any(character.isdigit() for character in message)
    assert "@" not in message
    assert message.startswith("Teksten ser ut til å inneholde")


def test_identity_number_is_not_echoed():
    number = VALID_NUMBERS["fødselsnummer"]
    problems = find_problems(f"født {spaced(number)}, bor hos mor")
    assert problems == [ID_NUMBER_MESSAGE]
    for piece in (number, number[:6], number[6:]):
        assert piece not in " ".join(problems)


def test_one_message_per_kind_in_a_fixed_order():
    first, second = VALID_NUMBERS["fødselsnummer"], VALID_NUMBERS["D-nummer 1 january"]
    text = f"kari@kommune.no, 98765432, {first} og {second}; ola@kommune.no, +46 70 123 45 67"
    assert find_problems(text) == [ID_NUMBER_MESSAGE, PHONE_MESSAGE, EMAIL_MESSAGE]


def test_find_problems_takes_none_as_empty():
    assert find_problems(None) == []


# --- ensure_clean ------------------------------------------------------------------------------------


def test_ensure_clean_maps_each_unclean_field_to_its_problems():
    fields = {
        "need": f"Foreldreveiledning. Barnet: {VALID_NUMBERS['D-nummer 29 december']}",
        "background": "Familien har bodd i kommunen siden 2019. 3 barn født 2015 og 2018.",
        "contact": "Mor: kari@kommune.no, 987 65 432",
        "note": "",
    }
    assert ensure_clean(fields) == {
        "need": [ID_NUMBER_MESSAGE],
        "contact": [PHONE_MESSAGE, EMAIL_MESSAGE],
    }


def test_ensure_clean_is_empty_when_all_fields_are_clean():
    assert ensure_clean({"need": "Veiledning av fosterhjem, sak 2024/1234", "note": "", "other": None}) == {}
    assert ensure_clean({}) == {}


# --- good-faith spellings (issue 17, point 6) ------------------------------------------------------------


def as_date(number: str, year_digits: str = "", separator: str = " ") -> str:
    """ "01.01.36 12345": the date part written as a date (with the century when given)."""
    return f"{number[:2]}.{number[2:4]}.{year_digits}{number[4:6]}{separator}{number[6:]}"


def in_groups(number: str) -> str:
    """ "010136 123 45": the last five digits as 3 + 2."""
    return f"{number[:6]} {number[6:9]} {number[9:]}"


D_NUMBER = VALID_NUMBERS["D-nummer 31 march"]
SHOULD_REFUSE = {
    "fødselsnummer as a date (issue)": ("Født 20.01.34 02435, bor hos mor.", ID_NUMBER_MESSAGE),
    "fødselsnummer in 6-3-2 groups (issue)": ("fnr 030146 037 69", ID_NUMBER_MESSAGE),
    "as a date": (as_date(NUMBER), ID_NUMBER_MESSAGE),
    "as a date with the century": (as_date(NUMBER, "20"), ID_NUMBER_MESSAGE),
    "as a date, hyphen before the rest": (as_date(NUMBER, separator="-"), ID_NUMBER_MESSAGE),
    "as a date with slashes": (as_date(NUMBER).replace(".", "/"), ID_NUMBER_MESSAGE),
    "D-nummer as a date": (f"({as_date(D_NUMBER)})", ID_NUMBER_MESSAGE),
    "6-3-2 groups": (in_groups(NUMBER), ID_NUMBER_MESSAGE),
    "D-nummer in 6-3-2 groups": (f"Mor: {in_groups(D_NUMBER)}.", ID_NUMBER_MESSAGE),
    "as a date and 3-2 groups": (f"{as_date(NUMBER)[:9]}{NUMBER[6:9]} {NUMBER[9:]}", ID_NUMBER_MESSAGE),
    "phone with full stops 3-2-3 (issue)": ("Ring 912.34.567 etter kl. 15", PHONE_MESSAGE),
    "phone with hyphens 3-2-3": ("mobil 912-34-567", PHONE_MESSAGE),
    "address with (at) (issue)": ("Skriv til kari.hansen(at)namsos.kommune.no", EMAIL_MESSAGE),
    "address with [at] and [dot]": ("kari [at] kommune [dot] no", EMAIL_MESSAGE),
    "address with (AT) and spaces": ("ola (AT) indre-fosen.kommune.no", EMAIL_MESSAGE),
    "address with (krøllalfa) and (punktum)": ("ola(krøllalfa)kommune(punktum)no", EMAIL_MESSAGE),
}

SHOULD_PASS = {
    "organisation number 3-3-3": "Org.nr. 974 760 673",
    "organisation number in one run": "Organisasjonsnummer 974760673",
    "organisation number with MVA": "NO 974 760 673 MVA",
    "case reference": "sak 2024/1234",
    "case reference with document number": "Vår ref. 2025/00123-4",
    "case references in a list": "Saker 2024/1234, 2025/00123-4 og 24/01234-5",
    "date alone": "Møte 20.01.34",
    "date with the century": "Møte 20.01.2034 kl. 10.00–12.00",
    "date as six digits": "Dato 030146",
    "years": "Tilskudd 1934 og 2034",
    "date followed by a time": "20.01.2034 09:00",
    "date as a date, wrong check digits": as_date(NUMBER[:10] + other_digit(NUMBER[10])),
    "6-3-2 groups, wrong check digits": in_groups(NUMBER[:10] + other_digit(NUMBER[10])),
    "amount with full stops": "kr 1.250.000",
    "version": "Versjon 2.3.4",
    "a word after (at)": "Marte Meo (at) Fosen",
    "a time after (at)": "Vi møtes (at) 10",
    "at as a word": "Skriv at kommune.no har svart",
}


@pytest.mark.parametrize(("text", "message"), SHOULD_REFUSE.values(), ids=SHOULD_REFUSE.keys())
def test_good_faith_spellings_are_refused(text, message):
    assert find_problems(text) == [message]


@pytest.mark.parametrize("text", SHOULD_PASS.values(), ids=SHOULD_PASS.keys())
def test_numbers_that_look_alike_are_not_refused(text):
    assert find_problems(text) == []


# --- the checks for other free text (issue 17, point 7) -----------------------------------------------------


def test_public_text_refuses_identity_numbers_but_keeps_the_organisers_contact_details():
    assert find_problems(f"Påmeldt: {as_date(NUMBER)}", PUBLIC) == [PUBLIC_ID_NUMBER_MESSAGE]
    assert find_problems("Spørsmål? Ring 912 34 567 eller skriv til kari@kommune.no.", PUBLIC) == []


def test_an_anonymous_comment_refuses_all_three_kinds_without_speaking_of_a_referral():
    problems = find_problems(f"{NUMBER}, 912.34.567, kari(at)kommune.no", ANONYMOUS)
    assert problems == [message for _, message in ANONYMOUS]
    assert all("anonymt" in message and "henvendelse" not in message for message in problems)
    assert find_problems("Bra fagdag, 2 av 3 foredrag var nyttige. Sak 2024/1234 ble nevnt.", ANONYMOUS) == []


# --- through HTTP: every free text others read (issue 17, point 7) ----------------------------------------


def _count(db, model) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(model)).one()


def _refused_at(response, field: str, message: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)[-2000:]
    assert error_at(response.get_data(as_text=True), field) == message


@pytest.mark.parametrize("field", ["title", "description", "programme"])
def test_an_event_text_with_an_identity_number_is_refused(as_role, db, field):
    coordinator = as_role("coordinator_fosen")
    before = _count(db, Event)
    text = f"09.00 Velkommen – {as_date(NUMBER)}" if field == "programme" else f"Om {as_date(NUMBER)}"
    _refused_at(
        coordinator.post("/arrangementer/nytt", event_form(db, plain_weekday(), **{field: text})),
        field,
        PUBLIC_ID_NUMBER_MESSAGE,
    )
    assert _count(db, Event) == before
    # The organiser's own work phone and e-mail are welcome in a public description.
    response = coordinator.post(
        "/arrangementer/nytt",
        event_form(db, plain_weekday(), description="Spørsmål: Kari, 912 34 567, kari(at)indrefosen.kommune.no"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]


def test_a_cancellation_reason_with_an_identity_number_is_refused(as_role, db):
    event = make_event(db, "Fagdag om BTI på Ørland", plain_weekday())
    response = as_role("coordinator_fosen").post(f"/arrangementer/{event.id}/avlys", {"reason": f"Syk: {NUMBER}"})
    _refused_at(response, "reason", PUBLIC_ID_NUMBER_MESSAGE)
    db.expire_all()
    assert db.get(Event, event.id).status == "published"


@pytest.mark.parametrize("comment", ["Ring meg på 912.34.567", "Skriv til kari(at)kommune.no", f"Barnet {NUMBER}"])
def test_an_evaluation_comment_with_contact_details_or_an_identity_number_is_refused(app, db, browser, comment):

    event = end(db, make_event(db))
    [token] = invited(db, event, 1)
    response = answer(browser, token, comment=comment)
    assert response.status_code == 422
    assert "svaret er anonymt" in response.get_data(as_text=True)
    assert evaluations_of(db, event) == []
    assert answer(browser, token, comment="Nyttig, sak 2024/1234 ble godt belyst.").status_code == 200


def test_a_material_description_with_an_identity_number_is_refused(app, db, as_role):
    build, name, _ = ALLOWED["pdf"]
    response = upload(as_role("coordinator_fosen"), build(), name, description=f"Eksempel: {in_groups(NUMBER)}")
    assert_refused(app, db, response, 422, PUBLIC_ID_NUMBER_MESSAGE)


def test_a_referral_message_with_a_good_faith_spelling_is_refused(app, as_role, db):
    referral = make_referral(db, ReferralStatus.SENT)
    before = counts(db)
    for body, message in [
        ("Mor: 20.01.34 02435", ID_NUMBER_MESSAGE),
        ("Ring 912.34.567", PHONE_MESSAGE),
        ("kari(at)kommune.no", EMAIL_MESSAGE),
    ]:
        response = as_role("provider").post(f"/henvendelser/{referral.public_id}/melding", {"body": body})
        _refused_at(response, "body", message)
    assert counts(db) == before


class _PostForms(HTMLParser):
    """The values each POST form of a page would send as it stands (what a person who changes one field sends):
    text and hidden inputs, checked boxes, selected options and text areas."""

    def __init__(self):
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = []
        self._fields: list[tuple[str, str]] | None = None
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._fields = []
        if self._fields is None:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self._fields.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self._fields.append((self._select, a.get("value") or ""))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._fields.append((self._textarea, ""))

    def handle_data(self, data):
        if self._textarea and self._fields:
            name, text = self._fields[-1]
            self._fields[-1] = (name, text + data)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._fields is not None:
            self.forms.append(self._fields)
            self._fields = None

    def form_with(self, field: str) -> dict[str, list[str]]:
        [fields] = [form for form in self.forms if any(name == field for name, _ in form)]
        values: dict[str, list[str]] = {}
        for name, value in fields:
            if name != "csrf_token":
                values.setdefault(name, []).append(value.removeprefix("\n") if name == field else value)
        return values


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("coordinator_fosen", "/kompetansebaser/fosen/rediger"),
        ("admin", "/tjenester/fosen-barnevern/rediger"),
        ("coordinator_fosen", "/nettverk/bti-nettverk-fosen/rediger"),
        ("coordinator_fosen", "/tiltak/familierad/rediger"),
        ("admin", "/kompetanseomrader/pmto/rediger"),
    ],
)
def test_every_public_description_refuses_an_identity_number(as_role, role, url):
    """Descriptions of bases, services, networks, tiltak and competence areas are read by everyone (issue 17,
    point 7): posted as the edit page stands with only the description changed, the number is refused there."""
    browser = as_role(role)
    parser = _PostForms()
    parser.feed(browser.get(url).get_data(as_text=True))
    values = parser.form_with("description")
    values["description"] = f"Kontakt oss. {in_groups(NUMBER)}"
    _refused_at(browser.post(url, values), "description", PUBLIC_ID_NUMBER_MESSAGE)
    assert in_groups(NUMBER) not in browser.get(url).get_data(as_text=True)
    values["description"] = "Kontakt oss på 74 00 00 00 eller post@kommune.no."  # the organiser's own details pass
    assert browser.post(url, values).status_code == 302
