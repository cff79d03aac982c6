"""Forms of the calendar pages."""

from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length

from nettverk.forms import Form


class NewLinkForm(Form):
    """A guest asks for a new personal calendar link by e-mail."""

    email = EmailField(
        "E-post",
        validators=[
            DataRequired("Skriv e-postadressen du meldte deg på med."),
            Email("Skriv en gyldig e-postadresse, for eksempel navn@kommune.no."),
            Length(max=254),
        ],
        description="Adressen du brukte da du meldte deg på og bekreftet påmeldingen.",
    )
