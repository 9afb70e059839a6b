"""``labelport user set-password``: the password a user signs in to the web UI with."""

from __future__ import annotations

import sys

import click

from labelport.cli.common import database_option, open_client
from labelport.services import sign_in
from labelport.values import normalize_email


@click.group("user")
def user() -> None:
    """Manage users' web UI passwords."""


@user.command("set-password")
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin (for scripts), instead of prompting twice.",
)
@database_option
def set_password(email: str, password_stdin: bool, database: str | None) -> None:
    """Set the password EMAIL signs in to the web UI (`labelport serve`, at /) with.

    The store keeps only an argon2 hash of it. The user's open web sessions end. Setting another
    user's password needs an organization ADMIN (the acting user: $LABELPORT_USER_EMAIL).

    \b
    Example:
      labelport user set-password alice@example.com
      printf '%s\\n' "$PASSWORD" | labelport user set-password alice@example.com --password-stdin
    """
    if password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_client(database) as client:
        sign_in.set_password(client.ctx, email, password)
    click.echo(f"Set the web UI password of {normalize_email(email)}.", err=True)
