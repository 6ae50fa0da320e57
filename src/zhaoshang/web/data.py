"""What the web pages read: the published warehouse (read-only) and the decisions store.

Every page opens the warehouse through ``open_inspection_db`` for the length of one request, so
a night's publish (an atomic rename) is seen by the next request and a reader never blocks the
nightly run. The store's decisions are newer than the warehouse's (which is as of last night),
so a flag's status on the pages is the store's latest decision when that is the newer one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import duckdb

from zhaoshang import decisions
from zhaoshang.pii import mask_text
from zhaoshang.quality.rules import SEVERITY_RANK, SEVERITY_ZH, load_rules
from zhaoshang.reference import column_map
from zhaoshang.settings import Settings

STATUS_ZH = {"open": "待核查", **decisions.DECISIONS_ZH, "cleared": "已消除"}
CHANGE_ZH = {"new": "新增", "escalated": "升级", "unchanged": "", "cleared": "已消除"}
# Staging names that differ from the column map's canonical names.
ROW_LABELS_EXTRA = {
    "project_status": "项目进展",
    "is_high_tech": "是否高新技术项目",
    "unit_name": "单位",
    "year": "年",
    "month": "月",
}
ROW_HIDDEN = {"submission_id", "sha256", "source_file", "sheet", "row_number", "raw_cells"}


class NotPublished(RuntimeError):
    """No warehouse has been published yet."""


def inspection_db_path(settings: Settings):
    """The file the inspection team's pages read: the published inspection file (full evidence,
    quarantine, history), or the analysts' file where no inspection file was published yet."""
    from zhaoshang.publish import full_path

    return full_path(settings)


@contextmanager
def open_inspection_db(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    path = inspection_db_path(settings)
    if not path.exists():
        raise NotPublished(str(path))
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def _dicts(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _has_table(con, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema=? and table_name=?",
            [schema, name],
        ).fetchone()[0]
    )


@dataclass
class Published:
    run_id: str
    built_at: datetime | None
    logical_date: object


def manifest(con) -> Published:
    row = con.execute("select run_id, built_at, logical_date from audit.manifest").fetchone()
    return Published(*row)


def _rule_names() -> dict[str, str]:
    return {r.rule: r.rule_zh for r in load_rules()}


def _decorate(flag: dict, store: dict[str, decisions.Decision]) -> dict:
    """Effective status (store newer than last night's build wins) and display labels."""
    decided = store.get(flag["flag_key"])
    if decided is not None and flag.get("is_current", True):
        published_at = flag.get("decided_at")
        local = decided.decided_at_local.replace(tzinfo=None)
        if published_at is None or local >= published_at:
            flag = flag | {
                "status": decided.decision,
                "decided_by": decided.decided_by,
                "decided_at": local.replace(microsecond=0),
                "note": decided.note,
            }
    if not flag.get("is_current", True):
        flag = flag | {"status": "cleared"}
    rule_zh = _rule_names()
    return flag | {
        "status_zh": STATUS_ZH.get(flag["status"], flag["status"]),
        "severity_zh": SEVERITY_ZH.get(flag["severity"], flag["severity"]),
        "rule_zh": flag.get("rule_zh") or rule_zh.get(flag["rule"], flag["rule"]),
        "change_zh": CHANGE_ZH.get(flag.get("change") or "", ""),
        "period": f"{flag['year']}年{flag['month']}月"
        if flag.get("year") and flag.get("month")
        else "",
    }


def store_decisions(settings: Settings) -> dict[str, decisions.Decision]:
    with decisions.reader(settings) as con:
        return decisions.latest(con)


def all_flags(con, settings: Settings) -> list[dict]:
    """Tonight's flags with their changes, plus cleared subjects, sorted by severity."""
    has_changes = _has_table(con, "audit", "flag_changes")
    changes_join = (
        """left join audit.flag_changes as changes
           on flags.flag_key = changes.flag_key and changes.is_current"""
        if has_changes
        else ""
    )
    change_cols = (
        "changes.change, changes.change_reason_zh, changes.first_seen_on, changes.changed_on,"
        " changes.change_run_id, changes.subject_key, changes.previous_flag_key"
        if has_changes
        else "null as change, null as change_reason_zh, null as first_seen_on,"
        " null as changed_on, null as change_run_id, null as subject_key,"
        " null as previous_flag_key"
    )
    current = _dicts(
        con.execute(
            f"""select flags.flag_key, flags.rule, flags.rule_zh, flags.severity, flags.status,
                       flags.unit_name, flags.year, flags.month, flags.project_name,
                       flags.evidence, flags.decided_by, flags.decided_at, flags.note,
                       flags.submission_id, flags.source_file, flags.sheet, flags.row_number,
                       flags.entry_id, true as is_current, null as cleared_on, {change_cols}
                from audit.dq_flags as flags {changes_join}"""
        )
    )
    cleared = []
    if has_changes:
        cleared = _dicts(
            con.execute(
                """select flag_key, rule, null as rule_zh, severity, 'cleared' as status,
                          unit_name, year, month, project_name, evidence, null as decided_by,
                          null as decided_at, null as note, null as submission_id, source_file,
                          sheet, row_number, null as entry_id, false as is_current, cleared_on,
                          change, change_reason_zh, first_seen_on, changed_on, change_run_id,
                          subject_key, previous_flag_key
                   from audit.flag_changes where not is_current"""
            )
        )
    store = store_decisions(settings)
    flags = [_decorate(f, store) for f in current + cleared]
    flags.sort(
        key=lambda f: (
            not f["is_current"],
            -SEVERITY_RANK.get(f["severity"], 0),
            f["unit_name"] or "",
            f["year"] or 0,
            f["month"] or 0,
            f["rule"],
            f["source_file"] or "",
            f["row_number"] or 0,
        )
    )
    return flags


def find_flag(con, settings: Settings, flag_key: str) -> dict | None:
    return next((f for f in all_flags(con, settings) if f["flag_key"] == flag_key), None)


def successor(con, flag_key: str) -> str | None:
    """The current flag of a subject whose earlier flag this was (a resubmitted file)."""
    if not _has_table(con, "audit", "flag_changes"):
        return None
    row = con.execute(
        "select flag_key from audit.flag_changes where previous_flag_key = ?", [flag_key]
    ).fetchone()
    return row[0] if row else None


def source_row(con, submission_id: str | None, sheet: str | None, row_number) -> list[tuple]:
    """(label, value) of the loaded row's cells; contact details never reach this table, and
    phones or ID numbers typed into free text (备注) are masked."""
    if not (submission_id and sheet and row_number):
        return []
    if not _has_table(con, "intermediate", "int_project_rows_active"):
        return []
    rows = _dicts(
        con.execute(
            """select * from intermediate.int_project_rows_active
               where submission_id = ? and sheet = ? and row_number = ?""",
            [submission_id, sheet, row_number],
        )
    )
    if not rows:
        return []
    labels = {c.canonical_name: c.label_zh for c in column_map() if not c.is_pii}
    labels |= ROW_LABELS_EXTRA
    out = []
    for name, value in rows[0].items():
        if name in ROW_HIDDEN or name not in labels or value is None:
            continue
        if isinstance(value, bool):
            value = "是" if value else "否"
        elif isinstance(value, Decimal):
            value = f"{value:,.4f}".rstrip("0").rstrip(".")
        elif isinstance(value, str):
            value = mask_text(value)  # 备注 and names are free text: a phone typed there too
        out.append((labels[name], value))
    return out


def typed_cells(con, submission_id: str | None, sheet: str | None, row_number) -> list[tuple]:
    """(header as written, text as typed) of the row's cells, masked again on the way out (the
    loader masked them; a mask added since then applies to rows loaded before it)."""
    if not (submission_id and sheet and row_number):
        return []
    if not _has_table(con, "staging", "stg_ledger__project_rows"):
        return []
    has_column = con.execute(
        """select count(*) from information_schema.columns where table_schema = 'staging'
           and table_name = 'stg_ledger__project_rows' and column_name = 'raw_cells'"""
    ).fetchone()[0]
    if not has_column:
        return []
    found = con.execute(
        """select raw_cells from staging.stg_ledger__project_rows
           where submission_id = ? and sheet = ? and row_number = ?""",
        [submission_id, sheet, row_number],
    ).fetchone()
    if not found or not found[0]:
        return []
    return [(label, mask_text(str(text))) for label, text in json.loads(found[0])]


def row_by_address(con, source_file: str, sheet: str, row_number) -> dict | None:
    if not _has_table(con, "intermediate", "int_project_rows_active"):
        return None
    rows = _dicts(
        con.execute(
            """select submission_id, sheet, row_number, unit_name, year, month, project_name,
                      source_file
               from intermediate.int_project_rows_active
               where source_file = ? and sheet = ? and row_number = ?""",
            [source_file, sheet, row_number],
        )
    )
    return rows[0] if rows else None


def related(con, flag: dict, flags: list[dict]) -> list[dict]:
    """Rows the evidence points at: the earlier report (以旧充新, cumulative rules) and the other
    units' claims of the same project (拼凑挂靠)."""
    if not flag.get("entry_id") or not _has_table(con, "intermediate", "int_dq_entries"):
        return []
    entry = _dicts(
        con.execute(
            "select * from intermediate.int_dq_entries where entry_id = ?", [flag["entry_id"]]
        )
    )
    if not entry:
        return []
    e = entry[0]
    out = []
    for prefix, label in (("earlier", "往年已报项目"), ("previous", "本单位上次报送")):
        source_file = e.get(f"{prefix}_source_file")
        row_number = e.get(f"{prefix}_row_number")
        if source_file and row_number:
            sheet = e.get(f"{prefix}_sheet")
            found = row_by_address(con, source_file, sheet, row_number) if sheet else None
            out.append(
                {
                    "label": label,
                    "text": f"{source_file} 第{row_number}行",
                    "row": found,
                    "flag_key": None,
                }
            )
    if flag["rule"] == "DUPLICATE_CLAIM" and e.get("investor_uscc"):
        others = con.execute(
            """select entry_id from intermediate.int_dq_entries
               where investor_uscc = ? and year = ? and unit_name <> ?""",
            [e["investor_uscc"], e["year"], e["unit_name"]],
        ).fetchall()
        other_ids = {r[0] for r in others}
        for f in flags:
            if f.get("entry_id") in other_ids and f["rule"] == "DUPLICATE_CLAIM":
                out.append(
                    {
                        "label": "其他单位的申报",
                        "text": f"{f['unit_name']} {f['period']} {f['source_file']} 第{f['row_number']}行",
                        "row": None,
                        "flag_key": f["flag_key"],
                    }
                )
    return out


def unit_page(con, settings: Settings, unit_name: str) -> dict:
    flags = [f for f in all_flags(con, settings) if f["unit_name"] == unit_name]
    quarantine = _dicts(
        con.execute(
            """select source_file, sheet, row_number, column_letter, header, reason_zh, raw_value
               from audit.quarantine
               where unit_name = ? and decision = 'QUARANTINE-ROW' and is_in_inbox
               order by source_file, row_number""",
            [unit_name],
        )
    )
    refused = _dicts(
        con.execute(
            """select source_file, year, month, reason_zh, received_at from audit.load_log
               where status = 'rejected' and unit_name = ? order by received_at""",
            [unit_name],
        )
    )
    performance = _dicts(
        con.execute(
            """select * from marts.unit_performance where unit_name = ?
               order by year desc, month desc limit 1""",
            [unit_name],
        )
    )
    missing = [f for f in flags if f["rule"] == "MISSING_REPORT" and f["is_current"]]
    return {
        "flags": flags,
        "quarantine": quarantine,
        "refused": refused,
        "missing": missing,
        "performance": performance[0] if performance else None,
    }


def units(con) -> list[str]:
    rows = con.execute(
        """select distinct unit_name from marts.unit_performance
           where unit_name is not null order by unit_name"""
    ).fetchall()
    return [r[0] for r in rows]


def latest_period(con) -> tuple[int, int] | None:
    row = con.execute(
        "select year, month from marts.sector_summary order by year desc, month desc limit 1"
    ).fetchone()
    return (row[0], row[1]) if row else None


def overview(con, settings: Settings) -> dict:
    period = latest_period(con)
    if period is None:
        return {"period": None}
    year, month = period
    sectors = _dicts(
        con.execute(
            """select sector, new_projects, funds_wan, share_pct from marts.sector_summary
               where year = ? and month = ? order by sector_order""",
            [year, month],
        )
    )
    bands = _dicts(
        con.execute(
            """select size_band_zh, new_projects, funds_wan from marts.size_band_summary
               where year = ? and month = ? order by size_band_order""",
            [year, month],
        )
    )
    units_perf = _dicts(
        con.execute(
            """select unit_name, completion_pct, elapsed_pct, schedule_status_zh, score, rank,
                      verified_score, open_flags, funds_wan
               from marts.unit_performance
               where year = ? and month = ? and is_on_roster
               order by rank nulls last, unit_name""",
            [year, month],
        )
    )
    monthly = _dicts(
        con.execute(
            """select month, sum(funds_wan) as funds_wan from marts.sector_summary
               where year = ? group by month order by month""",
            [year],
        )
    )
    flags = all_flags(con, settings)
    by_rule: dict[str, dict[str, int]] = {}
    for f in flags:
        counts = by_rule.setdefault(f["rule_zh"], {})
        counts[f["status"]] = counts.get(f["status"], 0) + 1
    return {
        "period": period,
        "sectors": sectors,
        "bands": bands,
        "units": units_perf,
        "monthly": monthly,
        "flags_by_rule": by_rule,
        "total_funds": sum((s["funds_wan"] or 0) for s in sectors),
    }
