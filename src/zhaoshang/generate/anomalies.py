"""Planting the flag rules' anomalies, their clean look-alikes, bad rows and resubmissions.

Plan-level plants create or alter projects (so every month's row of the project carries the
tag); report-level plants alter single rows or 合计 rows of one month's report. Nothing here
knows row numbers: the tags travel with the rows and the truth reads the positions back from
what was written.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from zhaoshang.generate.names import NameFactory
from zhaoshang.generate.plan import LOAN, SPECIAL, ZERO, Planner, Project, Tag, months_from, spread
from zhaoshang.generate.reports import Report, RowData, superseded_copy
from zhaoshang.generate.roster import TOWNSHIP, UnitSpec
from zhaoshang.generate.uscc import corrupt_check_char


@dataclass
class PlantState:
    skip: set[tuple[str, int, int]] = field(default_factory=set)  # (unit, year, month) not sent
    busy: set[str] = field(default_factory=set)  # units already carrying a plant
    force_columns: dict[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)


def _claim(
    planner: Planner,
    unit: str,
    sector: str,
    signed: date,
    investment: Decimal,
    investor,
    name: str,
    fund_until: int = 12,
    share: tuple[float, float] = (0.1, 0.4),
) -> Project:
    p = planner.add(unit, sector, signed, investment, investor=investor, name=name)
    amount = Decimal(int(investment * Decimal(planner.rng.uniform(*share))))
    p.funds = spread(amount, months_from(signed.year, signed.month, fund_until), planner.rng)
    return p


def _reword_expand(name: str) -> str:
    return name[:-2] + "扩建项目" if name.endswith("项目") else name + "（扩建）"


def _reword_prefix(name: str) -> str:
    return "新建" + name


def _phase_two(name: str) -> str:
    return name[:-2] + "二期项目" if name.endswith("项目") else name + "二期"


def _pick_unit(pool: list[UnitSpec], state: PlantState, rng: random.Random) -> UnitSpec:
    free = [u for u in pool if u.unit_name not in state.busy] or pool
    unit = rng.choice(free)
    state.busy.add(unit.unit_name)
    return unit


def plant_in_plan(
    planner: Planner,
    roster: list[UnitSpec],
    year: int,
    months: list[int],
    history_years: list[int],
    blank: set[str],
) -> PlantState:
    """OLD_AS_NEW, DUPLICATE_CLAIM, LOCAL_AS_OUTSIDE, INVALID_USCC, MISSING_REPORT and look-alikes."""
    rng = planner.rng
    state = PlantState()
    townships = [u for u in roster if u.unit_type == TOWNSHIP and u.unit_name not in blank]
    others = [
        u for u in roster if not u.is_bank and u.unit_type != TOWNSHIP and u.unit_name not in blank
    ]
    early = months[: max(1, len(months) - 1)]

    if history_years:
        prev = history_years[-1]
        earlier = [
            p
            for p in planner.projects
            if p.signed.year == prev
            and not p.is_loan
            and p.sector != SPECIAL
            and p.last_year == prev
            and p.name.endswith("项目")
            and not p.tags
        ]
        rng.shuffle(earlier)
        rewordings = (
            ("名称加“扩建”", _reword_expand),
            ("名称加“新建”", _reword_prefix),
            ("名称与往年相同", None),
        )
        for (label, reword), old in zip(rewordings, earlier, strict=False):
            name = reword(old.name) if reword else old.name
            if reword and not planner.names.reserve_name(name):
                continue
            p = _claim(
                planner,
                old.unit,
                old.sector,
                planner.signed_date(year, rng.choice(early)),
                old.investment,
                old.investor,
                name,
            )
            if reword is None:  # the clerk relabels last year's row: its cumulative carries on
                p.prior_funds = old.lifetime_funds()
                headroom = old.investment * Decimal("0.9") - p.prior_funds
                p.funds = spread(
                    max(ZERO, Decimal(int(headroom * Decimal("0.5")))),
                    months_from(year, p.signed.month, 12),
                    rng,
                )
            p.tags.append(
                Tag(
                    "anomaly",
                    "OLD_AS_NEW",
                    f"{label}：{prev}年已报“{old.name}”（同一投资方 {old.investor.uscc}），本年填为新引进",
                )
            )
            state.busy.add(old.unit)
        rest = [p for p in earlier[3:] if p.unit not in state.busy]
        if rest:
            old = rest[0]
            name = _phase_two(old.name)
            if planner.names.reserve_name(name):
                month = rng.choice(early)
                p = _claim(
                    planner,
                    old.unit,
                    old.sector,
                    planner.signed_date(year, month),
                    old.investment + Decimal(rng.randint(100, 400)),
                    old.investor,
                    name,
                )
                p.remarks = f"二期工程，{year}年{month}月另行签订合同"
                p.tags.append(
                    Tag(
                        "lookalike",
                        "OLD_AS_NEW",
                        f"同一投资方的二期项目，{year}年另签合同：不是以旧充新",
                    )
                )
        carried = [
            p
            for p in planner.projects
            if p.signed.year == prev and p.last_year >= year and not p.is_loan and not p.tags
        ]
        if carried:
            rng.choice(carried).tags.append(
                Tag("lookalike", "OLD_AS_NEW", "往年项目在本年按“续建”如实填报", year)
            )

    # DUPLICATE_CLAIM: one project claimed in full by two townships
    a = _pick_unit(townships, state, rng)
    b = _pick_unit([u for u in townships if u != a], state, rng)
    inv, brand = planner.names.company("二产", "省外")
    first = _claim(
        planner,
        a.unit_name,
        "二产",
        planner.signed_date(year, rng.choice(early)),
        Decimal(rng.randint(400, 1500)),
        inv,
        planner.names.project_name("二产", brand),
    )
    twin = planner.add(
        b,
        first.sector,
        first.signed,
        first.total_investment,
        investor=first.investor,
        name=first.name,
    )
    twin.funds = dict(first.funds)
    for p, other in ((first, b), (twin, a)):
        p.tags.append(
            Tag(
                "anomaly",
                "DUPLICATE_CLAIM",
                f"同一项目同年也由{other.unit_name}全额申报（无计入比例）",
            )
        )

    # look-alike: one project introduced together, declared 60 % / 40 %
    c = _pick_unit(townships, state, rng)
    d = _pick_unit(others or [u for u in townships if u != c], state, rng)
    inv, brand = planner.names.company("二产", "省外")
    shared = _claim(
        planner,
        c.unit_name,
        "二产",
        planner.signed_date(year, rng.choice(early)),
        Decimal(rng.randint(600, 2000)),
        inv,
        planner.names.project_name("二产", brand),
    )
    partner = planner.add(
        d,
        "二产",
        shared.signed,
        shared.total_investment,
        investor=shared.investor,
        name=shared.name,
    )
    partner.funds = dict(shared.funds)
    for p, share, other in ((shared, 60, d), (partner, 40, c)):
        p.credit_share = Decimal(share)
        p.remarks = f"与{other.unit_name}共同引进，本单位计入{share}%"
        p.tags.append(
            Tag(
                "lookalike",
                "DUPLICATE_CLAIM",
                "两个单位共同引进，计入比例60%+40%=100%：不是拼凑挂靠",
            )
        )
        state.force_columns[(p.unit, year)] = ("credit_share_pct",)

    # LOCAL_AS_OUTSIDE: a county-registered investor reported as 省外 capital
    unit = _pick_unit(townships, state, rng)
    inv, brand = planner.names.local_company("二产")
    inv = replace(inv, origin="省外")
    p = _claim(
        planner,
        unit.unit_name,
        "二产",
        planner.signed_date(year, rng.choice(early)),
        Decimal(rng.randint(200, 900)),
        inv,
        planner.names.project_name("二产", brand),
    )
    p.tags.append(
        Tag(
            "anomaly",
            "LOCAL_AS_OUTSIDE",
            f"资金来源地填“省外”，信用代码登记地为本县 {inv.uscc[2:8]}",
        )
    )

    # INVALID_USCC: a wrong check character
    unit = _pick_unit(townships + others, state, rng)
    inv, brand = planner.names.company("三产", "省外")
    inv = replace(inv, uscc=corrupt_check_char(inv.uscc))
    p = _claim(
        planner,
        unit.unit_name,
        "三产",
        planner.signed_date(year, rng.choice(early)),
        Decimal(rng.randint(100, 600)),
        inv,
        planner.names.project_name("三产", brand),
    )
    p.tags.append(Tag("anomaly", "INVALID_USCC", f"统一社会信用代码 {inv.uscc} 校验码错误"))

    # MISSING_REPORT: a township skips a month; its money that month is reported the month after
    if len(months) >= 2:
        unit = _pick_unit(townships, state, rng)
        gap = months[-2]
        for p in planner.projects:
            if p.unit == unit.unit_name and (year, gap) in p.funds:
                moved = p.funds.pop((year, gap))
                p.funds[(year, gap + 1)] = p.funds.get((year, gap + 1), ZERO) + moved
        state.skip.add((unit.unit_name, year, gap))
    return state


def _previous_rows(
    reports: list[Report], periods: list[tuple[int, int]]
) -> dict[tuple[str, int, int], dict[int, RowData]]:
    index: dict[tuple[str, int, int], dict[int, RowData]] = {}
    for r in reports:
        if r.role != "superseded":
            index[(r.unit.unit_name, r.year, r.month)] = {
                row.pid: row for row in r.rows if row.pid is not None
            }
    return index


def plant_in_reports(
    reports: list[Report], periods: list[tuple[int, int]], state: PlantState, rng: random.Random
) -> None:
    """INFLATED_AMOUNT (four ways) in the latest month, TOTAL_MISMATCH on one 合计 row."""
    periods = sorted(periods)
    last = periods[-1]
    prev_period = periods[-2]
    index = _previous_rows(reports, periods)
    candidates: list[tuple[Report, RowData, RowData]] = []
    for r in reports:
        if (r.year, r.month) != last or r.role != "normal":
            continue
        before = index.get((r.unit.unit_name, *prev_period), {})
        for row in r.rows:
            v = row.values
            if (
                row.pid in before
                and not row.tags
                and v["sector"] not in (LOAN, SPECIAL)
                and v["total_investment_wan"]
                and not v.get("credit_share_pct")
            ):
                candidates.append((r, row, before[row.pid]))
    rng.shuffle(candidates)
    used_units: set[str] = set()

    def take(ok) -> tuple[Report, RowData, RowData] | None:
        for cand in candidates:
            if cand[0].unit.unit_name not in used_units and ok(*cand):
                used_units.add(cand[0].unit.unit_name)
                return cand
        return None

    def tag(row: RowData, detail: str) -> None:
        row.tags.append(Tag("anomaly", "INFLATED_AMOUNT", detail))

    def ceiling(v: dict) -> Decimal:
        return v["contract_amount_wan"] or v["total_investment_wan"]

    if cand := take(lambda r, row, prev: True):
        _, row, prev = cand
        v = row.values
        v["funds_period_wan"] = v["total_investment_wan"] + Decimal(rng.randint(20, 80))
        v["funds_cumulative_wan"] = prev.values["funds_cumulative_wan"] + v["funds_period_wan"]
        tag(row, "本期到位资金大于计划总投资")
    if cand := take(lambda r, row, prev: True):
        _, row, prev = cand
        v = row.values
        true_amount = v["funds_period_wan"]
        if true_amount < v["total_investment_wan"] / 10 or true_amount < 1:
            true_amount = Decimal(math.ceil(v["total_investment_wan"] / 10) + 1)
        v["funds_period_wan"] = true_amount * 10000
        v["funds_cumulative_wan"] = prev.values["funds_cumulative_wan"] + v["funds_period_wan"]
        tag(row, f"把{true_amount * 10000}元填成了万元（应为{true_amount}万元）")
    if cand := take(lambda r, row, prev: prev.values["funds_cumulative_wan"] >= 3):
        _, row, prev = cand
        before = prev.values["funds_cumulative_wan"]
        row.values["funds_cumulative_wan"] = before - max(1, min(int(before / 3), 50))
        tag(row, f"累计到位资金比上月累计{before}万元还少")
    if cand := take(
        lambda r, row, prev: (
            ceiling(row.values)
            - prev.values["funds_cumulative_wan"]
            - row.values["funds_period_wan"]
            >= 37
        )
    ):
        _, row, prev = cand
        row.values["funds_cumulative_wan"] = (
            prev.values["funds_cumulative_wan"] + row.values["funds_period_wan"] + 37
        )
        tag(row, "累计到位资金不等于上月累计加本期到位（多37万元）")

    targets = [
        r
        for r in reports
        if r.role == "normal"
        and len(r.rows) >= 2
        and (r.year, r.month) == periods[-3 if len(periods) > 2 else 0]
        and r.unit.unit_name not in used_units
    ]
    if targets:
        report = rng.choice(targets)
        report.total_extra = {
            "funds_period_wan": Decimal(500),
            "funds_cumulative_wan": Decimal(500),
        }
        report.total_tags.append(
            Tag("anomaly", "TOTAL_MISMATCH", "合计行的本期、累计到位资金比各行之和多500万元")
        )


def _phantom(names: NameFactory, report: Report, rng: random.Random) -> RowData:
    inv, brand = names.company("二产", "省外")
    values: dict[str, object] = {
        "project_name": names.project_name("二产", brand),
        "investor_name": inv.name,
        "investor_uscc": inv.uscc,
        "capital_origin": inv.origin,
        "sector": "二产",
        "project_kind": "新引进",
        "signed_date": date(report.year, report.month, rng.randint(1, 28)),
        "status": "已签约",
        "total_investment_wan": None,
        "contract_amount_wan": None,
        "funds_period_wan": ZERO,
        "funds_cumulative_wan": ZERO,
        "high_tech": "否",
        "contact": None,
        "remarks": "金额待定",
    }
    return RowData(values)


BAD_ROWS = ("E_AMOUNT_NOT_EXACT", "E_DATE_INVALID", "E_REQUIRED", "E_ENUM")


def add_bad_rows(reports: list[Report], names: NameFactory, year: int, rng: random.Random) -> None:
    """One row of each kind the loader must quarantine, each in its own report (extra rows)."""
    pool = [
        r
        for r in reports
        if r.role == "normal"
        and r.rows
        and r.year == year
        and not r.total_extra
        and not r.unit.is_bank
    ]
    for code, report in zip(
        BAD_ROWS, rng.sample(pool, min(len(BAD_ROWS), len(pool))), strict=False
    ):
        row = _phantom(names, report, rng)
        v = row.values
        if code == "E_AMOUNT_NOT_EXACT":
            row.quarantine_column, v["funds_period_wan"], v["funds_cumulative_wan"] = (
                "funds_period_wan",
                None,
                None,
            )
            row.raw["funds_period_wan"] = "约500万"
        elif code == "E_DATE_INVALID":
            row.quarantine_column, v["signed_date"] = "signed_date", None
            row.raw["signed_date"] = f"{report.year}年2月30日"
        elif code == "E_REQUIRED":
            row.quarantine_column, v["project_name"] = "project_name", None
        else:
            row.quarantine_column, v["sector"] = "sector", None
            row.raw["sector"] = "其他产业"
        row.quarantine = code
        report.rows.insert(rng.randint(0, len(report.rows)), row)
        report.force_columns = tuple({*report.force_columns, row.quarantine_column})


def add_resubmissions(
    reports: list[Report], count: int, year: int, rng: random.Random
) -> list[Report]:
    """Pick ``count`` reports to be corrected: return the superseded first versions."""
    pool = [
        r
        for r in reports
        if r.role == "normal"
        and r.year == year
        and len(r.rows) >= 2
        and not r.total_extra
        and not any(row.tags or row.quarantine for row in r.rows)
    ]
    originals = []
    for report in rng.sample(pool, min(count, len(pool))):
        originals.append(superseded_copy(report, rng))
    return originals
