"""Derived figures (rates, ratios, fixed vs data-dependent cost) and the plain-text table."""

from __future__ import annotations

import statistics
from typing import Any

from zhaoshang.bench.runner import median_seconds

GOAL_RATIO = 1.25  # ingestion time / raw calamine parse time (the goal)
PROVINCE_COUNTIES = 150
GOAL_PROVINCE_S = 300.0  # province full year, full rebuild (ingestion + dbt + GX + docs)
GOAL_PROVINCE_MB = 2048.0  # ... and its peak memory (tree RSS)
GOAL_INCREMENTAL_RATIO = 1.2  # night on five years of history / the same night on an empty one
GOAL_NIGHT_WALL_S = 30.0  # one county's night, embedded, wall time incl. start-up
GOAL_WORKERS_SPEEDUP = 1.8  # parse with 2 workers vs 1
REBUILD_STAGES = ("load", "features", "validate", "marts", "docs")
NIGHT_STAGES = ("load", "features", "validate", "marts", "docs", "publish")


def _median(runs: list[dict] | None, key: str) -> float | None:
    values = [r[key] for r in runs or [] if r["ok"] and r.get(key) is not None]
    return statistics.median(values) if values else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _chain_totals(stages: dict, prefix: str, names: tuple[str, ...]) -> dict:
    """Seconds (the calls), wall (the processes, start-up included) and peak RSS of a chain."""
    runs = [stages.get(prefix + n) for n in names]
    seconds = [median_seconds(r) for r in runs]
    walls = [_median(r, "process_s") for r in runs]
    cpus = [_median(r, "cpu_s") for r in runs]
    peaks = [_median(r, "tree_rss_mb") for r in runs]
    complete = all(v is not None for v in seconds)
    return {
        "s": sum(seconds) if complete else None,
        "wall_s": sum(walls) if complete else None,
        "cpu_s": sum(cpus) if complete and None not in cpus else None,
        "peak_mb": max((p for p in peaks if p is not None), default=None),
    }


def derive(case: dict) -> dict:
    """The headline numbers of one case, from its measured stages."""
    kind = case.get("kind", "rebuild")
    if kind == "incremental":
        return _derive_incremental(case)
    if kind == "workers":
        return _derive_workers(case)
    stages, data = case["stages"], case["data"]
    load_runs = [r for r in stages.get("load", []) if r["ok"]]
    summary = load_runs[-1]["result"] if load_runs else {}
    files = summary.get("files_seen", data["files"])
    rows = summary.get("rows_read", data["rows_read"])
    raw = median_seconds(stages.get("raw_calamine"))
    load = median_seconds(stages.get("load"))
    openpyxl = stages.get("raw_openpyxl", [{}])[-1]
    openpyxl_total = None
    if openpyxl.get("ok") and openpyxl["result"].get("files"):
        openpyxl_total = openpyxl["seconds"] / openpyxl["result"]["files"] * files
    derived = {
        "files": files,
        "rows_read": rows,
        "raw_calamine_s": raw,
        "raw_openpyxl_projected_s": openpyxl_total,
        "ingestion_s": load,
        "ingestion_files_per_s": _ratio(files, load),
        "ingestion_rows_per_s": _ratio(rows, load),
        "ingestion_over_raw_parse": _ratio(load, raw),
        "ingestion_cpu_over_raw_parse_cpu": _ratio(
            _median(stages.get("load"), "cpu_s"), _median(stages.get("raw_calamine"), "cpu_s")
        ),
        "goal_ratio": GOAL_RATIO,
        "openpyxl_over_calamine": _ratio(openpyxl_total, raw),
    }
    for stage in ("features", "validate", "marts", "docs"):
        full, empty = stages.get(stage), stages.get("empty:" + stage)
        for suffix, key in (("s", "seconds"), ("cpu_s", "cpu_s")):
            a, b = _median(full, key), _median(empty, key)
            derived[f"{stage}_{suffix}"] = a
            derived[f"{stage}_empty_ledger_{suffix}"] = b
            derived[f"{stage}_data_dependent_{suffix}"] = (
                a - b if a is not None and b is not None else None
            )
    derived["dbt_version_s"] = median_seconds(stages.get("dbt --version"))
    rebuild = _chain_totals(stages, "", REBUILD_STAGES)
    derived["rebuild_s"], derived["rebuild_wall_s"] = rebuild["s"], rebuild["wall_s"]
    derived["rebuild_cpu_s"] = rebuild["cpu_s"]
    derived["rebuild_peak_mb"] = rebuild["peak_mb"]
    counties = data.get("counties", 1)
    if counties > 1 and counties != PROVINCE_COUNTIES and load is not None:
        scale = PROVINCE_COUNTIES / counties  # files and rows grow linearly with counties
        derived["projection_to_150_counties"] = {
            "scale": scale,
            "files": round(files * scale),
            "rows_read": round(rows * scale),
            "ingestion_s_linear": load * scale,
            "raw_calamine_s_linear": raw * scale if raw else None,
        }
    return derived


def _derive_incremental(case: dict) -> dict:
    stages, data = case["stages"], case["data"]
    derived: dict[str, Any] = {"files": data["night_files"], "history_files": data["history_files"]}
    for prefix in ("history", "night", "empty_night"):
        totals = _chain_totals(stages, prefix + ":", NIGHT_STAGES)
        derived |= {f"{prefix}_{k}": v for k, v in totals.items()}
    derived["night_over_empty_night"] = _ratio(derived["night_s"], derived["empty_night_s"])
    derived["night_wall_over_empty_night_wall"] = _ratio(
        derived["night_wall_s"], derived["empty_night_wall_s"]
    )
    derived["night_cpu_over_empty_night_cpu"] = _ratio(
        derived["night_cpu_s"], derived["empty_night_cpu_s"]
    )
    # the county night as one process runs it, start-up included (results before 2026-12-05
    # have only the stage-by-stage night, whose processes each start Python again)
    derived["night_in_one_process_s"] = _median(stages.get("night_in_one_process"), "process_s")
    derived["county_night_wall_s"] = derived["night_in_one_process_s"] or derived["night_wall_s"]
    return derived


def _derive_workers(case: dict) -> dict:
    stages, data = case["stages"], case["data"]
    one, two = (median_seconds(stages.get(f"parse_batches:{w}")) for w in (1, 2))
    runs = [r for r in stages.get("parse_batches:1", []) if r["ok"]]
    rows = runs[-1]["result"]["rows_read"] if runs else data["rows_read"]
    return {
        "files": data["files"],
        "rows_read": rows,
        "raw_calamine_s": median_seconds(stages.get("raw_calamine")),
        "parse_1_worker_s": one,
        "parse_2_workers_s": two,
        "speedup_2_over_1": _ratio(one, two),
        "one_worker_over_raw_parse": _ratio(one, median_seconds(stages.get("raw_calamine"))),
    }


def _verdict(value: float | None, goal: float, at_most: bool = True) -> str:
    if value is None:
        return "not measured"
    met = value <= goal if at_most else value >= goal
    return "met" if met else "NOT met"


def goals(cases: list[dict]) -> list[list[str]]:
    """[goal, case, measured, target, verdict] for every goal a measured case speaks to."""
    out: list[list[str]] = []
    for case in cases:
        d, key, kind = case["derived"], case["key"], case.get("kind", "rebuild")
        if kind == "rebuild":
            out.append(
                [
                    "ingestion / raw calamine",
                    key,
                    _times2(d["ingestion_over_raw_parse"]),
                    f"<= {GOAL_RATIO}x",
                    _verdict(d["ingestion_over_raw_parse"], GOAL_RATIO),
                ]
            )
            if case["data"].get("counties", 1) >= PROVINCE_COUNTIES:
                out.append(
                    [
                        "province year, full rebuild",
                        key,
                        f"{_fmt(d['rebuild_wall_s'], 0)} s wall",
                        f"<= {GOAL_PROVINCE_S:.0f} s",
                        _verdict(d["rebuild_wall_s"], GOAL_PROVINCE_S),
                    ]
                )
                out.append(
                    [
                        "province year, peak memory",
                        key,
                        f"{_fmt(d['rebuild_peak_mb'], 0)} MB",
                        f"<= {GOAL_PROVINCE_MB:.0f} MB",
                        _verdict(d["rebuild_peak_mb"], GOAL_PROVINCE_MB),
                    ]
                )
        elif kind == "incremental":
            out.append(
                [
                    "incremental night / empty-history night",
                    key,
                    f"{_times2(d['night_over_empty_night'])} "
                    f"(CPU {_times2(d.get('night_cpu_over_empty_night_cpu'))})",
                    f"<= {GOAL_INCREMENTAL_RATIO}x",
                    _verdict(d["night_over_empty_night"], GOAL_INCREMENTAL_RATIO),
                ]
            )
            out.append(
                [
                    "county night, wall incl. start-up"
                    + (", one process" if d.get("night_in_one_process_s") else ""),
                    key,
                    f"{_fmt(d.get('county_night_wall_s', d['night_wall_s']), 1)} s",
                    f"<= {GOAL_NIGHT_WALL_S:.0f} s",
                    _verdict(d.get("county_night_wall_s", d["night_wall_s"]), GOAL_NIGHT_WALL_S),
                ]
            )
        elif kind == "workers":
            out.append(
                [
                    "ingestion parse, 2 workers / 1 worker",
                    key,
                    _times2(d["speedup_2_over_1"]) + " faster",
                    f">= {GOAL_WORKERS_SPEEDUP}x",
                    _verdict(d["speedup_2_over_1"], GOAL_WORKERS_SPEEDUP, at_most=False),
                ]
            )
    return out


def goals_table(cases: list[dict]) -> str:
    rows = goals(cases)
    if not rows:
        return ""
    busiest = max(max(c["loadavg"]) for c in cases)
    cpus = max(c["cpus"] or 1 for c in cases)
    note = (
        f"load average reached {busiest:.1f} on {cpus} CPUs: other work inflated the wall times"
        if busiest > cpus
        else ""
    )
    table = _aligned([["goal", "case", "measured", "target", ""], *rows])
    return "\n".join(["goals", *table, *([note] if note else [])])


def _times2(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


COLUMNS = (
    "stage",
    "s",
    "CPU s",
    "process s",
    "empty ledger s",
    "files/s",
    "rows/s",
    "RSS MB max",
    "RSS MB tree",
    "note",
)


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 or digits == 0 else f"{value:,.{digits}f}"


def _row(
    label: str,
    runs: list[dict] | None,
    empty: list[dict] | None = None,
    files: int | None = None,
    rows: int | None = None,
    note: str = "",
) -> list[str]:
    seconds = median_seconds(runs)
    if runs and seconds is None:
        note = "FAILED, see log " + runs[-1].get("log", "")
    return [
        label,
        _fmt(seconds),
        _fmt(_median(runs, "cpu_s")),
        _fmt(_median(runs, "process_s"), 1),
        _fmt(median_seconds(empty)),
        _fmt(_ratio(files, seconds), 0),
        _fmt(_ratio(rows, seconds), 0),
        _fmt(_median(runs, "max_rss_mb"), 0),
        _fmt(_median(runs, "tree_rss_mb"), 0),
        note,
    ]


def _data_dependent(d: dict, stage: str) -> str:
    """Stage minus the same stage on an empty ledger; negative means run-to-run noise dominates."""
    wall, cpu = d[f"{stage}_data_dependent_s"], d[f"{stage}_data_dependent_cpu_s"]
    noisy = " (< 0: noise)" if (wall or 0) < 0 or (cpu or 0) < 0 else ""
    return f"data-dependent {_fmt(wall)} s, CPU {_fmt(cpu)} s{noisy}"


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def _chain_table(case: dict, chains: list[tuple[str, str]], names: tuple[str, ...]) -> list[str]:
    """One row a stage of each chain (prefix, label), then the chain's total."""
    stages, d = case["stages"], case["derived"]
    body = []
    for prefix, label in chains:
        for name in names:
            runs = stages.get(prefix + name)
            if runs is None:
                continue
            files = d["files"] if name == "load" and prefix != "history:" else None
            rows = (
                runs[-1]["result"].get("rows_read") if name == "load" and runs[-1]["ok"] else None
            )
            body.append(_row(f"{label}: {name}", runs, None, files, rows))
        totals = _chain_totals(stages, prefix, names)
        body.append(
            [
                f"{label}: total",
                _fmt(totals["s"]),
                _fmt(totals["cpu_s"]),
                _fmt(totals["wall_s"], 1),
                "",
                "",
                "",
                "",
                _fmt(totals["peak_mb"], 0),
                "wall = processes incl. start-up",
            ]
        )
    return _aligned([list(COLUMNS), *body])


def table(case: dict) -> str:
    """The case's stages as an aligned plain-text table, then the ingestion breakdown if profiled."""
    kind = case.get("kind", "rebuild")
    d = case["derived"]
    head = (
        f"load average {case['loadavg'][0]:.1f} -> {case['loadavg'][1]:.1f} on {case['cpus']} CPUs"
    )
    if kind == "incremental":
        lines = [
            f"{case['key']}: night of {d['files']} files on {d['history_files']:,} files of "
            f"history (2017-2021) vs the same night on an empty state; {head}",
            *_chain_table(
                case,
                [
                    ("history:", "history (5 years)"),
                    ("night:", "night on history"),
                    ("empty_night:", "night, empty history"),
                ],
                NIGHT_STAGES,
            ),
            f"night on history / night on empty history: {_times2(d['night_over_empty_night'])} "
            f"(calls), {_times2(d['night_wall_over_empty_night_wall'])} (wall), "
            f"{_times2(d['night_cpu_over_empty_night_cpu'])} (CPU)",
        ]
        for stage, label in (
            ("history_in_one_process", "history (5 years), one process"),
            ("night_in_one_process", "night on history, one process"),
        ):
            runs = case["stages"].get(stage)
            if runs:
                lines.append(
                    f"{label}: {_fmt(_median(runs, 'process_s'), 1)} s wall incl. start-up, "
                    f"CPU {_fmt(_median(runs, 'cpu_s'), 1)} s, "
                    f"peak RSS tree {_fmt(_median(runs, 'tree_rss_mb'), 0)} MB "
                    "(python -m zhaoshang nightly: every stage, exports, report, receipts)"
                )
        return "\n".join(lines)
    if kind == "workers":
        stages = case["stages"]
        body = [
            _row(
                "raw parse: calamine", stages.get("raw_calamine"), None, d["files"], d["rows_read"]
            ),
            *(
                _row(
                    f"parse_batch, {w} worker(s)",
                    stages.get(f"parse_batches:{w}"),
                    None,
                    d["files"],
                    d["rows_read"],
                    f"{_times2(_ratio(median_seconds(stages.get(f'parse_batches:{w}')), d['raw_calamine_s']))} raw calamine",
                )
                for w in (1, 2)
            ),
        ]
        return "\n".join(
            [
                f"{case['key']}: batches.parse_batch over {d['files']:,} files, one sandbox "
                f"worker a process; {head}",
                *_aligned([list(COLUMNS), *body]),
                f"2 workers / 1 worker: {_times2(d['speedup_2_over_1'])} faster",
            ]
        )
    return _rebuild_table(case)


def _rebuild_table(case: dict) -> str:
    stages, d = case["stages"], case["derived"]
    files, rows = d["files"], d["rows_read"]
    openpyxl = stages.get("raw_openpyxl", [{}])[-1]
    sample = openpyxl.get("result", {}).get("files", 0)
    gx: dict[str, Any] = next((r["result"] for r in stages.get("validate", []) if r["ok"]), {})
    reps = len(stages.get("load", []))
    body = [
        _row(
            "raw parse: calamine, all sheets",
            stages.get("raw_calamine"),
            None,
            files,
            rows,
            "the reference: 1.0x",
        ),
        _row(
            f"raw parse: openpyxl r/o, {sample} files",
            stages.get("raw_openpyxl"),
            None,
            sample,
            None,
            f"all files ~{_fmt(d['raw_openpyxl_projected_s'], 1)} s = {_times(d['openpyxl_over_calamine'])} calamine",
        ),
        _row(
            "ingestion: load_submissions",
            stages.get("load"),
            None,
            files,
            rows,
            f"{_times(d['ingestion_over_raw_parse'])} raw calamine (goal <= {GOAL_RATIO}x); "
            f"CPU {_times(d['ingestion_cpu_over_raw_parse_cpu'])}",
        ),
        _row(
            "dbt pass 1: features",
            stages.get("features"),
            stages.get("empty:features"),
            None,
            rows,
            _data_dependent(d, "features"),
        ),
        _row(
            "GX: validate_entries",
            stages.get("validate"),
            stages.get("empty:validate"),
            None,
            gx.get("entries_checked"),
            f"{gx.get('entries_checked', '?')} entries, {gx.get('flags', '?')} flags; "
            + _data_dependent(d, "validate"),
        ),
        _row(
            "dbt pass 2: marts",
            stages.get("marts"),
            stages.get("empty:marts"),
            None,
            rows,
            _data_dependent(d, "marts"),
        ),
        _row(
            "dbt docs generate",
            stages.get("docs"),
            stages.get("empty:docs"),
            None,
            None,
            "second half of build_marts",
        ),
        _row(
            "dbt --version", stages.get("dbt --version"), None, None, None, "bare dbt CLI start-up"
        ),
        [
            "full rebuild: ingestion .. docs",
            _fmt(d.get("rebuild_s")),
            _fmt(d.get("rebuild_cpu_s")),
            _fmt(d.get("rebuild_wall_s"), 1),
            "",
            _fmt(_ratio(files, d.get("rebuild_s")), 0),
            _fmt(_ratio(rows, d.get("rebuild_s")), 0),
            "",
            _fmt(d.get("rebuild_peak_mb"), 0),
            "wall = the five processes incl. start-up; RSS = the largest stage",
        ],
    ]
    lines = [
        (
            f"{case['key']}: {files:,} files, {rows:,} rows read; median of {reps} run(s); "
            f"load average {case['loadavg'][0]:.1f} -> {case['loadavg'][1]:.1f} on {case['cpus']} CPUs"
        ),
        (
            "s = the stage's call in its own process; CPU s includes its children (workers, dbt); "
            "rows/s = ledger rows (GX: entries) per s"
        ),
        *_aligned([list(COLUMNS), *body]),
    ]
    projection = d.get("projection_to_150_counties")
    if projection:
        lines.append(
            f"linear projection to {PROVINCE_COUNTIES} counties (x{projection['scale']:.0f}): "
            f"{projection['files']:,} files, {projection['rows_read']:,} rows, ingestion "
            f"~{projection['ingestion_s_linear']:.0f} s, raw calamine ~{_fmt(projection['raw_calamine_s_linear'], 1)} s "
            "(projected, not measured)"
        )
    lines += _profile_lines(stages, files)
    return "\n".join(lines)


def _profile_lines(stages: dict, files: int) -> list[str]:
    profiled = next((r for r in stages.get("load_profiled", []) if r["ok"]), None)
    if profiled is None:
        return []
    total = profiled["result"]["profiled_seconds"]
    title = (
        f"ingestion breakdown (loader process under cProfile, {total:.2f} s; "
        f"profile: {profiled['result']['profile_text']})"
    )
    out = ["", title]
    rows = [["component", "s", "share"]]
    for label, seconds in profiled["result"]["components"].items():
        rows.append([label, f"{seconds:.2f}", f"{seconds / total:.0%}" if total else "-"])
    inproc, sandboxed = (
        median_seconds(stages.get("parse_inprocess")),
        median_seconds(stages.get("parse_sandboxed")),
    )
    raw = median_seconds(stages.get("raw_calamine"))
    rows.append(
        [
            "project reader alone, 1 process, no sandbox",
            _fmt(inproc),
            f"{_times(_ratio(inproc, raw))} calamine",
        ]
    )
    rows.append(
        [
            "project reader via sandbox pool (read_submissions)",
            _fmt(sandboxed),
            f"{_times(_ratio(sandboxed, raw))} calamine",
        ]
    )
    return out + _aligned(rows)


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for k, r in enumerate(rows):
        cells = [
            c.ljust(w) if i in (0, len(r) - 1) else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=False))
        ]
        out.append("  ".join(cells).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return out
