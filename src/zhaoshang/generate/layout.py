"""How one report is laid out as a workbook: the county form of contract §3, with the clerks' variations.

``render`` turns a ``Report`` into a ``WorkbookSpec`` and records where every row went and every
deviation it made (header synonyms, two-row header, text numbers, text dates, aliases, noisy
names...), so the truth can say exactly what a correct reader must find. Header texts and value
aliases come from the seeds through ``zhaoshang.reference``; nothing is re-typed here.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from zhaoshang import reference
from zhaoshang.errors import column_letter
from zhaoshang.generate.names import mobile_number, person_name
from zhaoshang.generate.reports import Report, RowData
from zhaoshang.generate.scenario import Messiness
from zhaoshang.generate.writers import SheetSpec, WorkbookSpec

TITLE = "招商引资项目进展情况表"
DROPPABLE = ("seq", "high_tech", "signing_event", "remarks", "status", "contact", "foreign_usd_wan")
OFFERED_OPTIONAL = ("ledger_id", "credit_share_pct", "start_date", "evidence_type")
TOTALLED = (
    "total_investment_wan",
    "contract_amount_wan",
    "funds_period_wan",
    "funds_cumulative_wan",
    "foreign_usd_wan",
)
ENUM_DTYPES = ("sector", "capital_origin", "project_kind", "status", "yes_no")
DATE_FORMATS = ("yyyy-mm-dd", 'yyyy"年"m"月"d"日"', "yyyy/m/d")
_BRACKET = re.compile(r"[（(][^)）]*[)）]")
_FULLWIDTH = str.maketrans({**{chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}})


@lru_cache(maxsize=1)
def columns() -> dict[str, reference.ColumnSpec]:
    return {c.canonical_name: c for c in reference.column_map()}


@lru_cache(maxsize=1)
def alias_choices() -> dict[str, dict[str, list[str]]]:
    """domain -> canonical value -> its other spellings (from value_aliases.csv)."""
    out: dict[str, dict[str, list[str]]] = {}
    for domain, mapping in reference.value_aliases().items():
        for alias, value in mapping.items():
            if alias != reference.normalize_key(value):
                out.setdefault(domain, {}).setdefault(value, []).append(alias)
    return out


def decimal_text(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def number_value(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# ---------------------------------------------------------------------------- cell styles


def amount_text(value: Decimal, rng: random.Random) -> tuple[str, str]:
    """A number as a clerk may type it as text: (style, text)."""
    styles = ["plain_text", "fullwidth", "wan_suffix"]
    if value >= 1000:
        styles.append("thousands")
    if value >= 100 and value == value.to_integral_value():
        styles.append("yi")
    style = rng.choice(styles)
    text = decimal_text(value)
    if style == "fullwidth":
        text = text.translate(_FULLWIDTH)
    elif style == "wan_suffix":
        text += "万元"
    elif style == "thousands":
        whole, _, frac = text.partition(".")
        text = f"{int(whole):,}" + (f".{frac}" if frac else "")
    elif style == "yi":
        text = decimal_text(value / 10000) + "亿"
    return style, text


def date_text(d: date, rng: random.Random) -> tuple[str, str]:
    style = rng.choice(("ymd_cn", "dotted", "slashed", "iso"))
    text = {
        "ymd_cn": f"{d.year}年{d.month}月{d.day}日",
        "dotted": f"{d.year}.{d.month}.{d.day}",
        "slashed": f"{d.year}/{d.month}/{d.day}",
        "iso": d.isoformat(),
    }[style]
    return style, text


def noisy_name(name: str, rng: random.Random) -> tuple[str, str]:
    """The same project name after normalisation, written with stray spaces / zero-width / full-width."""
    options = ["lead_space", "trail_space", "zero_width", "ideographic_space"]
    if any(ch.isascii() and ch.isalnum() for ch in name):
        options.append("fullwidth_ascii")
    style = rng.choice(options)
    i = rng.randint(1, max(1, len(name) - 1))
    text = {
        "lead_space": " " + name,
        "trail_space": name + "  ",
        "zero_width": name[:i] + "\u200b" + name[i:],
        "ideographic_space": name + "\u3000",
        "fullwidth_ascii": name.translate(_FULLWIDTH),
    }[style]
    if reference.normalize_text(text) != reference.normalize_text(name):
        return "plain", name
    return style, text


def unit_text(
    unit_name: str, aliases: tuple[str, ...], mess: Messiness, rng: random.Random
) -> tuple[str, list[str]]:
    features = []
    text = unit_name
    if aliases and rng.random() < mess.unit_alias:
        text = rng.choice(aliases)
        features.append("unit_alias")
    if rng.random() < mess.unit_noise:
        style = rng.choice(("spaced", "trailing_space", "zero_width", "seal_suffix"))
        text = {
            "spaced": " ".join(text),
            "trailing_space": f" {text}  ",
            "zero_width": text[:1] + "\u200b" + text[1:],
            "seal_suffix": text + "（盖章）",
        }[style]
        features.append(f"unit_noise:{style}")
    return text, features


# ---------------------------------------------------------------------------- layout


@dataclass
class RenderedRow:
    row_number: int
    data: RowData
    values: dict[str, Any]  # canonical values of the columns present in the file (as RowData)


@dataclass
class Rendered:
    spec: WorkbookSpec
    writer: str
    sheet: str
    columns: dict[str, str]  # canonical -> header as written (two-row: "parent>child")
    header_rows: list[int]
    rows: list[RenderedRow]
    total_row: int
    footer_row: int
    blank_rows: int
    unit_written: str
    report_date_written: bool
    features: list[str]
    notes: list[dict] = field(default_factory=list)  # cell-level deviations


def _choose_columns(
    report: Report, mess: Messiness, rng: random.Random, features: list[str]
) -> list[str]:
    spec = columns()
    cols = [c for c, s in spec.items() if not s.is_optional_column]
    forced = set(report.force_columns)
    if rng.random() < mess.drop_columns:
        has_value = {c for row in report.rows for c, v in row.values.items() if v is not None}
        droppable = [
            c
            for c in DROPPABLE
            if c not in forced and not (c == "foreign_usd_wan" and c in has_value)
        ]
        dropped = rng.sample(droppable, rng.randint(1, 3))
        cols = [c for c in cols if c not in dropped]
        features.append("dropped:" + ",".join(dropped))
    extra = [c for c in OFFERED_OPTIONAL if c in forced]
    if rng.random() < mess.optional_columns:
        extra += rng.sample(OFFERED_OPTIONAL, rng.randint(1, 3))
    extra = [c for c in OFFERED_OPTIONAL if c in extra]
    if extra:
        cols += extra
        features.append("optional:" + ",".join(extra))
    if rng.random() < mess.shuffle_columns:
        rng.shuffle(cols)
        lead = "seq" if "seq" in cols else "project_name"
        cols.remove(lead)
        cols.insert(0, lead)
        features.append("shuffled_columns")
    return cols


def _header_text(name: str, mess: Messiness, rng: random.Random, bracket: str | None) -> str:
    spec = columns()[name]
    base = _BRACKET.sub("", spec.label_zh)
    if rng.random() < mess.header_variant:
        base = rng.choice([v for v in spec.header_variants if ">" not in v])
    if bracket and spec.dtype == "amount" and not _BRACKET.search(base):
        unit = "万美元" if name == "foreign_usd_wan" else "万元"
        base += bracket.format(unit)
    return base


def _two_row_children(parent: str, rng: random.Random) -> tuple[str, str]:
    def pick(name: str) -> str:
        options = [
            v.split(">", 1)[1]
            for v in columns()[name].header_variants
            if v.startswith(parent + ">")
        ]
        return rng.choice(options)

    return pick("funds_period_wan"), pick("funds_cumulative_wan")


def render(
    report: Report, mess: Messiness, writer: str, rng: random.Random, county_name: str = "夏邑县"
) -> Rendered:
    features: list[str] = []
    notes: list[dict] = []
    cols = _choose_columns(report, mess, rng, features)
    bracket = None
    if rng.random() < mess.bracket_units:
        bracket = rng.choice(("（{}）", "({})"))
        features.append("bracket_units:" + ("full" if bracket.startswith("（") else "half"))
    two_row = (
        rng.random() < mess.two_row_header
        and "funds_period_wan" in cols
        and "funds_cumulative_wan" in cols
    )
    headers = {c: _header_text(c, mess, rng, bracket) for c in cols}
    if any(
        headers[c] != _BRACKET.sub("", columns()[c].label_zh)
        and _BRACKET.sub("", headers[c]) != _BRACKET.sub("", columns()[c].label_zh)
        for c in cols
    ):
        features.append("header_synonyms")
    parent = ""
    if two_row:
        cols.remove("funds_cumulative_wan")
        cols.insert(cols.index("funds_period_wan") + 1, "funds_cumulative_wan")
        parent = rng.choice(("到位资金", "实际到位资金"))
        child_period, child_cum = _two_row_children(parent, rng)
        headers["funds_period_wan"], headers["funds_cumulative_wan"] = child_period, child_cum
        features.append("two_row_header")
    ncols = len(cols)
    col_of = {c: i + 1 for i, c in enumerate(cols)}

    sheet_name = rng.choice(
        (
            "Sheet1",
            f"{report.month}月",
            "招商引资进展表",
            "项目明细",
            f"{report.year}年{report.month}月",
        )
    )
    data = SheetSpec(sheet_name)
    data.widths = {col_of[c]: (30 if c in ("project_name", "investor_name") else 13) for c in cols}

    # title and info line
    title = rng.choice(
        (
            f"{county_name}{TITLE}",
            f"{county_name}{report.year}年{report.month}月{TITLE}",
            f"{TITLE}（月报）",
        )
    )
    data.put(1, 1, title, bold=True)
    if rng.random() < 0.7:
        data.merges.append((1, 1, 1, ncols))
    unit_written, unit_features = unit_text(report.unit.unit_name, report.unit.aliases, mess, rng)
    features += unit_features
    period_text = rng.choice(
        (
            f"{report.year}年{report.month}月",
            f"{report.year}年{report.month:02d}月",
            f"{report.year}年{report.month}月份",
        )
    )
    force_date = report.role != "normal"
    where_date = None
    if force_date or rng.random() < mess.report_date_on_sheet:
        where_date = rng.choice(("footer", "footer", "info"))
    date_written = (
        f"{report.report_date.year}年{report.report_date.month}月{report.report_date.day}日"
    )
    parts = [f"填报单位：{unit_written}", f"报告期：{period_text}", "单位：万元"]
    if where_date == "info":
        parts.append(f"填报日期：{date_written}")
    if rng.random() < mess.info_split and ncols >= 8:
        step = max(2, ncols // len(parts))
        for i, part in enumerate(parts):
            data.put(2, 1 + i * step, part)
        features.append("info_split_cells")
    else:
        data.put(2, 1, "      ".join(parts))

    # header
    header_rows = [3, 4] if two_row else [3]
    written_headers: dict[str, str] = {}
    for c in cols:
        col = col_of[c]
        if two_row and c in ("funds_period_wan", "funds_cumulative_wan"):
            data.put(4, col, headers[c], bold=True)
            written_headers[c] = f"{parent}>{headers[c]}"
        else:
            data.put(3, col, headers[c], bold=True)
            written_headers[c] = headers[c]
            if two_row:
                data.merges.append((3, col, 4, col))
    if two_row:
        p_col = col_of["funds_period_wan"]
        parent_text = parent + (bracket.format("万元") if bracket else "")
        data.put(3, p_col, parent_text, bold=True)
        data.merges.append((3, p_col, 3, p_col + 1))
        written_headers["funds_period_wan"] = f"{parent_text}>{headers['funds_period_wan']}"
        written_headers["funds_cumulative_wan"] = f"{parent_text}>{headers['funds_cumulative_wan']}"

    # project rows
    row_no = header_rows[-1] + 1
    blank_after: set[int] = set()
    if len(report.rows) >= 2 and rng.random() < mess.blank_rows:
        blank_after = set(
            rng.sample(range(len(report.rows) - 1), min(len(report.rows) - 1, rng.randint(1, 3)))
        )
        features.append("blank_rows")
    rendered_rows: list[RenderedRow] = []
    totals = {c: Decimal(0) for c in TOTALLED if c in col_of}
    for i, row in enumerate(report.rows):
        values = {c: row.values.get(c) for c in cols if c != "seq"}
        if "credit_share_pct" in values and values["credit_share_pct"] is None:
            values["credit_share_pct"] = Decimal(100)
        values["seq"] = i + 1 if "seq" in col_of else None
        if "seq" not in col_of:
            values.pop("seq")
        for c in cols:
            _write_cell(
                data,
                row_no,
                col_of[c],
                c,
                values.get(c),
                row.raw.get(c),
                mess,
                rng,
                notes,
                sheet_name,
            )
        rendered_rows.append(RenderedRow(row_no, row, values))
        if not row.quarantine:
            for c in totals:
                value = values.get(c)
                if isinstance(value, Decimal):
                    totals[c] += value
        row_no += 1
        if i in blank_after:
            row_no += 1
    first_data, last_data = header_rows[-1] + 1, row_no - 1

    # 合计 row
    total_row = row_no
    label_col = 1
    data.put(total_row, label_col, rng.choice(("合计", "合计", "合  计")))
    text_amounts = any(n["column"] in totals for n in notes)  # Excel's SUM would skip text numbers
    formula_roll = rng.random()  # drawn whatever the writer, so both writers lay out the same file
    use_formula = (
        writer == "xlsxwriter"
        and formula_roll < mess.total_formula
        and not report.total_extra
        and bool(report.rows)
        and not text_amounts
    )
    if use_formula:
        features.append("total_formula")
    for c, value in totals.items():
        value += report.total_extra.get(c, Decimal(0))
        col = col_of[c]
        if col == label_col:
            continue
        if use_formula:
            letter = column_letter(col)
            data.put(
                total_row,
                col,
                number_value(value),
                "f",
                formula=f"=SUM({letter}{first_data}:{letter}{last_data})",
            )
        else:
            data.put(total_row, col, number_value(value), "n")

    # footer
    footer_row = total_row + (2 if rng.random() < 0.3 else 1)
    footer = (
        f"填表人：{person_name(rng)}  联系电话：{mobile_number(rng)}  审核人：{person_name(rng)}"
    )
    if where_date == "footer":
        footer += f"  填报日期：{date_written}"
    data.put(footer_row, 1, footer)

    sheets = [data]
    active = 0
    if rng.random() < mess.instructions_sheet:
        sheets.insert(0, _instructions_sheet())
        active = 1
        features.append("instructions_sheet")
    if rng.random() < mess.hidden_junk_sheet:
        junk = _junk_sheet(rng, [columns()[c].label_zh for c in cols if c != "seq"])
        if rng.random() < 0.5:
            sheets.insert(0, junk)
            active += 1
            features.append("hidden_sheet:first")
        else:
            sheets.append(junk)
            features.append("hidden_sheet:last")
    if where_date:
        features.append(f"report_date:{where_date}")
    features.append(f"writer:{writer}")
    created = datetime(
        report.report_date.year, report.report_date.month, report.report_date.day, 9, 30
    )
    spec = WorkbookSpec(sheets, active, person_name(rng), created)
    return Rendered(
        spec,
        writer,
        sheet_name,
        written_headers,
        header_rows,
        rendered_rows,
        total_row,
        footer_row,
        len(blank_after),
        unit_written,
        where_date is not None,
        features,
        notes,
    )


def _write_cell(
    sheet: SheetSpec,
    row: int,
    col: int,
    name: str,
    value: object,
    raw: str | None,
    mess: Messiness,
    rng: random.Random,
    notes: list[dict],
    sheet_name: str,
) -> None:
    def note(style: str, written: str) -> None:
        notes.append(
            {
                "sheet": sheet_name,
                "row_number": row,
                "column": name,
                "style": style,
                "written": written,
            }
        )

    if raw is not None:
        sheet.put(row, col, raw)
        return
    if value is None:
        return
    spec = columns()[name]
    if name == "seq":
        sheet.put(row, col, value, "n")
    elif isinstance(value, Decimal) and spec.dtype == "percent":
        if rng.random() < 0.5:
            text = decimal_text(value) + "%"
            sheet.put(row, col, text)
            note("percent_sign", text)
        else:
            sheet.put(row, col, number_value(value), "n")
    elif isinstance(value, Decimal):
        if rng.random() < mess.number_as_text:
            style, text = amount_text(value, rng)
            sheet.put(row, col, text)
            note(style, text)
        else:
            sheet.put(row, col, number_value(value), "n")
    elif isinstance(value, date):
        if rng.random() < mess.date_as_text:
            style, text = date_text(value, rng)
            sheet.put(row, col, text)
            note(style, text)
        else:
            sheet.put(
                row,
                col,
                datetime(value.year, value.month, value.day),
                "d",
                num_format=rng.choice(DATE_FORMATS),
            )
    elif spec.dtype in ENUM_DTYPES:
        text = str(value)
        spellings = alias_choices().get(spec.dtype, {}).get(text)
        if spellings and rng.random() < mess.enum_alias:
            text = rng.choice(spellings)
            note("alias", text)
        sheet.put(row, col, text)
    elif name == "project_name" and rng.random() < mess.name_noise:
        style, text = noisy_name(str(value), rng)
        sheet.put(row, col, text)
        if style != "plain":
            note(style, text)
    else:
        sheet.put(row, col, str(value))


def _instructions_sheet() -> SheetSpec:
    sheet = SheetSpec("填表说明")
    lines = (
        "填表说明",
        "1. 本表由各乡镇、县直各单位、驻县单位和金融机构于每月5日前报县招商局。",
        "2. 金额单位为万元；“本期到位资金”只填本月实际到位的资金，须有银行进账单或验资报告。",
        "3. 项目性质填“新引进”或“续建”；产业类别填一产、二产、三产、专项资金或金融贷款。",
        "4. 协议资金（合同引资额）不得作为到位资金填报。",
        "5. 统一社会信用代码填投资方营业执照上的18位代码。",
    )
    for i, line in enumerate(lines, start=1):
        sheet.put(i, 1, line, bold=i == 1)
    sheet.widths = {1: 80}
    return sheet


def _junk_sheet(rng: random.Random, header: list[str]) -> SheetSpec:
    """A hidden sheet a clerk forgot: an old copy of the header and scratch numbers."""
    sheet = SheetSpec(rng.choice(("Sheet2", "辅助表", "历史数据")), hidden=True)
    for j, text in enumerate(header, start=1):
        sheet.put(1, j, text)
    for i in range(2, 2 + rng.randint(2, 5)):
        sheet.put(i, 1, f"测试项目{i - 1}")
        for j in range(2, min(len(header), 8) + 1):
            sheet.put(i, j, rng.randint(1, 999), "n")
    return sheet
