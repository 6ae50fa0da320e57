"""The docs name things the code must have: task ids, module paths, settings, make targets.

Read statically (ast, text), so the check is part of the fast tier and needs no Airflow import.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
DOCS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "dbt_project" / "README.md",
    ROOT / "expectations" / "README.md",
]
# dbt descriptions and SQL comments also point readers at Python modules
DBT_TEXT = sorted(
    p
    for p in (ROOT / "dbt_project").rglob("*")
    if p.suffix in {".yml", ".sql", ".md"} and "target" not in p.parts
)
# ZHAOSHANG_* variables the code sets for its own subprocesses, not for operators
INTERNAL_VARIABLES = {"ZHAOSHANG_LEDGER", "ZHAOSHANG_BUILD_DB", "ZHAOSHANG_PROGRESS_FILE"}


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def dag_task_ids() -> set[str]:
    tree = ast.parse(_text(ROOT / "dags" / "zhaoshang_nightly.py"))
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if isinstance(target, ast.Name) and target.id == "task":
                    ids.add(node.name)
    return ids


def documented_task_chains(text: str) -> set[str]:
    """Identifiers of every `a → b → c + d` chain of three or more (the docs' way of drawing the
    DAG; a two-step `Dags → zhaoshang_nightly` is a path in the Airflow UI)."""
    flat = re.sub(r"\s+", " ", text.replace("`", ""))
    names = set()
    for chain in re.finditer(r"[A-Za-z_]+(?: ?(?:→|\+) ?[A-Za-z_]+)+", flat):
        steps = re.findall(r"[A-Za-z_]+", chain.group(0))
        if "→" in chain.group(0) and len(steps) >= 3:
            names.update(steps)
    return names


def test_dag_tasks_parsed():
    assert {"load_submissions", "validate_entries", "send_alerts"} <= dag_task_ids()


@pytest.mark.parametrize("doc", [ROOT / "README.md", ROOT / "docs" / "ARCHITECTURE.md"], ids=str)
def test_documented_task_ids_exist_in_the_dag(doc):
    documented = documented_task_chains(_text(doc))
    assert documented, f"{doc.name} draws no task chain"
    assert documented <= dag_task_ids(), f"{doc.name} names tasks the DAG lacks"


def _module_file(parts: list[str]) -> Path | None:
    base = SRC.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(_text(path)).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def resolves(dotted: str) -> bool:
    """`zhaoshang.a.b[.name]`: the longest module prefix exists and the rest is defined in it."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = _module_file(parts[:cut])
        if module is not None:
            rest = parts[cut:]
            return not rest or (len(rest) == 1 and rest[0] in _top_level_names(module))
    return False


def documented_modules() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in DOCS + DBT_TEXT:
        for name in re.findall(r"\bzhaoshang(?:\.[A-Za-z_][A-Za-z0-9_]*)+", _text(path)):
            if name.endswith(".duckdb"):  # the warehouse file zhaoshang.duckdb, not a module
                continue
            found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def test_resolver_rejects_a_missing_module():
    assert resolves("zhaoshang.quality.validation.validate")
    assert resolves("zhaoshang.reference")
    assert not resolves("zhaoshang.quality.suites")
    assert not resolves("zhaoshang.quality.validation.no_such_function")


def test_documented_modules_exist():
    modules = documented_modules()
    assert "zhaoshang.reference" in modules
    missing = {name: where for name, where in modules.items() if not resolves(name)}
    assert not missing, f"docs name modules or functions that do not exist: {missing}"


def _env_example() -> dict[str, str]:
    pairs = {}
    for line in _text(ROOT / ".env.example").splitlines():
        if line.startswith("ZHAOSHANG_") and "=" in line:
            name, value = line.split("=", 1)
            pairs[name] = value
    return pairs


def settings_read() -> dict[str, str | None]:
    """ZHAOSHANG_* names settings.py reads from the environment -> the default it gives in place."""
    tree = ast.parse(_text(SRC / "zhaoshang" / "settings.py"))
    read: dict[str, str | None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and str(first.value).startswith("ZHAOSHANG_"):
                # _path("X", default), _positive_int("X", default), os.environ.get("X")
                is_reader = isinstance(node.func, ast.Name) and node.func.id.startswith("_")
                is_get = isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                if is_reader or is_get:
                    default = node.args[1] if len(node.args) > 1 else None
                    read[first.value] = default.value if isinstance(default, ast.Constant) else None
        # os.environ.get("X") or "default"
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or) and len(node.values) == 2:
            call, fallback = node.values
            if (
                isinstance(call, ast.Call)
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and str(call.args[0].value).startswith("ZHAOSHANG_")
                and isinstance(fallback, ast.Constant)
            ):
                read[call.args[0].value] = str(fallback.value)
    return read


def read_anywhere_in_src() -> set[str]:
    """Names the package or the deployment files (docker-compose.yml) read."""
    files = [*SRC.rglob("*.py"), *ROOT.glob("docker-compose*.yml")]
    text = "\n".join(p.read_text(encoding="utf-8") for p in files)
    return set(re.findall(r"\b(ZHAOSHANG_[A-Z0-9_]+)\b", text))


def test_env_example_lists_exactly_the_settings():
    example, read = _env_example(), settings_read()
    assert "ZHAOSHANG_WAREHOUSE" in read
    ignored = set(example) - set(read) - read_anywhere_in_src()
    assert ignored == set(), ".env.example names settings the code never reads"
    undocumented = set(read) - set(example) - INTERNAL_VARIABLES
    assert undocumented == set(), "settings.py reads variables .env.example does not document"


def test_env_example_defaults_are_the_code_defaults():
    example, read = _env_example(), settings_read()
    differing = {
        name: (example[name], default)
        for name, default in read.items()
        if name in example and default is not None and example[name] != str(default)
    }
    assert not differing, f".env.example value != settings.py default: {differing}"


def test_documented_make_targets_exist():
    targets = set(re.findall(r"^([a-z][a-z-]*):", _text(ROOT / "Makefile"), flags=re.M))
    documented = set()
    for path in DOCS:
        documented.update(re.findall(r"`make ([a-z][a-z-]*)", _text(path)))
    assert "lint" in documented
    assert documented <= targets, (
        f"docs name make targets the Makefile lacks: {documented - targets}"
    )
