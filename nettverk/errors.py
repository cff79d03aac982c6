"""The one exception operations raise for refused input; views show it next to the field."""

from contextlib import contextmanager

from flask import abort


class OperationError(Exception):
    """Refused: `message` is Norwegian and shown to the user, `field` names the form field if any."""

    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


@contextmanager
def refusal_as_error_page():
    """For actions without a form (a button): a refusal becomes the error page with its message and status."""
    try:
        yield
    except OperationError as error:
        abort(error.status, error.message)
