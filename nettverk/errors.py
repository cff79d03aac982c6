"""The one exception operations raise for refused input; views show it next to the field."""


class OperationError(Exception):
    """Refused: `message` is Norwegian and shown to the user, `field` names the form field if any."""

    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
