"""Real overlapping nightly runs (``python -m zhaoshang nightly`` subprocesses) and a ledger
WAL that will not replay. One small inbox is shared by every workspace of the module; each
workspace has its own warehouse and state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import duckdb
import pytest

from tests.e2e.dagrun import marts_fingerprint
from zhaoshang.generate import generate_inbox, small


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("shared") / "raw"
    generate_inbox(raw, small(months=range(1, 3), units=3))
    return raw


def _env(raw: Path, base: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHAOSHANG_")}
    return env | {
        "ZHAOSHANG_RAW_DIR": str(raw),
        "ZHAOSHANG_WAREHOUSE": str(base / "warehouse" / "zhaoshang.duckdb"),
        "ZHAOSHANG_OUTPUT_DIR": str(base / "output"),
        **extra,
    }


def _start(env: dict[str, str], day: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "zhaoshang", "nightly", "--date", day],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen, timeout: float = 600) -> tuple[int, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out + err


def _state(base: Path) -> Path:
    return base / "warehouse" / ".zhaoshang_state"


def _metrics(base: Path) -> list[tuple]:
    with duckdb.connect(str(_state(base) / "ledger.duckdb"), read_only=True) as con:
        return con.execute("select run_id, metric, value, detail from metrics").fetchall()


@pytest.fixture(scope="module")
def two_runs_together(raw, tmp_path_factory):
    base = tmp_path_factory.mktemp("together")
    env = _env(raw, base, ZHAOSHANG_LOCK_WAIT_SECONDS="600")
    first, second = _start(env, "2021-03-05"), _start(env, "2021-03-05")
    results = [_finish(first), _finish(second)]
    return base, results


def test_two_runs_started_together_run_one_after_the_other(two_runs_together):
    base, results = two_runs_together
    for code, output in results:
        assert code == 0, output[-3000:]
    waits = {r[0]: r[2] for r in _metrics(base) if r[1] == "lock_retries"}
    assert len(waits) == 2 and sorted(v > 0 for v in waits.values()) == [False, True]
    holders = [r[3] for r in _metrics(base) if r[1] == "lock_wait_s" and r[2] > 1]
    assert len(holders) == 1 and "pid " in holders[0]  # M19 names who held the lock
    # the final warehouse equals a single run's: the one it replaced (kept in history)
    warehouse = base / "warehouse" / "zhaoshang.duckdb"
    (replaced,) = sorted((_state(base) / "published_history").glob("warehouse_*.duckdb"))
    assert marts_fingerprint(warehouse) == marts_fingerprint(replaced)


@pytest.fixture(scope="module")
def healing_night(raw, tmp_path_factory):
    """A run killed after its load committed; its WAL then damaged; the next night heals it,
    and a third run started during that night's dbt pass gives up after a short wait."""
    base = tmp_path_factory.mktemp("wal")
    killed = _start(
        _env(raw, base, ZHAOSHANG_FAIL_AT="load:after_commit", ZHAOSHANG_FAIL_MODE="kill"),
        "2021-03-05",
    )
    killed_code, _ = _finish(killed)
    wal = _state(base) / "ledger.duckdb.wal"
    data = bytearray(wal.read_bytes())
    wal_size = len(data)
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
    wal.write_bytes(bytes(data))
    try:
        duckdb.connect(str(_state(base) / "ledger.duckdb")).close()
        replay_error = None
    except duckdb.Error as error:
        replay_error = str(error)
    holder = _start(_env(raw, base), "2021-03-05")
    deadline = time.monotonic() + 300
    while not list((_state(base) / "build").glob("*/warehouse_build.duckdb")):  # dbt began
        assert holder.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    lock = json.loads((_state(base) / "nightly.lock").read_text(encoding="utf-8"))
    late = _start(_env(raw, base, ZHAOSHANG_LOCK_WAIT_SECONDS="2"), "2021-03-06")
    late_result = _finish(late)
    return {
        "base": base,
        "killed_code": killed_code,
        "wal_size": wal_size,
        "replay_error": replay_error,
        "holder_pid": holder.pid,
        "lock": lock,
        "late": late_result,
        "healed": _finish(holder),
    }


def test_a_run_started_during_the_others_dbt_pass_exits_with_the_lock_message(healing_night):
    night = healing_night
    assert night["lock"]["pid"] == night["holder_pid"]
    code, output = night["late"]
    assert code == 3, output[-3000:]
    assert "另一个夜间作业正在运行" in output and "another nightly run holds the lock" in output
    assert f"pid {night['holder_pid']}, run {night['lock']['run_id']}" in output
    assert f"进程 {night['holder_pid']}" in output
    assert "Traceback" not in output
    code, output = night["healed"]
    assert code == 0, output[-3000:]  # the holder was not disturbed


def test_a_ledger_wal_that_will_not_replay_is_set_aside_and_the_night_heals(
    healing_night, two_runs_together
):
    night = healing_night
    base = night["base"]
    assert night["killed_code"] == -9  # SIGKILL after the load committed, before a checkpoint
    assert night["wal_size"] > 1000
    assert "WAL" in (night["replay_error"] or "")  # DuckDB alone would fail every night
    code, output = night["healed"]
    assert code == 0, output[-3000:]
    assert len(list(_state(base).glob("ledger.duckdb.wal.corrupt-*"))) == 1
    clean_base, _ = two_runs_together
    assert marts_fingerprint(base / "warehouse" / "zhaoshang.duckdb") == marts_fingerprint(
        clean_base / "warehouse" / "zhaoshang.duckdb"
    )
    recovered = [r for r in _metrics(base) if r[1] == "ledger_wal_recovered"]
    assert len(recovered) == 1 and "not reloaded (no longer in the inbox): 0" in recovered[0][3]
    (notice,) = (base / "output" / "alerts").glob("ZS-FAIL-*.eml")
    message = BytesParser(policy=policy.default).parsebytes(notice.read_bytes())
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "台账的WAL文件无法重放" in text and "reloaded from landing/" in text
    assert "台账WAL已隔离并重载" in output  # the run's summary line for what healed
