"""Form pieces shared by modules (Flask-WTF gives CSRF on every form)."""

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, widgets

from nettverk.errors import OperationError

REQUIRED = "Dette feltet må fylles ut."


class Form(FlaskForm):
    """Every form: CSRF from Flask-WTF, WTForms' own messages in bokmål (e.g. an invalid date)."""

    class Meta:
        locales = ["nb"]


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes: easier to use (and more accessible) than a multi-select list."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def show_error(form, error: OperationError) -> int:
    """Put an operation's refusal next to its field (or on top of the form); returns the status to answer."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message] if isinstance(field.errors, list) else [error.message]
    else:
        form.form_errors.append(error.message)
    return error.status


def optional_id(value):
    """Coerce a select's value to an int, with '' meaning none."""
    return int(value) if value not in (None, "", "None") else None
