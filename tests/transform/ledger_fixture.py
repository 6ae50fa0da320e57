"""A small ledger with numbers one can check by hand, for the dbt tests.

Roster 2021: 济阳镇 (乡镇, 1200 万元 / 12 projects), 骆集乡 (乡镇, 600 / 6), 农行 (金融机构,
2400 / 0), 烟草局 (县直单位, 120 / 2; sends nothing: 空白).

Inbox (万元; "总投资 800, 120" = 计划总投资 800, 本期到位 120):
- 济阳镇 2020-12: 食用菌种植基地 新引进 一产, 总投资 3000, 200 (so it is 续建 in 2021).
- 济阳镇 2021-01 original (superseded; saved and received *after* the correction, but its
  报告日期 is earlier): 高端纺织 100, 电商物流中心 50, 食用菌 30.
- 济阳镇 2021-01 更正: 高端纺织 二产 总投资 800, 120; 电商物流中心 三产 总投资 200, 50;
  食用菌 续建 一产 30.
- 济阳镇 2021-02: 高端纺织 80 of which 本单位计入比例 50 % (so 40 counts); "电商物流 中心"
  (the same project: whitespace only) 20; 食用菌 10; 农村公路专项 专项资金 总投资 6000
  (重大项目), 300; one quarantined row, one blank row.
- 济阳镇 2021-02 withdrawn (the file left the inbox): 农村公路专项 9999 — must not count.
- 骆集乡 2021-01: 服装加工厂 二产 总投资 350, 40; the same file twice in the inbox (duplicate).
- 骆集乡 2021-02: 服装加工厂 60, and 农村公路专项 (same investor and name as 济阳镇's) 300.
- 农行 2021-02: 流动资金贷款 金融贷款 500.
- one rejected file (unknown unit).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from zhaoshang.ledger.schema import create_schema

UNITS_CSV = """unit_name,unit_type,aliases,year,target_funds_wan,target_projects
济阳镇,乡镇,济阳;济阳镇人民政府,2021,1200,12
骆集乡,乡镇,骆集,2021,600,6
农行,金融机构,农业银行;中国农业银行夏邑支行,2021,2400,
烟草局,县直单位,,2021,120,2
"""

USCC = {
    "textile": "91411426MA00000001",
    "logistics": "91411426MA00000002",
    "mushroom": "91411426MA00000003",
    "road": "12411426MA00000004",
    "garment": "91320100MA00000005",
    "loan": "91411426MA00000006",
}


def _row(name, uscc_key, sector, kind, total, funds, **extra):
    return dict(
        project_name=name,
        investor_name=f"{name}投资有限公司",
        investor_uscc=USCC[uscc_key],
        capital_origin="省外",
        sector=sector,
        project_kind=kind,
        status="已开工",
        total_investment_wan=total,
        funds_period_wan=funds,
        contact="张三 13800000000",
        **extra,
    )


TEXTILE, LOGISTICS, MUSHROOM = "高端纺织项目", "电商物流中心", "食用菌种植基地"
ROAD, GARMENT, LOAN = "农村公路专项", "服装加工厂", "流动资金贷款"

# sha256 -> (unit, year, month, report_date, file_mtime, received_at, paths, rows)
# fmt: off
SUBMISSIONS = {
    "sha_jy_2020_12": ("济阳镇", 2020, 12, date(2021, 1, 5), datetime(2021, 1, 5, 9), datetime(2021, 1, 6, 2),
                       {"submissions/2020/济阳镇2020年12月.xlsx": True},
                       [_row(MUSHROOM, "mushroom", "一产", "新引进", 3000, 200)]),
    "sha_jy_2021_01_orig": ("济阳镇", 2021, 1, date(2021, 2, 3), datetime(2021, 2, 10, 9), datetime(2021, 2, 11, 2),
                            {"submissions/济阳镇/1月.xlsx": True},
                            [_row(TEXTILE, "textile", "二产", "新引进", 800, 100),
                             _row(LOGISTICS, "logistics", "三产", "新引进", 200, 50),
                             _row(MUSHROOM, "mushroom", "一产", "续建", 3000, 30)]),
    "sha_jy_2021_01_fix": ("济阳镇", 2021, 1, date(2021, 2, 5), datetime(2021, 2, 6, 9), datetime(2021, 2, 7, 2),
                           {"submissions/济阳镇/1月更正.xlsx": True},
                           [_row(TEXTILE, "textile", "二产", "新引进", 800, 120),
                            _row(LOGISTICS, "logistics", "三产", "新引进", 200, 50),
                            _row(MUSHROOM, "mushroom", "一产", "续建", 3000, 30)]),
    "sha_jy_2021_02": ("济阳镇", 2021, 2, date(2021, 3, 4), datetime(2021, 3, 4, 9), datetime(2021, 3, 5, 2),
                       {"submissions/济阳镇/2月.xlsx": True},
                       [_row(TEXTILE, "textile", "二产", "新引进", 800, 80, credit_share_pct=50),
                        _row("电商物流 中心", "logistics", "三产", "新引进", 200, 20),
                        _row(MUSHROOM, "mushroom", "一产", "续建", 3000, 10),
                        _row(ROAD, "road", "专项资金", "新引进", 6000, 300)]),
    "sha_jy_2021_02_gone": ("济阳镇", 2021, 2, date(2021, 3, 20), datetime(2021, 3, 20, 9), datetime(2021, 3, 21, 2),
                            {"submissions/济阳镇/2月再次更正.xlsx": False},
                            [_row(ROAD, "road", "专项资金", "新引进", 6000, 9999)]),
    "sha_lj_2021_01": ("骆集乡", 2021, 1, date(2021, 2, 4), datetime(2021, 2, 4, 9), datetime(2021, 2, 5, 2),
                       {"submissions/骆集乡/2021-01.xlsx": True, "submissions/备份/骆集乡2021-01(1).xlsx": True},
                       [_row(GARMENT, "garment", "二产", "新引进", 350, 40)]),
    "sha_lj_2021_02": ("骆集乡", 2021, 2, None, datetime(2021, 3, 3, 9), datetime(2021, 3, 4, 2),
                       {"submissions/骆集乡/2021-02.xlsx": True},
                       [_row(GARMENT, "garment", "二产", "新引进", 350, 60),
                        _row(ROAD, "road", "专项资金", "新引进", 6000, 300)]),
    "sha_nh_2021_02": ("农行", 2021, 2, date(2021, 3, 2), datetime(2021, 3, 2, 9), datetime(2021, 3, 3, 2),
                       {"submissions/农行/2月.xlsx": True},
                       [_row(LOAN, "loan", "金融贷款", "新引进", 500, 500)]),
}
# fmt: on
REJECTED = ("sha_rejected", "submissions/不明单位.xlsx")
FIRST_DATA_ROW = 5


def write_ledger(path: Path) -> None:
    """Create the ledger with zhaoshang.ledger.schema and fill it with the inbox above."""
    con = duckdb.connect(str(path))
    create_schema(con)
    columns = [r[0] for r in con.execute("describe project_rows").fetchall()]
    for sha, (unit, year, month, report_date, mtime, received, paths, rows) in SUBMISSIONS.items():
        first_path = next(iter(paths))
        quarantined = 1 if sha == "sha_jy_2021_02" else 0
        blank = 1 if sha == "sha_jy_2021_02" else 0
        con.execute(
            """insert into submissions (submission_id, source_file, file_name, size_bytes, file_mtime,
                   received_at, status, unit_name, unit_written, year, month, report_date, sheet,
                   rows_read, rows_loaded, rows_quarantined, rows_ignored_blank, load_run_id)
               values (?, ?, ?, 1000, ?, ?, 'loaded', ?, ?, ?, ?, ?, '进度月报', ?, ?, ?, ?, 'run_1')""",
            [
                sha,
                first_path,
                Path(first_path).name,
                mtime,
                received,
                unit,
                unit,
                year,
                month,
                report_date,
                len(rows) + quarantined + blank,
                len(rows),
                quarantined,
                blank,
            ],
        )
        for path_, in_inbox in paths.items():
            con.execute(
                "insert into inbox_files values (?, ?, ?, 'run_1', 'run_2', ?)",
                [path_, sha, mtime, in_inbox],
            )
        for offset, row in enumerate(rows):
            record = {
                "submission_id": sha,
                "sheet": "进度月报",
                "row_number": FIRST_DATA_ROW + offset,
                "seq": offset + 1,
            } | row
            names = [c for c in columns if c in record]
            con.execute(
                f"insert into project_rows ({', '.join(names)}) values ({', '.join('?' * len(names))})",
                [record[c] for c in names],
            )
        con.execute(
            "insert into sheet_totals (submission_id, sheet, row_number, funds_period_wan) values (?, '进度月报', ?, ?)",
            [
                sha,
                FIRST_DATA_ROW + len(rows) + quarantined + blank,
                sum(r["funds_period_wan"] for r in rows),
            ],
        )
        if quarantined:
            con.execute(
                """insert into quarantine values (?, ?, '进度月报', ?, 'funds_period_wan', 'L',
                       '本期到位资金（万元）', '#REF!', 'E_CELL_ERROR', '单元格错误值', 'cell error value',
                       'QUARANTINE-ROW')""",
                [sha, first_path, FIRST_DATA_ROW + len(rows)],
            )
            con.execute(
                """insert into file_warnings values (?, '进度月报', ?, 'W_HIDDEN_ROW', '隐藏行', 'hidden row')""",
                [sha, FIRST_DATA_ROW + 1],
            )
    sha, path_ = REJECTED
    con.execute(
        """insert into submissions (submission_id, source_file, file_name, size_bytes, file_mtime,
               received_at, status, reject_code, reason_zh, reason_en, load_run_id)
           values (?, ?, ?, 10, ?, ?, 'rejected', 'E_UNKNOWN_UNIT', '填报单位不在名册中', 'unknown unit', 'run_1')""",
        [sha, path_, Path(path_).name, datetime(2021, 3, 1), datetime(2021, 3, 2)],
    )
    con.execute(
        "insert into inbox_files values (?, ?, ?, 'run_1', 'run_2', true)",
        [path_, sha, datetime(2021, 3, 1)],
    )
    con.execute(
        """insert into quarantine (submission_id, source_file, reason_code, reason_zh, reason_en, decision)
           values (?, ?, 'E_UNKNOWN_UNIT', '填报单位不在名册中', 'unknown unit', 'REJECT-FILE')""",
        [sha, path_],
    )
    con.close()


def write_units(raw_dir: Path) -> None:
    (raw_dir / "reference").mkdir(parents=True, exist_ok=True)
    (raw_dir / "reference" / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
