"""A small ledger with every flag rule planted once or twice, next to clean look-alikes.

Built directly with ``zhaoshang.ledger.schema.create_schema`` and SQL inserts (what the loader
writes), so the quality tests exercise the real dbt feature models and the GX checkpoint on
known answers. Every row carries a contact phone number (personal data) that must never reach
a flag. USCC check characters were computed once with GB 32100-2015 (the dbt model
int_dq_uscc_checks is the project's only implementation; its unit test pins known codes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from zhaoshang.ledger.schema import create_schema
from zhaoshang.settings import EXPECTATIONS_DIR

COUNTY = "411426"
SHEET = "Sheet1"
FIRST_ROW = 4  # rows 1-3: title, 填报单位/报告期, header
PHONE = "13912345678"

# Valid USCCs (region = characters 3-8)
FEED = "91411400MA40FEED1Q"  # 商丘
FOOD = "91410100MA40F00D2B"
SOLAR = "91320500MA1PW0003G"  # 苏州
COLD = "91440300MA5C01D04W"  # 深圳
CLOTH = "91330100MA2CL0T05M"  # 杭州
BATTERY = "91320500MA1BAT006B"
FURNITURE = "91410100MA40FUR07E"
ECOM = "91411400MA40EC008B"
SMART = "91440300MA5MRT0090"
LOGISTICS = "91330100MA2L0G0101"
TEXTILE = "91320500MA1TEX0118"
BUILDING = "91410100MA40BLD12A"
HERB = "91411400MA40HRB13G"
FERTILIZER = "91411400MA40FRT16F"
LOCAL_FARM = "91411426MA44FRM14W"  # registered in the county itself
LOCAL_SHOP = "91411426MA44HP015R"
PACK_BAD_CHECK = "91320500MA1PAK016R"  # valid would end in Q
SHORT_USCC = "91411426MA44AB"
# DUPLICATE_CLAIM by similar names, and its hard negatives
BRICK = "91320500MA1BRK0171"
GREEN_FOOD = "91320500MA1GRN020Y"
AGRI = "91330100MA2AGR018W"  # one investor, two different projects in two townships
OPTICS = "91440300MA5PT00192"  # phase 1 in one township, phase 2 in another
WAREHOUSE = "91330100MA2WH0021R"  # shared 60/40 under slightly different names

UNITS_CSV = """unit_name,unit_type,aliases,year,target_funds_wan,target_projects
济阳镇,乡镇,济阳,2021,20000,10
城关镇,乡镇,城关,2021,30000,12
会亭镇,乡镇,会亭,2021,15000,8
财政局,县直单位,,2021,5000,2
盐务局,驻县单位,,2021,500,1
"""


@dataclass
class Row:
    project_name: str
    investor_uscc: str | None
    project_kind: str = "新引进"
    total_investment_wan: float | None = 1000
    contract_amount_wan: float | None = 800
    funds_period_wan: float | None = 100
    funds_cumulative_wan: float | None = 100
    capital_origin: str = "省外"
    sector: str = "二产"
    signed_date: date | None = None
    credit_share_pct: float | None = None
    investor_name: str | None = None
    expect: tuple[str, str] | None = None  # (rule, signals) this row must be flagged with


@dataclass
class Expected:
    entry_id: str
    rule: str
    signal: str
    what: str


@dataclass
class Fixture:
    con: duckdb.DuckDBPyConnection
    expected: list[Expected] = field(default_factory=list)
    clean_rows: dict[str, str] = field(default_factory=dict)  # entry_id -> what
    submissions: dict[str, str] = field(default_factory=dict)  # label -> sha

    def submission(
        self,
        unit: str,
        year: int,
        month: int,
        rows: list[Row],
        *,
        total_offset: dict[str, float] | None = None,
        quarantined_rows: int = 0,
        mtime: datetime | None = None,
        label: str | None = None,
        expect_total: tuple[str, str] | None = None,
    ) -> str:
        source_file = f"{year}/{unit}{month}月{'_' + label if label else ''}.xlsx"
        sha = hashlib.sha256(source_file.encode()).hexdigest()
        self.submissions[label or source_file] = sha
        mtime = mtime or datetime(year, month, 28, 9, 0)
        loaded = len(rows)
        self.con.execute(
            """insert into submissions (submission_id, source_file, file_name, size_bytes, file_mtime,
                   received_at, status, unit_name, unit_written, year, month, report_date, sheet,
                   rows_read, rows_loaded, rows_quarantined, rows_ignored_blank, load_run_id)
               values (?, ?, ?, 1000, ?, ?, 'loaded', ?, ?, ?, ?, null, ?, ?, ?, ?, 0, 'fixture')""",
            [
                sha,
                source_file,
                Path(source_file).name,
                mtime,
                mtime,
                unit,
                unit,
                year,
                month,
                SHEET,
                loaded + quarantined_rows,
                loaded,
                quarantined_rows,
            ],
        )
        self._inbox(source_file, sha, mtime)
        sums = {
            "total_investment_wan": 0.0,
            "contract_amount_wan": 0.0,
            "funds_period_wan": 0.0,
            "funds_cumulative_wan": 0.0,
        }
        for i, row in enumerate(rows):
            row_number = FIRST_ROW + i
            self.con.execute(
                """insert into project_rows (submission_id, sheet, row_number, seq, project_name,
                       investor_name, investor_uscc, capital_origin, sector, project_kind,
                       signed_date, status, total_investment_wan, contract_amount_wan,
                       funds_period_wan, funds_cumulative_wan, contact, credit_share_pct)
                   values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '已开工', ?, ?, ?, ?, ?, ?)""",
                [
                    sha,
                    SHEET,
                    row_number,
                    i + 1,
                    row.project_name,
                    row.investor_name or f"{row.project_name}投资有限公司",
                    row.investor_uscc,
                    row.capital_origin,
                    row.sector,
                    row.project_kind,
                    row.signed_date,
                    row.total_investment_wan,
                    row.contract_amount_wan,
                    row.funds_period_wan,
                    row.funds_cumulative_wan,
                    f"张三 {PHONE}",
                    row.credit_share_pct,
                ],
            )
            for column in sums:
                sums[column] += getattr(row, column) or 0
            entry_id = f"{sha}|{SHEET}|{row_number}"
            what = f"{unit} {year}-{month} {row.project_name}"
            if row.expect:
                # one flag per signal: "a,b" plants two
                self.expected.extend(
                    Expected(entry_id, row.expect[0], signal, what)
                    for signal in row.expect[1].split(",")
                )
            else:
                self.clean_rows[entry_id] = what
        for q in range(quarantined_rows):
            self.con.execute(
                """insert into quarantine values (?, ?, ?, ?, 'funds_period_wan', 'L', '本期到位资金',
                       '约500万', 'E_AMOUNT_NOT_EXACT', '金额不是确切数字', 'not exact', 'QUARANTINE-ROW')""",
                [sha, source_file, SHEET, FIRST_ROW + len(rows) + q],
            )
        total_row = FIRST_ROW + len(rows) + quarantined_rows
        for column, offset in (total_offset or {}).items():
            sums[column] += offset
        self.con.execute(
            """insert into sheet_totals values (?, ?, ?, ?, ?, ?, ?, null)""",
            [
                sha,
                SHEET,
                total_row,
                sums["total_investment_wan"],
                sums["contract_amount_wan"],
                sums["funds_period_wan"],
                sums["funds_cumulative_wan"],
            ],
        )
        total_id = f"{sha}|{SHEET}|{total_row}"
        if expect_total:
            self.expected.append(
                Expected(total_id, expect_total[0], expect_total[1], f"{unit} {year}-{month} 合计")
            )
        else:
            self.clean_rows[total_id] = f"{unit} {year}-{month} 合计"
        return sha

    def rejected(self, unit: str, year: int, month: int) -> str:
        source_file = f"{year}/{unit}{month}月.xlsx"
        sha = hashlib.sha256(("rejected" + source_file).encode()).hexdigest()
        reason = f"文件“{source_file}”工作表“{SHEET}”第6行：公式没有计算结果，请在Excel/WPS中打开并保存后重新提交"
        mtime = datetime(year, month, 28)
        self.con.execute(
            """insert into submissions (submission_id, source_file, file_name, size_bytes, file_mtime,
                   received_at, status, unit_name, unit_written, year, month, sheet, reject_code,
                   reason_zh, reason_en, load_run_id)
               values (?, ?, ?, 10, ?, ?, 'rejected', ?, ?, ?, ?, ?, 'E_FORMULA_NO_VALUE', ?, 'formula', 'fixture')""",
            [
                sha,
                source_file,
                Path(source_file).name,
                mtime,
                mtime,
                unit,
                unit,
                year,
                month,
                SHEET,
                reason,
            ],
        )
        self._inbox(source_file, sha, mtime)
        return sha

    def _inbox(self, source_file: str, sha: str, mtime: datetime) -> None:
        self.con.execute(
            "insert into inbox_files values (?, ?, ?, 'fixture', 'fixture', true)",
            [source_file, sha, mtime],
        )

    def missing(self, unit: str, year: int, month: int, signal: str) -> None:
        self.expected.append(
            Expected(
                f"unit_month|{unit}|{year}|{month}",
                "MISSING_REPORT",
                signal,
                f"{unit} {year}-{month} 漏报",
            )
        )


def build_ledger(ledger_path: Path, raw_dir: Path) -> Fixture:
    """Write the ledger and ``units.csv``; return what must (and must not) be flagged."""
    (raw_dir / "reference").mkdir(parents=True, exist_ok=True)
    (raw_dir / "submissions").mkdir(parents=True, exist_ok=True)
    (raw_dir / "reference" / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    ledger_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(ledger_path))
    create_schema(con)
    fx = Fixture(con)

    # ---- 2020: the earlier year (not on the 2021 roster: no missing-report checks for 2020)
    fx.submission(
        "济阳镇",
        2020,
        5,
        [
            Row(
                "年产10万吨饲料加工项目",
                FEED,
                total_investment_wan=5000,
                contract_amount_wan=3000,
                funds_period_wan=500,
                funds_cumulative_wan=500,
            ),
        ],
    )
    fx.submission(
        "济阳镇",
        2020,
        6,
        [
            Row(
                "冷链物流中心",
                COLD,
                total_investment_wan=3000,
                contract_amount_wan=2500,
                funds_period_wan=300,
                funds_cumulative_wan=300,
            ),
        ],
    )
    fx.submission(
        "城关镇",
        2020,
        6,
        [
            Row(
                "服装加工厂",
                CLOTH,
                total_investment_wan=2000,
                contract_amount_wan=1500,
                funds_period_wan=200,
                funds_cumulative_wan=200,
            ),
        ],
    )
    fx.submission(
        "会亭镇",
        2020,
        12,
        [
            Row(
                "光伏电站项目",
                SOLAR,
                total_investment_wan=6000,
                contract_amount_wan=5000,
                funds_period_wan=1000,
                funds_cumulative_wan=1000,
            ),
            Row(
                "药材种植基地",
                HERB,
                sector="一产",
                total_investment_wan=2000,
                contract_amount_wan=1500,
                funds_period_wan=500,
                funds_cumulative_wan=500,
            ),
            Row(
                "有机肥厂项目",
                FERTILIZER,
                total_investment_wan=3000,
                contract_amount_wan=2000,
                funds_period_wan=400,
                funds_cumulative_wan=900,
            ),
        ],
    )

    # ---- 2021: data for January and March only (nobody reported February)
    fx.submission(
        "济阳镇",
        2021,
        1,
        [
            Row(
                "年产十万吨饲料加工项目",
                FEED,
                total_investment_wan=5000,
                contract_amount_wan=3000,
                funds_period_wan=100,
                funds_cumulative_wan=100,
                signed_date=date(2021, 1, 10),
                expect=("OLD_AS_NEW", "earlier_year_same_project"),
            ),
            # clean look-alike: phase 2 of an earlier investor's project, with its own 2021 contract
            Row(
                "冷链物流中心二期项目",
                COLD,
                total_investment_wan=4000,
                contract_amount_wan=2000,
                funds_period_wan=200,
                funds_cumulative_wan=200,
                signed_date=date(2021, 1, 5),
            ),
            Row(
                "新能源电池项目",
                BATTERY,
                total_investment_wan=3000,
                contract_amount_wan=2000,
                funds_period_wan=300,
                funds_cumulative_wan=300,
                signed_date=date(2021, 1, 8),
            ),
            # 元 typed into the 万元 column
            Row(
                "家具制造项目",
                FURNITURE,
                total_investment_wan=500,
                contract_amount_wan=500,
                funds_period_wan=5_000_000,
                funds_cumulative_wan=5_000_000,
                expect=("INFLATED_AMOUNT", "yuan_as_wan"),
            ),
            # claimed by 会亭镇 too, which writes it without the county's name and 建设
            Row(
                "夏邑县新型建材产业园建设项目",
                BRICK,
                expect=("DUPLICATE_CLAIM", "shares_over_100"),
            ),
            # clean: the same investor's other project is 会亭镇's 农机装备制造厂
            Row("智慧农业示范园", AGRI),
            # clean: 会亭镇 reports this investor's 二期 (a separate project)
            Row("光学元件厂", OPTICS),
        ],
    )
    fx.submission(
        "济阳镇",
        2021,
        3,
        [
            Row(
                "新能源电池项目",
                BATTERY,
                total_investment_wan=3000,
                contract_amount_wan=2000,
                funds_period_wan=100,
                funds_cumulative_wan=400,
                signed_date=date(2021, 1, 8),
            ),
            Row(
                "冷链物流中心二期项目",
                COLD,
                total_investment_wan=4000,
                contract_amount_wan=2000,
                funds_period_wan=100,
                funds_cumulative_wan=300,
                signed_date=date(2021, 1, 5),
            ),
            Row(
                "农产品电商中心",
                ECOM,
                total_investment_wan=1000,
                contract_amount_wan=800,
                funds_period_wan=100,
                funds_cumulative_wan=100,
                capital_origin="省内县外",
            ),
            # claimed by 会亭镇 in January under a longer name (similar, not equal)
            Row("绿色食品深加工项目", GREEN_FOOD, expect=("DUPLICATE_CLAIM", "shares_over_100")),
            # clean: shared 60/40 with 会亭镇, which adds the county's name and 建设
            Row("仓储物流中心", WAREHOUSE, credit_share_pct=40),
        ],
    )

    fx.submission(
        "城关镇",
        2021,
        1,
        [
            # one project claimed by two units, 100 % each
            Row(
                "智能装备产业园",
                SMART,
                total_investment_wan=10000,
                contract_amount_wan=8000,
                funds_period_wan=1000,
                funds_cumulative_wan=1000,
                expect=("DUPLICATE_CLAIM", "shares_over_100"),
            ),
            # clean look-alike: shared project with declared shares 60 + 40
            Row(
                "商贸物流园",
                LOGISTICS,
                total_investment_wan=3000,
                contract_amount_wan=2000,
                funds_period_wan=120,
                funds_cumulative_wan=120,
                credit_share_pct=60,
            ),
            Row(
                "纺织服装项目",
                TEXTILE,
                total_investment_wan=2000,
                contract_amount_wan=1500,
                funds_period_wan=800,
                funds_cumulative_wan=800,
            ),
            # phase 2 of an earlier investor's project, but no 2021 contract: the rule cannot tell
            Row(
                "服装加工厂二期",
                CLOTH,
                total_investment_wan=1000,
                contract_amount_wan=None,
                funds_period_wan=100,
                funds_cumulative_wan=100,
                expect=("OLD_AS_NEW", "phase_two_unverified"),
            ),
        ],
        total_offset={"funds_period_wan": 500},
        expect_total=("TOTAL_MISMATCH", "total_above_rows"),
    )
    # a first March file with an absurd amount, superseded by a correction: never flagged
    fx.submission(
        "城关镇",
        2021,
        3,
        [
            Row(
                "建材加工项目",
                BUILDING,
                total_investment_wan=1000,
                contract_amount_wan=1000,
                funds_period_wan=99_999_999,
                funds_cumulative_wan=99_999_999,
            ),
        ],
        mtime=datetime(2021, 4, 1, 9),
        label="初报",
    )
    fx.submission(
        "城关镇",
        2021,
        3,
        [
            Row(
                "纺织服装项目",
                TEXTILE,
                total_investment_wan=2000,
                contract_amount_wan=1500,
                funds_period_wan=50,
                funds_cumulative_wan=600,
                expect=("INFLATED_AMOUNT", "cumulative_backwards"),
            ),
            Row(
                "建材加工项目",
                BUILDING,
                total_investment_wan=1000,
                contract_amount_wan=1000,
                funds_period_wan=1200,
                funds_cumulative_wan=1200,
                expect=("INFLATED_AMOUNT", "above_total_investment,above_contract"),
            ),
        ],
        mtime=datetime(2021, 4, 5, 9),
        label="更正",
    )

    fx.submission(
        "会亭镇",
        2021,
        1,
        [
            Row(
                "智能装备产业园",
                SMART,
                total_investment_wan=10000,
                contract_amount_wan=8000,
                funds_period_wan=1000,
                funds_cumulative_wan=1000,
                credit_share_pct=100,
                expect=("DUPLICATE_CLAIM", "shares_over_100"),
            ),
            Row(
                "商贸物流园",
                LOGISTICS,
                total_investment_wan=3000,
                contract_amount_wan=2000,
                funds_period_wan=80,
                funds_cumulative_wan=80,
                credit_share_pct=40,
            ),
            Row("新型建材产业园项目", BRICK, expect=("DUPLICATE_CLAIM", "shares_over_100")),
            Row("农机装备制造厂", AGRI),
            Row(
                "绿色食品深加工基地项目",
                GREEN_FOOD,
                expect=("DUPLICATE_CLAIM", "shares_over_100"),
            ),
            # clean look-alike: 续建 of a project introduced in December 2020, cumulative consistent
            Row(
                "光伏电站项目",
                SOLAR,
                project_kind="续建",
                total_investment_wan=6000,
                contract_amount_wan=5000,
                funds_period_wan=200,
                funds_cumulative_wan=1200,
            ),
            # cumulative ≠ December's cumulative + January's funds
            Row(
                "药材种植基地",
                HERB,
                project_kind="续建",
                sector="一产",
                total_investment_wan=2000,
                contract_amount_wan=1500,
                funds_period_wan=100,
                funds_cumulative_wan=900,
                expect=("INFLATED_AMOUNT", "cumulative_mismatch"),
            ),
            # the investor is registered in the county: not outside capital
            Row(
                "农机合作社项目",
                LOCAL_FARM,
                capital_origin="省外",
                expect=("LOCAL_AS_OUTSIDE", "county_registered_investor"),
            ),
            # clean look-alike: a local investor declared as local money
            Row("本地超市项目", LOCAL_SHOP, capital_origin="县内", sector="三产"),
            Row("包装材料项目", PACK_BAD_CHECK, expect=("INVALID_USCC", "check_digit_mismatch")),
            Row(
                f"废旧物资回收项目（联系{PHONE}）",
                SHORT_USCC,
                capital_origin="县内",
                expect=("INVALID_USCC", "malformed"),
            ),
        ],
        quarantined_rows=1,
        total_offset={"funds_period_wan": 300},
        expect_total=("TOTAL_MISMATCH", "differs_with_quarantined_rows"),
    )
    fx.submission(
        "会亭镇",
        2021,
        3,
        [
            Row(
                "光伏电站项目",
                SOLAR,
                project_kind="续建",
                total_investment_wan=6000,
                contract_amount_wan=5000,
                funds_period_wan=300,
                funds_cumulative_wan=1500,
            ),
            # re-signed as new under the very same name: 以旧充新 only — its cumulative restarting
            # below last year's is what re-signing means, not a second finding
            Row(
                "有机肥厂项目",
                FERTILIZER,
                total_investment_wan=3000,
                contract_amount_wan=2000,
                funds_period_wan=100,
                funds_cumulative_wan=100,
                signed_date=date(2021, 3, 2),
                expect=("OLD_AS_NEW", "earlier_year_same_project"),
            ),
            Row("夏邑县仓储物流中心建设项目", WAREHOUSE, credit_share_pct=60),
            Row("光学元件厂二期项目", OPTICS),
        ],
    )

    fx.submission(
        "财政局",
        2021,
        1,
        [
            Row(
                "争取省级专项资金",
                None,
                sector="专项资金",
                total_investment_wan=None,
                contract_amount_wan=None,
                funds_period_wan=500,
                funds_cumulative_wan=500,
                investor_name="河南省财政厅",
            ),
        ],
    )
    fx.rejected("财政局", 2021, 3)
    fx.missing("财政局", 2021, 3, "only_rejected")
    fx.missing("盐务局", 2021, 1, "no_report")
    fx.missing("盐务局", 2021, 3, "no_report")
    con.close()
    return fx


def gx_file_hashes() -> dict[str, str]:
    """The reviewed GX files (everything but the git-ignored uncommitted/)."""
    root = EXPECTATIONS_DIR / "gx"
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "uncommitted" not in p.relative_to(root).parts
    }


def read_flags(build_db: Path) -> list[dict]:
    with duckdb.connect(str(build_db), read_only=True) as con:
        cursor = con.execute("select * from dq.gx_flags order by rule, entry_id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]
