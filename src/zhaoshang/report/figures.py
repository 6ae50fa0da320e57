"""Every figure of the report, read from the published marts by a named query.

The queries are kept here, by name, so the report's appendix can list each one and anyone can
rerun it in ``python -m zhaoshang sql``. Nothing is typed: shares, totals and ranks come from
the marts, and the report only rounds them for print.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from zhaoshang import reference

# (title in the appendix, SQL with ? for year and month where it needs them)
QUERIES: dict[str, tuple[str, str]] = {
    "sectors": (
        "各产业新引进项目、实际到位资金、占比（报送数与核实数）",
        """select sector, new_projects, funds_wan, share_pct, verified_new_projects,
       verified_funds_wan, verified_share_pct, continuing_funds_wan,
       verified_continuing_funds_wan
from marts.sector_summary where year = ? and month = ? order by sector_order""",
    ),
    "size_bands": (
        "按投资规模划分的新引进项目",
        """select size_band, size_band_zh, new_projects, funds_wan, major_projects,
       verified_new_projects, verified_funds_wan
from marts.size_band_summary where year = ? and month = ? order by size_band_order""",
    ),
    "major_projects": (
        "重大项目（计划总投资不低于重大项目标准的本年新引进项目）",
        """select unit_name, project_name, total_investment_wan
from marts.project_register
where is_major and project_kind = '新引进' and first_reported_year = ?
  and first_reported_month <= make_date(?, ?, 1)
order by total_investment_wan desc, project_name""",
    ),
    "foreign_capital": (
        "利用外资（资金来源地为境外的本年新引进项目）",
        """select count(*), coalesce(sum(funds_to_date_wan), 0)
from marts.project_register
where capital_origin = '境外' and project_kind = '新引进' and first_reported_year = ?
  and first_reported_month <= make_date(?, ?, 1)""",
    ),
    "units": (
        "各单位考核结果",
        """select unit_name, unit_type, is_on_roster, is_blank, new_projects, funds_wan,
       target_funds_wan, completion_pct, elapsed_pct, schedule_gap_pct, schedule_status_zh,
       score, rank, verified_score, open_flags
from marts.unit_performance where year = ? and month = ? order by rank, unit_name""",
    ),
    "monthly": (
        "逐月累计实际到位资金与序时目标",
        """select s.month, sum(s.funds_wan), sum(s.verified_funds_wan), sum(s.new_projects),
       (select sum(u.ytd_target_funds_wan) from marts.unit_performance u
        where u.year = s.year and u.month = s.month)
from marts.sector_summary s where s.year = ? and s.month <= ?
group by s.year, s.month order by s.month""",
    ),
    "flags": (
        "疑点（未排除的，按规则和单位）",
        """select rule, unit_name, count(*), count(*) filter (where status = 'confirmed')
from audit.dq_flags
where year = ? and coalesce(month, 1) <= ? and status <> 'dismissed'
group by rule, unit_name order by rule, unit_name""",
    ),
}

# The parameters each query takes, in order: y = year, m = month.
_PARAMS = {"major_projects": "yym", "foreign_capital": "yym", "flags": "ym"}


@dataclass
class SectorRow:
    sector: str
    counts_projects: bool
    new_projects: int
    funds_wan: Decimal
    share_pct: float | None
    verified_new_projects: int
    verified_funds_wan: Decimal
    verified_share_pct: float | None
    continuing_funds_wan: Decimal
    verified_continuing_funds_wan: Decimal


@dataclass
class BandRow:
    size_band: str
    label_zh: str
    new_projects: int
    funds_wan: Decimal
    major_projects: int
    verified_new_projects: int
    verified_funds_wan: Decimal


@dataclass
class UnitRow:
    unit_name: str
    unit_type: str
    is_on_roster: bool
    is_blank: bool
    new_projects: int
    funds_wan: Decimal
    target_funds_wan: Decimal
    completion_pct: float | None
    elapsed_pct: float
    schedule_gap_pct: float | None
    schedule_status_zh: str | None
    score: float
    rank: int
    verified_score: float
    open_flags: int


@dataclass
class MonthRow:
    month: int
    funds_wan: Decimal
    verified_funds_wan: Decimal
    new_projects: int
    ytd_target_funds_wan: Decimal | None


@dataclass
class FlagGroup:
    rule: str
    rule_zh: str
    count: int
    confirmed: int
    units: list[str] = field(default_factory=list)


@dataclass
class ReportData:
    year: int
    month: int
    run_id: str
    sectors: list[SectorRow]
    bands: list[BandRow]
    major_projects: list[tuple[str, str, Decimal]]
    foreign_projects: int
    foreign_funds_wan: Decimal
    units: list[UnitRow]  # in roster order
    months: list[MonthRow]
    flags: list[FlagGroup]
    major_min_wan: str

    @property
    def project_sectors(self) -> list[SectorRow]:
        return [s for s in self.sectors if s.counts_projects]

    @property
    def other_sectors(self) -> list[SectorRow]:
        return [s for s in self.sectors if not s.counts_projects]

    @property
    def new_projects(self) -> int:
        return sum(s.new_projects for s in self.sectors)

    @property
    def funds_wan(self) -> Decimal:
        return sum((s.funds_wan for s in self.sectors), Decimal(0))

    @property
    def verified_new_projects(self) -> int:
        return sum(s.verified_new_projects for s in self.sectors)

    @property
    def verified_funds_wan(self) -> Decimal:
        return sum((s.verified_funds_wan for s in self.sectors), Decimal(0))

    @property
    def continuing_funds_wan(self) -> Decimal:
        return sum((s.continuing_funds_wan for s in self.sectors), Decimal(0))

    @property
    def verified_continuing_funds_wan(self) -> Decimal:
        return sum((s.verified_continuing_funds_wan for s in self.sectors), Decimal(0))

    @property
    def verified_differs(self) -> bool:
        return any(
            (s.new_projects, s.funds_wan) != (s.verified_new_projects, s.verified_funds_wan)
            for s in self.sectors
        )

    @property
    def target_funds_wan(self) -> Decimal:
        return sum((u.target_funds_wan for u in self.units), Decimal(0))

    @property
    def elapsed_pct(self) -> float:
        return self.month * 100.0 / 12


class NoDataForPeriod(LookupError):
    pass


def _params(name: str, year: int, month: int) -> list[int]:
    return [year if c == "y" else month for c in _PARAMS.get(name, "ym")]


def latest_period(warehouse: Path) -> tuple[int, int] | None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select year, month from marts.sector_summary order by year desc, month desc limit 1"
        ).fetchone()


def roster_order(units_csv: Path, year: int) -> list[str]:
    """The office's order of units (units.csv as written), which the seed report follows."""
    try:
        roster = reference.load_units(units_csv)
    except reference.ReferenceDataError:
        return []
    names: list[str] = []
    for unit in roster:
        if unit.year == year and unit.unit_name not in names:
            names.append(unit.unit_name)
    return names


def read(warehouse: Path, year: int, month: int, units_csv: Path) -> ReportData:
    """All figures of the report for year ``year`` as of month ``month``."""
    with duckdb.connect(str(warehouse), read_only=True) as con:

        def rows(name: str) -> list[tuple]:
            return con.execute(QUERIES[name][1], _params(name, year, month)).fetchall()

        sector_rows = rows("sectors")
        if not sector_rows:
            raise NoDataForPeriod(
                f"数据仓库中没有{year}年{month}月的数据 / the warehouse has no data for "
                f"{year}-{month:02d}"
            )
        run_id = con.execute("select run_id from audit.manifest").fetchone()[0]
        counts = {s["sector"]: s.get("counts_projects") == "true" for s in reference.sectors()}
        sectors = [SectorRow(r[0], counts.get(r[0], True), *r[1:]) for r in sector_rows]
        bands = [BandRow(*r) for r in rows("size_bands")]
        majors = rows("major_projects")
        foreign_projects, foreign_funds = rows("foreign_capital")[0]
        units = [UnitRow(*r) for r in rows("units")]
        months = [MonthRow(*r) for r in rows("monthly")]
        flag_rows = rows("flags")
    order = {name: i for i, name in enumerate(roster_order(units_csv, year))}
    units.sort(key=lambda u: (order.get(u.unit_name, len(order)), u.unit_type, u.unit_name))
    flags: dict[str, FlagGroup] = {}
    words = reference.rule_words()
    for rule, unit, count, confirmed in flag_rows:
        group = flags.setdefault(rule, FlagGroup(rule, words.get(rule, rule), 0, 0))
        group.count += count
        group.confirmed += confirmed
        if unit:
            group.units.append(unit)
    for group in flags.values():
        group.units.sort(key=lambda name: (order.get(name, len(order)), name))
    return ReportData(
        year=year,
        month=month,
        run_id=run_id,
        sectors=sectors,
        bands=bands,
        major_projects=majors,
        foreign_projects=foreign_projects,
        foreign_funds_wan=Decimal(foreign_funds),
        units=units,
        months=months,
        flags=sorted(flags.values(), key=lambda g: -g.count),
        major_min_wan=reference.rule_parameters()["major_project_min_wan"],
    )
