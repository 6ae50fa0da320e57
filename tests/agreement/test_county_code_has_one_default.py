"""The county code's default is written once (``zhaoshang.settings``); dbt's SQL takes it from
the environment that settings always fills, and nothing else spells the code out."""

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
    sql = (ROOT / "dbt_project/models").rglob("*.sql")
    uses = [p for p in sql if 'env_var("ZHAOSHANG_COUNTY_CODE")' in p.read_text(encoding="utf-8")]
    assert uses, "dbt reads the county code from the environment"
    monkeypatch.delenv("ZHAOSHANG_COUNTY_CODE", raising=False)
    assert settings.load().dbt_env()["ZHAOSHANG_COUNTY_CODE"] == code
