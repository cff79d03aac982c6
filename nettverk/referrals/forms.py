"""Forms for the catalog of tiltak and for referrals. Choices (bases, services, municipalities) are filled
in by the views; the operations check the chosen objects and the free text with Norwegian messages."""

import re

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from nettverk.errors import OperationError
from nettverk.forms import Form, InWindow, MultiCheckboxField, NoIdentifyingData, optional_id
from nettverk.privacy.identity import PUBLIC
from nettverk.referrals.models import (
    BTI_LEVELS,
    CONSENT_FORMS,
    INTERVENTION_STATUSES,
    METHODS,
    OUTCOMES,
    URGENCIES,
    InterventionStatus,
    Urgency,
)
from nettverk.referrals.operations import MAX_CHILDREN, OLDEST_CHILD_YEARS

EMAIL = "Skriv en gyldig e-postadresse, for eksempel navn@kommune.no."
NO_PERSONAL_DATA = "Ikke skriv navn eller andre opplysninger som kan identifisere barnet eller familien."


def _choices(mapping: dict) -> list[SelectChoice]:
    return [SelectChoice(key, label) for key, label in mapping.items()]


def optional_int(value):
    """A select's value to an int, '' meaning none (BTI level 0 is a real value, unlike an id)."""
    return int(value) if value not in (None, "", "None") else None


# Catalog ------------------------------------------------------------------------------------------


class InterventionForm(Form):
    name = StringField(
        "Navn på tiltaket",
        validators=[DataRequired("Skriv navnet på tiltaket."), Length(max=160)],
        description="For eksempel Hjemmebasert foreldreveiledning.",
    )
    method = SelectField(
        "Metode",
        choices=[SelectChoice("", "Velg metode"), *_choices(METHODS)],
        validate_choice=False,
        validators=[DataRequired("Velg en metode fra listen.")],
    )
    base_id = SelectField(
        "Kompetansebase",
        coerce=optional_id,
        validate_choice=False,
        validators=[DataRequired("Velg kompetansebasen som tilbyr tiltaket.")],
    )
    provider_service_id = SelectField(
        "Tiltaksteam (tjenesten som gir tiltaket)",
        coerce=optional_id,
        validate_choice=False,
        validators=[DataRequired("Velg tjenesten som gir tiltaket.")],
        description="Teamet som tar imot og behandler henvendelsene. Det kan høre til en annen kommune enn familien.",
    )
    description = TextAreaField(
        "Beskrivelse",
        validators=[Optional(), Length(max=4000), NoIdentifyingData(PUBLIC)],
        description="Hva tiltaket er, hvem det passer for og hvordan det foregår.",
    )
    age_from = IntegerField(
        "Barnets alder fra (år)",
        default=0,
        validators=[
            InputRequired("Skriv laveste alder, for eksempel 0."),
            NumberRange(min=0, max=OLDEST_CHILD_YEARS, message=f"Alderen må være mellom 0 og {OLDEST_CHILD_YEARS} år."),
        ],
    )
    age_to = IntegerField(
        "Barnets alder til (år)",
        default=18,
        validators=[
            InputRequired("Skriv høyeste alder, for eksempel 18."),
            NumberRange(min=0, max=OLDEST_CHILD_YEARS, message=f"Alderen må være mellom 0 og {OLDEST_CHILD_YEARS} år."),
        ],
    )
    bti_level = SelectField(
        "BTI-nivå",
        choices=_choices(BTI_LEVELS),
        coerce=int,
        default=2,
        validate_choice=False,
        description="Nivået i handlingsveilederen tiltaket hører til.",
    )
    capacity = IntegerField(
        "Kapasitet (familier samtidig)",
        default=1,
        validators=[
            InputRequired("Skriv hvor mange familier teamet kan følge opp samtidig."),
            NumberRange(min=1, max=1000, message="Kapasiteten må være minst én familie."),
        ],
    )
    typical_weeks = IntegerField(
        "Vanlig varighet (uker)",
        default=12,
        validators=[
            InputRequired("Skriv hvor mange uker tiltaket vanligvis varer."),
            NumberRange(min=1, max=520, message="Varigheten må være mellom 1 og 520 uker."),
        ],
        description="Brukes til å anslå ventetiden.",
    )
    contact_name = StringField("Kontaktperson", validators=[Optional(), Length(max=160)])
    contact_email = EmailField("Kontaktpersonens e-post (jobb)", validators=[Optional(), Email(EMAIL), Length(max=254)])
    status = SelectField(
        "Status",
        choices=_choices(INTERVENTION_STATUSES),
        default=InterventionStatus.ACTIVE,
        validate_choice=False,
        description="Bare aktive tiltak tar imot nye henvendelser.",
    )
    municipality_ids = MultiCheckboxField(
        "Kommuner som kan be om tiltaket",
        coerce=int,
        validate_choice=False,
        description="Ingen avkrysset betyr kompetansebasens medlemskommuner.",
    )


# Referrals ----------------------------------------------------------------------------------------


class ReferralForm(Form):
    sending_service_id = SelectField("Tjenesten som sender", coerce=optional_id, validate_choice=False)
    case_reference = StringField(
        "Deres saksreferanse",
        validators=[Optional(), Length(max=60)],
        description="Referansen i deres eget fagsystem, så dere finner saken igjen. Ikke navn eller fødselsnummer.",
    )
    children_count = IntegerField(
        "Antall barn",
        default=1,
        validators=[
            InputRequired("Skriv hvor mange barn henvendelsen gjelder."),
            NumberRange(min=1, max=MAX_CHILDREN, message=f"Antall barn må være mellom 1 og {MAX_CHILDREN}."),
        ],
    )
    child_birth_years = StringField(
        "Barnas fødselsår",
        validators=[DataRequired("Skriv fødselsåret til hvert barn."), Length(max=100)],
        description="Bare året, ett for hvert barn, skilt med komma. For eksempel: 2015, 2018.",
    )
    family_municipality_id = SelectField(
        "Familiens kommune",
        coerce=optional_id,
        validate_choice=False,
        validators=[DataRequired("Velg familiens kommune.")],
        description="Kommunene tjenesten din betjener og som kan be om tiltaket.",
    )
    need = TextAreaField(
        "Behovet",
        validators=[Optional(), Length(max=3000, message="Høyst 3000 tegn.")],
        description="Hva familien trenger hjelp til, og det tiltaksteamet må vite for å vurdere "
        "henvendelsen. Må fylles ut før henvendelsen sendes. " + NO_PERSONAL_DATA,
    )
    urgency = SelectField(
        "Hvor mye haster det?", choices=_choices(URGENCIES), default=Urgency.NORMAL, validate_choice=False
    )
    preferred_start = DateField("Ønsket oppstart", validators=[Optional(), InWindow()])
    bti_level = SelectField(
        "BTI-nivå",
        coerce=optional_int,
        validate_choice=False,
        choices=[SelectChoice("", "Ikke oppgitt"), *_choices(BTI_LEVELS)],
    )
    consent_given = BooleanField("Foreldrene har samtykket")
    consent_date = DateField("Dato for samtykket", validators=[Optional(), InWindow()])
    consent_form = SelectField(
        "Hvordan samtykket er gitt", validate_choice=False, choices=[SelectChoice("", "Velg"), *_choices(CONSENT_FORMS)]
    )
    save_draft = SubmitField("Lagre som utkast")
    send = SubmitField("Send")


BIRTH_YEAR = re.compile(r"^\d{4}$")


def parse_birth_years(text: str | None) -> list[int]:
    """'2015, 2018' -> [2015, 2018]. The message never repeats what was typed."""
    parts = [part.strip() for part in re.split(r"[,;\s]+", text or "") if part.strip()]
    if not parts or not all(BIRTH_YEAR.match(part) for part in parts):
        raise OperationError(
            "Skriv fødselsårene med fire sifre, skilt med komma, for eksempel 2015, 2018.", "child_birth_years"
        )
    return [int(part) for part in parts]


# Buttons on the referral page. Each action's form has a prefix (its name) so the page can hold several
# with unique field ids; the CSRF token is checked for every POST by CSRFProtect, so these forms do not
# carry their own.


class ActionForm(Form):
    class Meta:
        csrf = False

    comment = TextAreaField(
        "Kommentar",
        validators=[Optional(), Length(max=1000, message="Høyst 1000 tegn.")],
        description="Vises i historikken for begge parter. " + NO_PERSONAL_DATA,
    )


class DeclineForm(ActionForm):
    reason = TextAreaField(
        "Begrunnelse for avslaget",
        validators=[Optional(), Length(max=1000, message="Høyst 1000 tegn.")],
        description="Avsenderen ser begrunnelsen. " + NO_PERSONAL_DATA,
    )


class CloseForm(ActionForm):
    outcome = SelectField(
        "Utfall", validate_choice=False, choices=[SelectChoice("", "Velg utfall"), *_choices(OUTCOMES)]
    )
    outcome_note = TextAreaField(
        "Om utfallet",
        validators=[Optional(), Length(max=1000, message="Høyst 1000 tegn.")],
        description=NO_PERSONAL_DATA,
    )


ACTION_FORMS = {"decline": DeclineForm, "close": CloseForm}


class MessageForm(Form):
    body = TextAreaField(
        "Melding",
        validators=[DataRequired("Skriv meldingen."), Length(max=2000, message="Meldingen kan være høyst 2000 tegn.")],
        description="Korte beskjeder mellom avsenderen og tiltaksteamet. " + NO_PERSONAL_DATA,
    )
