"""User-facing problems with submitted files, in Chinese and English.

Every message a clerk or the inspection team reads about a file comes from ``MESSAGES`` below,
keyed by a stable code (the RELIABILITY catalogue's ``E_*``/``W_*`` ids). A message always names
the file, and where known the sheet, the Excel row and the column, so a clerk can find the cell.
Raw cell values are truncated and personal data (phone numbers, ID numbers) masked before they
are put into a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zhaoshang.pii import mask_text

# code -> (Chinese template, English template). Templates may use {detail}.
MESSAGES: dict[str, tuple[str, str]] = {
    # file-level (REJECT-FILE)
    "E_EMPTY": ("文件为空", "the file is empty"),
    "E_ZIP_CORRUPT": (
        "文件已损坏，无法打开（不是完整的 .xlsx）",
        "the file is corrupt or truncated (not a complete .xlsx)",
    ),
    "E_NOT_XLSX_TEXT": (
        "这是CSV/文本/网页文件，请用模板另存为 .xlsx",
        "this is a CSV/text/HTML file; save it from the template as .xlsx",
    ),
    "E_LEGACY_XLS": (
        "旧版 .xls/WPS 文件无法读取（{detail}），请在Excel/WPS中打开并另存为 .xlsx 后重新提交",
        "the legacy .xls/WPS file cannot be read ({detail}); open it in Excel/WPS, save it as "
        ".xlsx and resubmit",
    ),
    "E_ENCRYPTED": (
        "文件已加密，请去除密码后重新提交",
        "the file is password-protected; remove the password and resubmit",
    ),
    "E_MACRO": (
        "文件含宏（VBA），请另存为不含宏的 .xlsx",
        "the file contains macros (VBA); save it as a macro-free .xlsx",
    ),
    "E_UNSUPPORTED_FORMAT": (
        "不支持的文件格式：{detail}，请用模板另存为 .xlsx（也收 .xls、.xlsb、.ods）",
        "unsupported file format: {detail}; save it from the template as .xlsx "
        "(.xls, .xlsb and .ods are also accepted)",
    ),
    "E_TOO_LARGE": (
        "文件解压后过大（{detail}），疑似压缩炸弹",
        "the file is too large when decompressed ({detail}); possible zip bomb",
    ),
    "E_TOO_MANY_PARTS": (
        "文件包含的工作表或部件过多（{detail}）",
        "the file has too many sheets or parts ({detail})",
    ),
    "E_TOO_MANY_STRINGS": (
        "文件的共享字符串过多（{detail}）",
        "the file has too many shared strings ({detail})",
    ),
    "E_XML_ENTITY": (
        "文件含有不安全的XML实体/DTD，已拒收",
        "the file contains unsafe XML entities or a DTD; rejected",
    ),
    "E_BAD_CELL_REF": (
        "单元格地址超出Excel范围（{detail}）",
        "a cell reference is outside Excel's limits ({detail})",
    ),
    "E_RESOURCE_LIMIT": (
        "解析文件超出内存或时间限制，已拒收",
        "parsing the file exceeded the memory or time limit; rejected",
    ),
    "E_NO_DATA_SHEET": (
        "找不到填报表：没有可见工作表含有模板表头（{detail}）",
        "no data sheet found: no visible sheet has the template header ({detail})",
    ),
    "E_MULTIPLE_DATA_SHEETS": (
        "多个可见工作表都含有模板表头（{detail}），每个文件只能保留一张填报表",
        "several visible sheets have the template header ({detail}); keep one data sheet per file",
    ),
    "E_TEMPLATE": ("表头缺少必填列：{detail}", "the header lacks required columns: {detail}"),
    "E_DUP_HEADER": ("表头列重复：{detail}", "duplicate header columns: {detail}"),
    "E_NO_UNIT": ("找不到“填报单位”", "the reporting unit (填报单位) is missing"),
    "E_UNKNOWN_UNIT": (
        "填报单位“{detail}”不在单位名册（units.csv）中",
        "reporting unit {detail!s} is not in the unit roster (units.csv)",
    ),
    "E_NO_PERIOD": (
        "找不到“报告期”（如 2021年3月）",
        "the report period (报告期, e.g. 2021年3月) is missing",
    ),
    "E_PERIOD": ("报告期无效：{detail}", "invalid report period: {detail}"),
    "E_SIGNED_AFTER_PERIOD": (
        "签约时间晚于报告期：{detail}，请核对日期",
        "the signing date is after the report period: {detail}; check the date",
    ),
    "E_UNREADABLE": ("文件无法读取：{detail}", "the file cannot be read: {detail}"),
    # row-level (QUARANTINE-ROW)
    "E_REQUIRED": ("必填项为空", "a required value is empty"),
    "E_NUMBER": ("不是有效数字：“{detail}”", "not a valid number: {detail!s}"),
    "E_NEGATIVE": ("金额不能为负数：“{detail}”", "an amount cannot be negative: {detail!s}"),
    "E_AMOUNT_NOT_EXACT": (
        "金额不是确切数字（范围/约数/待定）：“{detail}”",
        "the amount is not exact (range, approximation or TBD): {detail!s}",
    ),
    "E_CURRENCY": (
        "金额为外币，请折算为人民币万元：“{detail}”",
        "the amount is in a foreign currency; convert to 10k CNY: {detail!s}",
    ),
    "E_DATE_INVALID": ("日期无效：“{detail}”", "invalid date: {detail!s}"),
    "E_DATE_AMBIGUOUS": (
        "日期不完整或有歧义：“{detail}”",
        "incomplete or ambiguous date: {detail!s}",
    ),
    "E_DATE_RANGE": ("日期超出合理范围：“{detail}”", "date out of the plausible range: {detail!s}"),
    "E_ENUM": ("取值不在允许范围内：“{detail}”", "value not among the allowed ones: {detail!s}"),
    "E_FORMULA_NO_VALUE": (
        "公式没有计算结果，请在Excel/WPS中打开并保存后重新提交",
        "a formula has no cached value; open and save the file in Excel/WPS, then resubmit",
    ),
    "E_CELL_ERROR": ("单元格为错误值：“{detail}”", "the cell holds an error value: {detail!s}"),
    "E_VALUE_TOO_LONG": (
        "内容过长（超过32767个字符）",
        "the value is too long (over 32,767 characters)",
    ),
    "E_DUP_ROW": ("与本表第{detail}行完全重复", "exact duplicate of row {detail} of this sheet"),
    "E_MERGED_VALUE": ("数据区存在合并单元格", "merged cells inside the data area"),
    # file warnings (loaded, reported)
    "W_HIDDEN_SHEET": ("隐藏工作表“{detail}”未读取", "hidden sheet {detail!s} was not read"),
    "W_HIDDEN_ROW": (
        "第{detail}行被隐藏，已照常读取",
        "row {detail} is hidden; it was read as usual",
    ),
    "W_EXTRA_COLUMN": ("未识别的列“{detail}”已忽略", "unrecognised column {detail!s} was ignored"),
    "W_FORMULA": (
        "单元格为公式，已采用其计算结果",
        "cell holds a formula; its cached value was used",
    ),
    "W_PROTECTED": ("工作表受保护（已正常读取）", "the sheet is protected (read as usual)"),
    "W_FORMULA_LIKE_TEXT": (
        "文本以 = + - @ 开头，导出时已按文本处理",
        "text starts with = + - @; exported as inert text",
    ),
    "W_CONTROL_CHARS": ("已去除不可见控制字符", "invisible control characters were removed"),
    "W_LINE_BREAK": (
        "单元格内的换行（含 _x000D_）已替换为空格",
        "line breaks in the cell (incl. _x000D_) were replaced by a space",
    ),
    "W_MACRO": (
        "文件含宏（{detail}）：宏未运行，只读取了单元格的值",
        "the file contains macros ({detail}): they were not run, only cell values were read",
    ),
    "W_NO_TOTAL_ROW": ("表中没有“合计”行", "the sheet has no 合计 (total) row"),
    "W_TOTAL_NOT_COMPUTED": (
        "“合计”行的“{detail}”为公式但没有计算结果，未核对该列合计；请在Excel/WPS中打开并保存后重新提交",
        "the 合计 row's {detail!s} is a formula without a computed value, so that total was not "
        "checked; open and save the file in Excel/WPS, then resubmit",
    ),
    "W_SUBTOTAL_ROW": (
        "第{detail}行为小计/合计行，未作为项目读取",
        "row {detail} is a subtotal/total row; not read as a project",
    ),
}

_RESAVE = "请把数据复制到县招商局下发的模板中，用Excel或WPS保存为 .xlsx 后重新报送。"
_DATE_FIX = "请填写完整的日期，如 2021-03-05。"
# What a unit does about each problem: the receipt (回执) prints it beside the message.
HOW_TO_FIX_ZH: dict[str, str] = {
    "E_EMPTY": "文件是空的，请重新保存并报送完整的文件。",
    "E_ZIP_CORRUPT": "文件已损坏，请用Excel或WPS重新保存为 .xlsx 后报送。",
    "E_NOT_XLSX_TEXT": "请用县招商局下发的模板填写，另存为“Excel 工作簿（.xlsx）”后报送，不要只改扩展名。",
    "E_LEGACY_XLS": "请另存为 .xlsx 后报送。",
    "E_ENCRYPTED": "请在Excel/WPS中取消文件密码后重新报送。",
    "E_MACRO": "请另存为不含宏的 .xlsx 后报送。",
    "E_UNSUPPORTED_FORMAT": _RESAVE,
    "E_TOO_LARGE": _RESAVE,
    "E_TOO_MANY_PARTS": _RESAVE,
    "E_TOO_MANY_STRINGS": _RESAVE,
    "E_XML_ENTITY": _RESAVE,
    "E_BAD_CELL_REF": _RESAVE,
    "E_RESOURCE_LIMIT": _RESAVE,
    "E_UNREADABLE": _RESAVE,
    "E_NO_DATA_SHEET": "请用模板填写，不要删除或改动表头。",
    "E_MULTIPLE_DATA_SHEETS": "一个文件只保留一张填报表，其他月份或单位请分别报送。",
    "E_TEMPLATE": "请用县招商局下发的模板，补齐缺少的表头列。",
    "E_DUP_HEADER": "请删除重复的列。",
    "E_NO_UNIT": "请在“填报单位：”后填写本单位名称（用下发给本单位的模板即已填好）。",
    "E_UNKNOWN_UNIT": "请按县单位名册填写单位名称（用下发给本单位的模板即已填好）。",
    "E_NO_PERIOD": "请在“报告期：”后填写年月，如 2021年3月。",
    "E_PERIOD": "报告期应为所报的月份，如 2021年3月，不能晚于当月。",
    "E_REQUIRED": "请补填该栏目（带 * 的栏目必须填写）。",
    "E_NUMBER": "请只填数字（单位见表头），不要写文字。",
    "E_NEGATIVE": "金额不能为负数，请更正。",
    "E_AMOUNT_NOT_EXACT": "请填写确切金额，不要写范围、“约”或“待定”。",
    "E_CURRENCY": "请折算为人民币万元后填写（外资金额另填“利用外资（万美元）”）。",
    "E_DATE_INVALID": _DATE_FIX,
    "E_DATE_AMBIGUOUS": _DATE_FIX,
    "E_DATE_RANGE": _DATE_FIX,
    "E_ENUM": "请从下拉列表中选择规定的值。",
    "E_FORMULA_NO_VALUE": "请在Excel/WPS中打开文件并保存后重新报送，或把公式改为数值。",
    "E_CELL_ERROR": "请更正公式错误（如 #DIV/0!、#REF!），或直接填写数值。",
    "E_VALUE_TOO_LONG": "请精简该单元格的内容。",
    "E_DUP_ROW": "同一行填了两次，请删除重复的行。",
    "E_MERGED_VALUE": "请取消数据区的合并单元格，每个项目单独填一行。",
}


def how_to_fix(codes: str | None) -> str:
    """The fix for one code or several joined with ；(a row with more than one problem)."""
    parts = [HOW_TO_FIX_ZH.get(c.strip(), "") for c in (codes or "").split("；")]
    return "".join(dict.fromkeys(p for p in parts if p))


def mask_pii(text: str) -> str:
    """Mask personal data in free text (one masker for the whole project: ``zhaoshang.pii``)."""
    return mask_text(text)


def safe_raw_value(value: object, limit: int = 50) -> str | None:
    """A cell value as it may appear in a message: text, PII-masked, at most ``limit`` chars."""
    if value is None:
        return None
    text = mask_pii(str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def column_letter(index: int) -> str:
    """1-based column index -> Excel letters (1 -> A, 27 -> AA)."""
    letters = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def render(code: str, detail: object = "") -> tuple[str, str]:
    """Both messages; a ``(zh, en)`` tuple as detail gives each language its own wording."""
    zh, en = MESSAGES[code]
    if isinstance(detail, tuple) and len(detail) == 2:
        return zh.format(detail=detail[0]), en.format(detail=detail[1])
    detail_text = "" if detail is None else str(detail)
    return zh.format(detail=detail_text), en.format(detail=detail_text)


@dataclass
class Problem:
    """One problem found in a submitted file: where it is, what it is, in both languages."""

    code: str
    source_file: str | None = None
    sheet: str | None = None
    row_number: int | None = None  # 1-based Excel row
    column_index: int | None = None  # 1-based
    column_name: str | None = None  # canonical name, e.g. funds_period_wan
    header: str | None = None  # the header text as written in the sheet
    raw_value: str | None = None  # already masked and truncated (use safe_raw_value)
    detail: object = ""
    message_zh: str = field(init=False)
    message_en: str = field(init=False)

    def __post_init__(self) -> None:
        self.message_zh, self.message_en = render(self.code, self.detail)

    @property
    def column_letter(self) -> str | None:
        return column_letter(self.column_index) if self.column_index else None

    def where_zh(self) -> str:
        parts = [f"文件“{self.source_file}”" if self.source_file else None]
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.row_number:
            parts.append(f"第{self.row_number}行")
        if self.column_index or self.header:
            col = self.column_letter or ""
            parts.append(f"{col}列（{self.header}）" if self.header else f"{col}列")
        return "".join(p for p in parts if p)

    def where_en(self) -> str:
        parts = [f"file {self.source_file!r}" if self.source_file else None]
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.row_number:
            parts.append(f"row {self.row_number}")
        if self.column_index or self.header:
            parts.append(f"column {self.column_letter or ''} ({self.header or self.column_name})")
        return ", ".join(p for p in parts if p)

    def full_message(self) -> str:
        """Chinese then English, each with the location; safe to log (no raw PII)."""
        return f"{self.where_zh()}：{self.message_zh} / {self.where_en()}: {self.message_en}"


class SubmissionRejected(Exception):
    """The whole file cannot be loaded (REJECT-FILE); carries its Problem.

    ``hint``: what the sheet still says about whose file it is, where it could be read that far
    (``unit_written``, ``year``, ``month``, ``sheet``, ``heading_text``); builtins only, as it
    crosses the sandbox boundary.
    """

    def __init__(self, problem: Problem, hint: dict[str, object] | None = None):
        super().__init__(problem.full_message())
        self.problem = problem
        self.hint = hint
