"""The form as clerks fill it (DATA_CONTRACT §3): every layout variant reads to known values."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from excel_helpers import assert_conservation, read, warning_codes
from openpyxl.styles import Font
from workbook_builder import COL, FOOTER, STANDARD_HEADERS, Form, project_row, total_row, write_form


def test_standard_form(xlsx):
    path = xlsx()
    layout = write_form(path)
    parsed = read(path)
    assert parsed.sheet == "进展情况"
    assert (parsed.unit_written, parsed.year, parsed.month) == ("济阳镇", 2021, 3)
    assert parsed.header_row == layout.header_row == 3
    assert [r.row_number for r in parsed.rows] == layout.data_rows == [4, 5, 6]
    assert all(not r.problems for r in parsed.rows)
    first = parsed.rows[0].values
    assert first == {
        "seq": 1,
        "project_name": "项目1",
        "investor_name": "投资公司1",
        "investor_uscc": "91411426MA44XXXX1X",
        "capital_origin": "省外",
        "sector": "二产",
        "project_kind": "新引进",
        "signed_date": date(2021, 3, 5),
        "status": "已签约",
        "total_investment_wan": Decimal(1001),
        "contract_amount_wan": Decimal(800),
        "funds_period_wan": Decimal(100),
        "funds_cumulative_wan": Decimal(300),
        "foreign_usd_wan": None,
        "high_tech": False,
        "signing_event": "第二届儒商文化研讨暨经贸洽谈会",
        "contact": "王五 13900001111",
        "remarks": None,
    }
    assert parsed.columns["funds_period_wan"] == "本期到位资金（万元）"
    assert parsed.total_row is not None and parsed.total_row.row_number == 7
    assert parsed.total_row.values["funds_period_wan"] == Decimal(300)
    assert parsed.rows_ignored_blank == 0
    assert parsed.warnings == []
    assert_conservation(parsed)


@pytest.mark.parametrize(
    "meta, unit, period",
    [
        ([["填报单位：济阳镇      报告期：2021年3月      单位：万元"]], "济阳镇", (2021, 3)),
        (
            [["填报单位：", "济阳镇", None, "报告期：", "2021年03月", "单位：万元"]],
            "济阳镇",
            (2021, 3),
        ),
        (
            [["填报单位（盖章）：济阳镇人民政府", None, "报告时间：2021-03"]],
            "济阳镇人民政府",
            (2021, 3),
        ),
        ([["填报单位:济阳镇  统计期:2021.3"]], "济阳镇", (2021, 3)),
        ([["填报单位：济阳镇　　所属期：2021年3月份"]], "济阳镇", (2021, 3)),  # U+3000 spaces
        ([["填报单位：济阳镇 报告期：２０２１年３月"]], "济阳镇", (2021, 3)),  # full-width digits
        (
            [["填报单位：财政局"], ["报告期：", date(2021, 3, 1)]],
            "财政局",
            (2021, 3),
        ),  # a date cell
    ],
)
def test_unit_and_period_variants(xlsx, meta, unit, period):
    path = xlsx()
    write_form(path, Form(meta=meta))
    parsed = read(path)
    assert parsed.unit_written == unit
    assert (parsed.year, parsed.month) == period


def test_period_in_title_when_unlabelled(xlsx):
    path = xlsx()
    write_form(path, Form(title="2021年3月份招商引资项目进展情况表", meta=[["填报单位：城关镇"]]))
    parsed = read(path)
    assert (parsed.unit_written, parsed.year, parsed.month) == ("城关镇", 2021, 3)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("填报单位：济阳镇  报告期：2021年3月  报告日期：2021年4月2日", date(2021, 4, 2)),
        ("填报单位：济阳镇  报告期：2021年3月  填报日期：2021/4/5", date(2021, 4, 5)),
        ("填报单位：济阳镇  报告期：2021年3月", None),
    ],
)
def test_report_date(xlsx, line, expected):
    path = xlsx()
    write_form(path, Form(meta=[[line]]))
    assert read(path).report_date == expected


def test_report_date_in_footer(xlsx):
    path = xlsx()
    write_form(path, Form(footer=[["填表人：张三  联系电话：13812345678  填报日期：2021年4月6日"]]))
    assert read(path).report_date == date(2021, 4, 6)


def test_header_not_in_first_rows_and_no_title(xlsx):
    path = xlsx()
    write_form(path, Form(title=None, meta=[], footer=[]))
    parsed = read(path)
    assert parsed.header_row == 1 and len(parsed.rows) == 3
    assert parsed.unit_written is None and parsed.year is None


def test_two_row_header_with_merged_parent(xlsx):
    headers = list(STANDARD_HEADERS)
    headers[COL["本期到位资金（万元）"]] = "到位资金（万元）"
    headers[COL["累计到位资金（万元）"]] = None
    sub = [None] * len(headers)
    sub[COL["本期到位资金（万元）"]] = "本期"
    sub[COL["累计到位资金（万元）"]] = "累计"
    # Every other header is merged down over both rows, as Excel users do.
    merges = ["L1:M1"] + [
        f"{chr(65 + c)}1:{chr(65 + c)}2" for c in range(len(headers)) if c not in (11, 12)
    ]
    path = xlsx()
    layout = write_form(path, Form(headers=headers, subheaders=sub, header_merges=merges))
    parsed = read(path)
    assert parsed.header_row == layout.header_row == 4
    assert parsed.columns["funds_period_wan"] == "到位资金（万元）>本期"
    assert parsed.columns["funds_cumulative_wan"] == "到位资金（万元）>累计"
    assert parsed.rows[0].values["funds_period_wan"] == Decimal(100)
    assert parsed.rows[0].values["funds_cumulative_wan"] == Decimal(300)
    assert parsed.rows[0].values["project_name"] == "项目1"
    assert not any(r.problems for r in parsed.rows)


def test_two_row_header_without_merge(xlsx):
    """WPS/clerk variant: 实际到位资金 typed above 本月 only, 累计到位 beside it, no merge."""
    headers = list(STANDARD_HEADERS)
    headers[COL["本期到位资金（万元）"]] = "实际到位资金"
    headers[COL["累计到位资金（万元）"]] = None
    sub = [None] * len(headers)
    sub[COL["本期到位资金（万元）"]] = "本月"
    sub[COL["累计到位资金（万元）"]] = "累计到位"
    path = xlsx()
    write_form(path, Form(headers=headers, subheaders=sub))
    parsed = read(path)
    assert parsed.columns["funds_period_wan"] == "实际到位资金>本月"
    assert parsed.columns["funds_cumulative_wan"] == "实际到位资金>累计到位"


def test_header_decorations_and_any_column_order(xlsx):
    order = list(reversed(range(len(STANDARD_HEADERS))))
    decorated = {
        "计划总投资（万元）": "计划总投资\n(万元)",
        "本期到位资金（万元）": " 本期到位资金 （ 万元 ） ",
        "项目名称": "*项目名称",
        "投资方": "投资商（企业名称）",
        "产业类别": "所属产业",
        "累计到位资金（万元）": "累计到位资金/万元",
    }
    headers = [decorated.get(STANDARD_HEADERS[c], STANDARD_HEADERS[c]) for c in order]
    rows = [[project_row(i)[c] for c in order] for i in (1, 2)]
    path = xlsx()
    write_form(path, Form(headers=headers, rows=rows, total=None))
    parsed = read(path)
    assert parsed.rows[1].values["total_investment_wan"] == Decimal(1002)
    assert parsed.rows[1].values["funds_period_wan"] == Decimal(100)
    assert parsed.rows[1].values["funds_cumulative_wan"] == Decimal(300)
    assert parsed.rows[1].values["project_name"] == "项目2"
    assert parsed.rows[1].values["investor_name"] == "投资公司2"
    assert "W_NO_TOTAL_ROW" in warning_codes(parsed)
    assert not any(r.problems for r in parsed.rows)


def test_extra_columns_are_ignored_with_a_warning(xlsx):
    headers = [*STANDARD_HEADERS, "核查意见", "镇长签字"]
    rows = [[*project_row(i), "已核", "王"] for i in (1, 2)]
    path = xlsx()
    write_form(path, Form(headers=headers, rows=rows))
    parsed = read(path)
    extra = [w for w in parsed.warnings if w.code == "W_EXTRA_COLUMN"]
    assert [(w.column_letter, w.header) for w in extra] == [("S", "核查意见"), ("T", "镇长签字")]
    assert "核查意见" not in parsed.rows[0].values and len(parsed.rows) == 2


def test_optional_columns_when_present(xlsx):
    headers = [*STANDARD_HEADERS, "县台账编号", "开工日期", "本单位计入比例"]
    rows = [[*project_row(1), "XY-2021-001", "2021/4/1", "50%"], [*project_row(2), 17, None, 100]]
    path = xlsx()
    write_form(path, Form(headers=headers, rows=rows))
    parsed = read(path)
    assert parsed.rows[0].values["ledger_id"] == "XY-2021-001"
    assert parsed.rows[0].values["start_date"] == date(2021, 4, 1)
    assert parsed.rows[0].values["credit_share_pct"] == Decimal(50)
    assert parsed.rows[1].values["ledger_id"] == "17"
    assert parsed.rows[1].values["credit_share_pct"] == Decimal(100)
    assert "entity_registration_date" not in parsed.rows[0].values  # absent column, absent key


def test_data_sheet_behind_instructions_and_hidden_sheets_ignored(xlsx):
    instructions = [["填表说明"], ["1. 金额单位为万元"], ["2. 项目名称、投资方为必填项"]]
    hidden_copy = [
        ["项目名称", "投资方", "产业类别", "项目性质", "本期到位资金"],
        ["隐藏项目", "某公司", "二产", "新引进", 999],
    ]
    path = xlsx()
    write_form(
        path,
        before=[("填表说明", "visible", instructions), ("旧表", "hidden", hidden_copy)],
        after=[("草稿", "veryHidden", hidden_copy)],
    )
    parsed = read(path)
    assert parsed.sheet == "进展情况"
    hidden = [w for w in parsed.warnings if w.code == "W_HIDDEN_SHEET"]
    assert [w.detail for w in hidden] == ["旧表", "草稿"]
    assert all(r.values["project_name"] != "隐藏项目" for r in parsed.rows)


def test_hidden_rows_are_loaded_and_reported(xlsx):
    path = xlsx()
    write_form(path, hidden_rows=[5])
    parsed = read(path)
    assert [r.row_number for r in parsed.rows] == [4, 5, 6]
    hidden = [w for w in parsed.warnings if w.code == "W_HIDDEN_ROW"]
    assert [(w.row_number, w.detail) for w in hidden] == [(5, 5)]


def test_total_subtotal_blank_and_footer_rows(xlsx):
    rows = [
        project_row(1),
        [None] * len(STANDARD_HEADERS),  # blank row between projects
        project_row(2),
        ["小计"] + [None] * 17,
        [None] * len(STANDARD_HEADERS),
        project_row(3),
    ]
    footer = [*FOOTER, ["注：本表金额单位为万元，联系人李四 13700001111"], ["审核人：王五"]]
    path = xlsx()
    layout = write_form(
        path,
        Form(
            rows=rows, total=total_row([project_row(i) for i in (1, 2, 3)], "总 计"), footer=footer
        ),
    )
    parsed = read(path)
    assert [r.row_number for r in parsed.rows] == [4, 6, 9]
    assert parsed.rows_ignored_blank == 2
    assert parsed.total_row is not None and parsed.total_row.row_number == layout.total_row == 10
    assert parsed.total_row.values["total_investment_wan"] == Decimal(3006)
    subtotal = [w for w in parsed.warnings if w.code == "W_SUBTOTAL_ROW"]
    assert [w.row_number for w in subtotal] == [7]
    assert_conservation(parsed)


def test_total_row_first_and_section_headings(xlsx):
    rows = [
        total_row([project_row(1), project_row(2)]),
        ["一、新引进项目"] + [None] * 17,
        project_row(1),
        ["二、续建项目"] + [None] * 17,
        project_row(2, 项目性质="续建"),
    ]
    path = xlsx()
    write_form(path, Form(rows=rows, total=None))
    parsed = read(path)
    assert parsed.total_row is not None and parsed.total_row.row_number == 4
    assert [r.values["project_kind"] for r in parsed.rows] == ["新引进", "续建"]


def test_trailing_styled_rows_and_prenumbered_rows_are_not_counted(xlsx):
    rows = [project_row(1), project_row(2), [3] + [None] * 17, [4] + [None] * 17]

    def style_tail(wb, layout):
        ws = wb["进展情况"]
        for r in range(20, 400):
            for c in range(1, 19):
                ws.cell(r, c).font = Font(bold=True)

    path = xlsx()
    write_form(path, Form(rows=rows, total=None, footer=[]), customize=style_tail)
    parsed = read(path)
    assert [r.row_number for r in parsed.rows] == [4, 5]
    assert parsed.rows_ignored_blank == 0


def test_blank_rows_do_not_stop_reading(xlsx):
    rows = [project_row(1)] + [[None] * 18] * 30 + [project_row(2)]
    path = xlsx()
    write_form(path, Form(rows=rows))
    parsed = read(path)
    assert [r.values["project_name"] for r in parsed.rows] == ["项目1", "项目2"]
    assert parsed.rows_ignored_blank == 30
    assert parsed.rows_read == 32


def test_sheet_unit_in_yuan_and_header_units(xlsx):
    headers = list(STANDARD_HEADERS)
    headers[COL["合同引资额（万元）"]] = "合同引资额（元）"
    headers[COL["累计到位资金（万元）"]] = "累计到位资金(亿元)"
    path = xlsx()
    write_form(
        path,
        Form(
            meta=[["填报单位：济阳镇  报告期：2021年3月  单位：元"]],
            headers=headers,
            rows=[project_row(1, total=12_000_000)],
        ),
    )
    values = read(path).rows[0].values
    assert values["total_investment_wan"] == Decimal(1200)  # no header unit: the sheet's 元
    assert values["contract_amount_wan"] == Decimal("0.08")  # 800 元
    assert values["funds_cumulative_wan"] == Decimal(3_000_000)  # 300 亿元
    assert values["funds_period_wan"] == Decimal("0.01")  # 100 元


def test_1904_date_system(xlsx):
    path = xlsx()
    rows = [project_row(1), project_row(2, 签约时间=date(2020, 6, 30))]
    write_form(path, Form(rows=rows), date1904=True)
    parsed = read(path)
    assert [r.values["signed_date"] for r in parsed.rows] == [date(2021, 3, 5), date(2020, 6, 30)]


def test_general_format_serial_in_1904_workbook(xlsx):
    # 42798 days after 1904-01-01 is 2021-03-05 (it would be 2017-03-04 in the 1900 system).
    path = xlsx()
    write_form(path, Form(rows=[project_row(1, 签约时间=42798)]), date1904=True)
    assert read(path).rows[0].values["signed_date"] == date(2021, 3, 5)


def test_values_as_clerks_type_them(xlsx):
    texts = [
        "1,200",
        "1，200",
        "１２００",
        "1200万元",
        "1200万",
        "0.12亿",
        "￥1200",
        "RMB 1200",
        "¥1,200.00",
        "12000000元",
        "1.2E+03",
        "'1200",
        " 1200 ",
    ]
    rows = [project_row(i + 1, total=text) for i, text in enumerate(texts)]
    path = xlsx()
    write_form(path, Form(rows=rows, total=None))
    parsed = read(path)
    assert [r.values["total_investment_wan"] for r in parsed.rows] == [Decimal(1200)] * len(texts)
    assert all(isinstance(r.values["total_investment_wan"], Decimal) for r in parsed.rows)
    assert not any(r.problems for r in parsed.rows)


def test_text_dates_and_enum_aliases(xlsx):
    rows = [
        project_row(
            1,
            签约时间="2021-03-05",
            产业类别="第二产业",
            资金来源地="本县",
            项目进展="在建",
            是否高新技术项目="是",
        ),
        project_row(
            2, 签约时间="2021年3月5日", 产业类别=" 工业 ", 项目性质="续建", 是否高新技术项目="√"
        ),
        project_row(3, 签约时间="２０２１年３月５日", 产业类别="金融贷款", 是否高新技术项目="×"),
        project_row(4, 签约时间="20210305", 产业类别="农业", 资金来源地="外资"),
        project_row(5, 签约时间="2021/3/5", 产业类别="服务业", 资金来源地="省内"),
        project_row(6, 签约时间="2021.3.5", 是否高新技术项目="—"),
    ]
    path = xlsx()
    write_form(path, Form(rows=rows, total=None))
    parsed = read(path)
    values = [r.values for r in parsed.rows]
    assert {v["signed_date"] for v in values} == {date(2021, 3, 5)}
    assert [v["sector"] for v in values] == ["二产", "二产", "金融贷款", "一产", "三产", "二产"]
    assert [v["high_tech"] for v in values] == [True, True, False, False, False, None]
    assert values[0]["capital_origin"] == "县内" and values[0]["status"] == "已开工"
    assert values[3]["capital_origin"] == "境外" and values[4]["capital_origin"] == "省内县外"
    assert values[1]["project_kind"] == "续建"


def test_text_is_normalised(xlsx):
    rows = [
        project_row(
            1,
            项目名称="\u200b年产10万吨（一期）\u3000项目 ",
            投资方="ＡＢＣ  科技\n有限公司",
            统一社会信用代码=" 91411426ma44xxxx1x ",
        ),
        project_row(2, 项目名称="乙_x0007_项目"),
    ]
    path = xlsx()
    write_form(path, Form(rows=rows, total=None))
    parsed = read(path)
    assert parsed.rows[0].values["project_name"] == "年产10万吨(一期) 项目"
    assert parsed.rows[0].values["investor_name"] == "ABC 科技 有限公司"
    assert parsed.rows[0].values["investor_uscc"] == "91411426MA44XXXX1X"
    assert parsed.rows[1].values["project_name"] == "乙项目"
    control = [w for w in parsed.warnings if w.code == "W_CONTROL_CHARS"]
    assert {(w.row_number, w.column_letter) for w in control} == {(4, "B"), (5, "B")}


def test_invalid_uscc_still_loads(xlsx):
    path = xlsx()
    write_form(
        path,
        Form(rows=[project_row(1, 统一社会信用代码="123"), project_row(2, 统一社会信用代码=None)]),
    )
    parsed = read(path)
    assert [r.values["investor_uscc"] for r in parsed.rows] == ["123", None]
    assert not any(r.problems for r in parsed.rows)


def test_formula_cached_value_is_used(xlsx):
    from workbook_builder import rewrite_parts

    path = xlsx()
    write_form(path, Form(rows=[project_row(1)], total=None, footer=[]))
    rewrite_parts(
        path,
        edit={
            "xl/worksheets/sheet1.xml": lambda x: x.replace(
                b'<c r="L4" t="n"><v>100</v></c>', b'<c r="L4"><f>60+40</f><v>100</v></c>'
            )
        },
    )
    parsed = read(path)
    assert parsed.rows[0].values["funds_period_wan"] == Decimal(100)
    assert not parsed.rows[0].problems


def test_remarks_keep_their_punctuation_and_line_breaks(xlsx):
    rows = [
        project_row(1, 备注="与供电公司共同引进，本单位计入60%。\n二期另签。\u200b"),
        project_row(2, 备注=" 无 "),
    ]
    path = xlsx()
    write_form(path, Form(rows=rows, total=None))
    parsed = read(path)
    assert parsed.rows[0].values["remarks"] == "与供电公司共同引进，本单位计入60%。\n二期另签。"
    assert parsed.rows[1].values["remarks"] is None
