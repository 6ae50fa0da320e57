"""The reviewed GX files agree with the rule catalogue (dbt_project/seeds/dq_rules.csv) and the
rule constants (dbt_project/seeds/rule_parameters.csv): one expectation per signal, its
predicate and threshold readable in the JSON."""

from __future__ import annotations

import json
import re

from zhaoshang.quality import gx_files
from zhaoshang.quality.rules import GX_SEVERITY, load_rules, rule_parameters
from zhaoshang.settings import EXPECTATIONS_DIR, PROJECT_ROOT

GX = EXPECTATIONS_DIR / "gx"


def _suite(name: str) -> dict:
    return json.loads((GX / "expectations" / f"{name}.json").read_text(encoding="utf-8"))


def _by_signal() -> dict[tuple[str, str], dict]:
    return {
        (e["meta"]["rule"], e["meta"]["signal"]): e for e in _suite(gx_files.SUITE)["expectations"]
    }


def test_one_expectation_per_signal_tagged_with_rule_signal_severity_and_names():
    suite = _suite(gx_files.SUITE)
    rules = load_rules()
    catalogue = [(r, s) for r in rules for s in r.signals]
    assert [(e["meta"]["rule"], e["meta"]["signal"]) for e in suite["expectations"]] == [
        (r.rule, s.signal) for r, s in catalogue
    ]
    assert len(catalogue) == 18
    for (rule, signal), expectation in zip(catalogue, suite["expectations"], strict=True):
        assert expectation["meta"] == {
            "rule": rule.rule,
            "signal": signal.signal,
            "severity": signal.severity,
            "rule_zh": rule.rule_zh,
            "signal_zh": signal.signal_zh,
        }
        assert expectation["severity"] == GX_SEVERITY[signal.severity]
        assert (
            expectation["type"] != "expect_column_values_to_be_null"
        )  # a predicate, not a verdict
        assert f"{rule.rule_zh}（{rule.rule}）" in expectation["description"]


def test_the_committed_suite_is_what_the_seeds_generate():
    """Not stale: regenerating from dq_rules.csv + rule_parameters.csv gives the committed JSON."""
    fields = ("type", "kwargs", "meta", "description", "severity")

    def plain(expectations) -> list[dict]:
        out = []
        for e in expectations:
            config = json.loads(json.dumps(e.configuration.to_json_dict(), default=str))
            out.append({k: config.get(k) for k in fields})
        return out

    def committed(name: str) -> list[dict]:
        return [{k: e.get(k) for k in fields} for e in _suite(name)["expectations"]]

    assert plain(gx_files.findings_expectations()) == committed(gx_files.SUITE)
    assert plain(gx_files.health_expectations()) == committed(gx_files.HEALTH_SUITE)


def test_thresholds_in_the_suite_are_the_seeds_values():
    p = rule_parameters()
    e = _by_signal()
    sim = float(p["name_similarity_min"])
    tol = float(p["amount_tolerance_wan"])
    ratio = float(p["yuan_as_wan_ratio"])
    assert e[("OLD_AS_NEW", "earlier_year_same_project")]["kwargs"]["max_value"] == sim
    assert e[("OLD_AS_NEW", "phase_two_unverified")]["kwargs"]["max_value"] == sim
    assert e[("INFLATED_AMOUNT", "yuan_as_wan")]["kwargs"] == {
        "column": "funds_to_investment_ratio",
        "max_value": ratio,
        "strict_max": True,
    }
    assert e[("INFLATED_AMOUNT", "absurd_amount")]["kwargs"]["max_value"] == float(
        p["max_amount_wan"]
    )
    for signal in ("above_total_investment", "above_contract", "cumulative_backwards"):
        assert e[("INFLATED_AMOUNT", signal)]["kwargs"]["max_value"] == tol
    assert e[("INFLATED_AMOUNT", "above_total_investment")]["kwargs"]["row_condition"] == {
        "column": {"name": "funds_to_investment_ratio"},
        "operator": "<",
        "parameter": ratio,
        "type": "comparison",
    }
    for signal in ("total_above_rows", "total_below_rows", "differs_with_quarantined_rows"):
        assert e[("TOTAL_MISMATCH", signal)]["kwargs"]["max_value"] == tol
    assert e[("DUPLICATE_CLAIM", "shares_over_100")]["kwargs"]["max_value"] == float(
        p["max_share_sum_pct"]
    )
    local = e[("LOCAL_AS_OUTSIDE", "county_registered_investor")]["kwargs"]
    assert local["value_set"] == {"$PARAMETER": gx_files.COUNTY_PARAMETER}
    assert local["row_condition"]["parameter"] == p["outside_capital_origins"].split("|")
    assert e[("INVALID_USCC", "malformed")]["kwargs"] == {
        "column": "investor_uscc_key",
        "regex": p["uscc_pattern"],
    }
    assert e[("INVALID_USCC", "check_digit_mismatch")]["type"] == (
        "expect_column_pair_values_to_be_equal"
    )


def test_no_threshold_left_in_the_dq_sql():
    """The dq models compute features; the only constants they read come from rule_parameters
    (name_similarity_min and the place-name prefix define "the same project")."""
    models = PROJECT_ROOT / "dbt_project" / "models" / "intermediate" / "dq"
    text = "\n".join(p.read_text(encoding="utf-8") for p in models.glob("*.sql"))
    code = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    assert "ref('dq_rules')" not in code and "threshold" not in code
    # max_share_sum_pct (100) is left out: a row without 计入比例 counts 100 % (a default, not a limit)
    thresholds = (
        "name_similarity_min",
        "yuan_as_wan_ratio",
        "max_amount_wan",
        "amount_tolerance_wan",
    )
    numbers = {rule_parameters()[name] for name in thresholds}
    literals = set(re.findall(r"(?<![\w.'])\d+\.\d+|(?<![\w.'])\d{3,}(?![\w'])", code))
    assert not literals & numbers, literals & numbers


def test_health_suite_is_separate_and_the_checkpoint_runs_it_first():
    health = _suite(gx_files.HEALTH_SUITE)
    names = [e["meta"]["health_check"] for e in health["expectations"]]
    assert {"entry_id.not_null", "entry_id.unique", "entry_kind.in_set"} <= set(names)
    assert "流水线健康" in health["meta"]["description_zh"]
    assert "不是流水线故障" in _suite(gx_files.SUITE)["meta"]["description_zh"]


def test_checkpoint_reports_failing_rows_by_entry_id():
    checkpoint = json.loads((GX / "checkpoints" / "nightly.json").read_text(encoding="utf-8"))
    assert checkpoint["result_format"] == {
        "result_format": "COMPLETE",
        "unexpected_index_column_names": ["entry_id"],
    }
    assert [a["type"] for a in checkpoint["actions"]] == ["update_data_docs"]
    assert [v["name"] for v in checkpoint["validation_definitions"]] == [
        gx_files.HEALTH_VALIDATION_DEFINITION,
        gx_files.VALIDATION_DEFINITION,
    ]


def test_deployment_paths_are_variables_not_literals():
    config = (GX / "great_expectations.yml").read_text(encoding="utf-8")
    assert "${zhaoshang_data_docs_dir}" in config and "${zhaoshang_gx_results_dir}" in config
    assert "analytics_enabled: false" in config
