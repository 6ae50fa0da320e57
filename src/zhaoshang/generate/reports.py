"""Monthly reports derived from the plan: one ``Report`` per (unit, year, month) that is sent.

A report holds the canonical values of its rows (what a correct reader must get back), the
tags of planted anomalies and look-alikes, and for the few bad rows the raw text to write and
the quarantine code to expect. Layout and cell formatting are decided later (``layout.py``).
"""

from __future__ import annotations

import calendar
import copy
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from zhaoshang.generate.plan import LOAN, ZERO, Project, Tag
from zhaoshang.generate.roster import UnitSpec

EVIDENCE_TYPES = ("银行进账单", "银行进账单", "银行进账单", "验资报告", "设备发票")


@dataclass
class RowData:
    # canonical column -> canonical value (Decimal, date, str, None), typed by the column map
    values: dict[str, Any]
    pid: int | None = None
    tags: list[Tag] = field(default_factory=list)
    quarantine: str | None = None  # expected reason code (E_*) if the row must be quarantined
    quarantine_column: str | None = None
    raw: dict[str, str] = field(default_factory=dict)  # canonical column -> exact text to write


@dataclass
class Report:
    unit: UnitSpec
    year: int
    month: int
    rows: list[RowData]
    report_date: date  # 填报日期 (written on the sheet or not, as the layout decides)
    role: str = "normal"  # normal | superseded | correction
    total_extra: dict[str, Decimal] = field(default_factory=dict)  # added to the 合计 row
    total_tags: list[Tag] = field(default_factory=list)
    force_columns: tuple[str, ...] = ()
    county: str = ""  # province scenario: the county folder

    @property
    def key(self) -> str:
        return f"{self.unit.unit_name}|{self.year}|{self.month}|{self.role}"


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def status_of(p: Project, year: int, month: int, cumulative: Decimal) -> str | None:
    if p.is_loan:
        return None
    if cumulative <= 0:
        return "已签约"
    elapsed = (year * 12 + month) - (p.signed.year * 12 + p.signed.month)
    if elapsed >= 3 and p.total_investment and cumulative >= p.total_investment * Decimal("0.6"):
        return "已投产"
    return "已开工"


def row_values(p: Project, year: int, month: int) -> dict[str, object]:
    """The canonical values of project ``p``'s row in the (year, month) report."""
    period = p.funds.get((year, month), ZERO)
    cumulative = p.cumulative(year, month)
    status = status_of(p, year, month, cumulative)
    start = None
    if status in ("已开工", "已投产"):
        start = min(p.signed + timedelta(days=10 + (p.pid * 7) % 45), month_end(year, month))
    foreign = None
    if p.investor.origin == "境外":
        foreign = (cumulative / Decimal("6.5")).quantize(Decimal("0.01"))
    return {
        "project_name": p.name,
        "investor_name": p.investor.name,
        "investor_uscc": p.investor.uscc,
        "capital_origin": p.investor.origin,
        "sector": p.sector,
        "project_kind": p.kind(year),
        "signed_date": p.signed,
        "status": status,
        "total_investment_wan": p.total_investment,
        "contract_amount_wan": p.contract_amount,
        "funds_period_wan": period,
        "funds_cumulative_wan": cumulative,
        "foreign_usd_wan": foreign,
        "high_tech": None if p.is_loan else ("是" if p.high_tech else "否"),
        "signing_event": p.signing_event,
        "contact": p.contact,
        "remarks": p.remarks,
        "ledger_id": p.ledger_id,
        "credit_share_pct": p.credit_share,
        "start_date": start,
        "evidence_type": EVIDENCE_TYPES[p.pid % len(EVIDENCE_TYPES)] if period > 0 else None,
    }


def report_date_for(year: int, month: int, rng: random.Random) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt + timedelta(days=rng.randint(0, 6))


def build_reports(
    projects: list[Project],
    roster: list[UnitSpec],
    periods: list[tuple[int, int]],
    silent: set[str],
    skip: set[tuple[str, int, int]],
    rng: random.Random,
    county: str = "",
) -> list[Report]:
    """Every report sent: each unit, each period, except silent units and planted gaps."""
    by_unit: dict[str, list[Project]] = {}
    for p in sorted(projects, key=lambda p: (p.signed, p.pid)):
        by_unit.setdefault(p.unit, []).append(p)
    reports = []
    for year, month in periods:
        for unit in roster:
            if unit.unit_name in silent or (unit.unit_name, year, month) in skip:
                continue
            rows = []
            for p in by_unit.get(unit.unit_name, []):
                if not p.appears_in(year, month):
                    continue
                tags = [t for t in p.tags if t.year in (None, year)]
                rows.append(RowData(row_values(p, year, month), p.pid, tags))
            reports.append(
                Report(unit, year, month, rows, report_date_for(year, month, rng), county=county)
            )
    return reports


def superseded_copy(report: Report, rng: random.Random) -> Report:
    """The first version of a report that its unit later corrected (different numbers, earlier date)."""
    original = copy.deepcopy(report)
    original.role = "superseded"
    original.report_date = report.report_date
    report.role = "correction"
    report.report_date = report.report_date + timedelta(days=rng.randint(2, 5))
    funded = [
        r
        for r in original.rows
        if (r.values.get("funds_period_wan") or ZERO) > 0 and r.values.get("sector") != LOAN
    ] or original.rows
    for row in rng.sample(funded, min(2, len(funded))):
        period = row.values.get("funds_period_wan") or ZERO
        cumulative = row.values.get("funds_cumulative_wan") or ZERO
        ceiling = row.values.get("contract_amount_wan") or row.values.get("total_investment_wan")
        wanted = Decimal(rng.choice((20, 50, 100, 150)))
        room = (ceiling - cumulative) if ceiling is not None else wanted
        delta = min(wanted, Decimal(int(room))) if room >= 1 else -min(period, wanted)
        if delta == 0:
            continue
        row.values["funds_period_wan"] = period + delta
        row.values["funds_cumulative_wan"] = cumulative + delta
    for row in original.rows:
        row.tags = []
    return original
