"""The docs cannot drift: every command in the README's table, every spiders.yaml key in the
configuration reference, every module in the architecture's module map, and back."""

from __future__ import annotations

import ast
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from pydantic import BaseModel

from monitor.cli import app
from monitor.config import Config
from monitor.db.models import Base

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
REFERENCE = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
ARCHITECTURE = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
DOCS = {
    path.relative_to(REPO).as_posix(): path.read_text(encoding="utf-8") for path in REPO.glob("docs/*.md")
}
DOCS["README.md"] = README


def section(text: str, heading: str) -> str:
    """The text under the first heading that contains `heading`, up to the next heading of its level
    or above."""
    match = re.search(rf"^(#+) [^\n]*{re.escape(heading)}[^\n]*$", text, re.MULTILINE)
    assert match, f"no heading with {heading!r}"
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def table_rows(text: str) -> list[list[str]]:
    """Body rows of the markdown tables in `text`, as cells (header and rule rows left out)."""
    rows = []
    for block in re.findall(r"(?:^\|.*\|[ \t]*\n?)+", text, re.MULTILINE):
        lines = block.strip().splitlines()
        for line in lines[2:]:
            rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip()[1:-1])])
    return rows


# --- commands: the README's table is the reference, one row per command and subcommand ----------


def cli_commands() -> dict[str, Any]:
    """'crawl', 'sentiment train', ... -> the click command, walked from the typer app."""
    commands: dict[str, Any] = {}

    def walk(group: Any, prefix: str) -> None:
        for name, command in group.commands.items():
            path = f"{prefix}{name}"
            if hasattr(command, "commands"):
                walk(command, f"{path} ")
            elif not command.hidden:
                commands[path] = command

    walk(typer.main.get_command(app), "")
    return commands


COMMANDS = cli_commands()
GROUPS = {path.rsplit(" ", 1)[0] for path in COMMANDS if " " in path}
TABLE_COMMANDS = [
    row[0].strip("`") for row in table_rows(README) if row[0].startswith("`brandpulse ")
]  # the reference for commands: docs/ explain them, and may only show ones that exist


def command_of(usage: str) -> str:
    """'brandpulse user add NAME --role staff' -> 'user add'."""
    words = usage.split()[1:3]
    return " ".join(words[:2]) if words and words[0] in GROUPS and len(words) > 1 else words[0]


def test_the_walk_finds_subcommands():
    assert {"crawl", "match-eval", "sentiment train", "user add", "report weekly"} <= set(COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_a_row_in_the_readme_table(command):
    assert command in {command_of(usage) for usage in TABLE_COMMANDS}, (
        f"`brandpulse {command}` has no row in README.md's command table: add one"
    )


@pytest.mark.parametrize("usage", TABLE_COMMANDS)
def test_every_row_of_the_readme_table_is_a_command(usage):
    command = command_of(usage)
    assert command in COMMANDS, f"README.md lists `{usage}` but there is no `brandpulse {command}`"
    options = {opt for param in COMMANDS[command].params for opt in param.opts}
    for option in re.findall(r"(?<![\w-])--[a-z][\w-]*", usage):
        assert option in options, f"README.md: `brandpulse {command}` has no option {option}"


def command_mentions() -> list[tuple[str, str]]:
    """(file, 'brandpulse ...') for each command written as code in the README and docs/."""
    found = []
    for name, text in DOCS.items():
        code = re.findall(r"```.*?```", text, re.DOTALL)
        prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
        code += re.findall(r"(?<!`)`([^`\n]+(?:\n[^`\n]+)?)`(?!`)", prose)
        for snippet in code:
            snippet = snippet if snippet.startswith("```") else snippet.replace("\n", " ")
            usages = re.findall(r"(?:^|(?<=[\s`(/]))brandpulse(?: [a-z][\w-]*){1,2}", snippet, re.MULTILINE)
            found += [(name, usage) for usage in usages]
    return found


@pytest.mark.parametrize(("doc", "usage"), command_mentions())
def test_every_command_the_docs_show_exists(doc, usage):
    first = usage.split()[1]
    assert first in GROUPS or first in COMMANDS, f"{doc} shows `{usage}`: no such command"
    if first in GROUPS and len(usage.split()) > 2:
        assert command_of(usage) in COMMANDS, f"{doc} shows `{usage}`: no such subcommand"


# --- config: every model reachable from Config, every key in docs/configuration.md --------------


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models inside a field's type: list[X], dict[K, X], X | None, Annotated[...]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in models_in(arg)]


def type_name(model: type[BaseModel]) -> str | None:
    """The `type:` a source model answers to (its Literal), None for other models."""
    field = model.model_fields.get("type")
    literal = typing.get_args(field.annotation) if field else ()
    return literal[0] if len(literal) == 1 and isinstance(literal[0], str) else None


def documented_keys() -> Iterator[tuple[str, str, str]]:
    """(where in docs/configuration.md, model name, key) for every key of every model under Config.

    A key is looked for under its top-level key's `## \\`key\\`` heading; the keys a member of a
    `type:` union (the sources) has on its own, not shared by every member, under its
    `### \\`type: X\\`` heading.
    """

    def walk(annotation: Any, where: str) -> Iterator[tuple[str, str, str]]:
        members = models_in(annotation)
        typed = [member for member in members if type_name(member)]
        shared = set.intersection(*(set(m.model_fields) for m in typed)) if len(typed) > 1 else set()
        for member in members:
            own_place = f"type: {type_name(member)}" if member in typed and shared else where
            for key, field in member.model_fields.items():
                yield (where if key in shared else own_place), member.__name__, key
                yield from walk(field.annotation, where if key in shared else own_place)

    for key, field in Config.model_fields.items():
        yield "#", "Config", key
        yield from walk(field.annotation, f"`{key}`")


KEYS = sorted(set(documented_keys()))


def test_the_walk_reaches_every_model():
    models = {model for _, model, _ in KEYS}
    for expected in ("SiteFields", "SitePaging", "QuietHours", "ChatAlertSettings", "DistributedConfig"):
        assert expected in models


@pytest.mark.parametrize(("where", "model", "key"), KEYS)
def test_every_config_key_is_documented(where, model, key):
    if where == "#":
        text = REFERENCE
        assert re.search(rf"^## `{key}`", text, re.MULTILINE), f"no `## \\`{key}\\`` section"
        return
    text = section(REFERENCE, where)
    assert re.search(rf"`(?:[\w\[\]]+\.)*{key}\b", text), (
        f"{model}.{key} is not documented under {where} in docs/configuration.md"
    )


def test_every_key_in_the_reference_tables_exists():
    for top in re.findall(r"^## `(\w+)`", REFERENCE, re.MULTILINE):
        assert top in Config.model_fields, f"docs/configuration.md documents `{top}`: no such key"
        keys = {key for where, _, key in KEYS if where != "#"}
        for row in table_rows(section(REFERENCE, f"`{top}`")):
            name = re.match(r"`([\w.\[\]]+)", row[0])
            if name:
                key = name.group(1).rsplit(".", 1)[-1]
                assert key in keys, f"docs/configuration.md, `{top}` documents `{name.group(1)}`: no such key"


# --- architecture: the module map and the tables --------------------------------------------------

PACKAGES = ("monitor", "crawlers", "sentiment", "alerts")
# Named as a folder in the map, not file by file (the map says so).
LISTED_AS_A_FOLDER = ("monitor/db/migrations/versions/",)
MODULE_MAP = section(ARCHITECTURE, "Module map")


def modules() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            name = path.relative_to(REPO).as_posix()
            if not name.startswith(LISTED_AS_A_FOLDER):
                found.append(name)
    return found


@pytest.mark.parametrize("module", modules())
def test_every_module_is_in_the_module_map(module):
    names = {module}
    if module.endswith("/__init__.py"):
        names.add(module.removesuffix("__init__.py"))
    assert any(f"`{name}`" in MODULE_MAP for name in names), (
        f"{module} is not in the module map of docs/architecture.md: add a row"
    )


@pytest.mark.parametrize("folder", LISTED_AS_A_FOLDER)
def test_folders_listed_whole_are_in_the_module_map(folder):
    assert f"`{folder}`" in MODULE_MAP


PATH = re.compile(
    rf"(?<![\w/.-])((?:{'|'.join(PACKAGES)}|tests|bench|scripts|docs)/[\w./-]*[\w/]|[\w-]+\.(?:py|yaml))"
)
DOTTED = re.compile(rf"(?<![\w/.])(?:{'|'.join(PACKAGES)})(?:\.\w+)+")


@pytest.mark.parametrize("name", sorted(set(PATH.findall(ARCHITECTURE))))
def test_every_path_in_the_architecture_exists(name):
    assert (REPO / name).exists(), f"docs/architecture.md names {name}: no such file or folder"


@pytest.mark.parametrize("name", sorted(set(DOTTED.findall(ARCHITECTURE))))
def test_every_module_name_in_the_architecture_exists(name):
    path = REPO / name.replace(".", "/")
    assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), (
        f"docs/architecture.md names {name}: no such module"
    )


def test_the_architecture_lists_every_table_and_only_those():
    named = set(re.findall(r"`(\w+)`", section(ARCHITECTURE, "Tables")))
    assert named == set(Base.metadata.tables)


# --- the first screen ------------------------------------------------------------------------------


def test_readme_first_screen_has_the_two_commands():
    first_screen = README.split("---")[0]
    assert "make demo" in first_screen and "make test" in first_screen
    image = first_screen.split("](", 1)[1].split(")", 1)[0]
    assert (REPO / image).is_file()


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_the_dashboard_docstring_names_every_page():
    source = (REPO / "dashboard.py").read_text(encoding="utf-8")
    docstring = ast.get_docstring(ast.parse(source)) or ""
    pages = re.search(r"pages: dict\[.*?\] = \{(.*?)\n    \}", source, re.DOTALL)
    assert pages
    for page in re.findall(r'"(\w+)":', pages.group(1)):
        assert page in docstring, f"dashboard.py's docstring does not name its {page} page"
