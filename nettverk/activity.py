"""The change log: every operation that changes shared data writes one line (who, what, when).

Referral audit is separate and stricter (referrals module); this log never holds referral content.
"""

from datetime import datetime

from sqlmodel import Field, Session, SQLModel

from nettverk.timeutil import utcnow


class ActivityLog(SQLModel, table=True):
    __tablename__ = "activity_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    action: str = Field(max_length=60)
    object_type: str = Field(max_length=40)
    object_id: int | None = None
    summary: str = Field(default="", max_length=1000)


def record(session: Session, actor_id: int | None, action: str, obj, summary: str = "") -> None:
    session.add(
        ActivityLog(
            actor_id=actor_id,
            action=action,
            object_type=type(obj).__name__,
            object_id=getattr(obj, "id", None),
            summary=summary[:1000],
        )
    )
