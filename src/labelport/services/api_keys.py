"""API keys: what the server (``labelport serve``) authenticates requests with.

A key is ``lp_`` followed by 43 URL-safe characters (``secrets.token_urlsafe(32)``: 256 random bits).
The store keeps only its SHA-256 (``api_keys.key_hash``) and its first :data:`PREFIX_LENGTH`
characters, which are not secret and tell keys apart in listings. The key itself is returned once,
by :func:`create_api_key`, and nothing else returns, stores or logs it.

Entry points (one transaction each, permissions checked): :func:`create_api_key`,
:func:`list_api_keys`, :func:`revoke_api_key`. A user may create, list and revoke their own keys;
doing so for another user needs an organization ADMIN, who may also create a key for an email the
store does not know yet (the user is then created, with the organization role USER).

For the server, per request (functions of the store, not entry points): :func:`key_from_headers`,
:func:`authenticate` and :func:`find_key` (the record the GraphQL ``apiKeys(where: {key})`` query
answers with, ``expiryDate`` in Kili's exact format ``%Y-%m-%dT%H:%M:%S.%fZ``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, select, update

from labelport.enums import OrganizationRole, parse_enum
from labelport.errors import NotFound, ValidationError, in_words_of
from labelport.ids import new_id
from labelport.services import permissions
from labelport.services.context import ActingContext
from labelport.services.users import acting_user_pk, find_user_pk, insert_user
from labelport.store import schema
from labelport.store.engine import Store
from labelport.timeutil import now_ts, parse_ts
from labelport.values import check_text, normalize_email, shown

K, U = schema.api_keys, schema.users

#: What every key starts with, so that a leaked one is recognizable (e.g. by secret scanners).
KEY_PREFIX = "lp_"
#: How many of a key's first characters are stored and listed to tell keys apart (not secret).
PREFIX_LENGTH = 8
#: The expiry of a key created without one: far in the future.
DEFAULT_EXPIRY = "2099-12-31T23:59:59.000Z"
#: A key as :func:`new_key` makes them: anything else is refused without a database lookup.
_KEY = re.compile(r"lp_[A-Za-z0-9_-]{43}")
#: An ``X-API-Key`` value: one token, spaces around it allowed.
_TOKEN = re.compile(r"\s*(\S+)\s*")
#: ``Authorization`` values that carry a key: Kili's ``X-API-Key: <key>``, and ``Bearer <key>``.
_AUTHORIZATION = re.compile(r"\s*(?:x-api-key\s*:\s*|x-api-key\s+|bearer\s+)(\S+)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Authenticated:
    """Who a request's API key belongs to (never the key itself)."""

    email: str
    user_id: str
    organization_role: str
    key_id: str
    #: When the key stops working, in Kili's format (``2099-12-31T23:59:59.000Z``).
    expiry_date: str


# -- keys -----------------------------------------------------------------------------------------------


def new_key() -> str:
    """A new key: the prefix and 256 random bits, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    """The SHA-256 of a key, in hex: what the store keeps. A fast hash is right here, unlike for
    passwords: a key is 256 random bits, so no amount of hashing speed makes guessing one feasible,
    and a slow hash would only slow every request down."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def _is_key(value: object) -> bool:
    return isinstance(value, str) and _KEY.fullmatch(value) is not None


# -- entry points -------------------------------------------------------------------------------------


def create_api_key(
    ctx: ActingContext,
    email: str,
    name: str | None = None,
    *,
    expiry_date: str | date | None = None,
    organization_role: str = OrganizationRole.USER,
) -> str:
    """Create an API key for the user ``email``; return the key, which is shown this once only.

    A user may create keys for themselves; for another user (created, with ``organization_role``, when
    the email is new) it needs an organization ADMIN. ``expiry_date``: a date (the end of that day, UTC)
    or an ISO date-time in the future; default :data:`DEFAULT_EXPIRY`."""
    role = parse_enum(OrganizationRole, organization_role, "organization_role")
    address = normalize_email(email)
    label = "" if name is None else check_text(name, "API key name", kind="name", printable=True)
    expiry = _expiry(expiry_date)
    with ctx.write() as tx:
        conn = tx.conn
        if address == normalize_email(ctx.user_email):
            permissions.actor(ctx, conn)  # a deactivated user may not make themselves a key
            user_pk = acting_user_pk(ctx, tx)
        else:
            permissions.require_organization_admin(ctx, conn, f"creating an API key for {address!r}")
            user_pk = _user_for_new_key(conn, address, role)
        key = new_key()
        conn.execute(
            K.insert().values(
                id=new_id(),
                user_pk=user_pk,
                name=label,
                key_hash=key_hash(key),
                prefix=key[:PREFIX_LENGTH],
                created_at=now_ts(),
                expiry_date=expiry,
                revoked_at=None,
            )
        )
    return key


def list_api_keys(ctx: ActingContext, email: str | None = None) -> list[dict[str, Any]]:
    """The API keys of the user ``email`` (None: every key the acting user may see: all of them for an
    organization ADMIN, else their own), in creation order, without the keys: ``id``, ``name``,
    ``prefix``, ``user`` (``id``, ``email``), ``createdAt``, ``expiryDate``, ``revoked``, ``revokedAt``.
    Another user's keys need an organization ADMIN."""
    address = None if email is None else normalize_email(email)
    where: list[ColumnElement[bool]]
    with ctx.read() as conn:
        who = permissions.actor(ctx, conn)
        if address is None:
            if who.organization_admin:
                where = []
            elif who.pk is None:  # a client's user not stored yet has no keys
                return []
            else:
                where = [K.c.user_pk == who.pk]
        else:
            if address != who.email:
                permissions.require_organization_admin(ctx, conn, f"listing the API keys of {address!r}")
            user_pk = find_user_pk(conn, address)
            if user_pk is None and address == who.email:  # a client's user not stored yet has no keys
                return []
            if user_pk is None:
                listing = in_words_of(
                    "list the users with client.users()",
                    "the users are the projects' members (`labelport project member list --project-id …`)",
                )
                raise NotFound(f"User {address!r} does not exist in this store; {listing}.")
            where = [K.c.user_pk == user_pk]
        rows = conn.execute(_records().where(*where).order_by(K.c.pk)).all()
    return [_record(row) for row in rows]


def revoke_api_key(ctx: ActingContext, key_id: str) -> dict[str, Any]:
    """Revoke an API key (the server refuses it from then on); return its record (see
    :func:`list_api_keys`). Revoking a revoked key changes nothing. Another user's key needs an
    organization ADMIN."""
    if not isinstance(key_id, str) or not key_id:
        raise ValidationError(f"key_id must be an API key id string, got {shown(key_id)}.")
    check_text(key_id, "key_id")
    with ctx.write() as tx:
        conn = tx.conn
        who = permissions.actor(ctx, conn)
        row = conn.execute(_records().where(K.c.id == key_id)).one_or_none()
        if row is None:
            listing = in_words_of("client.api_keys() or `labelport api-key list`", "`labelport api-key list`")
            raise NotFound(f"API key {key_id!r} does not exist; list the keys with {listing}.")
        if row.email != who.email:
            permissions.require_organization_admin(ctx, conn, f"revoking API key {key_id!r} of {row.email!r}")
        if row.revoked_at is None:
            conn.execute(update(K).where(K.c.id == key_id).values(revoked_at=now_ts()))
            row = conn.execute(_records().where(K.c.id == key_id)).one()
    return _record(row)


# -- for the server, per request ------------------------------------------------------------------------


def key_from_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> str | None:
    """The API key a request carries: ``Authorization: X-API-Key: <key>`` (Kili's form),
    ``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` (header names in any case). None when it
    carries none, or when its headers name two different keys."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    found: set[str] = set()
    for name, value in pairs:
        header = name.lower()
        if header == "authorization":
            match = _AUTHORIZATION.fullmatch(value)
            if match is not None:
                found.add(match.group(1))
        elif header == "x-api-key":
            match = _TOKEN.fullmatch(value)
            if match is not None:
                found.add(match.group(1))
    return found.pop() if len(found) == 1 else None


def authenticate(store: Store, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> Authenticated | None:
    """Who the request's API key (see :func:`key_from_headers`) belongs to; None when there is no key,
    or it is unknown, revoked or expired, or its user is deactivated. The server answers None with
    HTTP 401."""
    key = key_from_headers(headers)
    if key is None or not _is_key(key):
        return None
    with store.read() as conn:
        row = _lookup(conn, key)
    if row is None or row.revoked_at is not None or row.expiry_date <= now_ts() or not row.activated:
        return None
    return Authenticated(row.email, row.user_id, row.organization_role, row.id, row.expiry_date)


def find_key(store: Store, key: str) -> dict[str, Any] | None:
    """The record of the key (as :func:`list_api_keys` gives it; revoked and expired keys too), None
    when the store has no such key: what the GraphQL ``apiKeys(where: {key})`` query answers with.
    The record never holds the key."""
    if not _is_key(key):
        return None
    with store.read() as conn:
        row = _lookup(conn, key)
    return None if row is None else _record(row)


# -- helpers --------------------------------------------------------------------------------------------


def _expiry(value: str | date | None) -> str:
    if value is None:
        return DEFAULT_EXPIRY
    expiry = parse_ts(value, "expiry_date", end_of_day=True)
    if expiry <= now_ts():
        raise ValidationError(
            f"expiry_date {expiry} is not in the future; give a later date (or none: {DEFAULT_EXPIRY})."
        )
    return expiry


def _user_for_new_key(conn: Connection, address: str, role: str) -> int:
    """The user a new key is for, created (with the organization ``role``) when the email is new."""
    row = conn.execute(select(U.c.pk, U.c.activated).where(U.c.email == address)).one_or_none()
    if row is None:
        pk, _user_id = insert_user(conn, address, organization_role=role)
        return pk
    if not row.activated:
        raise ValidationError(f"User {address!r} is deactivated: the server refuses their keys, so none is created.")
    return int(row.pk)


def _records() -> Select[Any]:
    """The columns of a key's record, with its user."""
    return select(
        K.c.id,
        K.c.name,
        K.c.prefix,
        K.c.key_hash,
        K.c.created_at,
        K.c.expiry_date,
        K.c.revoked_at,
        U.c.id.label("user_id"),
        U.c.email,
        U.c.organization_role,
        U.c.activated,
    ).join(U, U.c.pk == K.c.user_pk)


def _lookup(conn: Connection, key: str) -> Row[Any] | None:
    """The key's row, found by its hash. The index lookup is by the hash, which tells nothing about
    the key; the final comparison is in constant time all the same."""
    digest = key_hash(key)
    row = conn.execute(_records().where(K.c.key_hash == digest)).one_or_none()
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    return row


def _record(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "prefix": row.prefix,
        "user": {"id": row.user_id, "email": row.email},
        "createdAt": row.created_at,
        "expiryDate": row.expiry_date,
        "revoked": row.revoked_at is not None,
        "revokedAt": row.revoked_at,
    }
