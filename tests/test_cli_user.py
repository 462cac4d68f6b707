"""`brandpulse user add` and the dashboard's refusal to listen publicly without users."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.auth import load_users, verify_password
from monitor.cli import app
from monitor.cli_user import user_app
from tests.support.dashboard import CONFIG

runner = CliRunner()


def test_user_add_appends_a_hashed_entry_to_the_users_file(tmp_path):
    users = tmp_path / "users.txt"
    result = runner.invoke(
        app,
        ["user", "add", "olga", "--role", "staff", "--file", str(users)],
        input="s3cret-pass\ns3cret-pass\n",
    )
    assert result.exit_code == 0, result.output
    assert "s3cret-pass" not in result.output and "s3cret-pass" not in users.read_text(encoding="utf-8")
    olga = load_users(str(users))["olga"]
    assert olga.role == "staff" and verify_password("s3cret-pass", olga.password_hash)


def test_user_add_takes_the_file_from_the_environment(tmp_path, monkeypatch):
    users = tmp_path / "users.txt"
    monkeypatch.setenv("BRANDPULSE_USERS_FILE", str(users))
    result = runner.invoke(
        app,
        ["user", "add", "masha", "--role", "viewer", "--config", str(tmp_path / "none.yaml")],
        input="marketing-1\nmarketing-1\n",
    )
    assert result.exit_code == 0, result.output
    assert load_users(None)["masha"].role == "viewer"


def test_user_add_without_a_users_file_prints_the_line(tmp_path):
    result = runner.invoke(
        app,
        ["user", "add", "olga", "--config", str(tmp_path / "none.yaml")],
        input="s3cret-pass\ns3cret-pass\n",
    )
    assert result.exit_code == 0, result.output
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("olga:staff:scrypt$15$8$1$")


def test_user_add_refuses_a_short_password_and_an_unknown_role(tmp_path):
    short = runner.invoke(app, ["user", "add", "olga", "--file", str(tmp_path / "u")], input="short\nshort\n")
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    role = runner.invoke(app, ["user", "add", "olga", "--role", "admin"], input="s3cret-pass\ns3cret-pass\n")
    assert role.exit_code != 0 and "staff, viewer" in role.output
    assert not (tmp_path / "u").exists()


def test_user_list_shows_names_and_roles_never_hashes(tmp_path, monkeypatch):
    users = tmp_path / "users.txt"
    runner.invoke(app, ["user", "add", "olga", "--file", str(users)], input="s3cret-pass\ns3cret-pass\n")
    monkeypatch.setenv("BRANDPULSE_USERS_FILE", str(users))
    result = runner.invoke(app, ["user", "list", "--config", str(tmp_path / "none.yaml")])
    assert result.stdout == "olga\tstaff\n"


def test_dashboard_without_users_refuses_a_public_address(tmp_path):
    config = tmp_path / "spiders.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    brandpulse = str(Path(sys.executable).with_name("brandpulse"))
    result = subprocess.run(
        [brandpulse, "dashboard", "--config", str(config), "--address", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        "Error: no dashboard users, so it may listen on 127.0.0.1 only, not 0.0.0.0"
    )


def test_user_list_reads_the_file_given(tmp_path, monkeypatch):
    users = tmp_path / "users.txt"
    runner.invoke(app, ["user", "add", "olga", "--file", str(users)], input="s3cret-pass\ns3cret-pass\n")
    # Another file in force: --file still wins, as it does for `user add`.
    monkeypatch.setenv("BRANDPULSE_USERS_FILE", str(tmp_path / "other.txt"))
    result = runner.invoke(app, ["user", "list", "--file", str(users)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "olga\tstaff\n"


def test_user_list_of_a_missing_file_is_one_line_error(tmp_path):
    result = runner.invoke(app, ["user", "list", "--file", str(tmp_path / "none.txt")])
    assert result.exit_code == 1
    assert (
        str(result.exception)
        == f"{tmp_path / 'none.txt'}: users file not found (create it with `brandpulse user add`)"
    )


@pytest.mark.parametrize("command", [c.name for c in user_app.registered_commands])
def test_every_user_command_takes_a_users_file(command):
    assert "--file" in runner.invoke(app, ["user", command, "--help"]).output
