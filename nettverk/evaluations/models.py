"""Evaluations after a gathering: the personal link each participant gets, and their one answer.

The link's secret is stored only as a hash (tokens.py). An answer is anonymous in the database too: it names
its event, not the invitation or the person it came through, and has no time. The invitation only records that
it has been answered (operations.claim sets the flag with one conditional UPDATE), which keeps one answer per
participant, also when two arrive at once. How the two are kept apart on PostgreSQL (system columns, order):
see operations.answer.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from nettverk.events.models import EventKind
from nettverk.timeutil import utcnow

# The kinds of gathering whose participants are asked to evaluate it.
EVALUATED_KINDS = (EventKind.FAGDAG, EventKind.KURS)
SCORES = range(1, 6)  # 1 (svært dårlig) to 5 (svært bra)
MAX_COMMENT = 2000


class EvaluationInvitation(SQLModel, table=True):
    """One registration's link to the evaluation of its event (made when the link is mailed)."""

    __tablename__ = "evaluation_invitation"
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    registration_id: int = Field(foreign_key="registration.id", unique=True)
    token_hash: str = Field(max_length=64, unique=True)  # SHA-256 hex of the link's secret
    created_at: datetime = Field(default_factory=utcnow)
    answered: bool = False  # no time: it would tell which answer (by its created_at) was whose


class Evaluation(SQLModel, table=True):
    """An answer, linked to nothing but its event; no time, and its id says nothing of when it came (the event's
    answers are written anew in random order with every answer)."""

    __table_args__ = (
        CheckConstraint("overall BETWEEN 1 AND 5", name="ck_evaluation_overall"),
        CheckConstraint("usefulness BETWEEN 1 AND 5", name="ck_evaluation_usefulness"),
    )
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    overall: int
    usefulness: int
    comment: str = Field(default="", max_length=MAX_COMMENT)
