"""Run dbt as a child process against a run's build database.

dbt runs in its own process on purpose: in-process ``dbtRunner`` keeps the DuckDB file locked
after it returns (dbt-duckdb ``keep_open``), and Airflow's ``dag.test()`` runs every task in one
process. The child owns the build file for the duration of the build and releases it on exit;
``zhaoshang.dbt_process`` can start it ahead of time (``start_next_dbt``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from zhaoshang import dbt_process
from zhaoshang.reference import write_reference_copies
from zhaoshang.settings import DBT_PROJECT_DIR, Settings

log = logging.getLogger(__name__)

# Pass 1 builds what the data-quality stage reads; pass 2 what reads the quality flags.
FEATURE_SELECTION = ("path:seeds", "path:models/staging", "path:models/intermediate")
FEATURE_EXCLUSION = ("path:models/intermediate/verification",)
# An incremental night keeps the last build's seeds (same fingerprint): not reloaded.
KEPT_SEEDS = ("path:seeds",)
MART_SELECTION = ("path:models/intermediate/verification", "path:models/marts", "path:models/audit")


# What the incremental models' stored rows were computed with: when any of it changes, the last
# build's rows are not tonight's rule and the night rebuilds from nothing (zhaoshang.publish).
_FINGERPRINTED = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds")
# the UDFs dbt calls (normalize_text) and the ledger's DDL, which the sources read
_FINGERPRINTED_CODE = ("dbt_plugin.py", "reference.py", "ledger/schema.py")


def project_fingerprint(settings: Settings) -> str:
    """sha256 of the dbt project's rules and code, and of the settings dbt reads."""
    digest = hashlib.sha256(f"county={settings.county_code}\n".encode())
    package = Path(__file__).resolve().parent
    paths = [DBT_PROJECT_DIR / name for name in _FINGERPRINTED]
    paths += [package / name for name in _FINGERPRINTED_CODE]
    for root in paths:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.exists():
                digest.update(str(path.relative_to(root.parent)).encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@dataclass
class DbtResult:
    command: str
    returncode: int
    elapsed_s: float
    nodes: dict[str, int] = field(default_factory=dict)  # status -> count
    failures: list[str] = field(default_factory=list)  # "test_name: message" for error/fail
    warnings: list[str] = field(default_factory=list)
    unit_tests: int = 0  # dbt unit tests run (fixed inputs, not tonight's data)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.failures


class DbtBuildFailed(RuntimeError):
    """A dbt error (model error or error-severity test): nothing is published."""


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else (shutil.which("dbt") or "dbt")


def start_next_dbt(settings: Settings, build_db: Path, work_dir: Path) -> None:
    """Start (and let parse) the next invocation's child now, so its start-up overlaps with
    this stage's work (one process runs the whole night: ``Settings.warm_start``)."""
    if settings.warm_start:
        env, options = _invocation(settings, build_db, work_dir)
        dbt_process.start_next(env, options)


def _invocation(
    settings: Settings, build_db: Path, work_dir: Path
) -> tuple[dict[str, str], list[str]]:
    """dbt's environment and the options every invocation gets (project, profile, target, logs)."""
    # One stable folder for the reference copies: dbt re-parses the whole project when an
    # env_var() value changes.
    reference_copy = settings.state_dir / "dbt_reference"
    env = (
        dict(os.environ)
        | settings.dbt_env()
        # Each run builds its own file (build/<run_id>/); dbt gets it by a relative name from
        # that folder (its cwd), so the profile and with it dbt's partial parse stay the same.
        | {"ZHAOSHANG_BUILD_DB": build_db.name, "ZHAOSHANG_REFERENCE_DIR": str(reference_copy)}
    )
    # One target dir kept across runs: each invocation reuses the last parse (partial parsing,
    # ~3 s instead of ~5.5 s) and docs reuse the build's manifest. Runs never overlap (zhaoshang.locking).
    options = [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(settings.state_dir / "dbt_target"),
        "--log-path",
        str(work_dir / "dbt_logs"),
    ]
    return env, options


def run_dbt(settings: Settings, build_db: Path, args: list[str], work_dir: Path) -> DbtResult:
    """Run ``dbt <args>`` with our project, profile and environment; parse run_results.json."""
    target_path = settings.state_dir / "dbt_target"
    (target_path / "run_results.json").unlink(missing_ok=True)
    # dbt reads the office's CSVs as Python's reader reads them (mixed line ends, BOM, blank
    # lines); a file that reader refuses stops here with its bilingual message.
    write_reference_copies(settings.reference_dir, settings.state_dir / "dbt_reference")
    env, options = _invocation(settings, build_db, work_dir)
    log.info("dbt %s", " ".join(args))
    proc = dbt_process.take(env).run([*args, *options], env, build_db.parent)
    result = _parse_results(target_path / "run_results.json", " ".join(args), proc.returncode)
    if proc.returncode != 0 and not result.failures:
        tail = "\n".join(proc.output.strip().splitlines()[-25:])
        result.failures.append(f"dbt exited with {proc.returncode}:\n{tail}")
    return result


def _parse_results(path: Path, command: str, returncode: int) -> DbtResult:
    result = DbtResult(command=command, returncode=returncode, elapsed_s=0.0)
    if not path.exists():
        return result
    data = json.loads(path.read_text(encoding="utf-8"))
    result.elapsed_s = float(data.get("elapsed_time") or 0.0)
    for node in data.get("results", []):
        status = str(node.get("status"))
        result.nodes[status] = result.nodes.get(status, 0) + 1
        result.unit_tests += str(node.get("unique_id", "")).startswith("unit_test.")
        label = f"{node.get('unique_id')}: {(node.get('message') or '').strip()[:300]}"
        if status in {"error", "fail", "runtime error"}:
            result.failures.append(label)
        elif status == "warn":
            result.warnings.append(label)
        elif status == "skipped":
            result.failures.append(f"{node.get('unique_id')}: skipped after an upstream failure")
    return result


def build(
    settings: Settings,
    build_db: Path,
    work_dir: Path,
    selection: tuple[str, ...],
    exclusion: tuple[str, ...] = (),
    *,
    full_refresh: bool = False,
    unit_tests: bool = True,
) -> DbtResult:
    """``dbt build`` (models, seeds and their tests) for a selection; raise on any error.
    ``full_refresh``: incremental models are rebuilt from everything (``--full-refresh``).
    ``unit_tests``: also run dbt's unit tests (fixed inputs: their outcome can only change with
    the project, so a night whose fingerprint is the last build's leaves them out)."""
    args = ["build", "--select", *selection]
    if exclusion:
        args += ["--exclude", *exclusion]
    if full_refresh:
        args.append("--full-refresh")
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    result = run_dbt(settings, build_db, args, work_dir)
    if not result.ok:
        raise DbtBuildFailed(
            "dbt 构建失败，本次不发布 / dbt build failed, nothing is published:\n"
            + "\n".join(result.failures[:20])
        )
    return result


def _docs_stamp(settings: Settings) -> Path:
    return settings.state_dir / "dbt_docs.fingerprint"


def generate_docs(
    settings: Settings, build_db: Path, work_dir: Path, fingerprint: str | None = None
) -> Path | None:
    """``dbt docs generate --static`` into ``<output>/dbt_docs``: one file that opens offline.

    With ``fingerprint``: skipped when the docs there were generated from the same project, as
    they describe only the project and the tables' columns (DuckDB's catalog has no row counts
    or other statistics), so they would come out the same but for their timestamp."""
    out = settings.output_dir / "dbt_docs"
    stamp = _docs_stamp(settings)
    if (
        fingerprint
        and (out / "index.html").exists()
        and stamp.exists()
        and stamp.read_text(encoding="utf-8").strip() == fingerprint
    ):
        log.info("dbt docs unchanged since the project last changed: %s kept", out)
        return out
    stamp.unlink(missing_ok=True)
    # --no-compile: the manifest of the build just run is reused; only the catalog is queried.
    # --static: manifest and catalog inlined, so the page opens from file:// with no server.
    result = run_dbt(settings, build_db, ["docs", "generate", "--no-compile", "--static"], work_dir)
    target = settings.state_dir / "dbt_target"
    if result.returncode != 0 or not (target / "index.html").exists():
        log.warning("dbt docs generate failed: %s", result.failures[:3])
        return None
    out.mkdir(parents=True, exist_ok=True)
    static = target / "static_index.html"
    shutil.copyfile(static if static.exists() else target / "index.html", out / "index.html")
    for name in ("manifest.json", "catalog.json"):
        if (target / name).exists():
            shutil.copyfile(target / name, out / name)
    if fingerprint:
        stamp.write_text(fingerprint + "\n", encoding="utf-8")
    return out
