"""The data-quality rule catalogue (``dbt_project/seeds/dq_rules.csv``), read by Python.

One row per rule × signal. dbt reads the same seed for thresholds; the GX suite is generated from
it (``zhaoshang.quality.suites``) and ``zhaoshang.quality`` takes each flag's severity and Chinese
evidence template from it, so a rule's wording and severity live in one reviewed file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from zhaoshang.settings import REFERENCE_RULES_DIR

SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}
SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低"}
# GX 1.x has its own three-level severity; ours is the contract's (high/medium/low).
GX_SEVERITY = {"high": "critical", "medium": "warning", "low": "info"}


@dataclass(frozen=True)
class Signal:
    rule: str
    signal: str
    severity: str
    threshold: float | None
    signal_zh: str
    evidence_zh: str
    # The unit's own to correct (its receipt lists it) rather than the inspection team's.
    share_with_unit: bool = False
    fix_zh: str = ""


@dataclass(frozen=True)
class Rule:
    rule: str
    rule_zh: str
    signals: tuple[Signal, ...]

    @property
    def feature_column(self) -> str:
        """The column of ``int_dq_entries`` that holds this rule's signals (NULL = clean)."""
        return f"{self.rule.lower()}_signal"

    @property
    def severity(self) -> str:
        """The rule's highest signal severity: the expectation's ``meta.severity``."""
        return max((s.severity for s in self.signals), key=SEVERITY_RANK.__getitem__)

    def signal(self, name: str) -> Signal | None:
        return next((s for s in self.signals if s.signal == name), None)

    def description_zh(self) -> str:
        """What Data Docs shows for the rule's expectation."""
        cases = "；".join(
            f"{i}. {s.signal_zh}（{s.signal}，严重程度{SEVERITY_ZH[s.severity]}"
            + (f"，阈值{s.threshold:g}" if s.threshold is not None else "")
            + "）"
            for i, s in enumerate(self.signals, start=1)
        )
        return (
            f"{self.rule_zh}（{self.rule}）：列 {self.feature_column} 应为空；"
            f"不为空即为疑点，取值为触发的情形。情形：{cases}"
        )


@lru_cache(maxsize=4)
def load_rules(rules_dir: Path = REFERENCE_RULES_DIR) -> tuple[Rule, ...]:
    """Rules in the seed's order, each with its signals."""
    with (rules_dir / "dq_rules.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    order: list[str] = []
    by_rule: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        if r["rule"] not in by_rule:
            order.append(r["rule"])
            by_rule[r["rule"]] = []
        by_rule[r["rule"]].append(r)
    rules = []
    for code in order:
        signals = tuple(
            Signal(
                rule=code,
                signal=r["signal"],
                severity=r["severity"],
                threshold=float(r["threshold"]) if r["threshold"] else None,
                signal_zh=r["signal_zh"],
                evidence_zh=r["evidence_zh"],
                share_with_unit=(r.get("share_with_unit") or "").strip().lower() == "true",
                fix_zh=r.get("fix_zh") or "",
            )
            for r in by_rule[code]
        )
        unknown = {s.severity for s in signals} - SEVERITY_RANK.keys()
        if unknown:
            raise ValueError(f"dq_rules.csv: unknown severity {sorted(unknown)} for {code}")
        rules.append(Rule(rule=code, rule_zh=by_rule[code][0]["rule_zh"], signals=signals))
    return tuple(rules)


def rules_by_code(rules_dir: Path = REFERENCE_RULES_DIR) -> dict[str, Rule]:
    return {r.rule: r for r in load_rules(rules_dir)}
