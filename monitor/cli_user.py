"""`brandpulse user ...`: dashboard users. Passwords are asked for, hashed with scrypt and never
printed; the line goes into the users file (or to stdout when none is configured)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monitor.auth import (
    ROLES,
    User,
    add_user,
    check_user_name,
    hash_password,
    load_users,
    parse_users,
    read_users_file,
    users_file,
)
from monitor.config import load_config

user_app = typer.Typer(
    help="Dashboard users: staff (every inbox action) and viewers (read-only, e.g. marketing).",
    no_args_is_help=True,
)

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", envvar="BRANDPULSE_CONFIG", help="The spiders.yaml to use."),
]
FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help="Users file to append to (default: BRANDPULSE_USERS_FILE or dashboard.users_file; "
        "with neither, the line is printed).",
    ),
]


def _configured_file(config: Path) -> str | None:
    return load_config(config).dashboard.users_file if config.exists() else None


@user_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Login name: letters, digits, . _ - @")],
    role: Annotated[str, typer.Option(help="staff: every action; viewer: read-only.")] = "staff",
    file: FileOption = None,
    replace: Annotated[bool, typer.Option(help="Set a new password or role for an existing user.")] = False,
    config: ConfigOption = Path("spiders.yaml"),
) -> None:
    """Add a dashboard user; the password is asked for twice and stored as a salted scrypt hash.

    Example: brandpulse user add olga --role staff --file /etc/brandpulse/users
    """
    if role not in ROLES:
        raise typer.BadParameter(f"expected one of: {', '.join(ROLES)}", param_hint="--role")
    check_user_name(name)
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise typer.BadParameter("use at least 8 characters", param_hint="password")
    user = User(name, role, hash_password(password))
    path = file or users_file(_configured_file(config))
    if path is None:
        # No file to write: print the entry for BRANDPULSE_USERS or a file of your choosing.
        typer.echo(user.line())
        return
    existed = path.exists() and name in parse_users(path.read_text(encoding="utf-8"), str(path))
    add_user(path, user, replace=replace)
    typer.echo(f"{'updated' if existed else 'added'} {role} {name!r} in {path}", err=True)


@user_app.command("list")
def list_users(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Users file to read (default: BRANDPULSE_USERS_FILE or dashboard.users_file, "
            "plus BRANDPULSE_USERS).",
        ),
    ] = None,
    config: ConfigOption = Path("spiders.yaml"),
) -> None:
    """Show the users and their roles (never the hashes): those of --file, or the configured ones.

    Example: brandpulse user list --file /etc/brandpulse/users
    """
    users = read_users_file(file) if file is not None else load_users(_configured_file(config))
    for user in users.values():
        typer.echo(f"{user.name}\t{user.role}")
