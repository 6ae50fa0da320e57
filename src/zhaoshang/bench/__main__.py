"""``python -m zhaoshang.bench [--case a,b] [--counties N | --quick] [--reps N] [--profile]``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from zhaoshang.bench import report, runner


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m zhaoshang.bench",
        description=runner.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--case",
        default=",".join(runner.DEFAULT_CASES),
        help=f"comma-separated, of {', '.join(runner.CASE_NAMES)}, or all "
        f"(default {','.join(runner.DEFAULT_CASES)})",
    )
    parser.add_argument(
        "--counties", type=int, help="the province case's counties (default 150; --quick: 30)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="province of 30 counties, openpyxl sample 30"
    )
    parser.add_argument(
        "--batch-files", type=int, default=50, help="files a batch in the workers case"
    )
    parser.add_argument(
        "--reps", type=int, default=1, help="repetitions of every stage but openpyxl (medians)"
    )
    parser.add_argument(
        "--openpyxl-sample", type=int, help="files read with openpyxl (default 100)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also break ingestion down (cProfile)"
    )
    parser.add_argument("--regenerate", action="store_true", help="regenerate cached inboxes")
    parser.add_argument(
        "--report", nargs="+", metavar="RESULTS_JSON", help="print the tables of saved results"
    )
    parser.add_argument(
        "--keep-work", action="store_true", help="keep the scratch ledgers and logs"
    )
    args = parser.parse_args(argv)
    args.counties = args.counties or (30 if args.quick else report.PROVINCE_COUNTIES)
    args.case = [c.strip() for c in args.case.split(",") if c.strip()]
    args.openpyxl_sample = args.openpyxl_sample or (30 if args.quick else 100)
    return args


def reprint(paths: list[str]) -> int:
    """The tables of earlier runs (``bench/results/*.json``), with today's derived figures."""
    cases = [c for p in paths for c in json.loads(Path(p).read_text(encoding="utf-8"))["cases"]]
    for case in cases:
        case["derived"] = report.derive(case)
        print(report.table(case), end="\n\n")
    print(report.goals_table(cases))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        return reprint(args.report)
    started = time.strftime("%Y%m%dT%H%M%S")
    cases: list[dict[str, Any]] = []
    results: dict[str, Any] = {
        "started": started,
        "args": dict(vars(args).items()),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "loadavg_at_start": os.getloadavg(),
            "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
        },
        "cases": cases,
    }
    try:
        chosen = runner.cases(args.case, args.counties)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    for case in chosen:
        if case.kind == "incremental":
            measured = runner.bench_incremental(case, args.reps, args.keep_work, args.regenerate)
        elif case.kind == "workers":
            measured = runner.bench_workers(
                case, args.reps, args.keep_work, args.regenerate, args.batch_files
            )
        else:
            measured = runner.bench_case(
                case, args.reps, args.openpyxl_sample, args.profile, args.keep_work, args.regenerate
            )
        measured["derived"] = report.derive(measured)
        cases.append(measured)
    runner.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = runner.RESULTS_DIR / f"{started}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    print()
    for measured_case in cases:
        print(report.table(measured_case), end="\n\n")
    print(report.goals_table(cases), end="\n\n")
    print(f"results: {out}")
    failed = [
        f"{c['key']}:{name}"
        for c in results["cases"]
        for name, runs in c["stages"].items()
        if not all(r["ok"] for r in runs)
    ]
    if failed:
        print("failed stages: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
