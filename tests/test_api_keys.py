"""API keys (services/api_keys.py): shown once, stored only as a SHA-256, listed without the key,
revoked and expired keys refused, permissions (one's own keys; another user's need an organization
ADMIN), and the headers the server reads them from."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

import labelport
from labelport.errors import NotFound, PermissionDenied, ValidationError
from labelport.services import api_keys
from labelport.services.api_keys import Authenticated, authenticate, find_key, key_from_headers
from labelport.services.context import ActingContext
from labelport.store import schema
from tests.integrity.state import store_state

KEY = re.compile(r"lp_[A-Za-z0-9_-]{43}")
KILI_DATE = "%Y-%m-%dT%H:%M:%S.%fZ"
FAR = "2099-12-31T23:59:59.000Z"


def _user(client: labelport.Client, email: str) -> dict[str, str]:
    return client.users(email=email, fields=["id", "email"])[0]


def _set_user(client: labelport.Client, email: str, **values: object) -> None:
    with client.store.write() as conn:
        conn.execute(update(schema.users).where(schema.users.c.email == email).values(**values))


def _set_key(client: labelport.Client, key_id: str, **values: object) -> None:
    with client.store.write() as conn:
        conn.execute(update(schema.api_keys).where(schema.api_keys.c.id == key_id).values(**values))


def _other(client: labelport.Client, email: str, tmp_path: Path) -> labelport.Client:
    return labelport.Client(client.store.url, email, media_dir=tmp_path / "media", disable_tqdm=True)


def test_a_key_is_random_shown_once_and_stored_only_as_its_hash(client):
    key = client.create_api_key("alice@example.com", "ci")
    other = client.create_api_key("alice@example.com")
    assert KEY.fullmatch(key) and KEY.fullmatch(other) and key != other
    with client.store.read() as conn:
        rows = conn.execute(select(schema.api_keys).order_by(schema.api_keys.c.pk)).all()
    assert [(row.key_hash, row.prefix, row.name) for row in rows] == [
        (hashlib.sha256(key.encode()).hexdigest(), key[:8], "ci"),
        (hashlib.sha256(other.encode()).hexdigest(), other[:8], ""),
    ]
    with client.store.read() as conn:  # every value of every row of every table, as text
        cells = [
            str(value)
            for table in schema.metadata.sorted_tables
            for row in conn.execute(select(table))
            for value in row
        ]
    assert len(cells) > 20
    for secret in (key, other):  # nowhere, not even a part beyond the listed prefix
        assert [text for text in cells if secret[8:] in text or secret[8:20] in text] == []


def test_listing_never_shows_a_key(client):
    key = client.create_api_key("Alice@Example.com ", "ci")
    alice = _user(client, "alice@example.com")
    (listed,) = client.api_keys()
    assert listed == {
        "id": listed["id"],
        "name": "ci",
        "prefix": key[:8],
        "user": {"id": alice["id"], "email": "alice@example.com"},
        "createdAt": listed["createdAt"],
        "expiryDate": FAR,
        "revoked": False,
        "revokedAt": None,
    }
    assert re.fullmatch(r"[0-9a-f]{32}", listed["id"])
    assert datetime.strptime(listed["createdAt"], KILI_DATE)
    assert key[8:] not in orjson.dumps(client.api_keys("alice@example.com")).decode()
    assert client.api_keys("alice@example.com") == [listed]
    assert find_key(client.store, key) == listed


def test_both_header_forms_authenticate(client):
    key = client.create_api_key("alice@example.com", "ci")
    expected = Authenticated(
        email="alice@example.com",
        user_id=_user(client, "alice@example.com")["id"],
        organization_role="USER",
        key_id=client.api_keys()[0]["id"],
        expiry_date=FAR,
    )
    for headers in (
        {"Authorization": f"X-API-Key: {key}"},  # Kili's form
        {"authorization": f"x-api-key:{key}"},
        {"Authorization": f"  X-API-Key:   {key}  "},
        {"Authorization": f"Bearer {key}"},
        {"X-API-Key": key},
        {"x-api-key": f" {key} "},
        [("Accept", "application/json"), ("Authorization", f"X-API-Key: {key}"), ("X-API-Key", key)],
    ):
        assert authenticate(client.store, headers) == expected, headers
    assert key not in repr(expected)


def test_wrong_missing_or_ambiguous_keys_are_refused(client):
    key = client.create_api_key("alice@example.com")
    other = client.create_api_key("bob@example.com")
    wrong = key[:-1] + ("A" if key[-1] != "A" else "B")
    for headers in (
        {},
        {"Accept": "application/json"},
        {"Authorization": f"X-API-Key: {wrong}"},
        {"X-API-Key": wrong},
        {"Authorization": f"Basic {key}"},
        {"Authorization": key},  # no scheme
        {"Authorization": "X-API-Key: "},
        {"Authorization": f"X-API-Key: {key} extra"},
        {"X-API-Key": key[:20]},
        {"X-API-Key": key + "x"},
        {"X-API-Key": "lp_" + "\udcff" * 43},
        {"X-API-Key": hashlib.sha256(key.encode()).hexdigest()},  # the stored hash is not a key
        {"Authorization": f"X-API-Key: {key}", "X-API-Key": other},  # two different keys
    ):
        assert authenticate(client.store, headers) is None, headers
    assert find_key(client.store, wrong) is None
    assert find_key(client.store, hashlib.sha256(key.encode()).hexdigest()) is None


def test_revoked_and_expired_keys_and_deactivated_users_are_refused(client):
    key = client.create_api_key("alice@example.com", "revoked")
    late = client.create_api_key("alice@example.com", "expired")
    carol = client.create_api_key("carol@example.com")
    revoked_id, expired_id = (row["id"] for row in client.api_keys("alice@example.com"))
    assert authenticate(client.store, {"X-API-Key": key}) is not None

    record = client.revoke_api_key(revoked_id)
    assert record["revoked"] is True and datetime.strptime(record["revokedAt"], KILI_DATE)
    assert authenticate(client.store, {"X-API-Key": key}) is None
    assert find_key(client.store, key) == record  # the record stays, revoked
    assert client.revoke_api_key(revoked_id) == record  # revoking again changes nothing

    _set_key(client, expired_id, expiry_date="2001-01-01T00:00:00.000Z")
    assert authenticate(client.store, {"X-API-Key": late}) is None
    assert find_key(client.store, late)["expiryDate"] == "2001-01-01T00:00:00.000Z"

    assert authenticate(client.store, {"X-API-Key": carol}) is not None
    _set_user(client, "carol@example.com", activated=False)
    assert authenticate(client.store, {"X-API-Key": carol}) is None


def test_the_expiry_date_is_in_kilis_exact_format(client):
    default = client.create_api_key("alice@example.com")
    day = client.create_api_key("alice@example.com", expiry_date="2090-01-31")
    moment = client.create_api_key("alice@example.com", expiry_date=datetime(2091, 2, 3, 4, 5, 6, 789123, tzinfo=UTC))
    plain = client.create_api_key("alice@example.com", expiry_date=date(2092, 3, 4))
    iso = client.create_api_key("alice@example.com", expiry_date="2093-04-05T06:07:08+02:00")
    dates = [find_key(client.store, key)["expiryDate"] for key in (default, day, moment, plain, iso)]
    assert dates == [
        FAR,
        "2090-01-31T23:59:59.999Z",
        "2091-02-03T04:05:06.789Z",
        "2092-03-04T23:59:59.999Z",
        "2093-04-05T04:07:08.000Z",
    ]
    for value in dates:  # what the SDK's expiry check parses
        assert datetime.strptime(value, KILI_DATE).strftime(KILI_DATE)[:-4] + "Z" == value
    assert authenticate(client.store, {"X-API-Key": day}).expiry_date == "2090-01-31T23:59:59.999Z"
    before = store_state(client)
    with pytest.raises(ValidationError) as error:
        client.create_api_key("alice@example.com", expiry_date="2020-01-01")
    assert str(error.value) == (
        "expiry_date 2020-01-01T23:59:59.999Z is not in the future; give a later date (or none: 2099-12-31T23:59:59.000Z)."
    )
    with pytest.raises(
        ValidationError, match=r"^expiry_date must be a date 'YYYY-MM-DD' or an ISO date-time, not 'soon'"
    ):
        client.create_api_key("alice@example.com", expiry_date="soon")
    assert store_state(client) == before


def test_bad_arguments_are_refused_and_store_nothing(client):
    client.create_api_key("alice@example.com")
    before = store_state(client)
    cases = [
        (lambda: client.create_api_key("not-an-email"), ValidationError, "'not-an-email' is not an email address."),
        (
            lambda: client.create_api_key("alice@example.com", "line\nbreak"),
            ValidationError,
            "API key name 'line\\nbreak' holds a control character (U+000A) at position 4: remove it.",
        ),
        (
            lambda: client.create_api_key("alice@example.com", "n" * 201),
            ValidationError,
            "API key name is 201 characters long; the store keeps at most 200.",
        ),
        (
            lambda: client.create_api_key("alice@example.com", 5),
            ValidationError,
            "API key name must be a string, got 5.",
        ),
        (
            lambda: client.revoke_api_key("0" * 32),
            NotFound,
            f"API key '{'0' * 32}' does not exist; list the keys with client.api_keys() or `labelport api-key list`.",
        ),
        (lambda: client.revoke_api_key(None), ValidationError, "key_id must be an API key id string, got None."),
        (
            lambda: client.api_keys("ghost@example.com"),
            NotFound,
            "User 'ghost@example.com' does not exist in this store; list the users with client.users().",
        ),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind) as error:
            call()
        assert str(error.value) == message
    assert store_state(client) == before


def test_an_organization_admin_creates_keys_for_new_users_as_organization_users(client):
    assert client.users(email="new@example.com") == []
    key = client.create_api_key("new@example.com")
    assert client.users(email="new@example.com", fields=["email", "organizationRole", "activated"]) == [
        {"email": "new@example.com", "organizationRole": "USER", "activated": True}
    ]
    assert authenticate(client.store, {"X-API-Key": key}).organization_role == "USER"
    own = client.create_api_key(client.user_email)  # the client's own user: an organization ADMIN
    assert authenticate(client.store, {"X-API-Key": own}).organization_role == "ADMIN"
    assert [row["user"]["email"] for row in client.api_keys()] == ["new@example.com", "admin@example.com"]


def test_a_key_for_a_deactivated_user_is_refused(client):
    client.create_user("carol@example.com")
    _set_user(client, "carol@example.com", activated=False)
    before = store_state(client)
    with pytest.raises(ValidationError) as error:
        client.create_api_key("carol@example.com")
    assert str(error.value) == (
        "User 'carol@example.com' is deactivated: the server refuses their keys, so none is created."
    )
    assert store_state(client) == before


def test_users_manage_their_own_keys_and_only_an_organization_admin_those_of_others(client, tmp_path):
    client.create_user("bob@example.com")  # an organization USER
    alice_key = client.create_api_key("alice@example.com", "alice's")
    alice_id = client.api_keys("alice@example.com")[0]["id"]
    with _other(client, "bob@example.com", tmp_path) as bob:
        assert bob.api_keys() == []
        key = bob.create_api_key("Bob@Example.com", "mine")
        (mine,) = bob.api_keys()
        assert mine["name"] == "mine" and mine["user"]["email"] == "bob@example.com"
        assert bob.api_keys("bob@example.com") == [mine]
        before = store_state(client)
        refusals = [
            (lambda: bob.create_api_key("alice@example.com"), "creating an API key for 'alice@example.com'"),
            (lambda: bob.create_api_key("new@example.com"), "creating an API key for 'new@example.com'"),
            (lambda: bob.api_keys("alice@example.com"), "listing the API keys of 'alice@example.com'"),
            (lambda: bob.revoke_api_key(alice_id), f"revoking API key '{alice_id}' of 'alice@example.com'"),
        ]
        for call, doing in refusals:
            with pytest.raises(PermissionDenied) as error:
                call()
            assert str(error.value) == f"User 'bob@example.com' is not an organization ADMIN; {doing} needs one."
        assert store_state(client) == before
        assert bob.revoke_api_key(mine["id"])["revoked"] is True
    assert authenticate(client.store, {"X-API-Key": key}) is None
    assert authenticate(client.store, {"X-API-Key": alice_key}) is not None
    assert [row["name"] for row in client.api_keys()] == ["alice's", "mine"]  # an ADMIN sees every key
    assert client.revoke_api_key(alice_id)["revoked"] is True


def test_a_deactivated_user_cannot_manage_keys(client, tmp_path):
    client.create_user("bob@example.com")
    client.create_api_key("bob@example.com")
    key_id = client.api_keys()[0]["id"]
    _set_user(client, "bob@example.com", activated=False)
    message = "User 'bob@example.com' is deactivated; an organization ADMIN can reactivate them."
    with _other(client, "bob@example.com", tmp_path) as bob:
        for call in (lambda: bob.create_api_key("bob@example.com"), bob.api_keys, lambda: bob.revoke_api_key(key_id)):
            with pytest.raises(PermissionDenied) as error:
                call()
            assert str(error.value) == message


def test_a_server_context_needs_a_stored_user(client):
    ctx = ActingContext(client.store, "stranger@example.com", new_user_role=None)
    with pytest.raises(NotFound, match=r"^User 'stranger@example.com' does not exist in this store\.$"):
        api_keys.create_api_key(ctx, "stranger@example.com")
    with pytest.raises(NotFound, match=r"^User 'stranger@example.com' does not exist in this store\.$"):
        api_keys.list_api_keys(ctx)


def test_deleting_a_user_deletes_their_keys(client):
    key = client.create_api_key("alice@example.com")
    client.create_api_key("bob@example.com")
    with client.store.write() as conn:
        conn.execute(delete(schema.users).where(schema.users.c.email == "alice@example.com"))
    assert [row["user"]["email"] for row in client.api_keys()] == ["bob@example.com"]
    assert authenticate(client.store, {"X-API-Key": key}) is None


def test_no_key_is_ever_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    key = client.create_api_key("alice@example.com", "ci")
    authenticate(client.store, {"Authorization": f"X-API-Key: {key}"})
    find_key(client.store, key)
    client.revoke_api_key(client.api_keys()[0]["id"])
    authenticate(client.store, {"Authorization": f"X-API-Key: {key}"})
    assert key[8:] not in caplog.text


_KEY_TEXT = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", min_size=43, max_size=43
)


@settings(max_examples=60, deadline=None)
@given(
    random=_KEY_TEXT,
    scheme=st.sampled_from(["X-API-Key: ", "x-api-key:", "X-API-KEY ", "Bearer ", "bearer  "]),
    name=st.sampled_from(["Authorization", "authorization", "AUTHORIZATION"]),
)
def test_every_accepted_form_yields_the_key(random, scheme, name):
    key = "lp_" + random
    assert key_from_headers({name: scheme + key}) == key
    assert key_from_headers([("X-Api-Key", key)]) == key


@settings(max_examples=150, deadline=None)
@given(headers=st.lists(st.tuples(st.sampled_from(["Authorization", "X-API-Key", "Cookie"]), st.text()), max_size=3))
def test_any_headers_give_a_key_they_hold_or_none(headers):
    found = key_from_headers(headers)
    assert found is None or any(found in value for _name, value in headers)
    assert found is None or not re.search(r"\s", found)
