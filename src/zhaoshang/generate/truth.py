"""The known answers of a generated inbox, computed from the rows actually written.

``Truth`` says what a correct pipeline must produce: year-to-date figures per sector, size band
and unit for every (year, month) the inbox holds (contract §4 counting rules), the planted
anomalies and clean look-alikes with file/sheet/row, the rows to quarantine and the files to
reject, and per file what it looks like. Nothing is copied from the plan: figures are summed
from the cells' canonical values as rendered.

Counting choices (where the contract leaves room; also in ``COUNTING_NOTES`` / ``Truth.notes``):
* a project is (unit, reference.project_name_key(project name), USCC): the name as reported,
  spaces aside (the rule dbt's project identity calls);
* a row counts as *new* if it says 新引进 and its project was first reported in that year;
  a 新引进 row of a project first reported in an earlier year (re-signed as new) and every 续建
  row go to ``continuing_funds_wan``; 金融贷款 rows always count in funds, never as projects;
* ``credit_share_pct`` (本单位计入比例, default 100) weights a unit's funds; project counts stay
  one per (unit, project);
* size band and sector of a project: from its latest row up to the month;
* 空白 (blank): a unit with no loaded project row in the year up to the month; it scores 0;
* completion_pct = funds / target_funds x 100; schedule_gap_pct = completion_pct - m/12 x 100.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from zhaoshang import reference
from zhaoshang.generate.plan import LOAN, NEW
from zhaoshang.settings import REFERENCE_RULES_DIR

COUNTING_NOTES = [
    "project identity is (unit, project_name_key(project name), USCC): as reported, spaces aside",
    (
        "a row is new if it says 新引进 and its project was first reported in that year; 新引进 rows of projects "
        "first reported in an earlier year (re-signed as new) and all 续建 rows go to continuing_funds_wan"
    ),
    "金融贷款 rows always count in funds_wan, never as projects; they have no size band",
    "credit_share_pct (本单位计入比例, default 100) weights a unit's funds; project counts stay one per (unit, project)",
    "size band and sector of a project come from its latest row up to the month",
    "blank (空白): no loaded project row in the year up to the month; a blank unit scores 0",
    "completion_pct = funds_wan / target_funds_wan x 100; schedule_gap_pct = completion_pct - month/12 x 100",
    "the latest submission per (unit, month) is the one with the later 填报日期 on the sheet, else the later file time",
]


def _jsonable(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _num(value: Decimal) -> float:
    return round(float(value), 4)


@dataclass
class SectorFigures:
    new_projects: int
    funds_wan: float
    continuing_funds_wan: float
    share_pct: float


@dataclass
class BandFigures:
    new_projects: int
    funds_wan: float


@dataclass
class UnitFigures:
    unit_type: str
    new_projects: int
    funds_wan: float
    continuing_funds_wan: float
    target_funds_wan: float
    target_projects: int
    completion_pct: float | None
    schedule_gap_pct: float | None
    score: float
    is_blank: bool
    reported: bool  # sent a (latest, loaded) report for this month


@dataclass
class PeriodTruth:
    year: int
    month: int
    sectors: dict[str, SectorFigures]
    size_bands: dict[str, BandFigures]
    units: dict[str, UnitFigures]
    totals: dict[str, float]


@dataclass
class AnomalyTruth:
    rule: str
    unit_name: str
    year: int
    month: int
    source_file: str | None
    sheet: str | None
    row_number: int | None
    project_name: str | None
    detail: str = ""
    must_flag: bool = True  # False: the contract allows flagging or not (a unit silent all year)


@dataclass
class QuarantineTruth:
    source_file: str
    sheet: str
    row_number: int
    reason_code: str
    column_name: str | None


@dataclass
class RejectedTruth:
    source_file: str
    reason_code: str
    kind: str
    note: str = ""


@dataclass
class FileTruth:
    source_file: str
    status: str  # loaded | rejected
    role: str  # normal | correction | superseded | empty_form | bad
    unit_name: str | None = None
    unit_written: str | None = None
    year: int | None = None
    month: int | None = None
    report_date: str | None = None  # 填报日期 written on the sheet (ISO), else None
    file_mtime: str | None = None
    sheet: str | None = None
    is_latest: bool = False
    header_rows: list[int] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    first_data_row: int | None = None
    total_row: int | None = None
    footer_row: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_ignored_blank: int = 0
    writer: str | None = None
    features: list[str] = field(default_factory=list)
    reason_code: str | None = None


@dataclass
class RowTruth:
    source_file: str
    sheet: str
    row_number: int
    unit_name: str
    year: int
    month: int
    status: str  # loaded | quarantined
    reason_code: str | None
    values: dict  # canonical column -> value (Decimal/date in memory, float/ISO in JSON)


@dataclass
class Truth:
    scenario: dict
    county_code: str
    units: list[dict]  # units.csv rows as written
    periods: list[PeriodTruth]
    anomalies: list[AnomalyTruth]
    lookalikes: list[AnomalyTruth]
    expected_quarantine: list[QuarantineTruth]
    expected_rejected: list[RejectedTruth]
    files: list[FileTruth]
    rows: list[RowTruth]
    counts: dict[str, int]
    messiness: list[dict]
    notes: list[str] = field(default_factory=lambda: list(COUNTING_NOTES))

    def period(self, year: int, month: int) -> PeriodTruth:
        for p in self.periods:
            if (p.year, p.month) == (year, month):
                return p
        raise KeyError((year, month))

    def file(self, source_file: str) -> FileTruth:
        for f in self.files:
            if f.source_file == source_file:
                return f
        raise KeyError(source_file)

    def to_dict(self, include_rows: bool = True) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data = {k: (asdict_list(v) if isinstance(v, list) else v) for k, v in data.items()}
        data["periods"] = [asdict(p) for p in self.periods]
        if not include_rows:
            data["rows"] = []
        return _jsonable(data)

    def to_json(self, path: Path, include_rows: bool = True) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(self.to_dict(include_rows), ensure_ascii=False, indent=1), encoding="utf-8"
        )

    @classmethod
    def from_json(cls, path: Path) -> Truth:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        periods = [
            PeriodTruth(
                p["year"],
                p["month"],
                {k: SectorFigures(**v) for k, v in p["sectors"].items()},
                {k: BandFigures(**v) for k, v in p["size_bands"].items()},
                {k: UnitFigures(**v) for k, v in p["units"].items()},
                p["totals"],
            )
            for p in data["periods"]
        ]
        return cls(
            scenario=data["scenario"],
            county_code=data["county_code"],
            units=data["units"],
            periods=periods,
            anomalies=[AnomalyTruth(**a) for a in data["anomalies"]],
            lookalikes=[AnomalyTruth(**a) for a in data["lookalikes"]],
            expected_quarantine=[QuarantineTruth(**q) for q in data["expected_quarantine"]],
            expected_rejected=[RejectedTruth(**r) for r in data["expected_rejected"]],
            files=[FileTruth(**f) for f in data["files"]],
            rows=[RowTruth(**r) for r in data["rows"]],
            counts=data["counts"],
            messiness=data["messiness"],
            notes=data["notes"],
        )


def asdict_list(items: list) -> list:
    return [asdict(i) if hasattr(i, "__dataclass_fields__") else i for i in items]


# ---------------------------------------------------------------------------- computing figures


def score_weights(year: int, rules_dir: Path = REFERENCE_RULES_DIR) -> dict[str, float]:
    """The year's score weights from score_weights.csv (70 funds / 30 projects by default)."""
    with (rules_dir / "score_weights.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["year"]) == year]
    weights = {r["component"]: float(r["weight"]) for r in rows}
    return {"funds": weights.get("funds", 70.0), "projects": weights.get("projects", 30.0)}


def mark_latest(files: list[FileTruth]) -> None:
    """The latest loaded submission per (unit, month): by 填报日期 on the sheet, else file time."""
    groups: dict[tuple, list[FileTruth]] = {}
    for f in files:
        f.is_latest = False
        if f.status == "loaded":
            groups.setdefault((f.unit_name, f.year, f.month), []).append(f)
    for group in groups.values():
        best = max(
            group, key=lambda f: ((f.report_date or f.file_mtime or "")[:10], f.file_mtime or "")
        )
        best.is_latest = True


def identity(unit: str, values: dict) -> tuple[str, str, str]:
    return (
        unit,
        reference.project_name_key(str(values.get("project_name") or "")),
        reference.normalize_text(str(values.get("investor_uscc") or "")).upper(),
    )


def compute_periods(
    files: list[FileTruth], rows: list[RowTruth], units: list[dict]
) -> list[PeriodTruth]:
    latest = {f.source_file for f in files if f.is_latest}
    loaded = [r for r in rows if r.status == "loaded" and r.source_file in latest]
    first_seen: dict[tuple, tuple[int, int]] = {}
    for r in loaded:
        key = identity(r.unit_name, r.values)
        first_seen[key] = min(first_seen.get(key, (r.year, r.month)), (r.year, r.month))
    inbox_months = sorted({(f.year, f.month) for f in files if f.is_latest and f.month is not None})
    sector_list = sorted(reference.sectors(), key=lambda s: int(s["sort_order"]))
    counting = {s["sector"] for s in sector_list if s["counts_projects"] == "true"}
    band_list = [
        b["size_band"] for b in sorted(reference.size_bands(), key=lambda b: int(b["sort_order"]))
    ]
    reported = {(f.unit_name, f.year, f.month) for f in files if f.is_latest}
    periods = []
    for year, month in inbox_months:
        ytd = sorted(
            (r for r in loaded if r.year == year and r.month <= month),
            key=lambda r: (r.month, r.row_number),
        )
        periods.append(
            _period(year, month, ytd, first_seen, units, sector_list, counting, band_list, reported)
        )
    return periods


def _period(
    year, month, rows, first_seen, units, sector_list, counting, band_list, reported
) -> PeriodTruth:
    zero = Decimal(0)
    sector_funds = {s["sector"]: zero for s in sector_list}
    sector_cont = {s["sector"]: zero for s in sector_list}
    unit_funds: dict[str, Decimal] = {}
    unit_cont: dict[str, Decimal] = {}
    unit_rows: dict[str, int] = {}
    project_funds: dict[tuple, Decimal] = {}
    project_latest: dict[tuple, dict] = {}
    for r in rows:
        v = r.values
        unit_rows[r.unit_name] = unit_rows.get(r.unit_name, 0) + 1
        share = v.get("credit_share_pct")
        credited = (
            (v.get("funds_period_wan") or zero)
            * (share if share is not None else Decimal(100))
            / 100
        )
        sector = v.get("sector")
        key = identity(r.unit_name, v)
        if sector == LOAN:
            sector_funds[sector] += credited
            unit_funds[r.unit_name] = unit_funds.get(r.unit_name, zero) + credited
        elif v.get("project_kind") == NEW and first_seen[key][0] == year and sector in counting:
            sector_funds[sector] += credited
            unit_funds[r.unit_name] = unit_funds.get(r.unit_name, zero) + credited
            project_funds[key] = project_funds.get(key, zero) + credited
            project_latest[key] = v
        else:
            sector_cont[sector] += credited
            unit_cont[r.unit_name] = unit_cont.get(r.unit_name, zero) + credited
    total_funds = sum(sector_funds.values(), zero)
    new_by_sector: dict[str, int] = {}
    band_projects = dict.fromkeys(band_list, 0)
    band_funds = dict.fromkeys(band_list, zero)
    unit_new: dict[str, int] = {}
    for key, v in project_latest.items():
        new_by_sector[v["sector"]] = new_by_sector.get(v["sector"], 0) + 1
        unit_new[key[0]] = unit_new.get(key[0], 0) + 1
        band = (
            reference.size_band_of(float(v["total_investment_wan"]))
            if v.get("total_investment_wan") is not None
            else None
        )
        if band is not None:
            band_projects[band] += 1
            band_funds[band] += project_funds[key]
    sectors = {
        s["sector"]: SectorFigures(
            new_projects=new_by_sector.get(s["sector"], 0),
            funds_wan=_num(sector_funds[s["sector"]]),
            continuing_funds_wan=_num(sector_cont[s["sector"]]),
            share_pct=_num(sector_funds[s["sector"]] * 100 / total_funds) if total_funds else 0.0,
        )
        for s in sector_list
    }
    weights = score_weights(year)
    elapsed = Decimal(month) / 12
    unit_figures = {}
    for u in (u for u in units if int(u["year"]) == year):
        name = u["unit_name"]
        funds = unit_funds.get(name, zero)
        new = unit_new.get(name, 0)
        tf, tp = Decimal(str(u["target_funds_wan"])), int(u["target_projects"])
        blank = unit_rows.get(name, 0) == 0
        score = zero
        if not blank:
            if tf > 0:
                score += Decimal(str(weights["funds"])) * funds / (tf * elapsed)
            if tp > 0:
                score += Decimal(str(weights["projects"])) * new / (tp * elapsed)
        completion = funds * 100 / tf if tf > 0 else None
        unit_figures[name] = UnitFigures(
            unit_type=u["unit_type"],
            new_projects=new,
            funds_wan=_num(funds),
            continuing_funds_wan=_num(unit_cont.get(name, zero)),
            target_funds_wan=float(tf),
            target_projects=tp,
            completion_pct=None if completion is None else _num(completion),
            schedule_gap_pct=None if completion is None else _num(completion - elapsed * 100),
            score=_num(score),
            is_blank=blank,
            reported=(name, year, month) in reported,
        )
    totals = {
        "new_projects": sum(new_by_sector.values()),
        "funds_wan": _num(total_funds),
        "continuing_funds_wan": _num(sum(sector_cont.values(), zero)),
        "loan_funds_wan": _num(sector_funds.get(LOAN, zero)),
        "units": len(unit_figures),
        "units_reporting": sum(1 for f in unit_figures.values() if f.reported),
        "blank_units": sum(1 for f in unit_figures.values() if f.is_blank),
    }
    return PeriodTruth(
        year,
        month,
        sectors,
        {b: BandFigures(band_projects[b], _num(band_funds[b])) for b in band_list},
        unit_figures,
        totals,
    )


def missing_reports(files: list[FileTruth], units: list[dict]) -> list[AnomalyTruth]:
    """MISSING_REPORT: a roster unit with no loaded file for a month that other units reported."""
    sent = {(f.unit_name, f.year, f.month) for f in files if f.status == "loaded"}
    months = sorted(
        {(f.year, f.month) for f in files if f.status == "loaded" and f.month is not None}
    )
    out = []
    for u in units:
        name, year = u["unit_name"], int(u["year"])
        active = any((name, y, m) in sent for y, m in months if y == year)
        for y, m in months:
            if y == year and (name, y, m) not in sent:
                out.append(
                    AnomalyTruth(
                        "MISSING_REPORT",
                        name,
                        y,
                        m,
                        None,
                        None,
                        None,
                        None,
                        "本月没有报送" if active else "全年没有报送（空白单位）",
                        must_flag=active,
                    )
                )
    return out
