"""The bench's cases at small scale: planning, the replicated province inbox, 1 vs 2 parse
workers, and the ratio and goal tables (no timing is asserted: the machine is shared)."""

from __future__ import annotations

import re

import pytest
from python_calamine import CalamineWorkbook

from zhaoshang.bench import report, runner
from zhaoshang.bench.measure import run_stage
from zhaoshang.bench.replicate import replicate
from zhaoshang.generate import generate_inbox, province_year, small
from zhaoshang.generate.inbox import county_name
from zhaoshang.generate.uscc import is_valid_uscc


def test_case_planning():
    planned = runner.cases(list(runner.CASE_NAMES), 40)
    assert [c.kind for c in planned] == ["rebuild"] * 3 + ["incremental", "workers"]
    by_key = {c.key: c for c in planned}
    province = by_key["province_40"]
    assert province.scenario.counties == 40 and len(province.scenario.periods) == 12
    assert province.replicate_from == "prefecture_10"
    assert by_key["workers"].inbox_key == "county_year"  # reuses the county-year inbox
    history = by_key["incremental"].scenario
    assert len(history.periods) == 5 * 12 + 1 and max(history.periods) == runner.NIGHT_PERIOD
    assert [c.key for c in runner.cases(["all"], 150)][2] == "province_150"
    assert runner.cases(["province"], 10)[0].replicate_from is None  # generated, not copied
    with pytest.raises(ValueError, match="unknown case"):
        runner.cases(["nightly"], 150)


def test_replicated_counties_load_as_new_units(tmp_path):
    src = tmp_path / "src"
    truth = generate_inbox(src, province_year(counties=2), workers=1)
    dst = tmp_path / "dst"

    files = replicate(src, dst, sources=2, counties=4, workers=1)

    assert files == 2 * truth.counts["files"]
    units = (dst / "reference" / "units.csv").read_text(encoding="utf-8")
    new = county_name(3)  # a copy of county 1
    assert units.count(f"\n{new}") == units.count(f"\n{county_name(1)}") > 0
    copied = sorted((dst / "submissions" / new).rglob("*.xlsx"))
    assert len(copied) == len(list((src / "submissions" / county_name(1)).rglob("*.xlsx")))
    book = CalamineWorkbook.from_path(str(copied[0]))
    text = str([book.get_sheet_by_name(n).to_python() for n in book.sheet_names])
    assert new in text and county_name(1) not in text
    # the copy's investors are other companies (valid codes, none of its source's)
    source_book = CalamineWorkbook.from_path(
        str(
            src
            / "submissions"
            / copied[0].relative_to(dst / "submissions").as_posix().replace(new, county_name(1))
        )
    )
    source_text = str(
        [source_book.get_sheet_by_name(n).to_python() for n in source_book.sheet_names]
    )
    codes = {c for c in re.findall(r"[0-9A-Z]{18}", text) if is_valid_uscc(c)}
    source_codes = {c for c in re.findall(r"[0-9A-Z]{18}", source_text) if is_valid_uscc(c)}
    assert codes and len(codes) == len(source_codes) and not codes & source_codes
    work = tmp_path / "work"
    loaded = run_stage("load", runner._env(dst, work), work)
    assert loaded.ok, loaded.log
    assert loaded.result["files_rejected"] == 0
    assert loaded.result["rows_read"] == 2 * truth.counts["rows_read"]


def test_workers_case_and_its_ratio_table(tmp_path):
    raw = tmp_path / "raw"
    truth = generate_inbox(raw, small(units=4, months=(1, 2)))
    stages = {
        "raw_calamine": [
            run_stage("raw_calamine", runner._env(raw, tmp_path / "r"), tmp_path / "r").as_dict()
        ]
    }
    for workers in (1, 2):
        work = tmp_path / f"w{workers}"
        measured = run_stage(
            "parse_batches",
            runner._env(raw, work),
            work,
            "--workers",
            str(workers),
            "--batch-files",
            "3",
        )
        assert measured.ok, measured.log
        assert measured.result["files"] == truth.counts["files"]
        assert measured.result["rows_read"] == truth.counts["rows_read"]
        assert measured.result["batches"] == -(-truth.counts["files"] // 3)
        stages[f"parse_batches:{workers}"] = [measured.as_dict()]
    case = {
        "key": "workers",
        "kind": "workers",
        "data": {"files": truth.counts["files"], "rows_read": truth.counts["rows_read"]},
        "cpus": 2,
        "loadavg": (0.0, 0.0),
        "stages": stages,
    }
    case["derived"] = d = report.derive(case)
    one, two = (stages[f"parse_batches:{w}"][0]["seconds"] for w in (1, 2))
    assert d["speedup_2_over_1"] == pytest.approx(one / two)
    assert "2 workers / 1 worker" in report.table(case)
    (goal,) = report.goals([case])
    assert goal[0].startswith("ingestion parse, 2 workers") and goal[-1] in ("met", "NOT met")


def _run(seconds: float, wall: float, rss: float) -> list[dict]:
    return [
        {
            "ok": True,
            "seconds": seconds,
            "cpu_s": seconds,
            "process_s": wall,
            "max_rss_mb": rss,
            "tree_rss_mb": rss,
            "result": {},
            "log": "",
        }
    ]


def _incremental_case(stages: dict) -> dict:
    case = {
        "key": "incremental",
        "kind": "incremental",
        "data": {"night_files": 60, "history_files": 3960},
        "cpus": 2,
        "loadavg": (0.0, 0.0),
        "stages": stages,
    }
    case["derived"] = report.derive(case)
    return case


def test_incremental_ratio_and_goals_from_measured_stages():
    """The arithmetic of the incremental table on given stage records: known answers."""
    stages = {}
    for prefix, scale in (("history:", 10.0), ("night:", 1.5), ("empty_night:", 1.0)):
        for i, name in enumerate(report.NIGHT_STAGES):
            stages[prefix + name] = _run(scale * (i + 1), scale * (i + 1) + 2.0, 100.0 * (i + 1))
    case = _incremental_case(stages)
    d = case["derived"]
    assert d["empty_night_s"] == pytest.approx(21.0)  # 1 + 2 + ... + 6
    assert d["night_over_empty_night"] == pytest.approx(1.5)
    assert d["night_wall_s"] == pytest.approx(1.5 * 21 + 6 * 2.0)
    assert d["night_peak_mb"] == 600.0
    text = report.table(case)
    assert "night on history / night on empty history: 1.50x" in text
    verdicts = {row[0]: row[-1] for row in report.goals([case])}
    assert report.goals([case])[0][2] == "1.50x (CPU 1.50x)"
    assert verdicts == {
        "incremental night / empty-history night": "NOT met",
        "county night, wall incl. start-up": "NOT met",  # 43.5 s
    }


def test_county_night_is_the_night_in_one_process_when_measured():
    """With the whole night measured in one process, the county-night goal reads it (its
    process wall, start-up included) instead of the sum of the stage processes."""
    stages = {}
    for prefix in ("history:", "night:", "empty_night:"):
        for i, name in enumerate(report.NIGHT_STAGES):
            stages[prefix + name] = _run(float(i + 1), float(i + 1) + 2.0, 100.0)
    stages["night_in_one_process"] = _run(25.0, 26.5, 700.0)
    case = _incremental_case(stages)
    d = case["derived"]
    assert d["night_wall_s"] == pytest.approx(21.0 + 12.0)  # the stage processes: not met
    assert d["county_night_wall_s"] == pytest.approx(26.5)
    rows = {row[0]: row for row in report.goals([case])}
    night = rows["county night, wall incl. start-up, one process"]
    assert night[2:] == ["26.5 s", "<= 30 s", "met"]
    assert "night on history, one process: 26.5 s wall incl. start-up" in report.table(case)
