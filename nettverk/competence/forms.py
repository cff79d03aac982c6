"""Forms for competence areas, records and the person's profile. Choices are filled in by the views;
the operations check the chosen objects and dates with Norwegian messages."""

from wtforms import BooleanField, DateField, EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from nettverk.competence.models import AREA_KINDS, LEVELS
from nettverk.forms import Form, InWindow, NoIdentifyingData, optional_id
from nettverk.privacy.identity import PUBLIC
from nettverk.timeutil import EARLIEST_RECORD_DAY

DATE_HINT = "For eksempel 2025-03-14."


class AreaForm(Form):
    name = StringField(
        "Navn",
        validators=[DataRequired("Skriv navnet på kompetanseområdet."), Length(max=120)],
        description="For eksempel PMTO eller ASQ/ASQ-SE.",
    )
    kind = SelectField(
        "Type",
        choices=[SelectChoice("", "Velg type"), *(SelectChoice(k, v) for k, v in AREA_KINDS.items())],
        validate_choice=False,
        validators=[DataRequired("Velg en type fra listen.")],
    )
    description = TextAreaField(
        "Kort beskrivelse", validators=[Optional(), Length(max=2000), NoIdentifyingData(PUBLIC)]
    )
    target_group = StringField(
        "Målgruppe",
        validators=[Optional(), Length(max=300)],
        description="Hvem metoden er for, for eksempel «Foreldre til barn 3–12 år».",
    )
    expires_after_months = IntegerField(
        "Sertifiseringen utløper etter (måneder)",
        validators=[Optional(), NumberRange(min=1, max=240, message="Skriv et tall mellom 1 og 240.")],
        description="Tomt betyr at sertifiseringen ikke utløper.",
    )
    active = BooleanField("I bruk (kan velges når noen registrerer kompetanse)", default=True)


class RecordForm(Form):
    area_id = SelectField(
        "Kompetanseområde",
        coerce=optional_id,
        validate_choice=False,
        validators=[DataRequired("Velg et kompetanseområde fra listen.")],
    )
    level = SelectField(
        "Nivå",
        choices=[SelectChoice("", "Velg nivå"), *(SelectChoice(k, v) for k, v in LEVELS.items())],
        validate_choice=False,
        validators=[DataRequired("Velg et nivå fra listen.")],
    )
    achieved_on = DateField(
        "Dato for opplæringen eller sertifiseringen",
        validators=[DataRequired("Skriv datoen som år-måned-dag."), InWindow(EARLIEST_RECORD_DAY)],
        description=DATE_HINT,
    )
    issued_by = StringField(
        "Gitt av",
        validators=[Optional(), Length(max=200)],
        description="Hvem som holdt opplæringen eller sertifiserte, for eksempel RBUP Midt-Norge.",
    )
    expires_on = DateField(
        "Utløper",
        validators=[Optional(), InWindow(EARLIEST_RECORD_DAY, years=30)],
        description="Tomt: regnes ut fra kompetanseområdet for sertifiseringer som utløper, ellers ingen utløpsdato.",
    )


class CoordinatorRecordForm(RecordForm):
    email = EmailField(
        "Personens e-postadresse",
        validators=[
            DataRequired("Skriv e-postadressen til personen."),
            Email("Skriv en gyldig e-postadresse."),
            Length(max=254),
        ],
        description="Personen må ha en bruker i nettverk.",
    )
    municipality_id = SelectField(
        "Kommunen personen jobber i",
        coerce=optional_id,
        validate_choice=False,
        description="Trengs bare når personen ikke har oppgitt kommune selv.",
    )


class ProfileForm(Form):
    municipality_id = SelectField(
        "Kommunen du jobber i",
        coerce=optional_id,
        validate_choice=False,
        description="Kompetansen din telles med i oversikten for kommunen.",
    )
    service_id = SelectField("Tjenesten du jobber i", coerce=optional_id, validate_choice=False)
    contactable = BooleanField(
        "Jeg kan kontaktes for veiledning eller som foredragsholder",
        description="Da vises navnet og e-postadressen din for andre innloggede sammen med "
        "kompetansen din. Ellers telles kompetansen bare med i tallene.",
    )
