"""Scenario presets: which months, which units, how exact, how messy, what to plant.

* ``seed_half_year()`` — 2021 Jan-Jun, whose truth at (2021, 6) is the seed's half-year table;
* ``small()`` — a few units and months for fast tests;
* ``with_anomalies()`` — a few 2021 months plus 2020 Oct-Dec history, every flag rule planted
  once or more beside clean look-alikes, bad rows, a corrected resubmission and bad files;
* ``county_year()`` — 66 units x 12 months (the seed half-year, then a random second half);
* ``province_year()`` — ~150 counties' December reports (~9,900 files) for the benchmark.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from zhaoshang.generate.plan import SeedTable
from zhaoshang.generate.roster import BLANK_SENDS_EMPTY_FORM, SEED_BLANK_UNITS, SMALL_UNITS
from zhaoshang.settings import DEFAULT_COUNTY_CODE

# The seed's half-year table (上半年招商引资工作总结, see /work/shared/DOMAIN.md): scenario input.
SEED_TABLE = SeedTable(
    projects={"一产": 27, "二产": 274, "三产": 104, "专项资金": 29},
    funds={"一产": 4054, "二产": 59276, "三产": 23297, "专项资金": 10433, "金融贷款": 6645},
    band_projects={"<300": 328, "300-499": 47, "500-999": 37, ">=1000": 22},
    blank_units=SEED_BLANK_UNITS,
)

ALL_BAD_FILES = (
    "empty",
    "zip_corrupt",
    "csv_as_xlsx",
    "html_as_xlsx",
    "legacy_xls",
    "missing_header",
    "unknown_unit",
    "xml_entity",
    "zip_bomb",
)
SAMPLE_BAD_FILES = ("csv_as_xlsx", "zip_corrupt", "unknown_unit")


@dataclass(frozen=True)
class Messiness:
    """Probabilities (per file, per cell or per row as named) of the clerks' variations."""

    header_variant: float = 0.5  # per column: a synonym from column_map.csv
    bracket_units: float = 0.6  # per file: amount headers carry （万元） / (万元)
    shuffle_columns: float = 0.15
    two_row_header: float = 0.25  # 到位资金 over 本期 / 累计
    instructions_sheet: float = 0.15  # a first 填表说明 sheet
    hidden_junk_sheet: float = 0.1
    blank_rows: float = 0.15  # per file: blank rows between project rows
    number_as_text: float = 0.06  # per amount cell: 1,200 / １２００ / 1200万元 / 0.12亿
    date_as_text: float = 0.4  # per date cell: 2021年3月5日 / 2021.3.5 / 2021/3/5 / 2021-03-05
    unit_alias: float = 0.25  # per file: 填报单位 written with an alias
    unit_noise: float = 0.1  # per file: spaces, full-width or zero-width chars in 填报单位
    name_noise: float = (
        0.04  # per project-name cell: leading/trailing spaces, zero-width, full-width
    )
    enum_alias: float = 0.12  # per enum cell: 第二产业, 工业, 新签约, 省内, 在建 ...
    optional_columns: float = (
        0.2  # per file: 县台账编号, 本单位计入比例, 开工日期, 到位资金凭证类型
    )
    drop_columns: float = 0.15  # per file: leave out some non-required columns
    info_split: float = 0.3  # per file: 填报单位 / 报告期 / 单位 in separate cells
    total_formula: float = 0.2  # per xlsxwriter file: 合计 as =SUM() with its cached value
    report_date_on_sheet: float = 0.75  # per file: 填报日期 written in the footer or info line
    openpyxl_share: float = 0.3  # per file, when the scenario's writer is "mixed"
    chaotic_file_names: bool = True
    bad_rows: bool = (
        True  # the four quarantined rows (E_AMOUNT_NOT_EXACT, E_DATE_INVALID, E_REQUIRED, E_ENUM)
    )

    @classmethod
    def none(cls) -> Messiness:
        return cls(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1.0, 0, False, False)

    @classmethod
    def light(cls) -> Messiness:
        return cls(
            header_variant=0.3,
            two_row_header=0.15,
            number_as_text=0.03,
            date_as_text=0.3,
            name_noise=0.02,
            enum_alias=0.08,
            openpyxl_share=0.1,
        )

    @classmethod
    def heavy(cls) -> Messiness:
        return cls(
            header_variant=0.7,
            shuffle_columns=0.3,
            two_row_header=0.35,
            instructions_sheet=0.3,
            hidden_junk_sheet=0.25,
            blank_rows=0.3,
            number_as_text=0.12,
            date_as_text=0.6,
            unit_alias=0.35,
            unit_noise=0.2,
            name_noise=0.08,
            enum_alias=0.2,
            optional_columns=0.3,
            drop_columns=0.2,
            info_split=0.4,
            total_formula=0.3,
        )


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    periods: tuple[tuple[int, int], ...]  # (year, month) of the reports in the inbox
    units: tuple[str, ...] | None = None  # a subset of the county roster (None: all ~66 units)
    exact: SeedTable | None = None  # figures months ``exact_months`` of the main year must hit
    exact_months: tuple[int, ...] = ()
    random_months: tuple[int, ...] = ()  # main-year months with randomly drawn new projects
    continuing_projects: int = 0  # projects from before the inbox, reported as 续建
    blank_units: tuple[str, ...] = ()  # no project, no funds all year
    blank_empty_form: tuple[str, ...] = ()  # ... of which these send the empty form every month
    messiness: Messiness = field(default_factory=Messiness)
    anomalies: bool = False
    bad_files: tuple[str, ...] = ()
    resubmissions: int = 0
    counties: int = 1
    writer: str = "mixed"  # xlsxwriter | openpyxl | mixed
    county_code: str = DEFAULT_COUNTY_CODE
    truth_rows: bool = True  # keep every row in the truth (off for the province benchmark)
    bomb_mb: int = 300  # uncompressed size of the zip-bomb bad file
    contact_emails: bool = False  # units.csv gets contact_email (receipts are e-mailed)

    @property
    def main_year(self) -> int:
        return max(y for y, _ in self.periods)

    @property
    def history_years(self) -> list[int]:
        return sorted({y for y, _ in self.periods if y != self.main_year})

    def months_of(self, year: int) -> list[int]:
        return sorted(m for y, m in self.periods if y == year)

    def describe(self) -> dict:
        data = asdict(self)
        data["exact"] = None if self.exact is None else asdict(self.exact)
        return data


def _periods(year: int, months) -> tuple[tuple[int, int], ...]:
    return tuple((year, m) for m in months)


def seed_half_year(seed: int = 2021, messiness: Messiness | None = None) -> Scenario:
    """2021 Jan-Jun, ~66 units; truth at (2021, 6) is the seed's table, to the project and 万元."""
    return Scenario(
        name="seed_half_year",
        seed=seed,
        periods=_periods(2021, range(1, 7)),
        exact=SEED_TABLE,
        exact_months=tuple(range(1, 7)),
        continuing_projects=30,
        blank_units=SEED_BLANK_UNITS,
        blank_empty_form=BLANK_SENDS_EMPTY_FORM,
        messiness=messiness or Messiness(),
        resubmissions=1,
    )


def small(
    year: int = 2021,
    months=range(1, 4),
    units: int = 8,
    seed: int = 1,
    messiness: Messiness | None = None,
) -> Scenario:
    """A few units and months, random figures: for fast tests."""
    months = tuple(months)
    return Scenario(
        name="small",
        seed=seed,
        periods=_periods(year, months),
        units=SMALL_UNITS[:units],
        random_months=months,
        continuing_projects=3,
        messiness=messiness or Messiness(),
        resubmissions=1,
    )


def with_anomalies(
    seed: int = 7,
    year: int = 2021,
    months=range(1, 4),
    history_months=(10, 11, 12),
    units: int = 16,
    bad_files: tuple[str, ...] = SAMPLE_BAD_FILES,
    messiness: Messiness | None = None,
) -> Scenario:
    """Every flag rule planted beside clean look-alikes, on a few 2021 months with 2020 history."""
    months = tuple(months)
    chosen = SMALL_UNITS[:units]
    return Scenario(
        name="anomalies",
        seed=seed,
        periods=_periods(year - 1, history_months) + _periods(year, months),
        units=chosen,
        random_months=months,
        continuing_projects=0,
        blank_units=tuple(u for u in ("烟草局", "信访局") if u in chosen),
        blank_empty_form=tuple(u for u in ("烟草局",) if u in chosen),
        messiness=messiness or Messiness.heavy(),
        anomalies=True,
        bad_files=tuple(bad_files),
        resubmissions=1,
    )


def county_year(seed: int = 2021, messiness: Messiness | None = None) -> Scenario:
    """66 units x 12 months: the seed half-year exactly, then a random second half (benchmark)."""
    return replace(
        seed_half_year(seed, messiness or Messiness.light()),
        name="county_year",
        periods=_periods(2021, range(1, 13)),
        random_months=tuple(range(7, 13)),
        resubmissions=2,
        writer="mixed",
    )


def province_year(
    counties: int = 150,
    seed: int = 2021,
    year: int = 2021,
    months=(12,),
    messiness: Messiness | None = None,
) -> Scenario:
    """``counties`` x 66 units; by default only the December report of each (~9,900 files)."""
    months = tuple(months)
    return Scenario(
        name="province_year",
        seed=seed,
        periods=_periods(year, months),
        random_months=tuple(range(1, 13)),
        blank_units=SEED_BLANK_UNITS,
        blank_empty_form=SEED_BLANK_UNITS,  # every unit sends: 66 files a county
        messiness=messiness or replace(Messiness.light(), bad_rows=False),
        counties=counties,
        writer="xlsxwriter",
        truth_rows=False,
    )


PRESETS = {
    "seed_half_year": seed_half_year,
    "small": small,
    "anomalies": with_anomalies,
    "county_year": county_year,
    "province_year": province_year,
}
