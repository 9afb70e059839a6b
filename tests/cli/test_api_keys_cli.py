"""``labelport api-key create|list|revoke``: the key printed once, listings without keys."""

from __future__ import annotations

import json
import re

from sqlalchemy import update

from labelport.services.api_keys import authenticate
from labelport.store import schema

KEY = re.compile(r"lp_[A-Za-z0-9_-]{43}")
FAR = "2099-12-31T23:59:59.000Z"


def test_create_prints_the_key_once(cli, client):
    result = cli("api-key", "create", "Alice@Example.com", "--name", "ci")
    assert result.exit_code == 0, result.output
    key = result.stdout.removesuffix("\n")
    assert KEY.fullmatch(key)
    assert result.stderr == "Created API key 'ci' for alice@example.com. It cannot be shown again: store it now.\n"
    assert authenticate(client.store, {"Authorization": f"X-API-Key: {key}"}).email == "alice@example.com"

    result = cli("api-key", "create", "alice@example.com")
    assert result.stderr == "Created API key for alice@example.com. It cannot be shown again: store it now.\n"

    result = cli("api-key", "create", "bob@example.com", "--quiet", "--expiry-date", "2090-06-30")
    assert result.exit_code == 0 and result.stderr == ""
    quiet = result.stdout.removesuffix("\n")
    assert KEY.fullmatch(quiet) and result.stdout == quiet + "\n"
    assert authenticate(client.store, {"X-API-Key": quiet}).expiry_date == "2090-06-30T23:59:59.999Z"
    assert key not in cli("api-key", "list", "--format", "json").output


def test_a_new_user_may_be_made_an_organization_admin_with_their_key(cli, client):
    result = cli("api-key", "create", "boss@example.com", "--organization-admin", "--quiet")
    assert result.exit_code == 0, result.output
    assert authenticate(client.store, {"X-API-Key": result.stdout.strip()}).organization_role == "ADMIN"
    result = cli("api-key", "create", "worker@example.com", "--quiet")
    assert authenticate(client.store, {"X-API-Key": result.stdout.strip()}).organization_role == "USER"


def test_list_and_revoke(cli, client):
    keys = [
        cli("api-key", "create", email, *name, "--quiet").stdout.strip()
        for email, *name in (
            ("alice@example.com", "--name", "ci"),
            ("bob@example.com",),
            ("alice@example.com", "--name", "laptop"),
        )
    ]
    rows = client.api_keys()
    ids = [row["id"] for row in rows]
    created = [row["createdAt"] for row in rows]
    with client.store.write() as conn:  # the last one expired
        conn.execute(
            update(schema.api_keys).where(schema.api_keys.c.id == ids[2]).values(expiry_date="2001-01-01T00:00:00.000Z")
        )

    result = cli("api-key", "revoke", ids[1])
    assert result.exit_code == 0, result.output
    assert result.output == f"API key {ids[1]} of bob@example.com is revoked.\n"
    assert authenticate(client.store, {"X-API-Key": keys[1]}) is None

    result = cli("api-key", "list")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"ID{' ' * 32}NAME    PREFIX    EMAIL              CREATED                   EXPIRES                   STATUS\n"
        f"{ids[0]}  ci      {keys[0][:8]}  alice@example.com  {created[0]}  {FAR}  active\n"
        f"{ids[1]}          {keys[1][:8]}  bob@example.com    {created[1]}  {FAR}  revoked\n"
        f"{ids[2]}  laptop  {keys[2][:8]}  alice@example.com  {created[2]}  2001-01-01T00:00:00.000Z  expired\n"
    )
    result = cli("api-key", "list", "--email", "alice@example.com", "--format", "json")
    assert json.loads(result.output) == [
        {
            "id": ids[0],
            "name": "ci",
            "prefix": keys[0][:8],
            "email": "alice@example.com",
            "created": created[0],
            "expires": FAR,
            "status": "active",
        },
        {
            "id": ids[2],
            "name": "laptop",
            "prefix": keys[2][:8],
            "email": "alice@example.com",
            "created": created[2],
            "expires": "2001-01-01T00:00:00.000Z",
            "status": "expired",
        },
    ]
    result = cli("api-key", "list", "--email", "bob@example.com", "--format", "csv")
    assert result.output == (
        "id,name,prefix,email,created,expires,status\n"
        f"{ids[1]},,{keys[1][:8]},bob@example.com,{created[1]},{FAR},revoked\n"
    )
    for key in keys:
        for fmt in ("table", "json", "csv"):
            assert key[8:] not in cli("api-key", "list", "--format", fmt).output


def test_api_key_errors(cli, client):
    result = cli("api-key", "revoke", "nope")
    assert result.exit_code == 1
    assert result.output == ("Error: API key 'nope' does not exist; list the keys with `labelport api-key list`.\n")
    result = cli("api-key", "create", "not-an-email")
    assert result.exit_code == 1 and result.output == "Error: 'not-an-email' is not an email address.\n"
    result = cli("api-key", "list", "--email", "ghost@example.com")
    assert result.exit_code == 1
    assert result.output == (
        "Error: User 'ghost@example.com' does not exist in this store; the users are the projects' members "
        "(`labelport project member list --project-id …`).\n"
    )
    result = cli("api-key", "create", "a@example.com", "--expiry-date", "2001-01-01")
    assert result.exit_code == 1
    assert result.output == (
        "Error: expiry_date 2001-01-01T23:59:59.999Z is not in the future; give a later date "
        "(or none: 2099-12-31T23:59:59.000Z).\n"
    )
    assert client.api_keys() == []
    result = cli("api-key", "list")
    assert result.exit_code == 0 and result.output == "ID  NAME  PREFIX  EMAIL  CREATED  EXPIRES  STATUS\n"


def test_a_local_user_who_is_not_an_organization_admin_manages_only_their_own_keys(cli, client):
    client.create_user("me@example.com")  # an organization USER
    cli.env["LABELPORT_USER_EMAIL"] = "me@example.com"
    assert KEY.fullmatch(cli("api-key", "create", "me@example.com", "--quiet").stdout.strip())
    result = cli("api-key", "create", "other@example.com")
    assert result.exit_code == 1
    assert result.output == (
        "Error: User 'me@example.com' is not an organization ADMIN; "
        "creating an API key for 'other@example.com' needs one.\n"
    )
    assert [row["email"] for row in json.loads(cli("api-key", "list", "--format", "json").output)] == ["me@example.com"]
