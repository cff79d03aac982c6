"""Registry forms. Choices are filled in by the views from the database."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from nettverk.forms import REQUIRED, MultiCheckboxField, optional_id
from nettverk.registry.models import SERVICE_KINDS

EMAIL = "Skriv en gyldig e-postadresse, for eksempel navn@kommune.no."


class CountyForm(FlaskForm):
    number = StringField("Fylkesnummer", validators=[DataRequired(REQUIRED)], description="To sifre, for eksempel 50.")
    name = StringField("Navn", validators=[DataRequired(REQUIRED), Length(max=100)])


class MunicipalityForm(FlaskForm):
    number = StringField("Kommunenummer", validators=[DataRequired(REQUIRED)],
                         description="Fire sifre, for eksempel 5054.")
    name = StringField("Navn", validators=[DataRequired(REQUIRED), Length(max=100)])
    sami_name = StringField("Samisk parallellnavn", validators=[Optional(), Length(max=100)],
                            description="Bare hvis kommunen har et offisielt samisk navn, for eksempel Snåase.")
    county_id = SelectField("Fylke", coerce=int, validators=[DataRequired("Velg fylke.")])


class MergerForm(FlaskForm):
    predecessor_ids = MultiCheckboxField("Kommuner som slås sammen", coerce=int,
                                         validators=[DataRequired("Velg minst én kommune som slås sammen.")])
    successor_id = SelectField("Ny eller videreført kommune", coerce=int,
                               validators=[DataRequired("Velg kommunen det slås sammen til.")],
                               description="Opprett den nye kommunen først hvis den ikke finnes.")
    effective_date = DateField("Gjelder fra", validators=[DataRequired("Skriv datoen sammenslåingen gjelder fra.")],
                               description="Den første dagen den nye kommunen finnes, for eksempel 1. januar 2020.")


class BaseForm(FlaskForm):
    name = StringField("Navn", validators=[DataRequired(REQUIRED), Length(max=120)])
    description = TextAreaField("Beskrivelse", validators=[Optional(), Length(max=4000)])


class MembershipForm(FlaskForm):
    municipality_id = SelectField("Kommune", coerce=int, validators=[DataRequired("Velg kommune.")])


class ServiceForm(FlaskForm):
    name = StringField("Navn", validators=[DataRequired(REQUIRED), Length(max=160)])
    kind = SelectField("Type tjeneste", choices=[SelectChoice(k, v) for k, v in SERVICE_KINDS.items()],
                       validators=[DataRequired("Velg type tjeneste.")])
    host_municipality_id = SelectField("Vertskommune", coerce=optional_id,
                                       validators=[DataRequired("En tjeneste må ha en vertskommune.")])
    served_ids = MultiCheckboxField("Kommuner tjenesten betjener", coerce=int,
                                    description="Vertskommunen tas alltid med.")
    email = EmailField("E-post", validators=[Optional(), Email(EMAIL)])
    phone = StringField("Telefon (sentralbord)", validators=[Optional(), Length(max=30)])
    description = TextAreaField("Beskrivelse", validators=[Optional(), Length(max=4000)])


class UnitForm(FlaskForm):
    name = StringField("Navn", validators=[DataRequired(REQUIRED), Length(max=160)])
    municipality_id = SelectField("Kommune", coerce=optional_id, validators=[Optional()])


class ContactForm(FlaskForm):
    name = StringField("Navn", validators=[DataRequired(REQUIRED), Length(max=160)])
    role = StringField("Rolle", validators=[Optional(), Length(max=160)],
                       description="For eksempel BTI-koordinator eller barnevernleder.")
    service_id = SelectField("Tjeneste", coerce=optional_id, validators=[Optional()])
    email = EmailField("E-post", validators=[Optional(), Email(EMAIL)])
    phone = StringField("Telefon", validators=[Optional(), Length(max=30)])


class ImportForm(FlaskForm):
    kind = SelectField("Hva importeres", choices=[
        SelectChoice("municipalities", "Kommuner"), SelectChoice("memberships", "Medlemskap i kompetansebaser"),
        SelectChoice("services", "Tjenester"), SelectChoice("contacts", "Kontaktpersoner")],
        validators=[DataRequired("Velg hva du importerer.")])
    file = FileField("CSV-fil", validators=[FileRequired("Velg en CSV-fil.")],
                     description="UTF-8, komma eller semikolon som skilletegn, første linje med kolonnenavn.")
