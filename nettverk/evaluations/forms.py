"""The evaluation form: two scores from 1 to 5 and an optional free text."""

from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, StopValidation

from nettverk.evaluations.models import MAX_COMMENT, SCORES
from nettverk.evaluations.operations import SCORE_MISSING
from nettverk.evaluations.queries import QUESTIONS, SCALE
from nettverk.forms import Form, NoIdentifyingData
from nettverk.privacy.identity import ANONYMOUS


def _score_or_none(value):
    """A radio button's value as a whole number; anything else (a hand-made request) as None."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


class ScoreRequired:
    """The answer is one of 1–5; the message says which is wrong: missing, or not one of them."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        if field.data is None:
            raise StopValidation(SCORE_MISSING)
        if field.data not in SCORES:
            raise StopValidation("Svaret må være et tall fra 1 til 5.")


def _score_field(name: str) -> RadioField:
    return RadioField(
        QUESTIONS[name],
        choices=[SelectChoice(n, f"{n} – {SCALE[n]}") for n in SCORES],
        coerce=_score_or_none,
        validate_choice=False,
        validators=[ScoreRequired()],
    )


class EvaluationForm(Form):
    overall = _score_field("overall")
    usefulness = _score_field("usefulness")
    comment = TextAreaField(
        "Vil du si noe mer? Hva var bra, og hva kan bli bedre?",
        validators=[
            Optional(),
            Length(max=MAX_COMMENT, message=f"Skriv høyst {MAX_COMMENT} tegn."),
            NoIdentifyingData(ANONYMOUS),
        ],
        description="Svaret er anonymt: koordinatorene ser ikke hvem som skrev hva. Ikke skriv navn på andre, "
        "og ingen opplysninger om barn eller familier.",
    )
