"""Fill the generated form as a clerk would (openpyxl into the data rows, 填报日期 in the footer),
and re-save it through LibreOffice, the way a clerk's office suite rewrites it."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl

from zhaoshang.forms import DATA_SHEET, FIRST_DATA_ROW, FormLayout, form_columns
from zhaoshang.generate import make_uscc

OUTSIDE_REGION = "110105"  # Beijing Chaoyang: never the county's own code


def layout(data_rows: int = 30) -> FormLayout:
    return FormLayout(form_columns(), data_rows)


def project_rows(rng: random.Random, unit: str, count: int, year: int, month: int) -> list[dict]:
    """Clean rows with known values (canonical column -> value), unique per unit."""
    rows = []
    sectors = ("一产", "二产", "三产")
    for i in range(count):
        total = Decimal(rng.randrange(200, 6000))
        funds = Decimal(rng.randrange(10, 150)) + Decimal("0.5")
        rows.append(
            {
                "seq": i + 1,
                "project_name": f"{unit}{year}年{month}月项目{i + 1}号",
                "investor_name": f"{unit}测试投资{i + 1}有限公司",
                "investor_uscc": make_uscc(OUTSIDE_REGION, rng),
                "capital_origin": "省外",
                "sector": sectors[i % 3],
                "project_kind": "新引进",
                "signed_date": date(year, month, 1 + i),
                "status": "已签约",
                "total_investment_wan": total,
                "contract_amount_wan": total,
                "funds_period_wan": funds,
                "funds_cumulative_wan": funds,
                "high_tech": "否",
                "signing_event": "第二届儒商文化研讨暨经贸洽谈会",
                "contact": "王经理 13812345678",
                "remarks": '=HYPERLINK("http://x.example","点击")' if i == 0 else None,
            }
        )
    return rows


def fill(template: Path, out: Path, rows: list[dict], report_date: date | None = None) -> Path:
    """Type ``rows`` into the data rows of ``template`` (values exactly as given) and save."""
    form = layout()
    book = openpyxl.load_workbook(template)
    sheet = book[DATA_SHEET]
    for offset, values in enumerate(rows):
        for name, value in values.items():
            if value is None:
                continue
            cell = sheet.cell(FIRST_DATA_ROW + offset, form.column_of(name))
            cell.value = float(value) if isinstance(value, Decimal) else value
            if isinstance(value, str):
                cell.data_type = "s"  # what a clerk types stays text, even a leading '='
    if report_date is not None:
        labels = {c.value: c for c in sheet[form.footer_row] if c.value}
        date_label = labels["填报日期："]
        value_cell = sheet.cell(form.footer_row, date_label.column + 2)
        value_cell.value = report_date
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return out


def resave_with_libreoffice(path: Path, out_dir: Path) -> Path:
    """``soffice --headless --convert-to xlsx``: recomputes formulas and rewrites every part."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is needed (see .ci/system-packages.txt)"
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        work = Path(profile) / "in" / "form.xlsx"
        work.parent.mkdir()
        shutil.copyfile(path, work)
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}/user",
                "--headless",
                "--convert-to",
                "xlsx",
                "--outdir",
                str(Path(profile) / "out"),
                str(work),
            ],
            check=True,
            capture_output=True,
            timeout=180,
            env={**os.environ, "HOME": profile},
        )
        target = out_dir / path.name
        shutil.copyfile(Path(profile) / "out" / "form.xlsx", target)
    return target
