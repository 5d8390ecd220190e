"""Reading docker-compose.yml as Compose does: YAML (merge keys included), then ${VARIABLE} interpolation
from .env.example. No Docker engine is needed; these helpers serve the deployment tests."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SETTINGS_FILE = ROOT / "config" / "settings.py"
APP_SERVICES = ("web", "worker", "trainer", "beat", "prepare")

# $$ | ${NAME} | ${NAME:-default} ${NAME-default} ${NAME:?error} ${NAME?error} ${NAME:+alt} | $NAME
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


@cache
def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


_WHOLE_FILE = object()


def referenced_variables(node: object = _WHOLE_FILE) -> set[str]:
    """Every variable the compose file interpolates."""
    if node is _WHOLE_FILE:
        node = raw()
    names: set[str] = set()
    if isinstance(node, dict):
        for value in node.values():
            names |= referenced_variables(value)
    elif isinstance(node, list):
        for value in node:
            names |= referenced_variables(value)
    elif isinstance(node, str):
        for match in _VARIABLE.finditer(node):
            name = match.group("braced") or match.group("plain")
            if name:
                names.add(name)
    return names


def interpolate(node: Any, variables: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {key: interpolate(value, variables) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, variables) for value in node]
    if not isinstance(node, str):
        return node

    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("plain")
        value = variables.get(name)
        op, arg = match.group("op"), match.group("arg") or ""
        unset = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if unset else str(value)
        if op in (":?", "?"):
            if unset:
                raise ValueError(f"compose needs {name}: {arg}")
            return str(value)
        if op in (":+", "+"):
            return "" if unset else arg
        return value or ""

    return _VARIABLE.sub(replace, node)


def resolved(variables: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose file as Compose would run it with .env copied from .env.example (or ``variables``)."""
    return interpolate(raw(), env_example() if variables is None else variables)  # type: ignore[no-any-return]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def settings_variables() -> set[str]:
    """Names config/settings.py reads through the typed helpers (``NAME_FILE`` too for secrets)."""
    tree = ast.parse(SETTINGS_FILE.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id.startswith("env_")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
            if node.func.id == "env_secret":
                names.add(f"{node.args[0].value}_FILE")
    return names


def secret_mounts(service: dict[str, Any]) -> dict[str, str]:
    """Secret name -> the path it is mounted at in the service."""
    mounts = {}
    for item in service.get("secrets") or []:
        if isinstance(item, str):
            mounts[item] = f"/run/secrets/{item}"
        else:
            target = item.get("target", item["source"])
            mounts[item["source"]] = target if target.startswith("/") else f"/run/secrets/{target}"
    return mounts


def volume_targets(service: dict[str, Any]) -> list[str]:
    targets = []
    for item in service.get("volumes") or []:
        if isinstance(item, str):
            targets.append(item.split(":")[1])
        else:
            targets.append(item["target"])
    return targets
