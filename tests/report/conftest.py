"""One real nightly run (``pipeline.run_nightly``, no Airflow) per module over a generated
inbox with known answers; the report, workbook and shell tests read what it wrote."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from zhaoshang import settings as settings_module
from zhaoshang.generate import generate_inbox, seed_half_year, with_anomalies


def _night(base: Path, scenario, logical: date):
    mp = pytest.MonkeyPatch()
    mp.setenv("ZHAOSHANG_RAW_DIR", str(base / "raw"))
    mp.setenv("ZHAOSHANG_WAREHOUSE", str(base / "warehouse" / "zhaoshang.duckdb"))
    mp.setenv("ZHAOSHANG_OUTPUT_DIR", str(base / "output"))
    for name in ("ZHAOSHANG_STATE_DIR", "ZHAOSHANG_SMTP_URL", "ZHAOSHANG_ALERT_TO"):
        mp.delenv(name, raising=False)
    from zhaoshang.pipeline import run_nightly

    truth = generate_inbox(base / "raw", scenario)
    settings = settings_module.load()
    summary = run_nightly(settings, logical)
    return mp, {"settings": settings, "summary": summary, "env": dict(os.environ), "truth": truth}


@pytest.fixture(scope="module")
def seed_night(tmp_path_factory):
    """The seed's half-year (2021 Jan-Jun), processed on 2021-07-05."""
    mp, night = _night(tmp_path_factory.mktemp("seed_report"), seed_half_year(), date(2021, 7, 5))
    yield night
    mp.undo()


@pytest.fixture(scope="module")
def flagged_night(tmp_path_factory):
    """Every flag rule planted, 2021 Jan-Mar with 2020 Oct-Dec history, on 2021-04-05."""
    mp, night = _night(
        tmp_path_factory.mktemp("flagged_report"), with_anomalies(), date(2021, 4, 5)
    )
    yield night
    mp.undo()
