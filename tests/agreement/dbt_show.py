"""Run a SELECT through dbt (`dbt show --inline`) with the project's profile, macros and plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from zhaoshang.settings import DEFAULT_COUNTY_CODE

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def dbt_show(inline: str, work: Path) -> list[dict]:
    """The rows of ``inline`` (Jinja allowed: the project's macros) as dbt's DuckDB computes them."""
    ledger = work / "ledger.duckdb"
    if not ledger.exists():
        duckdb.connect(str(ledger)).close()
    env = os.environ | {
        "ZHAOSHANG_BUILD_DB": str(work / "build.duckdb"),
        "ZHAOSHANG_LEDGER": str(ledger),
        "ZHAOSHANG_RAW_DIR": str(work / "raw"),
        "ZHAOSHANG_COUNTY_CODE": DEFAULT_COUNTY_CODE,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "--quiet",
            "show",
            "--inline",
            inline,
            "--output",
            "json",
            "--limit",
            "-1",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        cwd=DBT_PROJECT_DIR,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout[proc.stdout.index("{") :])["show"]
