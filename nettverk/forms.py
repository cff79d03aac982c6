"""Form pieces shared by modules (Flask-WTF gives CSRF on every form)."""

from datetime import date, datetime
from urllib.parse import parse_qsl

from flask import Request, flash, redirect, render_template, request
from flask_wtf import FlaskForm
from werkzeug.formparser import FormDataParser
from wtforms import PasswordField, SelectMultipleField, StringField, TextAreaField, ValidationError, widgets
from wtforms.validators import StopValidation

from nettverk.errors import OperationError
from nettverk.privacy import identity
from nettverk.text import character_problem
from nettverk.timeutil import EARLIEST_DAY, PLANNING_YEARS, DateOutOfRange, check_day, latest_day

REQUIRED = "Dette feltet må fylles ut."


class AllowedCharacters:
    """Refuses what `text.character_problem` refuses; every text field of every Form gets it first."""

    def __init__(self, multiline: bool):
        self.multiline = multiline

    def __call__(self, form, field):
        message = character_problem(field.data, self.multiline) if isinstance(field.data, str) else None
        if message:
            raise StopValidation(message)


class NoIdentifyingData:
    """The identity guard (privacy.identity) on a free text others read, with a set of its checks
    (`identity.PUBLIC`, `identity.ANONYMOUS`); the message never repeats what was found."""

    def __init__(self, checks: identity.Checks):
        self.checks = checks

    def __call__(self, form, field):
        problems = identity.find_problems(field.data, self.checks) if isinstance(field.data, str) else []
        if problems:
            raise ValidationError(" ".join(problems))


class Form(FlaskForm):
    """Every form: CSRF from Flask-WTF, WTForms' own messages in bokmål (e.g. an invalid date), and no
    control characters in any text field (a text area may hold line breaks and tabs)."""

    class Meta:
        locales = ["nb"]

        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            # Passwords are only hashed, never shown or sent, so any character may be part of one.
            if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
                check = AllowedCharacters(multiline=issubclass(field_class, TextAreaField))
                options = {**options, "validators": [check, *(unbound_field.kwargs.get("validators") or ())]}
            return super().bind_field(form, unbound_field, options)


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes: easier to use (and more accessible) than a multi-select list."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class InWindow:
    """A date (or date and time) field's value within timeutil's window: from `earliest` to `years` ahead."""

    def __init__(self, earliest: date = EARLIEST_DAY, years: int = PLANNING_YEARS):
        self.earliest, self.years = earliest, years

    def __call__(self, form, field):
        if field.data is None:  # empty, or not a date at all (the field has said so already)
            return
        day = field.data.date() if isinstance(field.data, datetime) else field.data
        try:
            check_day(day, self.earliest, latest_day(self.years))
        except DateOutOfRange as error:
            raise ValidationError(str(error)) from None


def show_error(form, error: OperationError) -> int:
    """Put an operation's refusal next to its field (or on top of the form) and keep its status for
    `form_page`; returns the status to answer."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message] if isinstance(field.errors, list) else [error.message]
    else:
        form.form_errors.append(error.message)
    form.refusal_status = error.status
    return error.status


def submit(form, action, message, redirect_to):
    """The form pattern: a valid POST runs `action` (an operation), then flashes `message` and redirects to
    `redirect_to` (each a value, or a function of what the action returned). None when the form is to be
    shown again (with `form_page`): not sent, invalid, or refused by the operation (shown at its field)."""
    if not form.validate_on_submit():
        return None
    try:
        result = action()
    except OperationError as error:
        show_error(form, error)
        return None
    flash(message(result) if callable(message) else message, "success")
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)


def form_page(template: str, form, **context):
    """A form's page. A refused form answers 422, or the status the operation's refusal named (e.g. 409)."""
    status = getattr(form, "refusal_status", None) or (422 if form.errors else 200)
    return render_template(template, form=form, **context), status


def client_address() -> str:
    """The client's IP address (the proxy's X-Forwarded-For with NETTVERK_TRUST_PROXY), for the limits on
    forms anyone can send (login, password reset, guest registration)."""
    return request.remote_addr or "unknown"


def optional_id(value):
    """Coerce a select's value to an int, with '' meaning none."""
    return int(value) if value not in (None, "", "None") else None


class _FormDataParser(FormDataParser):
    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        # Werkzeug keeps invalid UTF-8 in a urlencoded body as literal text ("%FF%FE"), which no field could
        # tell from typed text; decoded as U+FFFD, as in multipart bodies and paths, the fields refuse it.
        items = parse_qsl(stream.read().decode(errors="replace"), keep_blank_values=True, errors="replace")
        return stream, self.cls(items), self.cls()


class NettverkRequest(Request):
    """The app's request: invalid UTF-8 in a form body arrives as U+FFFD (see `_FormDataParser`)."""

    form_data_parser_class = _FormDataParser
