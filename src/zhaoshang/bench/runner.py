"""Run the benchmark cases: generate (or reuse) an inbox, then measure each stage in its own process.

Cases (``--case``, comma-separated):

* ``county_year``: one county, 66 units x 12 months (758 files);
* ``prefecture``: 10 counties x 66 units x 12 months (generated);
* ``province``: ``--counties`` (150) counties x a year: the prefecture's counties copied under
  new names (``replicate``), as generating 119,000 workbooks would take half an hour;
* ``incremental``: one county with five years of history (2017-2021) and a night of 60 new
  files (2022-01); the night on top of the loaded history vs the same 60 files on an empty one;
* ``workers``: the distributed parse (``batches.plan`` + ``parse_batch``) of the county-year
  with 1 and with 2 processes pulling batches, as one and two Celery workers do.

A rebuild case (the first three), on a fresh scratch state directory:

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
from dataclasses import dataclass, replace
from pathlib import Path

from zhaoshang.bench.measure import Measured, log_tail, run_command, run_stage
from zhaoshang.bench.replicate import replicate
from zhaoshang.generate import Messiness, Scenario, county_year, generate_inbox, province_year
from zhaoshang.generate.roster import SEED_BLANK_UNITS
from zhaoshang.settings import PROJECT_ROOT
from zhaoshang.transform import dbt_executable

DATA_DIR = PROJECT_ROOT / "bench" / "data"
RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
INBOX_META = "bench_inbox.json"  # written last: its presence marks a complete cached inbox
DBT_CHAIN = ("features", "validate", "marts", "docs")
NIGHT_CHAIN = ("load", *DBT_CHAIN)  # an embedded night: ingestion, then the dbt/GX chain
CASE_NAMES = ("county_year", "prefecture", "province", "incremental", "workers")
DEFAULT_CASES = ("county_year", "incremental", "workers")  # a few minutes, cached inboxes
PREFECTURE_COUNTIES = 10
NIGHT_FILES = 60
HISTORY_YEARS = tuple(range(2017, 2022))
NIGHT_PERIOD = (2022, 1)


@dataclass(frozen=True)
class Case:
    key: str  # results name; also the inbox's cache folder under bench/data/ unless ``inbox``
    kind: str  # rebuild | incremental | workers
    scenario: Scenario
    replicate_from: str | None = None  # a province copied from this (prefecture) case's inbox
    inbox: str | None = None  # another case's cached inbox

    @property
    def inbox_key(self) -> str:
        return self.inbox or self.key


def year_of_counties(counties: int) -> Scenario:
    """``counties`` x 66 units x 12 months (the generator's province preset, every month)."""
    return province_year(counties=counties, months=range(1, 13))


def history_scenario() -> Scenario:
    """One county: every unit sends every month of 2017-2021, then January 2022 (the night)."""
    periods = (*((y, m) for y in HISTORY_YEARS for m in range(1, 13)), NIGHT_PERIOD)
    return Scenario(
        name="incremental_history",
        seed=2022,
        periods=periods,
        random_months=(NIGHT_PERIOD[1],),
        blank_units=SEED_BLANK_UNITS,
        blank_empty_form=SEED_BLANK_UNITS,
        messiness=replace(Messiness.light(), bad_rows=False),
        writer="xlsxwriter",
        truth_rows=False,
    )


def cases(names: list[str] | tuple[str, ...], counties: int) -> list[Case]:
    """The named cases in the order given; ``all`` is every case."""
    wanted = list(CASE_NAMES) if "all" in names else list(names)
    unknown = sorted(set(wanted) - set(CASE_NAMES))
    if unknown:
        raise ValueError(f"unknown case(s) {unknown}; choose from {CASE_NAMES} or all")
    prefecture = f"prefecture_{PREFECTURE_COUNTIES}"
    made = {
        "county_year": Case("county_year", "rebuild", county_year()),
        "prefecture": Case(prefecture, "rebuild", year_of_counties(PREFECTURE_COUNTIES)),
        "province": Case(
            f"province_{counties}",
            "rebuild",
            year_of_counties(counties),
            replicate_from=prefecture if counties > PREFECTURE_COUNTIES else None,
        ),
        "incremental": Case("incremental", "incremental", history_scenario()),
        "workers": Case("workers", "workers", county_year(), inbox="county_year"),
    }
    return [made[name] for name in wanted]


def _write_meta(raw: Path, meta: dict) -> dict:
    (raw / INBOX_META).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return meta | {"cached": False}


def ensure_inbox(case: Case, regenerate: bool = False) -> tuple[Path, dict]:
    """The case's inbox under bench/data/<key>/, generated once and reused afterwards."""
    raw = DATA_DIR / case.inbox_key
    meta_path = raw / INBOX_META
    if meta_path.exists() and not regenerate:
        return raw, json.loads(meta_path.read_text(encoding="utf-8")) | {"cached": True}
    meta_path.unlink(missing_ok=True)
    started = time.perf_counter()
    if case.replicate_from:
        source = Case(case.replicate_from, "rebuild", year_of_counties(PREFECTURE_COUNTIES))
        src_raw, src_meta = ensure_inbox(source, regenerate)
        print(f"copying {source.key} to {case.scenario.counties} counties in {raw} ...", flush=True)
        shutil.rmtree(raw, ignore_errors=True)
        files = replicate(src_raw, raw, src_meta["counties"], case.scenario.counties)
        rows = src_meta["rows_by_county"]
        return raw, _write_meta(
            raw,
            {
                "scenario": case.scenario.name,
                "counties": case.scenario.counties,
                "files": files,
                "rows_read": sum(rows[c % len(rows)] for c in range(case.scenario.counties)),
                "units": src_meta["units"] // len(rows) * case.scenario.counties,
                "replicated_from": case.replicate_from,
                "generated_s": round(time.perf_counter() - started, 1),
            },
        )
    print(f"generating {case.inbox_key} into {raw} ...", flush=True)
    truth = generate_inbox(raw, case.scenario, force=True)
    from zhaoshang.generate.inbox import county_name

    names = [county_name(i) for i in range(case.scenario.counties)]
    meta = {
        "scenario": case.scenario.name,
        "counties": case.scenario.counties,
        "files": truth.counts["files"],
        "rows_read": truth.counts["rows_read"],
        "units": truth.counts["units"],
        # the files of the last period, by name: the incremental case's night
        "last_period_files": sorted(
            f.source_file
            for f in truth.files
            if (f.year, f.month) == max(case.scenario.periods) and f.status == "loaded"
        ),
        "rows_by_county": [
            sum(
                f.rows_read
                for f in truth.files
                if f.status == "loaded" and (f.unit_name or "").startswith(name)
            )
            for name in names
        ]
        if case.scenario.counties > 1
        else [truth.counts["rows_read"]],
        "generated_s": round(time.perf_counter() - started, 1),
    }
    return raw, _write_meta(raw, meta)


def _env(raw: Path, work: Path, run_id: str = "bench") -> dict[str, str]:
    return os.environ | {
        "ZHAOSHANG_BENCH_RUN_ID": run_id,
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
        "kind": case.kind,
        "inbox": str(raw),
        "data": meta,
        "cpus": os.cpu_count(),
        "loadavg": (load_before, os.getloadavg()[0]),  # other work on the machine skews wall times
        "stages": {k: [m.as_dict() for m in v] for k, v in stages.items()},
    }


def _link_inbox(raw: Path, dst: Path, files: list[str]) -> None:
    """Hard links of ``raw``'s reference data and of ``files`` (relative to ``raw``) in ``dst``."""
    for path in [*(raw / "reference").iterdir(), *(raw / f for f in files)]:
        target = dst / path.relative_to(raw)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)  # keeps the mtime the loader reads as arrival time


def _night(stages: dict[str, list[Measured]], prefix: str, env: dict[str, str], work: Path) -> None:
    for stage in (*NIGHT_CHAIN, "publish"):
        if not _run(stages, prefix + stage, run_stage(stage, env, work)).ok:
            return


def _relative(raw: Path, source_file: str) -> str:
    return source_file if (raw / source_file).exists() else f"submissions/{source_file}"


def bench_incremental(case: Case, reps: int, keep: bool, regenerate: bool) -> dict:
    """Five years loaded and published, then a night of 60 files; the same 60 on an empty state."""
    raw, meta = ensure_inbox(case, regenerate)
    all_files = sorted(
        str(p.relative_to(raw)) for p in (raw / "submissions").rglob("*") if p.is_file()
    )
    last = {_relative(raw, f) for f in meta["last_period_files"]}
    night = sorted(last)[:NIGHT_FILES]
    history = [f for f in all_files if f not in last]
    print(
        f"\n== {case.key}: history {len(history)} files, night {len(night)} files "
        f"({'cached' if meta['cached'] else 'generated'} inbox {raw})",
        flush=True,
    )
    stages: dict[str, list[Measured]] = {}
    load_before = os.getloadavg()[0]
    scratch = _Scratch(case.key, keep)
    try:
        for _rep in range(reps):
            work = scratch.new("history")
            inbox = work / "raw"
            _link_inbox(raw, inbox, history)
            _night(stages, "history:", _env(inbox, work, "history"), work)
            _link_inbox(raw, inbox, night)
            _night(stages, "night:", _env(inbox, work, "night"), work)
            # the same history and night again, each night in one process as `python -m
            # zhaoshang nightly` runs it (exports, report and receipts too): the county night
            whole = scratch.new("whole-nights")
            _link_inbox(raw, whole / "raw", history)
            env = _env(whole / "raw", whole, "history")
            if _run(stages, "history_in_one_process", run_stage("nightly", env, whole)).ok:
                _link_inbox(raw, whole / "raw", night)
                env = _env(whole / "raw", whole, "night")
                _run(stages, "night_in_one_process", run_stage("nightly", env, whole))
            empty = scratch.new("empty-history")
            _link_inbox(raw, empty / "raw", night)
            _night(stages, "empty_night:", _env(empty / "raw", empty, "night"), empty)
    finally:
        scratch.keep = scratch.keep or any(not m.ok for runs in stages.values() for m in runs)
        scratch.close()
    return {
        "key": case.key,
        "kind": case.kind,
        "inbox": str(raw),
        "data": meta | {"history_files": len(history), "night_files": len(night)},
        "cpus": os.cpu_count(),
        "loadavg": (load_before, os.getloadavg()[0]),
        "stages": {k: [m.as_dict() for m in v] for k, v in stages.items()},
    }


def bench_workers(case: Case, reps: int, keep: bool, regenerate: bool, batch_files: int) -> dict:
    """``batches.parse_batch`` over the county-year's batches with 1, then 2 processes."""
    raw, meta = ensure_inbox(case, regenerate)
    print(f"\n== {case.key}: parse batches of {case.inbox_key}, {meta['files']} files", flush=True)
    stages: dict[str, list[Measured]] = {}
    load_before = os.getloadavg()[0]
    scratch = _Scratch(case.key, keep)
    try:
        for _rep in range(reps):
            work = scratch.new("raw")
            _run(stages, "raw_calamine", run_stage("raw_calamine", _env(raw, work), work))
            for workers in (1, 2):
                work = scratch.new(f"workers-{workers}")
                args = ("--workers", str(workers), "--batch-files", str(batch_files))
                measured = run_stage("parse_batches", _env(raw, work), work, *args)
                _run(stages, f"parse_batches:{workers}", measured)
    finally:
        scratch.keep = scratch.keep or any(not m.ok for runs in stages.values() for m in runs)
        scratch.close()
    return {
        "key": case.key,
        "kind": case.kind,
        "inbox": str(raw),
        "data": meta | {"batch_files": batch_files},
        "cpus": os.cpu_count(),
        "loadavg": (load_before, os.getloadavg()[0]),
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
