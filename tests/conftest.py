"""Shared test set-up: every test gets its own inbox, warehouse, state and output folders.

Airflow reads AIRFLOW_HOME at import, so it is pointed at a session folder before anything
imports Airflow; its SQLite metadata DB is migrated once per session (only if a test needs it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="zhaoshang-tests-"))
os.environ["AIRFLOW_HOME"] = str(_SESSION_DIR / "airflow_home")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
os.environ.pop("ZHAOSHANG_SMTP_URL", None)
os.environ.pop("ZHAOSHANG_ALERT_TO", None)


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """ZHAOSHANG_* pointed at empty folders under tmp_path; returns the loaded Settings."""
    from zhaoshang import settings

    raw = tmp_path / "raw"
    (raw / "submissions").mkdir(parents=True)
    (raw / "reference").mkdir()
    monkeypatch.setenv("ZHAOSHANG_RAW_DIR", str(raw))
    monkeypatch.setenv("ZHAOSHANG_WAREHOUSE", str(tmp_path / "warehouse" / "zhaoshang.duckdb"))
    monkeypatch.setenv("ZHAOSHANG_OUTPUT_DIR", str(tmp_path / "output"))
    monkeypatch.delenv("ZHAOSHANG_STATE_DIR", raising=False)
    monkeypatch.delenv("ZHAOSHANG_FAIL_AT", raising=False)
    return settings.load()


@pytest.fixture(scope="session")
def airflow_db():
    """Migrate Airflow's SQLite metadata DB once for the session."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run(
        [airflow, "db", "migrate"], check=True, capture_output=True, env=os.environ.copy()
    )
    return Path(os.environ["AIRFLOW_HOME"])


# Test directories whose tests build dbt, run Airflow or GX, or a whole night: `make test-fast`
# (pytest -m "not integration") leaves them out. A new directory is in the fast tier unless named here.
INTEGRATION_DIRS = {
    "e2e",
    "transform",
    "quality",
    "dags",
    "alerts",
    "publish",
    "bench",
    "cli",
    "agreement",
    "feedback",
    "report",
    "distributed",
}
# a whole generated county year written and read back (~35 s): the fast tier keeps the small cases
# and every format converted by LibreOffice (~1 min)
INTEGRATION_FILES = {"generate/test_seed_scenario.py", "excel/test_excel_formats.py"}


# The longest files (minutes each), handed out first: `make test` runs the files on two
# processes (pytest-xdist, --dist loadfile --no-loadscope-reorder: in collection order, not
# xdist's most-tests-first), and one of these started last would run alone at the end.
LONGEST_FILES = (
    "e2e/test_incremental_nights.py",
    "web/test_triage_in_browser.py",
    "e2e/test_nightly_dag.py",
    "e2e/test_formats_night.py",
    "cli/test_make_run.py",
    "e2e/test_failed_night.py",
)


def pytest_collection_modifyitems(config, items):
    tests_root = Path(__file__).resolve().parent
    relative = {
        id(item): Path(str(item.path)).resolve().relative_to(tests_root).as_posix()
        for item in items
    }
    for item in items:
        path = relative[id(item)]
        if path.split("/")[0] in INTEGRATION_DIRS or path in INTEGRATION_FILES:
            item.add_marker(pytest.mark.integration)
    rank = {name: k for k, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(relative[id(item)], len(rank)))  # stable otherwise
