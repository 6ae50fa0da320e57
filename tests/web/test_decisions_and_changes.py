"""The decisions store (real SQLite file), the night-to-night comparison and the login rules,
without a browser: the cases the browser scenario passes through once, each with its negative."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from zhaoshang import decisions, triage
from zhaoshang.web import auth


def test_a_decision_needs_a_known_kind_and_a_note_and_history_is_kept(workspace):
    with decisions.writer(workspace) as con:
        with pytest.raises(decisions.DecisionRejected, match="说明"):
            decisions.record(con, flag_key="k1", decision="dismissed", note="  ", decided_by="王")
        with pytest.raises(decisions.DecisionRejected, match="unknown"):
            decisions.record(con, flag_key="k1", decision="ignored", note="x", decided_by="王")
        first = datetime(2021, 3, 1, 1, 0, tzinfo=UTC)
        decisions.record(
            con, flag_key="k1", decision="follow_up", note="待补凭证", decided_by="王", when=first
        )
        decisions.record(
            con,
            flag_key="k1",
            decision="dismissed",
            note="凭证已补",
            decided_by="李",
            when=first + timedelta(days=1),
        )
        history = decisions.history(con, "k1")
    assert [(d.decision, d.decided_by) for d in history] == [
        ("dismissed", "李"),
        ("follow_up", "王"),
    ]
    rows = decisions.for_build(workspace)
    # the latest only, in the office's local time (09:00 in Shanghai is 01:00 UTC)
    assert rows == [("k1", "dismissed", "李", datetime(2021, 3, 2, 9, 0), "凭证已补")]


def test_the_nightly_reader_is_read_only_and_sees_committed_decisions_only(workspace):
    with decisions.reader(workspace) as con:
        assert con is None  # no store yet: nothing is created by reading
    assert not decisions.store_path(workspace).exists()
    with decisions.writer(workspace) as writer:
        assert writer.execute("pragma journal_mode").fetchone()[0] == "wal"
        decisions.record(writer, flag_key="k1", decision="confirmed", note="属实", decided_by="王")
        writer.execute("begin")
        decisions.record(
            writer, flag_key="k2", decision="dismissed", note="未提交", decided_by="王"
        )
        with decisions.reader(workspace) as reader:  # the nightly reads during the open write
            assert set(decisions.latest(reader)) == {"k1"}
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                reader.execute("delete from decisions")
        writer.execute("commit")
    assert {r[0] for r in decisions.for_build(workspace)} == {"k1", "k2"}


def _flag(subject: str, key: str, severity: str = "medium", fingerprint: str = "fp1"):
    values = {"unit_name": "济阳镇", "year": 2021, "month": 2, "evidence": "…"}
    return triage.Flag(subject, key, "INFLATED_AMOUNT", severity, fingerprint, values)


def _by_subject(rows):
    return {r["subject_key"]: r for r in rows}


def test_changes_new_unchanged_escalated_cleared_and_back():
    night = [date(2021, 3, d) for d in range(1, 8)]
    first = _by_subject(triage.compare([_flag("s", "k1")], {}, "r1", night[0]))
    assert first["s"]["change"] == "new" and first["s"]["first_seen_on"] == night[0]

    # a resubmitted file (new key) with the same amounts and severity: the same case
    same = _by_subject(triage.compare([_flag("s", "k2")], first, "r2", night[1]))
    assert same["s"]["change"] == "unchanged" and same["s"]["previous_flag_key"] == "k1"
    assert same["s"]["changed_on"] == night[0]

    worse = _by_subject(triage.compare([_flag("s", "k2", "high")], same, "r3", night[2]))
    assert worse["s"]["change"] == "escalated" and "由中升为高" in worse["s"]["change_reason_zh"]
    moved = _by_subject(triage.compare([_flag("s", "k2", "high", "fp2")], worse, "r4", night[3]))
    assert moved["s"]["change"] == "escalated" and "实质变化" in moved["s"]["change_reason_zh"]
    milder = _by_subject(triage.compare([_flag("s", "k2", "low", "fp2")], moved, "r5", night[4]))
    assert milder["s"]["change"] == "unchanged"  # a lower severity is not news

    cleared = _by_subject(triage.compare([], milder, "r6", night[5]))
    assert cleared["s"]["change"] == "cleared" and cleared["s"]["cleared_on"] == night[5]
    assert cleared["s"]["is_current"] is False
    still = _by_subject(triage.compare([], cleared, "r7", night[6]))
    assert still["s"]["cleared_on"] == night[5] and still["s"]["change"] == "unchanged"
    back = _by_subject(triage.compare([_flag("s", "k3")], still, "r8", night[6]))
    assert back["s"]["change"] == "new" and back["s"]["change_reason_zh"] == "消除后再次出现"


def test_a_decision_carries_to_the_resubmitted_flag_only_while_the_case_is_unchanged():
    decided = {
        "k1": {"decision": "dismissed", "decided_by": "王", "decided_at": None, "note": "已核实"}
    }
    first = _by_subject(triage.compare([_flag("s", "k1")], {}, "r1", date(2021, 3, 1)))
    same = triage.compare([_flag("s", "k2")], first, "r2", date(2021, 3, 2))
    assert triage.carried_decisions(same, set(), decided) == [
        ("k2", "dismissed", "王", None, "已核实", "carried")
    ]
    assert triage.carried_decisions(same, {"k2"}, decided) == []  # its own decision wins
    changed = triage.compare([_flag("s", "k2", fingerprint="fp2")], first, "r2", date(2021, 3, 2))
    assert triage.carried_decisions(changed, set(), decided) == []


def test_the_fingerprint_follows_amounts_and_files_not_drifting_counts():
    row = {"unit_name": "甲", "year": 2021, "month": 1, "latest_month": 2, "units_reported": 5}
    missing = triage.fingerprint("MISSING_REPORT", ["no_report"], row)
    drifted = row | {"latest_month": 3, "units_reported": 9}
    assert triage.fingerprint("MISSING_REPORT", ["no_report"], drifted) == missing
    amounts = {"funds_cumulative_or_period_wan": 1500, "total_investment_wan": 1000}
    base = triage.fingerprint("INFLATED_AMOUNT", ["above_total_investment"], amounts)
    larger = amounts | {"funds_cumulative_or_period_wan": 2600}
    assert triage.fingerprint("INFLATED_AMOUNT", ["above_total_investment"], larger) != base


def test_passwords_are_hashed_and_repeated_failures_lock_even_unknown_names(workspace):
    with decisions.writer(workspace) as con:
        auth.add_user(con, "王督查", "inspector", "correct-horse")
        stored = con.execute("select password_hash from users").fetchone()[0]
        assert stored.startswith("$argon2id$") and "correct-horse" not in stored
        with pytest.raises(auth.UserError):
            auth.add_user(con, "短", "inspector", "short")
        with pytest.raises(auth.UserError):
            auth.add_user(con, "某人", "superuser", "long-enough")
        assert auth.authenticate(con, "王督查", "correct-horse").may_decide
        for _ in range(auth.MAX_FAILURES):
            assert auth.authenticate(con, "王督查", "wrong") is None
            assert auth.authenticate(con, "没有此人", "wrong") is None
        assert auth.authenticate(con, "王督查", "correct-horse") is None  # locked
        assert auth.is_locked(con, "没有此人")
        later = datetime.now(UTC) + timedelta(minutes=auth.LOCKOUT_MINUTES + 1)
        assert not auth.is_locked(con, "王督查", now=later)


def test_a_loaded_row_keeps_its_cells_as_typed_masked_with_the_headers(workspace):
    """Full-width digits, a thousands separator and a dotted date load as values and stay, as
    typed, in raw_cells; a phone in 备注 is masked and the contact cell is not kept at all."""
    import json

    from tests.excel.workbook_builder import Form, project_row, write_form
    from zhaoshang import ledger

    workspace.units_csv.write_text(
        "unit_name,unit_type,aliases,year,target_funds_wan,target_projects\n"
        "济阳镇,乡镇,济阳,2021,1000,10\n",
        encoding="utf-8",
    )
    typed = project_row(
        1,
        **{
            "计划总投资（万元）": "１２００",
            "合同引资额（万元）": "1,234.5",
            "签约时间": "2021.3.5",
            "联系人及电话": "王五 13900001111",
            "备注": "请联系13812345678核实",
        },
    )
    write_form(workspace.submissions_dir / "a.xlsx", Form(rows=[typed, project_row(2)]))
    summary = ledger.load_new_submissions(workspace, "run1")
    assert summary.rows_loaded == 2
    with ledger.connect(workspace) as con:
        rows = con.execute(
            """select row_number, total_investment_wan, contract_amount_wan, signed_date,
                      raw_cells from project_rows order by row_number"""
        ).fetchall()
    _, total, contract, signed, raw = rows[0]
    assert (total, contract, signed) == (1200, Decimal("1234.5"), date(2021, 3, 5))
    cells = dict(json.loads(raw))
    assert cells["计划总投资（万元）"] == "１２００"
    assert cells["合同引资额（万元）"] == "1,234.5"
    assert cells["签约时间"] == "2021.3.5"
    assert cells["项目名称"] == "项目1"
    assert "13812345678" not in raw and "13900001111" not in raw and "王五" not in raw
    assert cells["备注"].startswith("请联系138") and "核实" in cells["备注"]
    assert cells["联系人及电话"] == ledger.load.PII_CELL
    # a cell Excel stores as a date is shown as the date it holds
    assert dict(json.loads(rows[1][4]))["签约时间"].startswith("2021-03-05")


def _publish_file(settings, run_id: str, built_at: datetime, changes: list[dict], decided=()):
    """A published inspection file as publish leaves it: manifest, flag_changes, dq_flags."""
    import duckdb
    import pandas as pd

    path = settings.inspection_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema audit")
        con.execute(
            "create table audit.manifest as select ?::varchar as run_id, ?::date as logical_date,"
            " ?::timestamp as built_at",
            [run_id, built_at.date(), built_at],
        )
        columns = ", ".join(f"{n} {t}" for n, t in triage.FLAG_CHANGES_COLUMNS.items())
        con.execute(f"create table audit.flag_changes ({columns})")
        frame = pd.DataFrame.from_records(changes, columns=list(triage.FLAG_CHANGES_COLUMNS))
        frame = frame.astype(object).where(frame.notna(), None)
        con.register("incoming", frame)
        con.execute("insert into audit.flag_changes select * from incoming")
        con.execute(
            "create table audit.dq_flags (flag_key varchar, status varchar, decided_by varchar,"
            " decided_at timestamp, note varchar)"
        )
        for row in decided:
            con.execute("insert into audit.dq_flags values (?, ?, ?, ?, ?)", list(row))


def test_flag_history_survives_a_rollback_of_the_published_file(workspace):
    nights = [date(2021, 3, d) for d in range(1, 6)]
    first = triage.compare([_flag("s", "k1")], {}, "r1", nights[0])
    worse = triage.compare([_flag("s", "k2", "high")], _by_subject(first), "r3", nights[2])
    cleared = triage.compare([], _by_subject(worse), "r4", nights[3])
    decided = [("k1", "dismissed", "王", datetime(2021, 3, 1, 9), "已核实")]
    # nights 1 (new), 3 (escalated) and 4 (cleared) are published and recorded
    _publish_file(workspace, "r1", datetime(2021, 3, 1, 2), first, decided)
    assert triage.remember_published(workspace, "r1") == {"flag_states": 1, "decisions": 1}
    _publish_file(workspace, "r3", datetime(2021, 3, 3, 2), worse, decided)
    triage.remember_published(workspace, "r3")
    _publish_file(workspace, "r4", datetime(2021, 3, 4, 2), cleared, decided)
    triage.remember_published(workspace, "r4")
    triage.remember_published(workspace, "r4")  # a rerun of the stage records the night once
    with pytest.raises(RuntimeError, match="not r5"):
        triage.remember_published(workspace, "r5")

    # the published file is rolled back to night 1's: the store still says cleared on night 4
    _publish_file(workspace, "r1", datetime(2021, 3, 1, 2), first, decided)
    changes, kept, source = triage.baseline(workspace, "r5")
    assert source == "history:r4"
    assert changes["s"]["is_current"] is False and changes["s"]["cleared_on"] == nights[3]
    assert changes["s"]["severity"] == "high" and changes["s"]["first_seen_on"] == nights[0]
    assert kept["k1"]["decision"] == "dismissed"
    tonight = _by_subject(triage.compare([], changes, "r5", nights[4]))
    assert tonight["s"]["change"] == "unchanged" and tonight["s"]["cleared_on"] == nights[3]
    events = triage.subject_events(workspace, "s")
    assert [(e["night"], e["change"]) for e in events] == [
        ("2021-03-01", "new"),
        ("2021-03-03", "escalated"),
        ("2021-03-04", "cleared"),
    ]

    # negative: a published file newer than the store's last night (never recorded) wins
    _publish_file(workspace, "r6", datetime(2021, 3, 6, 2), first)
    assert triage.baseline(workspace, "r7")[2].startswith("file:")
    # and a run never takes its own night as "last night"
    assert triage.baseline(workspace, "r4")[2] in (
        "history:r1",
        f"file:{workspace.inspection_path}",
    )
    assert triage.history_path(workspace).stat().st_mode & 0o777 == 0o600
