"""Control characters and invalid UTF-8 are refused in every text field, by one rule (nettverk.text) that every
form (nettverk.forms.Form) and the API share: a line break in a single-line field (an event title, a tiltak name)
would split a mail subject or a calendar line; an ESC sequence or text mangled by a wrong encoding is never
what a person meant. Refused at the field with a 422, nothing stored; multi-line text keeps its line breaks."""

import importlib
import pkgutil
import re

import pytest
from factories import make_event
from sqlmodel import func, select
from test_api_events import REGISTRATION, call, registrations
from test_gathering_pages import event_form, plain_weekday
from test_referral_pages import tiltak_form
from wtforms import PasswordField, StringField, TextAreaField

import nettverk
from nettverk.events.models import Event
from nettverk.forms import AllowedCharacters, Form
from nettverk.referrals.models import Intervention
from nettverk.registry.models import CompetenceBase
from nettverk.text import CHARACTER_MESSAGE, LINE_BREAK_MESSAGE, character_problem


def count(db, model) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(model)).one()


def refused(response, message: str) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code == 422, text[-2000:]
    assert message in text


# The rule ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Fagdag\r\nBcc: x@example.com", "Fagdag\n", "a\rb", "a\u2028b", "a\x85b"])
def test_a_line_break_on_one_line_is_refused(text):
    assert character_problem(text) == LINE_BREAK_MESSAGE


@pytest.mark.parametrize("text", ["\x1b[31mrød", "a\tb", "a\x00", "a\x7f", "a\x9b", "a\ud800", "Base\ufffd"])
def test_control_characters_surrogates_and_replacement_characters_are_refused_on_one_line(text):
    assert character_problem(text) == CHARACTER_MESSAGE


@pytest.mark.parametrize("text", ["a\x1bb", "a\rb", "a\x0cb", "a\ud800", "a\ufffd", "a\x00"])
def test_the_same_are_refused_in_multi_line_text(text):
    assert character_problem(text, multiline=True) == CHARACTER_MESSAGE


@pytest.mark.parametrize(
    ("text", "multiline"),
    [
        ("Fagdag om BTI – «Snåase» & Unjárga 👩‍👩‍👧", False),
        ("100 % oppmøte", False),
        ("%FF%FE", False),
        ("Første linje\r\nAndre linje\n\tinnrykk", True),
        ("Linje\u2028linje", True),
    ],
)
def test_ordinary_text_is_allowed(text, multiline):
    assert character_problem(text, multiline) is None


def _all_forms():
    for module in pkgutil.walk_packages(nettverk.__path__, "nettverk."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    pending, found = [Form], []
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            found.append(subclass)
    return found


def test_every_text_field_of_every_form_gets_the_rule_first(app):
    forms = _all_forms()
    assert len(forms) > 20
    checked = 0
    with app.test_request_context():
        for form_class in forms:
            for field in form_class(meta={"csrf": False}):
                if isinstance(field, StringField) and not isinstance(field, PasswordField):
                    first = field.validators[0]
                    assert isinstance(first, AllowedCharacters), (form_class, field.name)
                    assert first.multiline == isinstance(field, TextAreaField), (form_class, field.name)
                    checked += 1
    assert checked > 50


# Through the forms ----------------------------------------------------------------------------------------


def test_an_event_title_with_a_line_break_is_refused_and_nothing_is_saved(as_role, db):
    coordinator = as_role("coordinator_fosen")
    before = count(db, Event)
    refused(
        coordinator.post("/arrangementer/nytt", event_form(db, plain_weekday(), title="Fagdag\r\nBcc: x@y.no")),
        LINE_BREAK_MESSAGE,
    )
    refused(
        coordinator.post("/arrangementer/nytt", event_form(db, plain_weekday(), description="Om \x1b[2J BTI")),
        CHARACTER_MESSAGE,
    )
    assert count(db, Event) == before
    # A description keeps its line breaks and tabs, so the refusals above came from the characters.
    response = coordinator.post(
        "/arrangementer/nytt", event_form(db, plain_weekday(), title="Fagdag", description="Linje 1\r\n\tLinje 2")
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    db.expire_all()
    event = db.get(Event, int(re.search(r"(\d+)$", response.headers["Location"]).group(1)))
    assert event.description == "Linje 1\r\n\tLinje 2"


def test_a_tiltak_name_with_a_line_break_is_refused(as_role, db):
    coordinator = as_role("coordinator_fosen")
    before = count(db, Intervention)
    refused(coordinator.post("/tiltak/ny", tiltak_form(db, name="ICDP\nforeldregrupper")), LINE_BREAK_MESSAGE)
    assert count(db, Intervention) == before


def test_a_base_name_with_an_escape_sequence_is_refused(as_role, db):
    before = count(db, CompetenceBase)
    refused(
        as_role("admin").post("/admin/kompetansebaser/ny", {"name": "Ny\x1b[31mbase", "description": ""}),
        CHARACTER_MESSAGE,
    )
    assert count(db, CompetenceBase) == before


def test_invalid_utf8_in_a_form_body_is_refused_not_stored_as_text(as_role, db):
    admin = as_role("admin")
    token = admin.csrf_token().encode()
    before = count(db, CompetenceBase)
    # Percent-encoded, as a script sends a form: werkzeug kept it as the literal text «%FF%FE».
    refused(
        admin.client.post(
            "/admin/kompetansebaser/ny",
            data=b"name=Base%FF%FEx&description=&csrf_token=" + token,
            content_type="application/x-www-form-urlencoded",
        ),
        CHARACTER_MESSAGE,
    )
    # Raw bytes in a multipart body: decoded as U+FFFD.
    body = (
        b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nBase\xff\xfex\r\n'
        b'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + token + b"\r\n--b--\r\n"
    )
    refused(
        admin.client.post("/admin/kompetansebaser/ny", data=body, content_type="multipart/form-data; boundary=b"),
        CHARACTER_MESSAGE,
    )
    assert count(db, CompetenceBase) == before
    # A typed «%» arrives as %25 and is ordinary text.
    response = admin.client.post(
        "/admin/kompetansebaser/ny",
        data=b"name=Base+100%25&description=&csrf_token=" + token,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert count(db, CompetenceBase) == before + 1


# Through the API ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("role", "Lærer\r\nX-Injected: 1", LINE_BREAK_MESSAGE),
        ("dietary", "Glutenfri\x1b[0m", CHARACTER_MESSAGE),
        ("dietary", "Glutenfri\ud800", CHARACTER_MESSAGE),  # a lone surrogate, sent as the JSON escape \ud800
    ],
)
def test_the_api_refuses_the_same_characters(as_role, db, field, value, message):
    event = make_event(db, "Tegn i API", ask_dietary=True)
    response = call(as_role("participant"), "POST", REGISTRATION.format(event_id=event.id), {field: value})
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["field"] == field
    assert message in problem["detail"]
    assert registrations(db, event) == {}
