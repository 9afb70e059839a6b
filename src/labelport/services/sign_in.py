"""The web UI's sign-in: passwords (argon2 hashes) and server-side sessions.

A password is stored only as an argon2id hash (``passwords`` table); :func:`set_password` is the entry
point (a user sets their own; another user's needs an organization ADMIN). :func:`sign_in` checks an
email and password and opens a session: a random token for the cookie (the store keeps only its
SHA-256, like API keys) and a CSRF token that every form and state-changing request of the session
must carry. :func:`session` finds the user of a cookie's token; :func:`sign_out` deletes the session,
so a copied cookie stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import delete, select

from labelport.errors import LabelportError, NotFound, ValidationError
from labelport.services import permissions
from labelport.services.context import ActingContext
from labelport.services.users import find_user_pk
from labelport.store import schema
from labelport.store.engine import Store
from labelport.timeutil import format_ts, now_ts
from labelport.values import normalize_email

U, PW, S = schema.users, schema.passwords, schema.web_sessions

#: How long a session lasts after sign-in.
SESSION_DAYS = 14
#: The shortest password :func:`set_password` takes.
MIN_PASSWORD_LENGTH = 8


@cache
def _hasher() -> Any:
    """argon2's hasher (argon2id, its default parameters); imported on first use: argon2-cffi comes with
    the ``server`` extra."""
    try:
        from argon2 import PasswordHasher
    except ImportError:  # pragma: no cover - the server extra is missing
        raise LabelportError("Web UI passwords need argon2-cffi: pip install 'labelport[server]'.") from None
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so that the answer takes as long as for a known one."""
    return str(_hasher().hash("labelport: no such user"))


@dataclass(frozen=True)
class Session:
    """A signed-in browser: who it is and the CSRF token its requests carry."""

    email: str
    csrf_token: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def set_password(ctx: ActingContext, email: str, password: str) -> None:
    """Set the web UI password of the user ``email`` (one's own; another user's needs an organization
    ADMIN). The user's open sessions end: they sign in again with the new password."""
    address = normalize_email(email)
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"The password of {address!r} must have at least {MIN_PASSWORD_LENGTH} characters.")
    if password != password.strip() or any(ord(c) < 32 for c in password):
        raise ValidationError(
            f"The password of {address!r} may not start or end with spaces nor hold control characters "
            "(a trailing newline from a file? use --password-stdin, which drops one)."
        )
    hashed = _hasher().hash(password)
    with ctx.write() as tx:
        conn = tx.conn
        who = permissions.actor(ctx, conn)
        if address != who.email:
            permissions.require_organization_admin(ctx, conn, f"setting the password of {address!r}")
        user_pk = find_user_pk(conn, address)
        if user_pk is None:
            raise NotFound(
                f"User {address!r} does not exist in this store; create them first "
                "(client.create_user, or `labelport api-key create EMAIL`)."
            )
        conn.execute(delete(PW).where(PW.c.user_pk == user_pk))
        conn.execute(PW.insert().values(user_pk=user_pk, hash=hashed, updated_at=now_ts()))
        conn.execute(delete(S).where(S.c.user_pk == user_pk))


def sign_in(store: Store, email: str, password: str) -> tuple[str, Session] | None:
    """Open a session for ``email`` if ``password`` is theirs (and the user is activated); return the
    session token for the cookie (shown this once) and the session. None when refused, whatever the
    reason, so that a refusal does not tell which emails exist."""
    try:
        address = normalize_email(email)
    except ValidationError:
        address = ""
    with store.read() as conn:
        row = conn.execute(
            select(U.c.pk, U.c.email, U.c.activated, PW.c.hash)
            .join(PW, PW.c.user_pk == U.c.pk)
            .where(U.c.email == address)
        ).one_or_none()
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        _hasher().verify(_dummy_hash() if row is None else row.hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row.activated:
        return None
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with store.write() as conn:
        conn.execute(
            S.insert().values(
                token_hash=_token_hash(token),
                user_pk=row.pk,
                csrf_token=csrf,
                created_at=format_ts(now),
                expires_at=format_ts(now + timedelta(days=SESSION_DAYS)),
            )
        )
        conn.execute(delete(S).where(S.c.user_pk == row.pk, S.c.expires_at <= format_ts(now)))
    return token, Session(row.email, csrf)


def session(store: Store, token: str | None) -> Session | None:
    """The session of a cookie's token; None when there is none, or it ended, or its user is deactivated."""
    if not token or len(token) > 200:
        return None
    with store.read() as conn:
        row = conn.execute(
            select(U.c.email, U.c.activated, S.c.csrf_token, S.c.expires_at)
            .join(U, U.c.pk == S.c.user_pk)
            .where(S.c.token_hash == _token_hash(token))
        ).one_or_none()
    if row is None or not row.activated or row.expires_at <= now_ts():
        return None
    return Session(row.email, row.csrf_token)


def csrf_matches(found: Session, given: str | None) -> bool:
    """Whether a request's CSRF token is its session's (compared in constant time)."""
    return given is not None and hmac.compare_digest(found.csrf_token.encode(), given.encode("utf-8", "replace"))


def sign_out(store: Store, token: str | None) -> None:
    """End the session of this token (nothing happens when there is none)."""
    if not token:
        return
    with store.write() as conn:
        conn.execute(delete(S).where(S.c.token_hash == _token_hash(token)))
