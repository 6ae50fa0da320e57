"""Run the benchmark cases: generate (or reuse) an inbox, then measure each stage in its own process.

Per case, on a fresh scratch state directory:

1. raw parse: python-calamine over every file and sheet; openpyxl read-only on a sample;
2. ingestion: ``pipeline.load_submissions`` on a fresh ledger;
3. on that ledger: dbt pass 1 (``build_features``), GX (``validate_entries``), dbt pass 2
   (the marts build, then ``dbt docs generate``);
4. fixed costs: the same three stages on an empty ledger (schema only, same reference data),
   plus ``dbt --version`` as the bare CLI start-up.

Steps 1 (calamine only) to 4 are repeated ``--reps`` times; the report gives medians. With
``--profile``, once more: the loader under cProfile, and the project's reader alone (in
process, and through the sandbox pool) to separate parsing from sandbox IPC and ledger writes.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from zhaoshang.bench.measure import Measured, log_tail, run_command, run_stage
from zhaoshang.generate import Scenario, county_year, generate_inbox, province_year
from zhaoshang.settings import PROJECT_ROOT
from zhaoshang.transform import dbt_executable

DATA_DIR = PROJECT_ROOT / "bench" / "data"
RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
INBOX_META = "bench_inbox.json"  # written last: its presence marks a complete cached inbox
DBT_CHAIN = ("features", "validate", "marts", "docs")


@dataclass(frozen=True)
class Case:
    key: str  # cache folder name under bench/data/
    scenario: Scenario


def cases(which: str, counties: int) -> list[Case]:
    chosen = []
    if which in ("county_year", "all"):
        chosen.append(Case("county_year", county_year()))
    if which in ("province_year", "all"):
        chosen.append(Case(f"province_year_{counties}", province_year(counties=counties)))
    return chosen


def ensure_inbox(case: Case, regenerate: bool = False) -> tuple[Path, dict]:
    """The case's inbox under bench/data/<key>/, generated once and reused afterwards."""
    raw = DATA_DIR / case.key
    meta_path = raw / INBOX_META
    if meta_path.exists() and not regenerate:
        return raw, json.loads(meta_path.read_text(encoding="utf-8")) | {"cached": True}
    meta_path.unlink(missing_ok=True)
    print(f"generating {case.key} into {raw} ...", flush=True)
    started = time.perf_counter()
    truth = generate_inbox(raw, case.scenario, force=True)
    meta = {
        "scenario": case.scenario.name,
        "counties": case.scenario.counties,
        "files": truth.counts["files"],
        "rows_read": truth.counts["rows_read"],
        "units": truth.counts["units"],
        "generated_s": round(time.perf_counter() - started, 1),
    }
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return raw, meta | {"cached": False}


def _env(raw: Path, work: Path) -> dict[str, str]:
    return os.environ | {
        "ZHAOSHANG_RAW_DIR": str(raw),
        "ZHAOSHANG_WAREHOUSE": str(work / "warehouse" / "zhaoshang.duckdb"),
        "ZHAOSHANG_OUTPUT_DIR": str(work / "output"),
        "ZHAOSHANG_STATE_DIR": str(work / "state"),
        "GX_ANALYTICS_ENABLED": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


class _Scratch:
    """Fresh scratch folders (one state directory each) below bench/data/, removed at the end."""

    def __init__(self, key: str, keep: bool):
        self.root = Path(tempfile.mkdtemp(prefix=f".work-{key}-", dir=DATA_DIR))
        self.keep = keep
        self.count = 0

    def new(self, name: str) -> Path:
        self.count += 1
        path = self.root / f"{self.count:02d}-{name}"
        path.mkdir()
        return path

    def close(self) -> None:
        if self.keep:
            print(f"scratch kept: {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def _run(stages: dict[str, list[Measured]], name: str, measured: Measured) -> Measured:
    stages.setdefault(name, []).append(measured)
    status = f"{measured.seconds:.2f} s" if measured.ok else "FAILED"
    cpu = f"CPU {measured.cpu_s:.1f} s, " if measured.cpu_s is not None else ""
    print(
        f"  {name:<28} {status:>10}  ({cpu}process {measured.process_s:.1f} s, "
        f"peak RSS {measured.max_rss_mb:.0f} MB, tree {measured.tree_rss_mb:.0f} MB)",
        flush=True,
    )
    if not measured.ok:
        print(
            "    log: " + measured.log + "\n    " + log_tail(measured).replace("\n", "\n    "),
            flush=True,
        )
    return measured


def _chain(stages: dict[str, list[Measured]], prefix: str, env: dict[str, str], work: Path) -> None:
    """dbt pass 1 -> GX -> dbt pass 2 -> docs, stopping at the first failure."""
    for stage in DBT_CHAIN:
        if not _run(stages, prefix + stage, run_stage(stage, env, work)).ok:
            return


def _repetition(stages: dict[str, list[Measured]], raw: Path, scratch: _Scratch) -> None:
    """Raw parse, ingestion and the dbt/GX chain on it, then the chain on an empty ledger."""
    work = scratch.new("load")
    env = _env(raw, work)
    _run(stages, "raw_calamine", run_stage("raw_calamine", env, work))
    if _run(stages, "load", run_stage("load", env, work)).ok:
        _chain(stages, "", env, work)
    empty = scratch.new("empty")
    env = _env(raw, empty)
    if _run(stages, "empty:init", run_stage("init_empty", env, empty)).ok:
        _chain(stages, "empty:", env, empty)
    _run(
        stages,
        "dbt --version",
        run_command("dbt_version", [dbt_executable(), "--version"], env, empty),
    )


def bench_case(
    case: Case, reps: int, openpyxl_sample: int, profile: bool, keep: bool, regenerate: bool
) -> dict:
    raw, meta = ensure_inbox(case, regenerate)
    print(
        f"\n== {case.key}: {meta['files']} files, {meta['rows_read']} rows "
        f"({'cached' if meta['cached'] else 'generated'} inbox {raw})",
        flush=True,
    )
    stages: dict[str, list[Measured]] = {}
    load_before = os.getloadavg()[0]
    scratch = _Scratch(case.key, keep)
    try:
        work = scratch.new("raw")
        _run(
            stages,
            "raw_openpyxl",
            run_stage("raw_openpyxl", _env(raw, work), work, "--sample", str(openpyxl_sample)),
        )
        for _rep in range(reps):
            _repetition(stages, raw, scratch)
        if profile:
            work = scratch.new("profile")
            env = _env(raw, work)
            measured = _run(stages, "load_profiled", run_stage("load_profiled", env, work))
            _keep_profile_text(measured, case.key)
            _run(stages, "parse_inprocess", run_stage("parse_inprocess", env, work))
            _run(stages, "parse_sandboxed", run_stage("parse_sandboxed", env, work))
    finally:
        scratch.keep = scratch.keep or any(
            not m.ok for runs in stages.values() for m in runs
        )  # logs
        scratch.close()
    return {
        "key": case.key,
        "inbox": str(raw),
        "data": meta,
        "cpus": os.cpu_count(),
        "loadavg": (load_before, os.getloadavg()[0]),  # other work on the machine skews wall times
        "stages": {k: [m.as_dict() for m in v] for k, v in stages.items()},
    }


def _keep_profile_text(measured: Measured, key: str) -> None:
    text = Path(measured.result.get("profile_text", ""))
    if measured.ok and text.is_file():
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        kept = RESULTS_DIR / f"{time.strftime('%Y%m%dT%H%M%S')}-{key}-load-profile.txt"
        shutil.copyfile(text, kept)
        measured.result["profile_text"] = str(kept)


def median_seconds(runs: list[dict] | None) -> float | None:
    values = [r["seconds"] for r in runs or [] if r["ok"]]
    return statistics.median(values) if values else None
