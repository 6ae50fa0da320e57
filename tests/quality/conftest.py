"""One real build for the quality tests: ledger fixture → dbt (the dq models and everything
upstream of them) → GX checkpoint → dq.gx_flags. Built once per module (dbt takes ~10 s)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from dq_fixture import Fixture, build_ledger, gx_file_hashes, read_flags

from zhaoshang.settings import Settings

DQ_SELECTION = [
    "build",
    "--indirect-selection",
    "cautious",
    "--select",
    "+path:models/intermediate/dq",
]


@dataclass
class DqBuild:
    settings: Settings
    fixture: Fixture
    build_db: Path
    summary: dict
    flags: list[dict]
    gx_files_before: dict[str, str]


@pytest.fixture(scope="module")
def dq_build(tmp_path_factory) -> DqBuild:
    from zhaoshang import quality, transform
    from zhaoshang import settings as settings_module

    base = tmp_path_factory.mktemp("dq")
    patch = pytest.MonkeyPatch()
    patch.setenv("ZHAOSHANG_RAW_DIR", str(base / "raw"))
    patch.setenv("ZHAOSHANG_WAREHOUSE", str(base / "warehouse" / "zhaoshang.duckdb"))
    patch.setenv("ZHAOSHANG_OUTPUT_DIR", str(base / "output"))
    patch.setenv("ZHAOSHANG_STATE_DIR", str(base / "state"))
    patch.delenv("ZHAOSHANG_COUNTY_CODE", raising=False)
    try:
        settings = settings_module.load()
        fixture = build_ledger(settings.ledger_path, settings.raw_dir)
        build_db = settings.build_dir / "warehouse_dq-test.duckdb"
        build_db.parent.mkdir(parents=True, exist_ok=True)
        result = transform.run_dbt(settings, build_db, DQ_SELECTION, base / "work")
        assert result.ok, "\n".join(result.failures[:10])
        before = gx_file_hashes()
        summary = quality.validate(build_db, "run-1", settings)
        yield DqBuild(settings, fixture, build_db, summary, read_flags(build_db), before)
    finally:
        patch.undo()
        shutil.rmtree(base, ignore_errors=True)
