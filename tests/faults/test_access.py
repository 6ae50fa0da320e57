"""Who may read what, history by copy, restore, the lock's message and the one PII masker.

Fast: publishes use small hand-made build files (the real nightly runs are in the other
modules of this folder)."""

from __future__ import annotations

import dataclasses
import grp
import hashlib
import os
import random
import stat
import subprocess
import sys
import textwrap

import duckdb
import pytest

from zhaoshang import inbox, ledger, locking, pii, publish, restore

PLANTED = "联系人：张三 13912345678，身份证411426199001011234，电话0370-6251234"


def _build(settings, run_id: str, marker: int) -> None:
    path = publish.build_path(settings, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        for schema, table in publish.CONTRACT_TABLES:
            con.execute(f"create schema if not exists {schema}")
            con.execute(
                f"create table {schema}.{table} as select {marker} as marker, "
                "'loaded' as status, 10 as rows_loaded, ? as project_name, "
                "'p-1' as project_id, '91411426MA44XXXX1X' as investor_uscc",
                [f"面粉加工项目 {PLANTED}"],
            )
        con.execute("create schema staging")
        con.execute("create table staging.stg_rows as select ? as remarks", [PLANTED])


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_writing_into_the_published_file_does_not_change_the_history_copy(workspace):
    _build(workspace, "run1", 1)
    publish.publish(workspace, "run1")
    _build(workspace, "run2", 2)
    publish.publish(workspace, "run2")
    (kept,) = publish.history_files(workspace, "warehouse")
    before = _digest(kept)
    assert kept.stat().st_ino != workspace.warehouse.stat().st_ino
    # an analyst who makes the file writable and writes into it
    workspace.warehouse.chmod(0o644)
    with duckdb.connect(str(workspace.warehouse)) as con:
        con.execute("update marts.sector_summary set marker = 99")
        con.execute("checkpoint")
    assert _digest(kept) == before
    with duckdb.connect(str(kept), read_only=True) as con:
        assert con.execute("select marker from marts.sector_summary").fetchone() == (1,)


def test_restore_puts_the_kept_files_back_and_keeps_what_it_replaced(workspace):
    _build(workspace, "run1", 1)
    publish.publish(workspace, "run1")
    _build(workspace, "run2", 2)
    publish.publish(workspace, "run2")
    result = restore.restore(workspace)
    assert set(result["files"]) == {"warehouse", "inspection"}
    for path in (workspace.warehouse, workspace.inspection_path):
        with duckdb.connect(str(path), read_only=True) as con:
            assert con.execute("select run_id from audit.manifest").fetchone() == ("run1",)
    assert _mode(workspace.warehouse) == 0o444 and _mode(workspace.inspection_path) == 0o400
    assert len(restore.available(workspace)) == 2  # run2's files were kept, not lost
    cli = subprocess.run(
        [sys.executable, "-m", "zhaoshang", "restore", "--stamp", "nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 1 and "no kept warehouse nope" in cli.stderr


def test_the_analysts_file_holds_marts_and_audit_masked_the_inspection_file_everything(workspace):
    _build(workspace, "run1", 1)
    publish.publish(workspace, "run1")
    with publish.open_published(workspace) as con:
        schemas = {
            r[0]
            for r in con.execute(
                "select schema_name from duckdb_schemas() where database_name = current_database()"
            ).fetchall()
        }
        assert "staging" not in schemas and "seeds" not in schemas
        audit = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'audit'"
            ).fetchall()
        }
        assert "quarantine" not in audit and {"load_log", "dq_flags", "manifest"} <= audit
        name, project_id, uscc = con.execute(
            "select project_name, project_id, investor_uscc from marts.project_register"
        ).fetchone()
    assert (
        name == "面粉加工项目 联系人：*** 139****5678，身份证411426********1234，电话0370-****1234"
    )
    assert (project_id, uscc) == ("p-1", "91411426MA44XXXX1X")  # identifiers stay whole
    with publish.open_inspection(workspace) as con:
        assert con.execute("select remarks from staging.stg_rows").fetchone() == (PLANTED,)
        assert con.execute("select count(*) from audit.quarantine").fetchone() == (1,)


def test_file_modes_owner_only_for_state_and_read_only_for_published(workspace, tmp_path):
    source = workspace.submissions_dir / "a.xlsx"
    source.write_bytes(b"PK\x03\x04 personal data")
    with ledger.connect(workspace):
        pass
    landed = inbox.land(inbox.scan(workspace.raw_dir)[0], workspace.landing_dir)
    _build(workspace, "run1", 1)
    publish.publish(workspace, "run1")
    _build(workspace, "run2", 2)
    publish.publish(workspace, "run2")
    from zhaoshang.alerts import compose_failure_notice
    from zhaoshang.alerts.compose import build_email
    from zhaoshang.alerts.delivery import alerts_dir, write_copy

    notice = compose_failure_notice(dag_id="d", run_id="r", task_id="t", error="e", recipients=())
    eml = write_copy(notice, build_email(notice, "a@b"), alerts_dir(workspace))
    assert _mode(workspace.state_dir) == 0o700
    assert _mode(workspace.ledger_path) == 0o600
    assert _mode(workspace.landing_dir) == 0o700 and _mode(landed) == 0o600
    assert _mode(workspace.history_dir) == 0o700
    assert all(_mode(p) == 0o400 for p in workspace.history_dir.iterdir())
    assert _mode(eml.parent) == 0o700 and _mode(eml) == 0o600
    assert _mode(eml.with_suffix(".html")) == 0o600
    assert _mode(workspace.warehouse) == 0o444
    assert _mode(workspace.inspection_path) == 0o400
    group = grp.getgrgid(os.getgid()).gr_name
    grouped = dataclasses.replace(workspace, analyst_group=group, inspection_group=group)
    _build(grouped, "run3", 3)
    publish.publish(grouped, "run3")
    for path in (grouped.warehouse, grouped.inspection_path):
        assert _mode(path) == 0o440 and path.stat().st_gid == os.getgid()


def test_a_second_run_gets_a_bilingual_message_naming_the_holder(workspace):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys, time
                from zhaoshang import locking, settings
                locking.hold(settings.load(), "night_A")
                print("held", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        impatient = dataclasses.replace(workspace, lock_wait_seconds=0.5)
        with pytest.raises(locking.RunLocked) as raised:
            locking.hold(impatient, "night_B")
        message = str(raised.value)
        assert f"进程 {holder.pid}" in message and "night_A" in message
        assert f"pid {holder.pid}, run night_A" in message and "night_B" in message
        holder.kill()  # SIGKILL: the kernel drops the lock with the process
        holder.wait()
        assert locking.hold(impatient, "night_B").run_id == "night_B"
    finally:
        holder.kill()
        locking.release(workspace)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("86-13812345678", "138****5678"),
        ("（0370）6251234", "0370-****1234"),
        ("0370-62512345", "0370-****2345"),
        ("411426199001011234", "411426********1234"),
        ("41142619900101123X", "411426********123X"),
        ("联系人：张三", "联系人：***"),
        ("填表人 李四 电话", "填表人 *** 电话"),
        ("项目负责人:王小明，", "项目负责人:***，"),
        ("联系人及电话", "联系人及电话"),  # a heading, not a name
        ("91411426MA44XXXX1X", "91411426MA44XXXX1X"),  # a USCC is not an ID number
        ("年产5000吨", "年产5000吨"),
        ("电话13812345678", "电话138****5678"),
        # ids that Airflow and the flags print: 11 digits inside lower-case hex are no phone
        (
            "ti_id=01a23ccc-4651-7ed6-944a-a18638382840",
            "ti_id=01a23ccc-4651-7ed6-944a-a18638382840",
        ),
        ("flag 3e13812345678ab0c", "flag 3e13812345678ab0c"),
    ],
)
def test_the_one_masker(text, masked):
    assert pii.mask_text(text) == masked
    assert pii.find_unmasked(pii.mask_text(text)) == []


def test_the_maskers_shortcut_for_short_text_changes_nothing():
    """Text under ten characters with no contact label is returned unread: no number fits in it.
    Checked against the patterns themselves on the shortest numbers and on random short text."""
    rng = random.Random(12)
    alphabet = "0123456789-  ()（）+86X元万人联系电话"
    samples = ["0371234567", "037-1234567", "1381234567", "人张三", "法人李四"]
    samples += ["".join(rng.choices(alphabet, k=rng.randint(1, 12))) for _ in range(20_000)]
    for text in samples:
        assert pii.mask_text(text) == pii._masked(text), text
