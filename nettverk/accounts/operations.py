"""Account changes: login with throttling, invitations, password reset, roles.

Tokens are random, sent once by e-mail, and stored only as their SHA-256, so a database leak
gives no working links. Every token is single-use and expires.
"""

import re
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from sqlmodel import Session, delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from nettverk.accounts.models import AccountToken, LoginAttempt, RoleAssignment, User
from nettverk.activity import record
from nettverk.errors import OperationError
from nettverk.mail.operations import CLIENT, mail_limit, queue_mail
from nettverk.policy import ROLE_SCOPES, ROLES, can_grant, is_admin
from nettverk.registry.models import CompetenceBase, Municipality, Service
from nettverk.timeutil import utcnow
from nettverk.tokens import hash_token, new_token

INVITATION, PASSWORD_RESET = "invitation", "password_reset"
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """scrypt (werkzeug's default); the test suite sets a cheap method to stay fast."""
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"
    return generate_password_hash(password, method=method)


# Checked against when the account does not exist, so a wrong e-mail costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalise_email(email: str, field: str = "email") -> str:
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise OperationError("Skriv en gyldig e-postadresse, for eksempel navn@kommune.no.", field) from exc


def user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == (email or "").strip().lower())).first()


# zxcvbn's dictionaries are English; these words of ours make a password as easy to guess as a common one.
SITE_WORDS = [
    "nettverk",
    "passord",
    "barnevern",
    "kommune",
    "kompetansebase",
    "fagdag",
    "trondelag",
    "trøndelag",
    "norge",
    "sommer",
    "vinter",
    "høst",
    "vår",
]
MIN_PASSWORD_SCORE = 3  # zxcvbn: 3 is «safely unguessable» (about 10^8 guesses and more)
TOO_EASY = (
    "Passordet er for lett å gjette: det ligner et vanlig passord, eller bygger på navnet, e-postadressen "
    "eller ord og årstall mange bruker. Bruk heller en setning av tre–fire ord som ikke hører sammen, for "
    "eksempel «grønn sykkel under fjellet»."
)


def _check_password(password: str, user: User | None = None, field: str = "password") -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise OperationError(f"Passordet må ha minst {MIN_PASSWORD_LENGTH} tegn.", field)
    if user is not None and password.strip().lower() == user.email:
        raise OperationError("Passordet kan ikke være e-postadressen din.", field)
    personal = [user.email, user.name, *re.split(r"[\s.@_-]+", f"{user.name} {user.email}")] if user else []
    # zxcvbn refuses more than 72 characters; the first 72 of a long one say enough about it.
    if zxcvbn(password[:72], user_inputs=[*filter(None, personal), *SITE_WORDS])["score"] < MIN_PASSWORD_SCORE:
        raise OperationError(TOO_EASY, field)
    return hash_password(password)


# Login --------------------------------------------------------------------------------------------


def authenticate(session: Session, email: str, password: str, address: str, config) -> User:
    """Return the user, or raise OperationError (401 wrong, 429 locked). Failures are committed at
    once so that the count holds even though the refused request itself rolls back."""
    email = (email or "").strip().lower()
    since = utcnow() - timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])
    failures = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at >= since)
    by_account = session.exec(failures.where(LoginAttempt.email == email)).one()
    by_address = session.exec(failures.where(LoginAttempt.address == address)).one()
    if by_account >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] or by_address >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        raise OperationError(
            f"For mange mislykkede forsøk. Vent {config['LOGIN_LOCKOUT_MINUTES']} minutter og "
            "prøv igjen, eller be om nytt passord.",
            status=429,
        )
    user = user_by_email(session, email)
    valid = check_password_hash(user.password_hash if user and user.password_hash else _DUMMY_HASH, password or "")
    if not (valid and user and user.is_active and user.password_hash):
        session.add(LoginAttempt(email=email[:254], address=address[:64]))
        # Attempts older than the window no longer count: clear them as we go.
        session.execute(delete(LoginAttempt).where(LoginAttempt.at < since))
        session.commit()
        raise OperationError("Feil e-post eller passord.", status=401)
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    user.last_login_at = utcnow()
    session.add(user)
    return user


# Invitations and tokens ---------------------------------------------------------------------------


def _issue_token(session: Session, user: User, purpose: str, lifetime: timedelta, created_by_id=None) -> str:
    """A new link for this purpose replaces any earlier unused one."""
    for old in session.exec(
        select(AccountToken).where(
            AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None)
        )
    ):
        old.used_at = utcnow()
        session.add(old)
    token, token_hash = new_token()
    session.add(
        AccountToken(
            purpose=purpose,
            token_hash=token_hash,
            user_id=user.id,
            expires_at=utcnow() + lifetime,
            created_by_id=created_by_id,
        )
    )
    session.flush()
    return token


def token_user(session: Session, token: str, purpose: str) -> tuple[AccountToken, User]:
    """The unused, unexpired token and its user; 404 for unknown, 410 for used or expired."""
    row = session.exec(
        select(AccountToken).where(AccountToken.token_hash == hash_token(token or ""), AccountToken.purpose == purpose)
    ).first()
    if row is None:
        raise OperationError("Lenken er ugyldig. Sjekk at du har kopiert hele lenken.", status=404)
    if row.used_at is not None:
        raise OperationError("Lenken er allerede brukt. Be om en ny hvis du trenger det.", status=410)
    if row.expires_at < utcnow():
        raise OperationError("Lenken er utløpt. Be om en ny.", status=410)
    return row, session.get(User, row.user_id)


def validate_scope(session: Session, role: str, base_id=None, municipality_id=None, service_id=None) -> dict:
    """The scope columns for a role, checked to exist; other scope columns are cleared."""
    if role not in ROLES:
        raise OperationError("Velg en rolle fra listen.", "role")
    scope = ROLE_SCOPES[role]
    values = {"base_id": None, "municipality_id": None, "service_id": None}
    if scope is None:
        return values
    model, value, label = {
        "base": (CompetenceBase, base_id, "kompetansebase"),
        "municipality": (Municipality, municipality_id, "kommune"),
        "service": (Service, service_id, "tjeneste"),
    }[scope]
    if value is None or session.get(model, value) is None:
        raise OperationError(f"Rollen {ROLES[role].lower()} gjelder én {label}: velg hvilken.", f"{scope}_id")
    values[f"{scope}_id"] = value
    return values


def grant_role(session: Session, actor_id: int | None, user: User, role: str, **scope) -> RoleAssignment:
    scope = validate_scope(session, role, **scope)
    existing = session.exec(
        select(RoleAssignment).where(
            RoleAssignment.user_id == user.id,
            RoleAssignment.role == role,
            RoleAssignment.base_id == scope["base_id"],
            RoleAssignment.municipality_id == scope["municipality_id"],
            RoleAssignment.service_id == scope["service_id"],
        )
    ).first()
    if existing is not None:
        return existing
    assignment = RoleAssignment(user_id=user.id, role=role, **scope)
    session.add(assignment)
    session.flush()
    record(session, actor_id, "role.granted", user, f"{ROLES[role]} til {user.email}")
    return assignment


def revoke_role(session: Session, actor_id: int | None, assignment: RoleAssignment) -> None:
    user = session.get(User, assignment.user_id)
    if assignment.role == "admin":
        # Only active accounts count: a deactivated admin cannot log in to run the platform.
        others = session.exec(
            select(func.count())
            .select_from(RoleAssignment)
            .join(User, User.id == RoleAssignment.user_id)
            .where(RoleAssignment.role == "admin", RoleAssignment.id != assignment.id, User.is_active)
        ).one()
        if others == 0:
            raise OperationError("Dette er den siste administratoren og kan ikke fjernes.", status=409)
    session.delete(assignment)
    session.flush()
    record(session, actor_id, "role.revoked", user, f"{ROLES[assignment.role]} fra {user.email}")


def _within_reach(session: Session, actor: User, user: User) -> bool:
    """A non-admin may add a role only to an account whose every role they could have given themselves
    (can_grant, in its scope): never to the admin, another base's coordinator or another service's staff,
    whose access would otherwise be touched, and whose pending invitation link would be replaced."""
    if is_admin(actor):
        return True
    held = session.exec(select(RoleAssignment).where(RoleAssignment.user_id == user.id)).all()
    return all(
        can_grant(actor, r.role, base_id=r.base_id, municipality_id=r.municipality_id, service_id=r.service_id)
        for r in held
    )


def invite(session: Session, actor: User, email: str, name: str, role: str, lifetime_days: int, **scope) -> User:
    """Invite a person by e-mail into a role. An existing account just gets the role (and a notice)."""
    email = normalise_email(email)
    user = user_by_email(session, email)
    if user is not None and not _within_reach(session, actor, user):
        raise OperationError(
            f"{email} har allerede en konto med roller utenfor det du kan gi. Be en administrator om å gi rollen.",
            "email",
            403,
        )
    if user is None:
        user = User(email=email, name=(name or "").strip())
        session.add(user)
        session.flush()
    grant_role(session, actor.id, user, role, **scope)
    if user.password_hash:
        queue_mail(
            session,
            user.email,
            "Du har fått en ny rolle i nettverk",
            "role_granted",
            user=user,
            role=ROLES[role],
            actor=actor,
        )
    else:
        token = _issue_token(session, user, INVITATION, timedelta(days=lifetime_days), actor.id)
        queue_mail(
            session,
            user.email,
            "Invitasjon til nettverk",
            "invitation",
            user=user,
            token=token,
            actor=actor,
            role=ROLES[role],
            days=lifetime_days,
        )
    record(session, actor.id, "user.invited", user, f"{user.email} invitert som {ROLES[role]}")
    return user


def accept_invitation(session: Session, token: str, name: str, password: str) -> User:
    row, user = token_user(session, token, INVITATION)
    name = (name or "").strip()
    if not name:
        raise OperationError("Skriv navnet ditt.", "name")
    user.name = name  # before the check, which refuses a password built on it (a refusal rolls both back)
    user.password_hash = _check_password(password, user)
    row.used_at = utcnow()
    session.add_all([user, row])
    session.flush()
    record(session, user.id, "user.invitation_accepted", user, user.email)
    return user


TOO_MANY_MAILS = "Du har bedt om for mange e-poster den siste timen. Vent en stund og prøv igjen."


def request_password_reset(session: Session, email: str, lifetime_minutes: int, client: str) -> None:
    """Send a reset link if the account exists. The caller shows the same message either way,
    so the form cannot be used to find out who has an account; nor can the limits (mail_limit): an
    address that has had its resets this hour gets the same answer and no mail, a client 429."""
    limit = mail_limit(session, (email or "").strip().lower(), client)
    if limit == CLIENT:
        raise OperationError(TOO_MANY_MAILS, status=429)
    user = user_by_email(session, email)
    if limit or user is None or not user.is_active or not user.password_hash:
        return
    token = _issue_token(session, user, PASSWORD_RESET, timedelta(minutes=lifetime_minutes))
    queue_mail(
        session,
        user.email,
        "Nytt passord i nettverk",
        "password_reset",
        user=user,
        token=token,
        minutes=lifetime_minutes,
    )


def reset_password(session: Session, token: str, password: str) -> User:
    row, user = token_user(session, token, PASSWORD_RESET)
    user.password_hash = _check_password(password, user)
    user.session_version += 1
    row.used_at = utcnow()
    session.add_all([user, row])
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email))
    session.flush()
    record(session, user.id, "user.password_reset", user, user.email)
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash or _DUMMY_HASH, current or ""):
        raise OperationError("Nåværende passord er feil.", "current_password")
    user.password_hash = _check_password(new, user, "new_password")
    user.session_version += 1  # other sessions end; the view logs this one in again
    session.add(user)
    record(session, user.id, "user.password_changed", user, user.email)


def log_out(session: Session, user: User) -> None:
    """End every session of the user at once. The login cookie is signed but kept by the browser, so a copy
    of it would work until it expires; it carries session_version, which then no longer matches."""
    user.session_version += 1
    session.add(user)


def log_out_everywhere(session: Session, actor_id: int, user: User) -> None:
    """«Logg ut overalt», by the user or by the admin for them (a lost phone, a shared computer)."""
    log_out(session, user)
    record(session, actor_id, "user.logged_out_everywhere", user, user.email)


def set_active(session: Session, actor_id: int, user: User, active: bool) -> None:
    if actor_id == user.id and not active:
        raise OperationError("Du kan ikke deaktivere din egen konto.", status=409)
    user.is_active = active
    user.session_version += 1
    session.add(user)
    record(session, actor_id, "user.activated" if active else "user.deactivated", user, user.email)


def create_admin(session: Session, email: str, name: str, password: str) -> User:
    """The first admin, from the command line (nettverk create-admin)."""
    email = normalise_email(email)
    user = user_by_email(session, email) or User(email=email)
    user.name = (name or user.name or email).strip()
    user.password_hash = _check_password(password, user)
    user.session_version = (user.session_version or 0) + 1
    user.is_active = True
    session.add(user)
    session.flush()
    grant_role(session, None, user, "admin")
    return user
