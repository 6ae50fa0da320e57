from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def module_env(tmp_path_factory):
    """ZHAOSHANG_* for a whole module (one inbox, several DAG runs over it)."""
    base = tmp_path_factory.mktemp("nightly")
    mp = pytest.MonkeyPatch()
    mp.setenv("ZHAOSHANG_RAW_DIR", str(base / "raw"))
    mp.setenv("ZHAOSHANG_WAREHOUSE", str(base / "warehouse" / "zhaoshang.duckdb"))
    mp.setenv("ZHAOSHANG_OUTPUT_DIR", str(base / "output"))
    mp.delenv("ZHAOSHANG_STATE_DIR", raising=False)
    mp.delenv("ZHAOSHANG_SMTP_URL", raising=False)
    mp.delenv("ZHAOSHANG_ALERT_TO", raising=False)
    yield Path(base)
    mp.undo()
