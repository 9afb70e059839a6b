"""``labelport api-key create|list|revoke``: the keys `labelport serve` authenticates with."""

from __future__ import annotations

from typing import Any

import click

from labelport.cli.common import database_option, open_client
from labelport.cli.output import FORMATS, print_records, render_table, table_cell
from labelport.timeutil import now_ts
from labelport.values import normalize_email

_COLUMNS = ["id", "name", "prefix", "email", "created", "expires", "status"]


@click.command("create")
@click.argument("email")
@click.option("--name", default=None, help="A name to tell the key apart in `labelport api-key list`, e.g. ci.")
@click.option(
    "--expiry-date",
    default=None,
    metavar="DATE",
    help="When the key stops working: YYYY-MM-DD (the end of that day, UTC) or an ISO date-time; "
    "default 2099-12-31T23:59:59.000Z.",
)
@click.option(
    "--organization-admin",
    is_flag=True,
    help="Create a new EMAIL as an organization ADMIN (who sees and may do everything), not a USER.",
)
@click.option("--quiet", is_flag=True, help="Print only the key, on stdout.")
@database_option
def create(
    email: str, name: str | None, expiry_date: str | None, organization_admin: bool, quiet: bool, database: str | None
) -> None:
    """Create an API key for the user EMAIL and print it, once.

    The store keeps only a hash of the key: it cannot be shown again. The key goes to stdout and a note
    saying so to stderr; --quiet prints only the key. A key for another user needs an organization
    ADMIN, who may also name a new email (the user is then created).

    \b
    Example:
      labelport api-key create alice@example.com --name ci
      export KILI_API_KEY=$(labelport api-key create alice@example.com --quiet)
    """
    with open_client(database) as client:
        role = "ADMIN" if organization_admin else "USER"
        key = client.create_api_key(email, name, expiry_date=expiry_date, organization_role=role)
    click.echo(key)
    if not quiet:
        named = f" {name!r}" if name else ""
        click.echo(
            f"Created API key{named} for {normalize_email(email)}. It cannot be shown again: store it now.",
            err=True,
        )


def _status(key: dict[str, Any], now: str) -> str:
    if key["revoked"]:
        return "revoked"
    return "expired" if key["expiryDate"] <= now else "active"


@click.command("list")
@click.option("--email", default=None, help="Only this user's keys (default: every key you may see).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS, case_sensitive=False),
    default="table",
    show_default=True,
    help="table, json or csv; the columns id, name, prefix, email, created, expires, status.",
)
@database_option
def list_keys(email: str | None, fmt: str, database: str | None) -> None:
    """List API keys (never the keys themselves).

    In creation order: ID, NAME, PREFIX (the key's first 8 characters), EMAIL, CREATED, EXPIRES,
    STATUS (active, revoked or expired). Without --email: every key for an organization ADMIN, else
    your own.

    \b
    Example:
      labelport api-key list --email alice@example.com
    """
    with open_client(database) as client:
        keys = client.api_keys(email)
    now = now_ts()
    records = [
        {
            "id": key["id"],
            "name": key["name"],
            "prefix": key["prefix"],
            "email": key["user"]["email"],
            "created": key["createdAt"],
            "expires": key["expiryDate"],
            "status": _status(key, now),
        }
        for key in keys
    ]
    body = [[table_cell(record[column]) for column in _COLUMNS] for record in records]
    print_records(records, _COLUMNS, fmt, render_table([column.upper() for column in _COLUMNS], body))


@click.command("revoke")
@click.argument("key_id")
@database_option
def revoke(key_id: str, database: str | None) -> None:
    """Revoke an API key: the server refuses it from then on.

    KEY_ID is the key's id in `labelport api-key list`. Revoking a revoked key changes nothing.

    \b
    Example:
      labelport api-key revoke 01a2…
    """
    with open_client(database) as client:
        key = client.revoke_api_key(key_id)
    click.echo(f"API key {key['id']} of {key['user']['email']} is revoked.")
