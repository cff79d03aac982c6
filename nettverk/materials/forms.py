"""Forms of the materials library."""

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from nettverk.forms import Form, InWindow, MultiCheckboxField, NoIdentifyingData, optional_id
from nettverk.materials.models import MATERIAL_AUDIENCES
from nettverk.materials.storage import ACCEPT, ALLOWED_TEXT
from nettverk.privacy.identity import PUBLIC
from nettverk.timeutil import EARLIEST_RECORD_DAY


class MaterialForm(Form):
    title = StringField(
        "Tittel", validators=[DataRequired("Skriv en tittel."), Length(max=200), NoIdentifyingData(PUBLIC)]
    )
    description = TextAreaField(
        "Beskrivelse",
        validators=[Optional(), Length(max=4000), NoIdentifyingData(PUBLIC)],
        description="Hva materiellet er, og hvem det er nyttig for.",
    )
    author = StringField(
        "Laget av",
        validators=[Optional(), Length(max=200)],
        description="For eksempel foredragsholderen, kommunen eller fagmiljøet som laget det.",
    )
    published_on = DateField(
        "Dato", validators=[DataRequired("Skriv datoen materiellet er fra."), InWindow(EARLIEST_RECORD_DAY)]
    )
    audience = SelectField(
        "Hvem kan se det",
        choices=[SelectChoice(k, v) for k, v in MATERIAL_AUDIENCES.items()],
        validators=[DataRequired("Velg hvem materiellet er for.")],
    )
    network_id = SelectField(
        "Nettverk",
        coerce=optional_id,
        validate_choice=False,
        description="Bare når materiellet er for medlemmene i et nettverk.",
    )
    area_ids = MultiCheckboxField("Kompetanseområder", coerce=int, validate_choice=False)
    event_ids = MultiCheckboxField(
        "Samlinger",
        coerce=int,
        validate_choice=False,
        description="Samlingene materiellet er fra. Det vises på siden for samlingen etter at den er holdt.",
    )


class UploadForm(MaterialForm):
    file = FileField(
        "Fil",
        validators=[FileRequired("Velg en fil.")],
        description=f"Tillatt: {ALLOWED_TEXT}.",
        render_kw={"accept": ACCEPT},
    )
    note = StringField("Merknad til versjonen", validators=[Optional(), Length(max=500), NoIdentifyingData(PUBLIC)])


class VersionForm(Form):
    file = FileField(
        "Ny fil",
        validators=[FileRequired("Velg en fil.")],
        description=f"Den gamle versjonen blir liggende. Tillatt: {ALLOWED_TEXT}.",
        render_kw={"accept": ACCEPT},
    )
    note = StringField("Hva er endret", validators=[Optional(), Length(max=500), NoIdentifyingData(PUBLIC)])


class DeleteForm(Form):
    confirm = BooleanField(
        "Ja, slett materiellet og alle versjonene av filen",
        validators=[DataRequired("Kryss av for å bekrefte at du vil slette.")],
    )
