"""The e-mail section on what a night refused: files rejected and rows quarantined, by unit.

Read from the ledger (the loader's own record of the night, ``load_run_id``), so the failure
notice can carry it too when nothing was published. Every text shown is the loader's bilingual
reason, already naming file, sheet, row and column, PII-masked once more before display.
A night whose new files were all refused is not a quiet success: ``IntakeReport.alarming``
makes the subject and the top of the e-mail say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import duckdb

from zhaoshang import reference
from zhaoshang.errors import mask_pii
from zhaoshang.queries import one_row

DETAIL_LIMIT = 200  # problems listed in the body; the attachment sheet has all of them
# Columns and headings of the sheet: export_columns.csv (the one owner of output headings).
SHEET_NAME = reference.sheet_name("alert_intake")
SHEET_COLUMNS = reference.headings("alert_intake")
SHEET_HEADERS = tuple(label for _, label in SHEET_COLUMNS)
DECISION_ZH = {"REJECT-FILE": "拒收整个文件", "QUARANTINE-ROW": "隔离本行（其余行已入库）"}
UNKNOWN_UNIT = "（单位不明）"


@dataclass(frozen=True)
class IntakeProblem:
    unit_name: str
    unit_guessed: bool  # unit/month taken from the folder and file name, not the sheet
    source_file: str
    sheet: str
    row_number: int | None
    column_letter: str
    header: str
    decision: str
    reason_zh: str
    reason_en: str
    submission_id: str

    @property
    def decision_zh(self) -> str:
        return DECISION_ZH.get(self.decision, self.decision)

    @property
    def unit_label(self) -> str:
        return f"{self.unit_name}（据文件名推断）" if self.unit_guessed else self.unit_name


@dataclass
class IntakeReport:
    run_id: str
    files_new: int = 0
    files_loaded: int = 0
    files_rejected: int = 0
    rows_quarantined: int = 0
    problems: list[IntakeProblem] = field(default_factory=list)

    @property
    def has_problems(self) -> bool:
        return bool(self.problems)

    @property
    def alarming(self) -> bool:
        """New files arrived and none of them loaded: the night brought no data at all."""
        return self.files_new > 0 and self.files_loaded == 0

    def keys(self) -> Iterator[str]:
        """Stable identities of what is reported (for the alert key)."""
        for p in self.problems:
            yield f"intake|{p.submission_id}|{p.sheet}|{p.row_number}|{p.decision}"

    def by_unit(self) -> list[dict]:
        units: dict[str, dict] = {}
        for p in self.problems:
            entry = units.setdefault(p.unit_label, {"unit": p.unit_label, "files": 0, "rows": 0})
            if p.decision == "REJECT-FILE":
                entry["files"] += 1
            else:
                entry["rows"] += 1
        return sorted(units.values(), key=lambda u: (-u["files"], -u["rows"], u["unit"]))

    def headline_zh(self) -> str:
        if self.alarming:
            return (
                f"本次收到{self.files_new}个新文件，全部被拒收，没有任何数据入库"
                if self.files_rejected == self.files_new
                else f"本次收到{self.files_new}个新文件，没有任何数据入库"
            )
        return f"本次拒收{self.files_rejected}个文件、隔离{self.rows_quarantined}行"

    def context(self) -> dict:
        return {
            "headline": self.headline_zh(),
            "alarming": self.alarming,
            "files_new": self.files_new,
            "files_loaded": self.files_loaded,
            "files_rejected": self.files_rejected,
            "rows_quarantined": self.rows_quarantined,
            "by_unit": self.by_unit(),
            "details": self.problems[:DETAIL_LIMIT],
            "total": len(self.problems),
            "truncated": len(self.problems) > DETAIL_LIMIT,
        }

    def sheet_rows(self) -> list[tuple]:
        return [tuple(getattr(p, column) for column, _ in SHEET_COLUMNS) for p in self.problems]


def _text(value: object) -> str:
    return "" if value is None else mask_pii(str(value))


def read_intake(con: duckdb.DuckDBPyConnection, run_id: str) -> IntakeReport | None:
    """What the loader refused in run ``run_id``; None when the ledger has no such run's files."""
    tables = {
        r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
    }
    if not {"submissions", "quarantine"} <= tables:
        return None
    counts = one_row(
        con.execute(
            """select count(*),
                      count(*) filter (where status = 'loaded'),
                      count(*) filter (where status = 'rejected'),
                      coalesce(sum(rows_quarantined), 0)
               from submissions where load_run_id = ?""",
            [run_id],
        )
    )
    files_new, files_loaded, files_rejected, rows_quarantined = (int(c or 0) for c in counts)
    report = IntakeReport(run_id, files_new, files_loaded, files_rejected, rows_quarantined)
    if report.files_new == 0:
        return report
    rows = con.execute(
        """select s.unit_name, coalesce(s.identity_source, '') = 'file_name', q.source_file,
                  q.sheet, q.row_number, q.column_letter, q.header, q.decision, q.reason_zh,
                  q.reason_en, q.submission_id
           from quarantine q join submissions s using (submission_id)
           where s.load_run_id = ?
           order by s.unit_name nulls last, q.source_file, q.decision desc, q.row_number""",
        [run_id],
    ).fetchall()
    report.problems = [
        IntakeProblem(
            unit_name=_text(r[0]) or UNKNOWN_UNIT,
            unit_guessed=bool(r[1]) and r[0] is not None,
            source_file=_text(r[2]),
            sheet=_text(r[3]),
            row_number=int(r[4]) if r[4] is not None else None,
            column_letter=_text(r[5]),
            header=_text(r[6]),
            decision=str(r[7]),
            reason_zh=_text(r[8]),
            reason_en=_text(r[9]),
            submission_id=str(r[10]),
        )
        for r in rows
    ]
    return report
