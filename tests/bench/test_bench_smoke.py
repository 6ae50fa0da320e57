"""Smoke test of ``python -m zhaoshang.bench``: two stages measured on a tiny inbox, then the table."""

from __future__ import annotations

from zhaoshang.bench import report, runner
from zhaoshang.bench.measure import run_stage
from zhaoshang.generate import generate_inbox, small


def test_stages_run_in_their_own_process_and_report(tmp_path):
    raw = tmp_path / "raw"
    truth = generate_inbox(raw, small(units=2, months=(1,)))
    work = tmp_path / "work"
    env = runner._env(raw, work)

    stages = {name: [run_stage(name, env, work).as_dict()] for name in ("raw_calamine", "load")}

    for name, (measured,) in stages.items():
        assert measured["ok"], f"{name} failed, log: {measured['log']}"
        assert measured["seconds"] > 0 and measured["max_rss_mb"] > 0
    assert stages["raw_calamine"][0]["result"]["files"] == truth.counts["files"]
    assert stages["load"][0]["result"]["rows_read"] == truth.counts["rows_read"]
    case = {
        "key": "tiny",
        "data": {"files": truth.counts["files"], "rows_read": truth.counts["rows_read"]},
        "cpus": 2,
        "loadavg": (0.0, 0.0),
        "stages": stages,
    }
    case["derived"] = report.derive(case)
    assert case["derived"]["ingestion_over_raw_parse"] > 0
    assert "ingestion: load_submissions" in report.table(case)
