"""Personal calendar links: make, replace, switch off, and the reminder preference.

A link is `/kalender/personlig/<token>.ics`; only the SHA-256 of the token is stored, so a link is
shown once when it is made and never again. A person (a user, or a guest known only by the e-mail
address they confirmed a registration with) has at most one live link: a new one revokes the old,
and a revoked link answers 404 at once. The token itself is never logged or written to the change log.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, delete
from sqlmodel import Session, select

from nettverk.accounts.models import RoleAssignment, User
from nettverk.activity import ActivityLog, record
from nettverk.calendars.models import ALARM_CHOICES, CalendarFingerprint, CalendarToken, RenderedEvent
from nettverk.calendars.queries import GUEST_CALENDAR_NAME, external_url, in_window
from nettverk.db import lock_for_update
from nettverk.errors import OperationError
from nettverk.events.models import Event, Registration, RegistrationStatus
from nettverk.mail.operations import queue_mail
from nettverk.timeutil import utcnow
from nettverk.tokens import hash_token, new_token

# A new link by e-mail at most this often per address: the form is open to anyone, and every new
# link switches the old one off, so without a limit anyone could keep a guest's calendar broken.
MAIL_INTERVAL = timedelta(minutes=15)
GUEST_LINK_MAILED = "calendar.guest_link_mailed"
FINGERPRINTS_KEPT = timedelta(days=60)


@dataclass
class NewLink:
    row: CalendarToken
    token: str  # shown once, never stored
    replaced: bool  # a live link was switched off


def _live(owner_condition):
    return select(CalendarToken).where(owner_condition, CalendarToken.revoked_at.is_(None))


def _revoke_all(session: Session, tokens: list[CalendarToken]) -> None:
    now = utcnow()
    for token in tokens:
        token.revoked_at = now
        session.add(token)


# Users --------------------------------------------------------------------------------------------


def live_token_of_user(session: Session, user_id: int) -> CalendarToken | None:
    """The user's live link (the newest, should a race ever have left two)."""
    return session.exec(_live(CalendarToken.user_id == user_id).order_by(CalendarToken.id.desc())).first()


def create_token(session: Session, user: User) -> NewLink:
    """A new personal link for the user; any live one stops working, its reminder choice is kept.
    The caller shows the token once and then forgets it."""
    lock_for_update(session, User, user.id)  # two clicks at once must not leave two live links
    old = list(session.exec(_live(CalendarToken.user_id == user.id).order_by(CalendarToken.id)))
    _revoke_all(session, old)
    token, token_hash = new_token()
    row = CalendarToken(user_id=user.id, token_hash=token_hash, alarm_minutes=old[-1].alarm_minutes if old else None)
    session.add(row)
    session.flush()
    record(
        session, user.id, "calendar.token_created", row, "Ny kalenderlenke" + (", den gamle er slått av" if old else "")
    )
    return NewLink(row, token, bool(old))


def revoke_token(session: Session, user: User) -> None:
    old = list(session.exec(_live(CalendarToken.user_id == user.id)))
    if not old:
        raise OperationError("Du har ingen kalenderlenke som kan slås av.", status=409)
    _revoke_all(session, old)
    session.flush()
    record(session, user.id, "calendar.token_revoked", old[-1], "Kalenderlenken er slått av")


def set_alarm(session: Session, user: User, minutes: int | None) -> CalendarToken:
    """The reminder every event in the user's feed gets (None: none)."""
    if minutes not in ALARM_CHOICES:
        raise OperationError("Velg en påminnelse fra listen.", "alarm")
    token = live_token_of_user(session, user.id)
    if token is None:
        raise OperationError("Lag en kalenderlenke først, så kan du velge påminnelse.", "alarm", 409)
    token.alarm_minutes = minutes
    session.add(token)
    session.flush()
    record(session, user.id, "calendar.alarm_set", token, f"Påminnelse: {ALARM_CHOICES[minutes]}")
    return token


# Finding a link -----------------------------------------------------------------------------------


def live_token(session: Session, token: str) -> CalendarToken | None:
    """The live row for a token from a URL; a revoked or unknown token finds nothing."""
    if not token:
        return None
    return session.exec(_live(CalendarToken.token_hash == hash_token(token))).first()


@dataclass
class FeedOwner:
    """Whose feed a token opens, with what the personal scope needs."""

    token: CalendarToken
    email: str
    user_id: int | None
    name: str
    coordinated_base_ids: set[int] = field(default_factory=set)


def feed_owner(session: Session, token: str) -> FeedOwner | None:
    """The owner of a live token, read in one statement (token, user and the user's coordinator
    roles, as policy.scope_ids(user, "coordinator") would give them), so a calendar client's poll
    costs this and the feed's fingerprint. None for an unknown or revoked token, or a user who has
    been deactivated."""
    if not token:
        return None
    rows = session.exec(
        select(CalendarToken, User, RoleAssignment.base_id)
        .join(User, User.id == CalendarToken.user_id, isouter=True)
        .join(
            RoleAssignment,
            and_(RoleAssignment.user_id == CalendarToken.user_id, RoleAssignment.role == "coordinator"),
            isouter=True,
        )
        .where(CalendarToken.token_hash == hash_token(token), CalendarToken.revoked_at.is_(None))
    ).all()
    if not rows:
        return None
    row, user, _ = rows[0]
    if row.user_id is None:
        return FeedOwner(row, row.guest_email, None, GUEST_CALENDAR_NAME)
    if user is None or not user.is_active:
        return None
    bases = {base_id for _, _, base_id in rows if base_id is not None}
    return FeedOwner(row, user.email, user.id, user.name or user.email, bases)


# Guests -------------------------------------------------------------------------------------------


def _normal(email: str) -> str:
    return (email or "").strip().lower()


def is_confirmed_guest(session: Session, email: str) -> bool:
    """Has this address a registration made without an account and confirmed by the e-mail link?"""
    return (
        session.exec(
            select(Registration.id).where(
                Registration.email == _normal(email),
                Registration.user_id.is_(None),
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        ).first()
        is not None
    )


def live_token_of_guest(session: Session, email: str) -> CalendarToken | None:
    return session.exec(
        _live(and_(CalendarToken.user_id.is_(None), CalendarToken.guest_email == _normal(email))).order_by(
            CalendarToken.id.desc()
        )
    ).first()


def guest_token(session: Session, email: str, why: str = "") -> NewLink:
    """A new personal link for a confirmed guest; any live one stops working, its reminder is kept."""
    email = _normal(email)
    if not is_confirmed_guest(session, email):
        raise OperationError("Det finnes ingen bekreftet påmelding med den e-postadressen.", "email", 404)
    old = list(
        session.exec(
            _live(and_(CalendarToken.user_id.is_(None), CalendarToken.guest_email == email)).order_by(CalendarToken.id)
        )
    )
    _revoke_all(session, old)
    token, token_hash = new_token()
    row = CalendarToken(guest_email=email, token_hash=token_hash, alarm_minutes=old[-1].alarm_minutes if old else None)
    session.add(row)
    session.flush()
    record(
        session,
        None,
        "calendar.guest_token_created",
        row,
        (why or "Ny kalenderlenke for gjest") + (", den gamle er slått av" if old else ""),
    )
    return NewLink(row, token, bool(old))


def guest_token_after_confirmation(session: Session, registration: Registration) -> str | None:
    """Right after a guest confirmed: a link to show once if they have none yet, else None (their
    existing calendar shows the event by itself)."""
    if registration.user_id is not None or registration.status != RegistrationStatus.CONFIRMED:
        return None
    if live_token_of_guest(session, registration.email) is not None:
        return None
    return guest_token(session, registration.email, "Kalenderlenke laget da gjesten bekreftet").token


def mail_guest_link(session: Session, email: str) -> bool:
    """The form «Ny kalenderlenke»: if the address has a confirmed guest registration, make a new link
    (the old one stops working) and mail it. The caller answers the same either way, so the form
    does not tell who has registered. Returns whether a mail was queued (never for the answer)."""
    email = _normal(email)
    if not email or not is_confirmed_guest(session, email):
        return False
    recently = session.exec(
        select(ActivityLog.id)
        .join(CalendarToken, CalendarToken.id == ActivityLog.object_id)
        .where(
            ActivityLog.action == GUEST_LINK_MAILED,
            ActivityLog.object_type == CalendarToken.__name__,
            ActivityLog.at >= utcnow() - MAIL_INTERVAL,
            CalendarToken.guest_email == email,
        )
    ).first()
    if recently is not None:
        return False
    link = guest_token(session, email, "Ny kalenderlenke bestilt på e-post")
    name = (
        session.exec(
            select(Registration.name)
            .where(Registration.email == email, Registration.user_id.is_(None))
            .order_by(Registration.id.desc())
        ).first()
        or ""
    )
    queue_mail(
        session,
        email,
        "Din nye kalenderlenke i nettverk",
        "calendar_link",
        name=name,
        feed_url=external_url("calendars.personal_feed", token=link.token),
    )
    record(session, None, GUEST_LINK_MAILED, link.row, "Ny kalenderlenke sendt på e-post")
    return True


# What the feeds keep in the database -------------------------------------------------------------


def prune_stored(session: Session, now) -> int:
    """Delete the stored VEVENTs of events no feed shows any more (deleted, or out of every feed's window), and
    the fingerprints of feeds nobody has polled for FINGERPRINTS_KEPT (a revoked link's, a merged
    municipality's). A polled feed's row stays: its Last-Modified continues from it (queries.last_modified_of).
    Returns how many rows went."""
    shown = select(Event.id).where(in_window(now))
    events = session.exec(delete(RenderedEvent).where(RenderedEvent.event_id.not_in(shown)))
    fingerprints = session.exec(
        delete(CalendarFingerprint).where(CalendarFingerprint.computed_at < now - FINGERPRINTS_KEPT)
    )
    return events.rowcount + fingerprints.rowcount
