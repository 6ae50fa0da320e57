"""dbt's child process started ahead (``zhaoshang.dbt_process``), with real dbt and DuckDB.

A child started early parses the project while it waits and its invocation then skips the
parse; it must leave no process and no lock behind, parse again when the environment it is
given is not the one it parsed with, and fail as the ``dbt`` executable fails.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from pathlib import Path

import duckdb
import pytest

from zhaoshang import dbt_process, ledger, transform
from zhaoshang import settings as settings_module
from zhaoshang.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration

SEEDS = ("path:seeds",)
PARSES = "checksum: "  # dbt logs this line once for each time it loads the project


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHAOSHANG_RAW_DIR", str(PROJECT_ROOT / "raw"))
    monkeypatch.setenv("ZHAOSHANG_WAREHOUSE", str(tmp_path / "warehouse" / "zhaoshang.duckdb"))
    monkeypatch.setenv("ZHAOSHANG_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("ZHAOSHANG_OUTPUT_DIR", str(tmp_path / "output"))
    loaded = dataclasses.replace(settings_module.load(), warm_start=True)
    ledger.connect(loaded).close()  # the profile attaches the ledger: it must exist
    yield loaded
    dbt_process.discard_waiting()


def _paths(settings) -> tuple[Path, Path]:
    build_db = settings.build_dir / "night" / "warehouse_build.duckdb"
    build_db.parent.mkdir(parents=True)
    return build_db, settings.state_dir / "runs" / "night"


def _gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.05)
    return False


def _build_seeds(settings, build_db: Path, work: Path) -> int:
    """``dbt build`` of the seeds; how many times dbt loaded the project in that folder's log."""
    result = transform.run_dbt(settings, build_db, ["build", "--select", *SEEDS], work)
    assert result.ok, result.failures
    assert result.nodes.get("success", 0) >= 9  # every seed loaded
    return (work / "dbt_logs" / "dbt.log").read_text(encoding="utf-8").count(PARSES)


def test_child_started_ahead_builds_without_parsing_again_and_leaves_nothing(settings):
    build_db, work = _paths(settings)
    transform.start_next_dbt(settings, build_db, work)
    pid = dbt_process.waiting_pid()
    assert pid is not None

    # the project was loaded once (the child's parse while it waited), not again by the build
    assert _build_seeds(settings, build_db, work) == 1
    assert dbt_process.waiting_pid() is None  # the child was used, not kept
    assert _gone(pid)
    with duckdb.connect(str(build_db)) as con:  # read-write from here: the child let go
        assert con.execute("select count(*) from seeds.sectors").fetchone()[0] > 0


def test_environment_other_than_the_parsed_one_parses_again(settings):
    build_db, work = _paths(settings)
    transform.start_next_dbt(settings, build_db, work)
    other_county = dataclasses.replace(settings, county_code="320101")

    assert _build_seeds(other_county, build_db, work) == 2


def test_unused_child_exits_when_discarded(settings):
    build_db, work = _paths(settings)
    transform.start_next_dbt(settings, build_db, work)
    pid = dbt_process.waiting_pid()
    assert pid is not None
    transform.start_next_dbt(settings, build_db, work)  # one waiting child at most
    assert dbt_process.waiting_pid() == pid

    dbt_process.discard_waiting()

    assert dbt_process.waiting_pid() is None
    assert _gone(pid)


def test_without_warm_start_nothing_is_started_ahead(settings):
    cold = dataclasses.replace(settings, warm_start=False)
    build_db, work = _paths(cold)
    transform.start_next_dbt(cold, build_db, work)
    assert dbt_process.waiting_pid() is None

    assert _build_seeds(cold, build_db, work) == 1


def test_bad_arguments_fail_as_the_dbt_executable_fails(settings):
    build_db, work = _paths(settings)
    transform.start_next_dbt(settings, build_db, work)

    result = transform.run_dbt(settings, build_db, ["build", "--no-such-option"], work)

    assert result.returncode == 2
    assert not result.ok
    assert any("no-such-option" in failure for failure in result.failures), result.failures
