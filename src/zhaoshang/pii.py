"""The one masker for personal data in free text: logs, messages, e-mails and analysts' files.

Clerks type contact details wherever there is room: a mobile number in the project name, a
landline and an ID number in 备注, "联系人：张三" in the signing event. Every path that lets text
leave the ledger for someone other than the inspection team goes through ``mask_text``.
"""

from __future__ import annotations

import re

# Mobile numbers, also written +86 138-1234-5678, 86 13812345678 or with spaces. Not inside a
# lower-case hex id (a UUID, a flag key, a digest), where 11 digits in a row occur by chance.
_MOBILE = re.compile(r"(?<![\da-f])(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?![\da-f])")
# Landlines with an area code: 0370-1234567, 0370 12345678, (0370)1234567, 037012345678.
_LANDLINE = re.compile(r"(?<!\d)[(（]?(0\d{2,3})[)）]?[- ]?(\d{3,4})[- ]?(\d{4})(?!\d)")
# 18-digit resident ID numbers (last character may be X).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
# A person's name right after a contact label: 联系人：张三, 填表人 李四, 负责人:王小明.
_NAMED_CONTACT = re.compile(
    r"(联系人|填表人|填报人|制表人|经办人|审核人|复核人|负责人|对接人|法人代表|法定代表人|法人)"
    r"(?!及|电话|方式|手机)"
    r"(\s*[:：]?\s*)"
    r"([\u4e00-\u9fff·]{2,4}?)"
    r"(?=$|[\s,，;；、。:：()（）\d]|电话|手机|先生|女士|同志)"
)
_NAME_MASK = "***"
# Every pattern above needs three digits in a row or a label (each label has 人): a cell that
# has neither is returned at once, which is most cells (amounts, dates, short names). A number
# needs ten characters at least (a landline: 0 + two digits, three, four), so shorter text with
# no label cannot hold one either (amounts such as 1200.5).
_CANDIDATE = re.compile(r"\d{3}|人")
_SHORTEST_NUMBER = 10


def mask_text(text: str) -> str:
    """Mask mobiles (138****5678), landlines, 18-digit ID numbers and names after contact labels."""
    if not text or (len(text) < _SHORTEST_NUMBER and "人" not in text):
        return text
    if not _CANDIDATE.search(text):
        return text
    return _masked(text)


def _masked(text: str) -> str:
    """Every pattern applied, with no shortcut (``mask_text``'s shortcuts are tested against it)."""
    text = _ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(3)}", text)
    return _NAMED_CONTACT.sub(lambda m: f"{m.group(1)}{m.group(2)}{_NAME_MASK}", text)


def mask_value(value: str | None) -> str | None:
    """``mask_text`` for a nullable column value (the DuckDB function of the analysts' file)."""
    return None if value is None else mask_text(value)


# What a scan counts as personal data left unmasked (tests and the nightly PII metric).
UNMASKED_PATTERNS = (_MOBILE, _LANDLINE, _ID_NUMBER)


def find_unmasked(text: str) -> list[str]:
    """Phone and ID numbers still readable in ``text`` (masked forms contain '*' and do not match)."""
    return [m.group(0) for pattern in UNMASKED_PATTERNS for m in pattern.finditer(text or "")]
