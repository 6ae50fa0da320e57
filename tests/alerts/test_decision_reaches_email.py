"""A decision reaches the e-mail the way it reaches ``audit.dq_flags.status``: one reading.

The warehouse is a real dbt build (both passes) over the hand-checkable fixture ledger, with a
decisions CSV whose last line for a flag is not its latest decision: dbt takes the latest
``decided_at``, and the alert must say the same (it used to take the file's last line).
"""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import openpyxl
from alert_fixtures import SmtpServer, free_port

from zhaoshang import alerts, publish
from zhaoshang import settings as settings_module

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "transform"))

import dbt_runner
import ledger_fixture

# k_later_follow_up: dismissed on the last line but followed up later -> open, alerted.
# k_later_dismissed: follow_up on the last line but dismissed later -> decided, never alerted.
DECISIONS_CSV = """flag_key,decision,decided_by,decided_at,note
k_later_follow_up,follow_up,李督查,2021-03-12 15:30,需再核实
k_later_dismissed,dismissed,李督查,2021-03-12 15:30,已核实
k_confirmed,confirmed,王督查,2021-03-10,
k_later_follow_up,dismissed,王督查,2021-03-10 09:00,初看无误
k_later_dismissed,follow_up,王督查,2021-03-10 09:00,
"""


def _flag(key: str, unit: str, project: str, sha: str, row: int) -> dict:
    """A dq.gx_flags row as zhaoshang.quality.validation writes it."""
    return {
        "flag_key": key,
        "rule_flag_key": f"rule_{key}",  # the pre-split key; no decision is filed under it
        "rule": "INFLATED_AMOUNT",
        "severity": "high",
        "signal": "above_total_investment",
        "unit_name": unit,
        "year": 2021,
        "month": 2,
        "project_name": project,
        "submission_id": sha,
        "source_file": next(iter(ledger_fixture.SUBMISSIONS[sha][6])),
        "sheet": "进度月报",
        "row_number": row,
        "evidence": f"测试证据 {key}",
        "entry_id": f"entry_{key}",
        "detected_run_id": "run_test",
    }


GX_FLAGS = [
    _flag("k_later_follow_up", "骆集乡", "服装加工厂", "sha_lj_2021_02", 5),
    _flag("k_later_dismissed", "骆集乡", "农村公路专项", "sha_lj_2021_02", 6),
    _flag("k_confirmed", "济阳镇", "农村公路专项", "sha_jy_2021_02", 8),
    _flag("k_undecided", "济阳镇", "电商物流 中心", "sha_jy_2021_02", 6),
]


def test_the_email_carries_the_flags_dq_flags_leaves_open(tmp_path, workspace, monkeypatch):
    raw = tmp_path / "dbt_raw"
    ledger_fixture.write_units(raw)
    (raw / "reference" / "flag_decisions.csv").write_text(DECISIONS_CSV, encoding="utf-8")
    fixture_ledger = tmp_path / "fixture_ledger.duckdb"
    ledger_fixture.write_ledger(fixture_ledger)
    build = dbt_runner.build_two_passes(
        ledger=fixture_ledger, raw_dir=raw, work_dir=tmp_path / "build", gx_flags=GX_FLAGS
    )
    status = {
        r["flag_key"]: r["status"]
        for r in dbt_runner.query(build, "select flag_key, status from audit.dq_flags")
    }
    assert {k: status[k] for k in ("k_later_follow_up", "k_later_dismissed", "k_confirmed")} == {
        "k_later_follow_up": "follow_up",
        "k_later_dismissed": "dismissed",
        "k_confirmed": "confirmed",
    }
    assert status["k_undecided"] not in ("confirmed", "dismissed", "follow_up")

    server = SmtpServer(free_port()).start()
    try:
        monkeypatch.setenv("ZHAOSHANG_ALERT_TO", "duchazu@example.cn")
        monkeypatch.setenv("ZHAOSHANG_SMTP_URL", server.url)
        settings = settings_module.load()
        # The decisions file the night read is in the reference dir too: it must not count twice.
        shutil.copy(raw / "reference" / "flag_decisions.csv", settings.reference_dir)
        settings.inspection_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(build.build_db, settings.inspection_path)
        publish.finalize_build(settings.inspection_path, "run-decisions", "2021-03-15")

        result = alerts.run_after_publish(settings, "run-decisions")

        assert result["sent_smtp"] == 1, result
        [message] = server.inbox.messages
        attachment = next(iter(message.iter_attachments())).get_content()
        sheet = openpyxl.load_workbook(io.BytesIO(attachment)).active
        keys = {r[11] for r in sheet.iter_rows(min_row=2, values_only=True) if r[11]}
    finally:
        server.stop()
    alerted = {k for k in keys if k in status}
    assert alerted == {k for k, s in status.items() if s not in ("confirmed", "dismissed")}
    assert {"k_later_follow_up", "k_undecided"} <= alerted
