"""docker-compose.yml read as Compose reads it (anchors, merge keys, ${VAR:-default}), so tests
can check it and run its commands on this machine without a Docker engine."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"

_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


class MissingVariable(KeyError):
    """A ${VAR:?message} whose variable is unset or empty, as `docker compose config` refuses."""


def interpolate(text: str, env: dict[str, str]) -> str:
    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.groups()
        value = env.get(name)
        empty = value is None or ((operator or "").startswith(":") and value == "")
        if operator in {":-", "-"}:
            return argument if empty else value
        if operator in {":?", "?"}:
            if empty:
                raise MissingVariable(f"{name}: {argument}")
            return value
        return value or ""

    return _VARIABLE.sub(substitute, text)


def _walk(node, env):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_walk(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _walk(value, env) for key, value in node.items()}
    return node


def load(env: dict[str, str]) -> dict:
    """The compose file with every variable filled from ``env`` (merge keys resolved by YAML)."""
    return _walk(yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8")), env)


def raw() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
