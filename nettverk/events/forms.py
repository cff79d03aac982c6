"""Event and registration forms."""

import re

from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from nettverk.events.models import AUDIENCES, EVENT_KINDS
from nettverk.forms import REQUIRED, Form, InWindow, NoIdentifyingData, optional_id
from nettverk.privacy.identity import PUBLIC

EMAIL = "Skriv en gyldig e-postadresse, for eksempel navn@kommune.no."
PROGRAMME_LINE = re.compile(r"^\s*(\d{1,2})[.:](\d{2})\s+(.+?)(?:\s+[–-]\s+(.+))?\s*$")


class EventForm(Form):
    kind = SelectField(
        "Type",
        choices=[SelectChoice(k, v) for k, v in EVENT_KINDS.items()],
        validators=[DataRequired("Velg type arrangement.")],
    )
    title = StringField(
        "Tittel", validators=[DataRequired("Skriv en tittel."), Length(max=200), NoIdentifyingData(PUBLIC)]
    )
    base_id = SelectField("Kompetansebase", coerce=optional_id, validate_choice=False)
    network_id = SelectField(
        "Nettverk",
        coerce=optional_id,
        validate_choice=False,
        description="For nettverksmøter. Koordinatorene i nettverkets kompetansebaser planlegger det.",
    )
    competence_area_id = SelectField(
        "Kompetanseområde",
        coerce=optional_id,
        validate_choice=False,
        description="Bare for kurs/opplæring: de som møter, får opplæringen registrert "
        "i sin kompetanseoversikt når oppmøtet føres.",
    )
    audience = SelectField(
        "Åpent for",
        choices=[SelectChoice(k, v) for k, v in AUDIENCES.items()],
        validators=[DataRequired("Velg hvem arrangementet er åpent for.")],
    )
    start_date = DateField("Startdato", validators=[DataRequired("Skriv startdatoen."), InWindow()])
    start_time = TimeField("Starter kl.", validators=[Optional()], description="For eksempel 09:00.")
    end_date = DateField(
        "Sluttdato",
        validators=[DataRequired("Skriv sluttdatoen."), InWindow()],
        description="Samme dag som start for endagsarrangementer.",
    )
    end_time = TimeField("Slutter kl.", validators=[Optional()])
    all_day = BooleanField("Heldagsarrangement (uten klokkeslett)")
    description = TextAreaField(
        "Beskrivelse",
        validators=[Optional(), Length(max=20000), NoIdentifyingData(PUBLIC)],
        description="Du kan bruke Markdown: **fet**, *kursiv*, lister med - og lenker.",
    )
    programme = TextAreaField(
        "Program",
        validators=[Optional(), Length(max=5000), NoIdentifyingData(PUBLIC)],
        description="Én post per linje: klokkeslett, tittel og eventuelt – foredragsholder. "
        "For eksempel: 09.00 Velkommen – Kari Nordmann",
    )
    venue_name = StringField(
        "Sted", validators=[Optional(), Length(max=200)], description="For eksempel Steinkjer-huset."
    )
    venue_address = StringField("Adresse", validators=[Optional(), Length(max=300)])
    venue_municipality_id = SelectField("Kommunen stedet ligger i", coerce=optional_id, validate_choice=False)
    online_url = StringField("Lenke til digitalt møte", validators=[Optional(), Length(max=500)])
    host_municipality_id = SelectField("Vertskommune", coerce=optional_id, validate_choice=False)
    capacity = IntegerField(
        "Antall plasser",
        validators=[Optional(), NumberRange(min=1, message="Minst 1 plass.")],
        description="Tomt betyr ubegrenset. Når det er fullt, kommer nye på venteliste.",
    )
    quota_per_municipality = IntegerField(
        "Maks plasser per kommune", validators=[Optional(), NumberRange(min=1, message="Minst 1.")]
    )
    registration_opens_at = DateTimeLocalField(
        "Påmeldingen åpner", validators=[Optional(), InWindow()], format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    registration_closes_at = DateTimeLocalField(
        "Påmeldingsfrist", validators=[Optional(), InWindow()], format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    ask_dietary = BooleanField("Spør om allergier og spesialkost")
    ask_lunch = BooleanField("Spør om deltakeren blir med på lunsj")
    reminder_days = StringField(
        "Påminnelse til de påmeldte, dager før",
        default="7, 1",
        validators=[Optional(), Length(max=40)],
        description="Antall dager før start, skilt med komma. Tomt betyr ingen påminnelse.",
    )


def parse_programme(text: str) -> tuple[list[tuple[str, str, str]], list[int]]:
    """'09.00 Velkommen – Kari' per line -> items, and the numbers of lines that could not be read."""
    items, bad = [], []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = PROGRAMME_LINE.match(line)
        if match is None or int(match.group(1)) > 23:
            bad.append(number)
            continue
        hour, minute, title, speaker = match.groups()
        items.append((f"{int(hour):02d}.{minute}", title.strip(), (speaker or "").strip()))
    return items, bad


class CancelEventForm(Form):
    reason = TextAreaField(
        "Begrunnelse til de påmeldte", validators=[Optional(), Length(max=1000), NoIdentifyingData(PUBLIC)]
    )


class RegistrationForm(Form):
    """A logged-in person's one-step registration (the optional questions the event asks)."""

    municipality_id = SelectField("Kommunen du jobber i", coerce=optional_id, validate_choice=False)
    role = StringField(
        "Stilling", validators=[Optional(), Length(max=160)], description="For eksempel helsesykepleier eller lærer."
    )
    dietary = StringField("Allergier eller spesialkost", validators=[Optional(), Length(max=300)])
    lunch = BooleanField("Jeg blir med på lunsj")


class GuestRegistrationForm(RegistrationForm):
    name = StringField("Fullt navn", validators=[DataRequired(REQUIRED), Length(max=160)])
    email = EmailField(
        "E-post",
        validators=[DataRequired(REQUIRED), Email(EMAIL)],
        description="Vi sender en lenke du bekrefter påmeldingen med.",
    )
    unit_id = SelectField("Arbeidssted (enhet)", coerce=optional_id, validate_choice=False)


class BehalfForm(GuestRegistrationForm):
    """A coordinator registers someone else (no e-mail confirmation needed)."""

    email = EmailField("E-post", validators=[DataRequired(REQUIRED), Email(EMAIL)])
