"""The docs cannot drift: every command is in the README, every spiders.yaml key in the reference."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from monitor import config as cfg
from monitor.cli import app

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
REFERENCE = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")

COMMANDS = sorted(command.name or command.callback.__name__ for command in app.registered_commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_in_the_readme(command):
    assert f"`brandpulse {command}" in README


def keys_of(model: type[BaseModel]) -> set[str]:
    keys = set(model.model_fields)
    for field in model.model_fields.values():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= keys_of(annotation)
    return keys


MODELS = [
    cfg.Config,
    cfg.BrandConfig,
    cfg.RssSource,
    cfg.TelegramSource,
    cfg.VkSource,
    cfg.SiteSource,
    cfg.SiteFields,
    cfg.SitePaging,
    cfg.AlertRule,
    cfg.AlertsConfig,
    cfg.DigestConfig,
    cfg.TelegramConfig,
    cfg.QuietHours,
    cfg.ChatAlertSettings,
    cfg.SentimentConfig,
    cfg.StorageConfig,
]


@pytest.mark.parametrize("key", sorted(set().union(*(keys_of(m) for m in MODELS))))
def test_every_config_key_is_documented(key):
    assert f"`{key}" in REFERENCE or f"{key}`" in REFERENCE or f".{key}`" in REFERENCE


def test_readme_first_screen_has_the_two_commands():
    first_screen = README.split("---")[0]
    assert "make demo" in first_screen and "make test" in first_screen
    image = first_screen.split("](", 1)[1].split(")", 1)[0]
    assert (REPO / image).is_file()


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
