"""The results of one gathering's evaluation, for its coordinators.

Masking (privacy.masking): with fewer than THRESHOLD answers (but some) the number of answers is shown as «færre enn 3»,
and the averages, the distributions and the free texts are not shown at all, so nobody can be
recognised from what they answered. The free texts are listed in alphabetical order, not in the order
they came, for the same reason. Three queries whatever the number of answers.
"""

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

from nettverk.evaluations.models import SCORES, Evaluation, EvaluationInvitation
from nettverk.events.models import Event
from nettverk.privacy.masking import THRESHOLD, is_small
from nettverk.text import norwegian_key

MASKED_TEXT = f"færre enn {THRESHOLD} svar"
QUESTIONS = {
    "overall": "Hvor fornøyd er du med arrangementet alt i alt?",
    "usefulness": "Hvor nyttig var det for arbeidet ditt?",
}
SCALE = {1: "Svært dårlig", 2: "Dårlig", 3: "Middels", 4: "Bra", 5: "Svært bra"}


@dataclass
class Question:
    name: str
    label: str
    average: float | None = None
    distribution: dict[int, int] = field(default_factory=dict)  # score -> number of answers


@dataclass
class Results:
    event: Event
    invited: int
    answered: int
    questions: list[Question]
    comments: list[str]

    @property
    def masked(self) -> bool:
        return is_small(self.answered)

    @property
    def answered_text(self) -> str:
        return MASKED_TEXT if self.masked else str(self.answered)


def average_text(value: float | None) -> str:
    """3.456 -> '3,5' (Norwegian decimal comma)."""
    return "–" if value is None else f"{value:.1f}".replace(".", ",")


def results(session: Session, event: Event) -> Results:
    invited = session.exec(
        select(func.count()).select_from(EvaluationInvitation).where(EvaluationInvitation.event_id == event.id)
    ).one()
    questions = [Question(name, label, distribution=dict.fromkeys(SCORES, 0)) for name, label in QUESTIONS.items()]
    answered = session.exec(select(func.count()).select_from(Evaluation).where(Evaluation.event_id == event.id)).one()
    if answered < THRESHOLD:  # nothing of the answers leaves the database
        return Results(event, invited, answered, questions, [])
    rows = session.exec(
        select(Evaluation.overall, Evaluation.usefulness, Evaluation.comment).where(Evaluation.event_id == event.id)
    ).all()
    comments = []
    for overall, usefulness, comment in rows:
        questions[0].distribution[overall] += 1
        questions[1].distribution[usefulness] += 1
        if comment:
            comments.append(comment)
    for question in questions:
        question.average = sum(score * n for score, n in question.distribution.items()) / answered
    return Results(event, invited, answered, questions, sorted(comments, key=norwegian_key))
