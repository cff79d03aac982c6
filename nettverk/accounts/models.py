"""Accounts: users, scoped roles, one-time tokens (invitation, password reset), login attempts."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from nettverk.timeutil import utcnow


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)  # stored lower-case
    name: str = Field(default="", max_length=160)
    password_hash: str | None = Field(default=None, max_length=255)  # None until the invitation is accepted
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    # Part of the login cookie: raising it (new password, deactivation) logs out every other session.
    session_version: int = Field(default=1)

    # flask-login's interface, written out so the model stays a plain table.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class RoleAssignment(SQLModel, table=True):
    """One role of one user, scoped to at most one base, municipality or service."""

    __tablename__ = "role_assignment"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    role: str = Field(max_length=30)
    base_id: int | None = Field(default=None, foreign_key="competence_base.id", index=True)
    municipality_id: int | None = Field(default=None, foreign_key="municipality.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="service.id", index=True)


class AccountToken(SQLModel, table=True):
    """A one-time link (invitation or password reset). Only the SHA-256 of the token is stored."""

    __tablename__ = "account_token"
    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(max_length=20)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class LoginAttempt(SQLModel, table=True):
    """Failed logins, counted per account and per address across all workers."""

    __tablename__ = "login_attempt"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, index=True)
    address: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)
