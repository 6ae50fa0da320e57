"""A night that fails (here: the office's roster has a duplicated unit, so an error-level dbt test
fails) publishes nothing, keeps yesterday's warehouse, tells the inspection team, and the next
good night heals it."""

from __future__ import annotations

import hashlib
from email import policy
from email.parser import BytesParser

import pytest

from tests.e2e.dagrun import run_nightly_dag
from zhaoshang import settings as settings_module
from zhaoshang.generate import generate_inbox, small


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def first_night(module_env, airflow_db):
    generate_inbox(module_env / "raw", small(months=range(1, 3), units=5))
    assert run_nightly_dag("2021-03-05") == "success"
    return settings_module.load()


def test_an_error_level_data_test_stops_the_publish_and_notifies(first_night):
    settings = first_night
    before = _digest(settings.warehouse)
    units_csv = settings.units_csv
    good_roster = units_csv.read_text(encoding="utf-8")
    lines = good_roster.splitlines()
    units_csv.write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")  # a unit twice
    try:
        assert run_nightly_dag("2021-03-06", retries=0) == "failed"
        assert _digest(settings.warehouse) == before  # yesterday's warehouse stays published
        notices = list((settings.output_dir / "alerts").glob("ZS-FAIL-*.eml"))
        assert len(notices) == 1
        notice = BytesParser(policy=policy.default).parsebytes(notices[0].read_bytes())
        body = notice.get_body(preferencelist=("plain",)).get_content()
        assert "build_features" in body  # names the task that failed
        assert "zhaoshang_nightly" in notice["Subject"]
    finally:
        units_csv.write_text(good_roster, encoding="utf-8")
    assert run_nightly_dag("2021-03-07") == "success"
    assert _digest(settings.warehouse) != before  # the good night published again
    assert not list(settings.build_dir.rglob("*.duckdb"))  # abandoned build cleaned up
