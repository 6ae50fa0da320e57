"""Run the two dbt passes of the nightly build as subprocesses, as the pipeline does.

A small stand-in for zhaoshang.transform (owned elsewhere) so the dbt project can be tested on
its own: pass 1 (seeds, staging, intermediate), then an empty or given dq.gx_flags written
the way the quality stage writes it, then pass 2 (marts, audit).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from zhaoshang.quality.validation import GX_FLAGS_COLUMNS, GX_FLAGS_DDL
from zhaoshang.reference import write_reference_copies
from zhaoshang.settings import DEFAULT_COUNTY_CODE

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
PASS_1 = ("path:seeds", "path:models/staging", "path:models/intermediate")
PASS_1_EXCLUDED = ("path:models/intermediate/verification",)
PASS_2 = ("path:models/intermediate/verification", "path:models/marts", "path:models/audit")


@dataclass
class Build:
    build_db: Path
    target_path: Path
    seconds: dict[str, float] = field(default_factory=dict)


def dbt(args: list[str], *, ledger: Path, raw_dir: Path, build_db: Path, work_dir: Path) -> float:
    """``dbt <args>``; fails the test with dbt's own output if dbt fails. Returns wall seconds."""
    reference_copy = write_reference_copies(raw_dir / "reference", work_dir / "reference")
    env = os.environ | {
        "ZHAOSHANG_REFERENCE_DIR": str(reference_copy),
        "ZHAOSHANG_BUILD_DB": str(build_db),
        "ZHAOSHANG_LEDGER": str(ledger),
        "ZHAOSHANG_RAW_DIR": str(raw_dir),
        "ZHAOSHANG_COUNTY_CODE": DEFAULT_COUNTY_CODE,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    command = [
        str(Path(sys.executable).with_name("dbt")),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    started = time.perf_counter()
    proc = subprocess.run(
        command, check=False, env=env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-60:])
        raise AssertionError(
            f"dbt {' '.join(args[:1])} failed ({proc.returncode}):\n{tail}\n{proc.stderr[-2000:]}"
        )
    return elapsed


def build_two_passes(
    *, ledger: Path, raw_dir: Path, work_dir: Path, gx_flags: list[tuple] = ()
) -> Build:
    """Pass 1, the quality stage's table (given rows), pass 2 — into a fresh build file."""
    work_dir.mkdir(parents=True, exist_ok=True)
    build = Build(build_db=work_dir / "warehouse_test.duckdb", target_path=work_dir / "target")
    where = {"ledger": ledger, "raw_dir": raw_dir, "build_db": build.build_db, "work_dir": work_dir}
    build.seconds["pass_1"] = dbt(
        ["build", "--select", *PASS_1, "--exclude", *PASS_1_EXCLUDED], **where
    )
    with duckdb.connect(str(build.build_db)) as con:
        con.execute("create schema if not exists dq")
        con.execute(GX_FLAGS_DDL)
        if gx_flags:
            columns = ", ".join(GX_FLAGS_COLUMNS)
            con.executemany(
                f"insert into dq.gx_flags ({columns}) values ({', '.join('?' * len(GX_FLAGS_COLUMNS))})",
                [[flag.get(c) for c in GX_FLAGS_COLUMNS] for flag in gx_flags],
            )
    build.seconds["pass_2"] = dbt(["build", "--select", *PASS_2], **where)
    return build


def query(build: Build, sql: str, params: list | None = None) -> list[dict]:
    """Rows of a query on the build file, as dicts."""
    with duckdb.connect(str(build.build_db), read_only=True) as con:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=False)) for r in cursor.fetchall()]
