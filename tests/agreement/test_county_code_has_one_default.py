"""The county code's default is written once (``zhaoshang.settings``); the quality stage hands
it to the GX suite as a run-time parameter (LOCAL_AS_OUTSIDE compares the investor's USCC
region with it), and nothing else spells the code out."""

from __future__ import annotations

from pathlib import Path

from zhaoshang import settings

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("src", "dags", "dbt_project/models", "dbt_project/macros", "dbt_project/seeds")


def test_the_default_is_spelled_only_in_settings(workspace, monkeypatch):
    code = settings.DEFAULT_COUNTY_CODE
    spelled = sorted(
        str(path.relative_to(ROOT))
        for top in SCANNED
        for path in (ROOT / top).rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".sql", ".yml", ".csv"}
        and code in path.read_text(encoding="utf-8", errors="ignore")
    )
    assert spelled == ["src/zhaoshang/settings.py"]
    validation = (ROOT / "src/zhaoshang/quality/validation.py").read_text(encoding="utf-8")
    assert "gx_files.COUNTY_PARAMETER: [settings.county_code]" in validation
    monkeypatch.delenv("ZHAOSHANG_COUNTY_CODE", raising=False)
    assert settings.load().dbt_env()["ZHAOSHANG_COUNTY_CODE"] == code
