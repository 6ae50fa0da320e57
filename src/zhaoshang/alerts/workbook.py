"""The flagged-rows workbook attached to an alert (written inert by ``zhaoshang.safe_xlsx``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from zhaoshang.safe_xlsx import RISKY_LEADING, Sheet, inert_text, workbook_bytes

__all__ = ["RISKY_LEADING", "flagged_rows_xlsx", "inert_text"]


def flagged_rows_xlsx(
    headers: Sequence[str], rows: Iterable[Sequence[object]], sheet_name: str = "疑点清单"
) -> bytes:
    return workbook_bytes([Sheet(sheet_name, headers, rows)])
