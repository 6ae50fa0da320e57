"""The reviewed GX files agree with the rule catalogue (dbt_project/seeds/dq_rules.csv)."""

from __future__ import annotations

import json

from zhaoshang.quality import gx_files
from zhaoshang.quality.rules import GX_SEVERITY, load_rules
from zhaoshang.settings import EXPECTATIONS_DIR

GX = EXPECTATIONS_DIR / "gx"


def test_one_expectation_per_rule_tagged_with_rule_and_severity():
    suite = json.loads((GX / "expectations" / f"{gx_files.SUITE}.json").read_text(encoding="utf-8"))
    rules = load_rules()
    assert [e["meta"]["rule"] for e in suite["expectations"]] == [r.rule for r in rules]
    assert {r.rule for r in rules} == {
        "OLD_AS_NEW",
        "INFLATED_AMOUNT",
        "DUPLICATE_CLAIM",
        "LOCAL_AS_OUTSIDE",
        "INVALID_USCC",
        "TOTAL_MISMATCH",
        "MISSING_REPORT",
    }
    for rule, expectation in zip(rules, suite["expectations"], strict=True):
        assert expectation["type"] == "expect_column_values_to_be_null"
        assert expectation["kwargs"] == {"column": rule.feature_column}
        assert expectation["meta"]["severity"] == rule.severity
        assert expectation["meta"]["signals"] == {s.signal: s.severity for s in rule.signals}
        assert expectation["severity"] == GX_SEVERITY[rule.severity]
        assert expectation["description"] == rule.description_zh()  # the suite is not stale


def test_checkpoint_reports_failing_rows_by_entry_id():
    checkpoint = json.loads((GX / "checkpoints" / "nightly.json").read_text(encoding="utf-8"))
    assert checkpoint["result_format"] == {
        "result_format": "COMPLETE",
        "unexpected_index_column_names": ["entry_id"],
    }
    assert [a["type"] for a in checkpoint["actions"]] == ["update_data_docs"]
    assert [v["name"] for v in checkpoint["validation_definitions"]] == [
        gx_files.VALIDATION_DEFINITION
    ]


def test_deployment_paths_are_variables_not_literals():
    config = (GX / "great_expectations.yml").read_text(encoding="utf-8")
    assert "${zhaoshang_data_docs_dir}" in config and "${zhaoshang_gx_results_dir}" in config
    assert "analytics_enabled: false" in config
