"""Secrets in links (invitations, password resets, registration confirmations, calendar feeds):
random, URL-safe, and stored only as a SHA-256 hash, so a copy of the database opens nothing."""

import hashlib
import secrets


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """(token to put in the link, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)
