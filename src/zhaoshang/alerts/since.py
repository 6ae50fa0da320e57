"""The e-mail's "since last night" section: new, escalated and cleared flags, with web links.

Read from ``audit.flag_changes`` of the published warehouse (``zhaoshang.triage`` compared it
with the night before). An escalated or cleared subject is announced once: its marker (the
flag, its evidence fingerprint and severity; or the subject and the night it cleared) goes into
the outbox's ``alerted_flags`` with the alert, like a new flag's key. Self-contained so other
sections of the same e-mail can be added beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from zhaoshang.quality.rules import SEVERITY_ZH, load_rules
from zhaoshang.queries import scalar


@dataclass
class SinceLastNight:
    new: int = 0
    escalated: list[dict] = field(default_factory=list)
    cleared: list[dict] = field(default_factory=list)
    base_url: str | None = None

    @property
    def markers(self) -> list[str]:
        return [escalation_marker(c) for c in self.escalated] + [
            cleared_marker(c) for c in self.cleared
        ]

    def context(self) -> dict:
        """What the templates render (links only when a base URL is configured)."""
        rule_zh = {r.rule: r.rule_zh for r in load_rules()}

        def item(c: dict) -> dict:
            year, month = c.get("year"), c.get("month")
            return {
                "unit_name": c.get("unit_name") or "（单位不明）",
                "period": f"{year}年{month}月" if year and month else "",
                "rule_zh": rule_zh.get(str(c.get("rule")), c.get("rule")),
                "severity_zh": SEVERITY_ZH.get(
                    str(c.get("severity")), str(c.get("severity") or "")
                ),
                "project_name": c.get("project_name") or "",
                "reason": c.get("change_reason_zh") or "",
                "cleared_on": str(c.get("cleared_on") or ""),
                "link": self.link(f"/flags/{c['flag_key']}") if c.get("flag_key") else None,
            }

        return {
            "new": self.new,
            "escalated": [item(c) for c in self.escalated],
            "cleared": [item(c) for c in self.cleared],
            "changes_link": self.link("/changes"),
            "new_link": self.link("/flags?status=open"),
        }

    def link(self, path: str) -> str | None:
        return f"{self.base_url}{path}" if self.base_url else None

    def __bool__(self) -> bool:
        return bool(self.escalated or self.cleared)


def escalation_marker(change: dict) -> str:
    return f"esc:{change['flag_key']}:{change['evidence_fingerprint']}:{change['severity']}"


def cleared_marker(change: dict) -> str:
    return f"clr:{change['subject_key']}:{change['change_run_id']}"


def read_changes(warehouse: Path) -> list[dict]:
    """Tonight's escalated and cleared subjects of the published warehouse ([] before tracking)."""
    if not warehouse.exists():
        return []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = scalar(
            con.execute(
                """select count(*) from information_schema.tables
                   where table_schema = 'audit' and table_name = 'flag_changes'"""
            )
        )
        if not found:
            return []
        cursor = con.execute(
            """select * from audit.flag_changes
               where change in ('escalated', 'cleared')
                 and change_run_id = (select run_id from audit.manifest)
               order by unit_name, rule, year, month, subject_key"""
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def since_last_night(
    changes: list[dict], new_count: int, already: set[str], base_url: str | None
) -> SinceLastNight:
    """The section for the changes not announced yet."""
    escalated = [
        c for c in changes if c["change"] == "escalated" and escalation_marker(c) not in already
    ]
    cleared = [c for c in changes if c["change"] == "cleared" and cleared_marker(c) not in already]
    return SinceLastNight(new=new_count, escalated=escalated, cleared=cleared, base_url=base_url)
