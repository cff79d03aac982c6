"""Registry forms. Choices are filled in by the views from the database.

Where an operation checks the chosen object itself (with a Norwegian message, e.g. "Snillfjord ble
avviklet …"), the field does not check its choices (validate_choice=False): WTForms' own refusal is in
English and says less.
"""

from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from nettverk.forms import REQUIRED, Form, InWindow, MultiCheckboxField, NoIdentifyingData, optional_id
from nettverk.privacy.identity import PUBLIC
from nettverk.registry.models import SERVICE_KINDS
from nettverk.timeutil import EARLIEST_MERGER_DAY

EMAIL = "Skriv en gyldig e-postadresse, for eksempel navn@kommune.no."


class CountyForm(Form):
    number = StringField("Fylkesnummer", validators=[DataRequired(REQUIRED)], description="To sifre, for eksempel 50.")
    name = StringField("Navn", validators=[DataRequired(REQUIRED), Length(max=100)])


class MunicipalityForm(Form):
    number = StringField(
        "Kommunenummer", validators=[DataRequired(REQUIRED)], description="Fire sifre, for eksempel 5054."
    )
    name = StringField("Navn", validators=[DataRequired(REQUIRED), Length(max=100)])
    sami_name = StringField(
        "Samisk parallellnavn",
        validators=[Optional(), Length(max=100)],
        description="Bare hvis kommunen har et offisielt samisk navn, for eksempel Snåase.",
    )
    county_id = SelectField("Fylke", coerce=int, validate_choice=False, validators=[DataRequired("Velg fylke.")])


class MergerForm(Form):
    predecessor_ids = MultiCheckboxField(
        "Kommuner som slås sammen",
        coerce=int,
        validate_choice=False,
        validators=[DataRequired("Velg minst én kommune som slås sammen.")],
    )
    successor_id = SelectField(
        "Ny eller videreført kommune",
        coerce=optional_id,
        validate_choice=False,
        validators=[DataRequired("Velg kommunen det slås sammen til.")],
        description="Opprett den nye kommunen først hvis den ikke finnes.",
    )
    effective_date = DateField(
        "Gjelder fra",
        validators=[DataRequired("Skriv datoen sammenslåingen gjelder fra."), InWindow(EARLIEST_MERGER_DAY)],
        description="Den første dagen den nye kommunen finnes, for eksempel 1. januar 2020.",
    )


class BaseForm(Form):
    name = StringField("Navn", validators=[DataRequired(REQUIRED), Length(max=120)])
    description = TextAreaField("Beskrivelse", validators=[Optional(), Length(max=4000), NoIdentifyingData(PUBLIC)])


class MembershipForm(Form):
    municipality_id = SelectField(
        "Kommune", coerce=int, validate_choice=False, validators=[DataRequired("Velg kommune.")]
    )


class ServiceForm(Form):
    name = StringField("Navn", validators=[DataRequired(REQUIRED), Length(max=160)])
    kind = SelectField(
        "Type tjeneste",
        choices=[SelectChoice(k, v) for k, v in SERVICE_KINDS.items()],
        validate_choice=False,
        validators=[DataRequired("Velg type tjeneste.")],
    )
    host_municipality_id = SelectField(
        "Vertskommune",
        coerce=optional_id,
        validate_choice=False,
        validators=[DataRequired("En tjeneste må ha en vertskommune.")],
    )
    served_ids = MultiCheckboxField(
        "Kommuner tjenesten betjener", coerce=int, validate_choice=False, description="Vertskommunen tas alltid med."
    )
    email = EmailField("E-post", validators=[Optional(), Email(EMAIL)])
    phone = StringField("Telefon (sentralbord)", validators=[Optional(), Length(max=30)])
    description = TextAreaField("Beskrivelse", validators=[Optional(), Length(max=4000), NoIdentifyingData(PUBLIC)])


class UnitForm(Form):
    name = StringField("Navn", validators=[DataRequired(REQUIRED), Length(max=160)])
    municipality_id = SelectField("Kommune", coerce=optional_id, validate_choice=False, validators=[Optional()])


class ContactForm(Form):
    name = StringField("Navn", validators=[DataRequired(REQUIRED), Length(max=160)])
    role = StringField(
        "Rolle",
        validators=[Optional(), Length(max=160)],
        description="For eksempel BTI-koordinator eller barnevernleder.",
    )
    service_id = SelectField("Tjeneste", coerce=optional_id, validate_choice=False, validators=[Optional()])
    email = EmailField("E-post", validators=[Optional(), Email(EMAIL)])
    phone = StringField("Telefon", validators=[Optional(), Length(max=30)])


class ImportForm(Form):
    kind = SelectField(
        "Hva importeres",
        choices=[
            SelectChoice("municipalities", "Kommuner"),
            SelectChoice("memberships", "Medlemskap i kompetansebaser"),
            SelectChoice("services", "Tjenester"),
            SelectChoice("contacts", "Kontaktpersoner"),
        ],
        validators=[DataRequired("Velg hva du importerer.")],
    )
    file = FileField(
        "CSV-fil",
        validators=[FileRequired("Velg en CSV-fil.")],
        description="UTF-8, komma eller semikolon som skilletegn, første linje med kolonnenavn.",
    )
