"""CLI: ``python -m zhaoshang.generate --out DIR [--scenario NAME] [--seed N] [--truth PATH]``.

Also reached as ``zhaoshang generate ...`` (the main CLI passes its arguments to ``main``).
``--year`` and ``--months`` (``1-6`` or ``1,2,3``) shape the small, anomalies and province
scenarios; the seed and county-year scenarios are fixed to 2021.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from zhaoshang.bilingual_cli import make_parser
from zhaoshang.generate.inbox import generate_inbox
from zhaoshang.generate.scenario import (
    ALL_BAD_FILES,
    PRESETS,
    SAMPLE_BAD_FILES,
    Scenario,
    county_year,
    province_year,
    seed_half_year,
    small,
    with_anomalies,
)
from zhaoshang.generate.summary import write_readme


def parse_months(text: str) -> tuple[int, ...]:
    months: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-", 1))
            months.extend(range(lo, hi + 1))
        elif part:
            months.append(int(part))
    if not months or any(not 1 <= m <= 12 for m in months):
        raise argparse.ArgumentTypeError(f"months must be within 1-12: {text!r}")
    return tuple(sorted(set(months)))


def build_scenario(args: argparse.Namespace) -> Scenario:
    seed = {} if args.seed is None else {"seed": args.seed}
    year = {} if args.year is None else {"year": args.year}
    months = {} if args.months is None else {"months": args.months}
    if args.scenario == "seed_half_year":
        return seed_half_year(**seed)
    if args.scenario == "county_year":
        return county_year(**seed)
    if args.scenario == "small":
        return small(
            **year, **months, **({} if args.units is None else {"units": args.units}), **seed
        )
    if args.scenario == "province_year":
        return province_year(
            **({} if args.counties is None else {"counties": args.counties}),
            **year,
            **months,
            **seed,
        )
    bad = ALL_BAD_FILES if args.all_bad_files else SAMPLE_BAD_FILES
    scenario = with_anomalies(
        **year,
        **months,
        bad_files=bad,
        **seed,
        **({} if args.units is None else {"units": args.units}),
    )
    if args.bomb_mb is not None:
        from dataclasses import replace

        scenario = replace(scenario, bomb_mb=args.bomb_mb)
    return scenario


def main(argv: list[str] | None = None) -> int:
    parser = make_parser(
        "python -m zhaoshang generate",
        "生成已知答案的样例收件箱：units.csv 与各单位月报，含埋设的疑点和坏文件。",
        "Write a sample inbox with known answers: units.csv and the units' monthly reports,\n"
        "with planted anomalies and bad files.",
    )
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="收件箱目录（其下写 reference/ 与 submissions/）/ inbox folder (reference/ and submissions/ go below it)",
    )
    parser.add_argument(
        "--scenario",
        choices=sorted(PRESETS),
        default="anomalies",
        help="场景 / scenario (default: anomalies)",
    )
    parser.add_argument("--seed", type=int, help="随机种子 / random seed")
    parser.add_argument(
        "--year", type=int, help="主年份 / main year (small, anomalies, province_year)"
    )
    parser.add_argument(
        "--months",
        type=parse_months,
        help="主年份的月份，如 1-6 或 1,2,3 / months, e.g. 1-6 or 1,2,3",
    )
    parser.add_argument("--units", type=int, help="单位数 / number of units (small, anomalies)")
    parser.add_argument("--counties", type=int, help="县数 / number of counties (province_year)")
    parser.add_argument(
        "--all-bad-files",
        action="store_true",
        help="各类坏文件各一（含压缩炸弹）/ every bad-file kind (incl. the zip bomb)",
    )
    parser.add_argument(
        "--bomb-mb",
        type=int,
        help="压缩炸弹解压后大小 MB / zip bomb size when inflated, MB (default 300)",
    )
    parser.add_argument(
        "--truth", type=Path, help="把完整答案写成 JSON / write the full truth as JSON here"
    )
    parser.add_argument(
        "--no-readme",
        action="store_true",
        help="不写 DIR/README.md / do not write DIR/README.md (the truth summary)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="即使不是生成器写的也替换 / replace DIR/submissions even if not written by the generator",
    )
    args = parser.parse_args(argv)

    scenario = build_scenario(args)
    started = time.perf_counter()
    try:
        truth = generate_inbox(args.out, scenario, force=args.force)
    except FileExistsError as exc:
        print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    if args.truth:
        truth.to_json(args.truth, include_rows=scenario.truth_rows)
    if not args.no_readme:
        write_readme(
            args.out,
            truth,
            ["python -m zhaoshang.generate", *(argv if argv is not None else sys.argv[1:])],
        )
    c = truth.counts
    print(
        f"{scenario.name}: {c['files']} files ({c['files_rejected']} bad), {c['rows_read']} rows, "
        f"{len(truth.anomalies)} anomalies, {c['rows_quarantined']} rows to quarantine, {elapsed:.1f} s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
