"""Account forms."""

from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from nettverk.forms import REQUIRED, Form, optional_id

CHOICE_HINT = (
    "Minst 10 tegn, og ikke et vanlig passord eller noe som bygger på navnet ditt. En setning av "
    "flere ord er både sikker og lett å huske."
)


class LoginForm(Form):
    email = EmailField("E-post", validators=[DataRequired("Skriv e-postadressen din.")])
    password = PasswordField("Passord", validators=[DataRequired("Skriv passordet ditt.")])


class SetPasswordForm(Form):
    password = PasswordField("Nytt passord", description=CHOICE_HINT, validators=[DataRequired(REQUIRED)])
    confirm = PasswordField(
        "Gjenta passordet", validators=[DataRequired(REQUIRED), EqualTo("password", "Passordene er ikke like.")]
    )


class AcceptInvitationForm(SetPasswordForm):
    name = StringField("Fullt navn", validators=[DataRequired("Skriv navnet ditt."), Length(max=160)])


class ForgotPasswordForm(Form):
    email = EmailField("E-post", validators=[DataRequired("Skriv e-postadressen din.")])


class ChangePasswordForm(Form):
    current_password = PasswordField("Nåværende passord", validators=[DataRequired(REQUIRED)])
    new_password = PasswordField("Nytt passord", description=CHOICE_HINT, validators=[DataRequired(REQUIRED)])
    confirm = PasswordField(
        "Gjenta nytt passord", validators=[DataRequired(REQUIRED), EqualTo("new_password", "Passordene er ikke like.")]
    )


class RoleForm(Form):
    """A role with its scope; only the scope field that matches the role is used."""

    role = SelectField("Rolle", validators=[DataRequired("Velg en rolle.")])
    base_id = SelectField("Kompetansebase", coerce=optional_id, description="For koordinatorer.")
    municipality_id = SelectField("Kommune", coerce=optional_id, description="For kontaktpersoner i kommunen.")
    service_id = SelectField(
        "Tjeneste", coerce=optional_id, description="For ansatte og ledere i en tjeneste, og for tiltaksteam."
    )


class InviteForm(RoleForm):
    email = EmailField("E-post", validators=[DataRequired("Skriv e-postadressen til den du inviterer.")])
    name = StringField("Navn", validators=[Length(max=160)], description="Personen kan endre navnet selv.")
