"""Settings from NETTVERK_* environment variables, in one place.

Defaults run locally; production refuses to start without a real secret key.
"""

import os
from pathlib import Path

DEV_SECRET = "dev-only-secret-not-for-production"  # noqa: S105 - deliberately public, dev only
ENVIRONMENTS = ("production", "development", "test")


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on", "ja")


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} må være et heltall, ikke {raw!r}") from exc


def load_settings(env: dict | None = None, instance_path: str | None = None) -> dict:
    """Read every setting the app uses from the environment and return Flask config keys."""
    env = dict(os.environ if env is None else env)
    mode = env.get("NETTVERK_ENV", "production")
    if mode not in ENVIRONMENTS:
        raise ConfigError(f"NETTVERK_ENV må være en av {', '.join(ENVIRONMENTS)}, ikke {mode!r}")
    instance = Path(instance_path or env.get("NETTVERK_INSTANCE_PATH") or Path.cwd() / "instance")
    secret = env.get("NETTVERK_SECRET_KEY", "")
    if mode == "production":
        if len(secret) < 32 or secret == DEV_SECRET:
            raise ConfigError(
                "NETTVERK_SECRET_KEY må i produksjon være en tilfeldig verdi på minst 32 tegn "
                "(for eksempel: python -c 'import secrets; print(secrets.token_urlsafe(48))'). "
                "For lokal utvikling: sett NETTVERK_ENV=development."
            )
    elif not secret:
        secret = DEV_SECRET
    production = mode == "production"
    retention_months = _int(env, "NETTVERK_REFERRAL_RETENTION_MONTHS", 12)
    if retention_months < 1:
        raise ConfigError(f"NETTVERK_REFERRAL_RETENTION_MONTHS må være minst 1, ikke {retention_months}")
    horizon_months = _int(env, "NETTVERK_PLANNING_HORIZON_MONTHS", 6)
    if not 1 <= horizon_months <= 36:  # networks.operations.plan_meetings plans at most three years ahead
        raise ConfigError(f"NETTVERK_PLANNING_HORIZON_MONTHS må være mellom 1 og 36, ikke {horizon_months}")
    follow_up_days = _int(env, "NETTVERK_REFERRAL_FOLLOW_UP_DAYS", 3)
    if follow_up_days < 1:
        raise ConfigError(f"NETTVERK_REFERRAL_FOLLOW_UP_DAYS må være minst 1, ikke {follow_up_days}")
    materials_max_mb = _int(env, "NETTVERK_MATERIALS_MAX_MB", 50)
    if materials_max_mb < 1:
        raise ConfigError(f"NETTVERK_MATERIALS_MAX_MB må være minst 1, ikke {materials_max_mb}")
    evaluation_days = _int(env, "NETTVERK_EVALUATION_DAYS", 14)
    if evaluation_days < 1:
        raise ConfigError(f"NETTVERK_EVALUATION_DAYS må være minst 1, ikke {evaluation_days}")
    return {
        "NETTVERK_ENV": mode,
        "SECRET_KEY": secret,
        "DATABASE_URL": env.get("NETTVERK_DATABASE_URL") or f"sqlite:///{instance / 'nettverk.db'}",
        "INSTANCE_DIR": str(instance),
        "BASE_URL": env.get("NETTVERK_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_FROM": env.get("NETTVERK_MAIL_FROM", "nettverk <ikke-svar@nettverk.localhost>"),
        "SMTP_HOST": env.get("NETTVERK_SMTP_HOST", ""),
        "SMTP_PORT": _int(env, "NETTVERK_SMTP_PORT", 587),
        "SMTP_USER": env.get("NETTVERK_SMTP_USER", ""),
        "SMTP_PASSWORD": env.get("NETTVERK_SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool(env.get("NETTVERK_SMTP_STARTTLS"), default=True),
        "SMTP_TIMEOUT": _int(env, "NETTVERK_SMTP_TIMEOUT", 10),
        "INVITATION_DAYS": _int(env, "NETTVERK_INVITATION_DAYS", 7),
        "PASSWORD_RESET_MINUTES": _int(env, "NETTVERK_PASSWORD_RESET_MINUTES", 60),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": _int(env, "NETTVERK_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _int(env, "NETTVERK_LOGIN_MAX_FAILURES_PER_ADDRESS", 20),
        "LOGIN_LOCKOUT_MINUTES": _int(env, "NETTVERK_LOGIN_LOCKOUT_MINUTES", 15),
        # Mail that anyone can ask for to an address they type (password reset, guest registration), per hour.
        "MAIL_MAX_PER_ADDRESS": _int(env, "NETTVERK_MAIL_MAX_PER_ADDRESS", 3),
        "MAIL_MAX_PER_CLIENT": _int(env, "NETTVERK_MAIL_MAX_PER_CLIENT", 20),
        # Closed, declined and withdrawn referrals lose their free text after this many months.
        "REFERRAL_RETENTION_MONTHS": retention_months,
        # The scheduler keeps each network's cadence planned as drafts this many months ahead.
        "PLANNING_HORIZON_MONTHS": horizon_months,
        # A sent referral not received within this many working days reminds the team (twice as many: its leader).
        "REFERRAL_FOLLOW_UP_DAYS": follow_up_days,
        # Participants may answer the evaluation of a fagdag or kurs until this many days after its end.
        "EVALUATION_DAYS": evaluation_days,
        # A worker answers a feed poll it has seen from memory while the data version stands still, and reads
        # the version again after this many milliseconds: a change reaches every worker's answers within it.
        # The tests read it on every poll (0), unless a test sets it.
        "FEED_VERSION_MS": _int(env, "NETTVERK_FEED_VERSION_MS", 0 if mode == "test" else 1000),
        "TRUST_PROXY": _bool(env.get("NETTVERK_TRUST_PROXY")),
        # Cookies: secure outside development, never readable from JavaScript.
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        # The whole request: the largest upload, plus room for the other fields of a multipart form.
        "MAX_CONTENT_LENGTH": (max(_int(env, "NETTVERK_MAX_UPLOAD_MB", 50), materials_max_mb) + 1) * 1024 * 1024,
        # The materials library (kompetansebank): files outside the database, in a folder all workers share.
        "MATERIALS_DIR": env.get("NETTVERK_MATERIALS_DIR") or str(instance / "materials"),
        "MATERIALS_MAX_BYTES": materials_max_mb * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "WTF_I18N_ENABLED": False,  # forms take bokmål messages from WTForms itself (nettverk.forms.Form)
    }
