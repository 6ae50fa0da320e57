"""The publish guard, through the real DAG: an emptied inbox and a collapsed load publish
nothing, keep yesterday's files byte-identical and e-mail the reason (real SMTP on loopback);
ZHAOSHANG_ALLOW_RESET lets an intended reset through."""

from __future__ import annotations

import hashlib
import shutil
import stat

import duckdb
import pytest

from tests.e2e.dagrun import run_nightly_dag
from tests.e2e.smtp import SmtpServer, free_port
from zhaoshang import settings as settings_module
from zhaoshang.generate import generate_inbox, small

INSPECTORS = "duchazu@county.example"


def _digests(settings) -> tuple[str, str]:
    return tuple(
        hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (settings.warehouse, settings.inspection_path)
    )


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def first_night(module_env, airflow_db, smtp):
    generate_inbox(module_env / "raw", small(months=range(1, 3), units=3))
    mp = pytest.MonkeyPatch()
    mp.setenv("ZHAOSHANG_SMTP_URL", smtp.url)
    mp.setenv("ZHAOSHANG_ALERT_TO", INSPECTORS)
    assert run_nightly_dag("2021-03-05") == "success"
    yield settings_module.load()
    mp.undo()


def _failure_mail(smtp, since: int):
    new = smtp.inbox.messages[since:]
    assert len(new) == 1, [m["Subject"] for m in new]
    message = new[0]
    assert "夜间作业失败" in message["Subject"]
    return message.get_body(preferencelist=("plain",)).get_content()


def _ledger_metrics(settings, metric: str) -> list[tuple]:
    with duckdb.connect(str(settings.ledger_path), read_only=True) as con:
        return con.execute(
            "select run_id, value, detail from metrics where metric = ? order by recorded_at",
            [metric],
        ).fetchall()


def test_the_first_night_publishes_both_files_with_their_modes(first_night):
    settings = first_night
    assert stat.S_IMODE(settings.warehouse.stat().st_mode) == 0o444
    assert stat.S_IMODE(settings.inspection_path.stat().st_mode) == 0o400
    assert stat.S_IMODE(settings.state_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(settings.ledger_path.stat().st_mode) == 0o600
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        metrics = dict(con.execute("select metric, value from audit.metrics").fetchall())
    assert metrics["file_conservation_gap"] == 0  # M4
    assert metrics["publish_check_failures"] == 0  # M8
    assert metrics["lock_retries"] == 0  # M19


def test_an_empty_inbox_publishes_nothing_and_mails_the_reason(first_night, smtp):
    settings = first_night
    before = _digests(settings)
    sent = len(smtp.inbox.messages)
    aside = settings.raw_dir / "submissions_aside"
    settings.submissions_dir.rename(aside)
    settings.submissions_dir.mkdir()  # the folder exists but is empty (a failed mount)
    try:
        assert run_nightly_dag("2021-03-06", retries=0) == "failed"
        assert _digests(settings) == before
        body = _failure_mail(smtp, sent)
        assert "收件箱为空" in body and "inbox is empty" in body
        assert "ZHAOSHANG_ALLOW_RESET" in body
        with duckdb.connect(str(settings.ledger_path), read_only=True) as con:
            still_present = con.execute(
                "select count(*) from inbox_files where in_inbox"
            ).fetchone()[0]
        assert still_present > 0  # the guard ran before the inbox was recorded
        assert _ledger_metrics(settings, "guard_fired")[-1][2].startswith("inbox: ")
    finally:
        settings.submissions_dir.rmdir()
        aside.rename(settings.submissions_dir)


def test_a_collapsed_load_publishes_nothing_and_mails_the_reason(first_night, smtp):
    settings = first_night
    before = _digests(settings)
    sent = len(smtp.inbox.messages)
    files = sorted(settings.submissions_dir.rglob("*.xlsx"))
    saved = {p: p.read_bytes() for p in files}
    for path in files[1:]:  # same paths, contents no longer workbooks: rejected, rows collapse
        path.write_bytes(b"not a workbook any more")
    try:
        assert run_nightly_dag("2021-03-07", retries=0) == "failed"
        assert _digests(settings) == before
        body = _failure_mail(smtp, sent)
        assert "入库行数骤降" in body and "rows loaded collapsed" in body
        assert _ledger_metrics(settings, "guard_fired")[-1][2].startswith("load: ")
    finally:
        for path, data in saved.items():
            path.write_bytes(data)


def test_allow_reset_lets_an_intended_reset_through(first_night, monkeypatch):
    settings = first_night
    before = _digests(settings)
    shutil.move(settings.submissions_dir, settings.raw_dir / "old_submissions")
    settings.submissions_dir.mkdir()
    monkeypatch.setenv("ZHAOSHANG_ALLOW_RESET", "1")
    assert run_nightly_dag("2021-03-08", retries=0) == "success"
    assert _digests(settings) != before
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from marts.project_register").fetchone()[0] == 0
    overridden = _ledger_metrics(settings, "guard_overridden")
    assert [d.split(":")[0] for _r, _v, d in overridden] == ["inbox", "load"]


def test_a_restore_drill_rebuilds_ledger_and_marts_from_landing_and_history(first_night, tmp_path):
    """After the reset the first night's files are only in history; with landing/ that is
    enough to rebuild its ledger rows and marts, hash-equal (RELIABILITY G29, M18)."""
    from zhaoshang import restore

    settings = first_night
    result = restore.drill(settings, scratch=tmp_path / "drill")
    assert result["files_restored"] > 0
    assert result["marts_equal"] and result["ledger_equal"] and result["ok"]
    assert _ledger_metrics(settings, "restore_drill_ok")[-1][1] == 1
    # a broken landing copy is caught: the drill is not a formality
    landing = sorted(settings.landing_dir.glob("*.xlsx"))
    victim = next(p for p in landing if p.stat().st_size > 1000)
    victim.chmod(0o600)
    original = victim.read_bytes()
    try:
        import openpyxl

        from zhaoshang.generate import generate_inbox as _unused  # noqa: F401

        book = openpyxl.load_workbook(victim)
        sheet = book.worksheets[0]
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    cell.value = cell.value + 7
        book.save(victim)
        broken = restore.drill(settings, scratch=tmp_path / "drill2")
        assert not broken["ok"]
    finally:
        victim.write_bytes(original)
