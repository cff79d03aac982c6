"""Network forms. Choices (bases, municipalities, units) are filled in by the views; the operations
check the chosen objects with Norwegian messages, so the fields do not check their choices."""

from datetime import time

from wtforms import DateField, EmailField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from nettverk.forms import REQUIRED, Form, InWindow, MultiCheckboxField, NoIdentifyingData, optional_id
from nettverk.networks.models import MEMBER_KINDS, NETWORK_KINDS
from nettverk.privacy.identity import PUBLIC

EMAIL = "Skriv en gyldig e-postadresse, for eksempel navn@kommune.no."


class NetworkForm(Form):
    name = StringField(
        "Navn", validators=[DataRequired(REQUIRED), Length(max=160)], description="For eksempel BTI-nettverk Namdalen."
    )
    kind = SelectField(
        "Type nettverk",
        choices=[SelectChoice(k, v) for k, v in NETWORK_KINDS.items()],
        validate_choice=False,
        validators=[DataRequired("Velg type nettverk.")],
    )
    description = TextAreaField(
        "Beskrivelse",
        validators=[Optional(), Length(max=4000), NoIdentifyingData(PUBLIC)],
        description="Hvem nettverket er for og hva det arbeider med.",
    )
    base_ids = MultiCheckboxField(
        "Kompetansebaser",
        coerce=int,
        validate_choice=False,
        description="Koordinatorene i basene som er krysset av, planlegger nettverket.",
    )
    cadence = StringField(
        "Møterytme",
        validators=[Optional(), Length(max=300, message="Høyst 300 tegn.")],
        description="En gjentakelsesregel (RRULE etter RFC 5545, som kalenderprogrammer bruker). "
        "FREQ=YEARLY;BYMONTH=3,10;BYDAY=2TU er andre tirsdag i mars og oktober. "
        "FREQ=WEEKLY;INTERVAL=6 er hver sjette uke. FREQ=MONTHLY;BYDAY=1TH er første "
        "torsdag i måneden. La feltet stå tomt hvis nettverket ikke har faste møter.",
    )
    cadence_start = DateField(
        "Rytmen regnes fra",
        validators=[Optional(), InWindow()],
        description="Regelen telles fra denne datoen (for eksempel hvilken uke «hver sjette "
        "uke» starter). Tomt betyr i dag.",
    )
    meeting_start = TimeField(
        "Møtene starter kl.",
        default=time(9, 0),
        validators=[InputRequired("Skriv når møtene starter, for eksempel 09:00.")],
    )
    meeting_minutes = IntegerField(
        "Varighet i minutter",
        default=180,
        validators=[
            InputRequired("Skriv hvor lenge møtene varer, i minutter."),
            NumberRange(min=15, max=720, message="Et møte må vare mellom 15 og 720 minutter (12 timer)."),
        ],
        description="For eksempel 180 for tre timer.",
    )
    venue_name = StringField(
        "Sted",
        validators=[Optional(), Length(max=200)],
        description="Der møtene vanligvis holdes. Kan endres for hvert møte.",
    )
    venue_address = StringField("Adresse", validators=[Optional(), Length(max=300)])
    host_municipality_id = SelectField("Vertskommune", coerce=optional_id, validate_choice=False)


class MemberForm(Form):
    email = EmailField("E-post", validators=[DataRequired(REQUIRED), Email(EMAIL), Length(max=254)])
    name = StringField(
        "Navn",
        validators=[Optional(), Length(max=160)],
        description="Trengs når personen ikke har konto. Et medlem trenger ikke å logge inn.",
    )
    unit_id = SelectField(
        "Enhet (arbeidssted)",
        coerce=optional_id,
        validate_choice=False,
        description="Enhetene i tjenestene som betjener kommunene i nettverkets kompetansebaser.",
    )
    kind = SelectField(
        "Rolle i nettverket",
        choices=[SelectChoice(k, v) for k, v in MEMBER_KINDS.items()],
        validate_choice=False,
        validators=[DataRequired("Velg rolle i nettverket.")],
    )
    joined_on = DateField("Med fra", validators=[Optional(), InWindow()], description="Tomt betyr i dag.")


class PlanForm(Form):
    until = DateField("Planlegg til og med", validators=[Optional(), InWindow()])
