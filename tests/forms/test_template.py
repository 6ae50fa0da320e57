"""The form handed out to units: generated from the seeds, checked with openpyxl as Excel sees it,
and read back exactly by the reader, also after LibreOffice has re-saved it."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from tests.forms.fill import fill, layout, project_rows, resave_with_libreoffice
from zhaoshang import cli
from zhaoshang.excel import Limits, read_submission
from zhaoshang.forms import DATA_SHEET, HEADER_ROW, INSTRUCTIONS_SHEET, allowed_values_of
from zhaoshang.reference import column_map, load_units, sectors

UNITS_CSV = """unit_name,unit_type,aliases,year,target_funds_wan,target_projects,contact_email
济阳镇,乡镇,济阳;济阳镇人民政府,2021,1000,30,jiyang@units.example.cn
城关镇,乡镇,城关,2021,2000,20,
财政局,县直单位,县财政局,2021,500,5,czj@units.example.cn
工行,金融机构,中国工商银行夏邑支行,2021,800,0,
"""


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    base = tmp_path_factory.mktemp("forms")
    (base / "raw" / "reference").mkdir(parents=True)
    (base / "raw" / "submissions").mkdir()
    (base / "raw" / "reference" / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("ZHAOSHANG_RAW_DIR", str(base / "raw"))
    code = cli.main(
        [
            "template",
            "--year",
            "2021",
            "--month",
            "3",
            "--all",
            "--out",
            str(base / "out"),
            "--county",
            "夏邑县",
        ]
    )
    mp.undo()
    assert code == 0
    return base, sorted((base / "out").glob("*.xlsx"))


def test_one_form_per_roster_unit_with_its_name_and_period(forms):
    base, paths = forms
    units = {u.unit_name for u in load_units(base / "raw" / "reference" / "units.csv")}
    assert {p.name.split("_")[0] for p in paths} == units
    for path in paths:
        sheet = openpyxl.load_workbook(path)[DATA_SHEET]
        unit = path.name.split("_")[0]
        assert sheet["A1"].value == "夏邑县招商引资项目进展情况表"
        assert [sheet["A2"].value, sheet["C2"].value, sheet["D2"].value, sheet["E2"].value] == [
            "填报单位：",
            unit,
            "报告期：",
            "2021年3月",
        ]


def test_header_drop_downs_validations_protection_and_print_setup(forms):
    _, paths = forms
    form = layout()
    book = openpyxl.load_workbook(paths[0])
    assert book.sheetnames == [DATA_SHEET, INSTRUCTIONS_SHEET]
    sheet = book[DATA_SHEET]
    specs = [c for c in column_map() if not c.is_optional_column]
    header = [sheet.cell(HEADER_ROW, i + 1).value for i in range(len(specs))]
    assert header == [("*" if c.required else "") + c.label_zh for c in specs]

    by_column: dict[str, object] = {}
    for dv in sheet.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            by_column[cell_range.coord] = dv

    def validation(name):
        letter = openpyxl.utils.get_column_letter(form.column_of(name))
        return by_column[
            f"{letter}{form.last_data_row - form.data_rows + 1}:{letter}{form.last_data_row}"
        ]

    expected_lists = {
        "sector": [s["sector"] for s in sectors()],
        "project_kind": ["新引进", "续建"],
        "capital_origin": ["境外", "省外", "省内县外", "县内"],
        "status": ["已签约", "已开工", "已投产"],
        "high_tech": ["是", "否"],
    }
    for name, values in expected_lists.items():
        dv = validation(name)
        assert dv.type == "list" and dv.formula1 == '"' + ",".join(values) + '"', name
        assert dv.showErrorMessage and dv.errorStyle in (None, "stop")
        assert "下拉列表" in dv.error and dv.prompt, name
        assert list(allowed_values_of(name)) == values
    for name in ("total_investment_wan", "funds_period_wan", "funds_cumulative_wan"):
        dv = validation(name)
        assert (dv.type, dv.operator, dv.formula1) == ("decimal", "greaterThanOrEqual", "0")
        assert "不小于0的数字" in dv.error and "万元" in dv.error
    dv = validation("signed_date")
    assert dv.type == "date" and dv.operator in (None, "between")  # between is the default
    assert (dv.formula1, dv.formula2) == ("36526", "73415") and "日期" in dv.error  # 2000-2100
    dv = validation("investor_uscc")
    assert (dv.type, dv.formula1) == ("textLength", "18") and "18位" in dv.error

    assert sheet.protection.sheet is True and not sheet.protection.password
    assert sheet.protection.insertRows is False and sheet.protection.deleteRows is False  # allowed
    assert sheet.cell(HEADER_ROW, 2).protection.locked is True
    assert sheet.cell(form.total_row, form.column_of("funds_period_wan")).protection.locked
    for row in (form.last_data_row - form.data_rows + 1, form.last_data_row):
        assert sheet.cell(row, 2).protection.locked is False
    funds = openpyxl.utils.get_column_letter(form.column_of("funds_period_wan"))
    assert sheet.cell(form.total_row, form.column_of("funds_period_wan")).value == (
        f"=SUM({funds}4:{funds}{form.last_data_row})"
    )
    assert sheet.cell(form.total_row, 1).value == "合计"
    assert sheet.freeze_panes == "C4"
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage  # one page wide (the default), any height
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert sheet.print_title_rows == "$3:$3"
    assert sheet.column_dimensions["B"].width >= 30

    notes = [c.value for row in book[INSTRUCTIONS_SHEET].iter_rows() for c in row if c.value]
    for spec in specs:
        assert spec.description_zh in notes, spec.canonical_name
    assert any("金融贷款只计到位资金" in str(n) for n in notes)


def _read(path):
    return read_submission(path, source_file=path.name, limits=Limits(), sandbox=False)


def test_a_filled_form_reads_back_exactly_also_after_a_libreoffice_resave(forms, tmp_path):
    _, paths = forms
    template = next(p for p in paths if p.name.startswith("济阳镇"))
    rows = project_rows(random.Random(9), "济阳镇", 4, 2021, 3)
    filled = fill(template, tmp_path / "filled" / template.name, rows, date(2021, 4, 2))
    resaved = resave_with_libreoffice(filled, tmp_path / "resaved")
    for path in (filled, resaved):
        parsed = _read(path)
        assert (parsed.unit_written, parsed.year, parsed.month) == ("济阳镇", 2021, 3)
        assert parsed.report_date == date(2021, 4, 2)
        assert parsed.rows_ignored_blank == 0
        assert [r.row_number for r in parsed.rows] == [4, 5, 6, 7]
        for row, expected in zip(parsed.rows, rows, strict=True):
            assert row.problems == [], (path.name, row.problems)
            for name, value in expected.items():
                got = row.values.get(name)
                if name == "remarks" and value:
                    assert got == value  # a clerk's formula-like text stays text
                elif isinstance(value, Decimal):
                    assert got == value, (name, got, value)
                elif name == "high_tech":
                    assert got is False
                else:
                    assert got == value, (name, got, value)
        total = parsed.total_row
        assert total is not None and total.row_number == layout().total_row
        for name in ("total_investment_wan", "funds_period_wan", "funds_cumulative_wan"):
            assert total.values[name] == sum(r[name] for r in rows), (path.name, name)
        assert "W_TOTAL_NOT_COMPUTED" not in [w.code for w in parsed.warnings]


def test_the_blank_form_reads_as_an_empty_report_with_a_zero_total(forms):
    _, paths = forms
    parsed = _read(paths[0])
    assert parsed.rows == [] and parsed.year == 2021 and parsed.month == 3
    assert set(parsed.total_row.values.values()) == {Decimal(0)}


def test_an_unknown_unit_is_refused_with_a_bilingual_message(forms, capsys, monkeypatch):
    base, _ = forms
    monkeypatch.setenv("ZHAOSHANG_RAW_DIR", str(base / "raw"))
    code = cli.main(
        [
            "template",
            "--year",
            "2021",
            "--month",
            "3",
            "--unit",
            "不存在的单位",
            "--out",
            str(base / "x"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "不在单位名册" in err and "not in the roster" in err


def test_the_blank_form_offers_the_roster_as_the_unit_drop_down(forms, tmp_path, monkeypatch):
    base, _ = forms
    monkeypatch.setenv("ZHAOSHANG_RAW_DIR", str(base / "raw"))
    assert cli.main(["template", "--year", "2021", "--month", "3", "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("*.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book[DATA_SHEET]
    assert sheet["C2"].value is None and sheet["C2"].protection.locked is False
    (dv,) = [d for d in sheet.data_validations.dataValidation if str(d.sqref) == "C2"]
    assert dv.type == "list" and dv.formula1.startswith(f"'{INSTRUCTIONS_SHEET}'!$A$")
    first, last = (int(part.split("$")[-1]) for part in dv.formula1.split(":"))
    names = [book[INSTRUCTIONS_SHEET].cell(r, 1).value for r in range(first, last + 1)]
    assert names == sorted(
        u.unit_name for u in load_units(base / "raw" / "reference" / "units.csv")
    )


def test_the_readers_sum_covers_only_the_formulas_range_as_excel_would(forms, tmp_path):
    """A row added below the SUM range (openpyxl does not move formulas) is left out of the
    computed 合计, so the TOTAL_MISMATCH check sees what Excel would have cached; a formula the
    reader cannot evaluate is reported, never read as 0."""
    _, paths = forms
    form = layout()
    template = next(p for p in paths if p.name.startswith("城关镇"))
    rows = project_rows(random.Random(3), "城关镇", 2, 2021, 3)
    path = fill(template, tmp_path / "a.xlsx", rows, date(2021, 4, 2))
    book = openpyxl.load_workbook(path)
    sheet = book[DATA_SHEET]
    sheet.insert_rows(form.total_row)  # a new row just above 合计; the SUMs still end above it
    extra = dict(rows[0], project_name="范围外的项目", funds_period_wan=Decimal("1000"))
    for name, value in extra.items():
        if value is not None:
            cell = sheet.cell(form.total_row, form.column_of(name))
            cell.value = float(value) if isinstance(value, Decimal) else value
    contract = sheet.cell(form.total_row + 1, form.column_of("contract_amount_wan"))
    contract.value = "=SUMPRODUCT(K4:K33)"
    book.save(path)
    parsed = _read(path)
    assert len(parsed.rows) == 3
    assert parsed.total_row.values["funds_period_wan"] == sum(r["funds_period_wan"] for r in rows)
    assert "contract_amount_wan" not in parsed.total_row.values
    warning = next(w for w in parsed.warnings if w.code == "W_TOTAL_NOT_COMPUTED")
    assert warning.row_number == form.total_row + 1 and "合同引资额" in warning.message_zh
