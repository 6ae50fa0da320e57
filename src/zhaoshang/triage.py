"""Between the quality stage and dbt pass 2: the team's decisions and what changed since last night.

``prepare_build(settings, build_db, run_id, logical_date)`` is the one call the nightly makes. It
writes two tables into the build file, which pass 2 reads (``audit.dq_flags``,
``audit.flag_changes``):

- ``dq.flag_decisions`` — the decisions store's latest decision per flag, plus decisions carried
  over from last night: a flag whose file was resubmitted gets a new ``flag_key`` (the key holds
  the file's sha), and when its severity and material evidence are unchanged the earlier decision
  still holds. dbt merges these with ``raw/reference/flag_decisions.csv`` (latest wins), so store
  and CSV decisions reach ``status``, the verified figures and the alerts the same way.
- ``dq.flag_changes`` — one row per *subject* ever flagged (rule + the unit's project, sheet total
  or unit-month, not the file), compared with the last published night: ``new``, ``escalated``
  (severity rose, or the evidence's amounts or files changed), ``unchanged`` or ``cleared`` (the
  row was corrected or withdrawn: no flag tonight), with the night of each change. Cleared
  subjects stay, so the web pages can show 已消除 and since when.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import string
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from zhaoshang import decisions
from zhaoshang.decisions import LOCAL_TZ
from zhaoshang.quality.evidence import format_value, is_missing
from zhaoshang.quality.rules import SEVERITY_RANK, SEVERITY_ZH, load_rules
from zhaoshang.queries import one_row, scalar
from zhaoshang.settings import Settings

log = logging.getLogger(__name__)

DECIDED = ("confirmed", "dismissed", "follow_up")
FLAG_DECISIONS_DDL = """
create or replace table dq.flag_decisions (
    flag_key varchar not null,
    decision varchar not null,
    decided_by varchar,
    decided_at timestamp,
    note varchar,
    decision_source varchar not null
)"""
FLAG_CHANGES_COLUMNS = {
    "subject_key": "varchar",
    "flag_key": "varchar",
    "previous_flag_key": "varchar",
    "rule": "varchar",
    "severity": "varchar",
    "previous_severity": "varchar",
    "evidence_fingerprint": "varchar",
    "unit_name": "varchar",
    "year": "integer",
    "month": "integer",
    "project_name": "varchar",
    "source_file": "varchar",
    "sheet": "varchar",
    "row_number": "integer",
    "evidence": "varchar",
    "is_current": "boolean",
    "change": "varchar",
    "change_reason_zh": "varchar",
    "change_run_id": "varchar",
    "changed_on": "date",
    "first_seen_on": "date",
    "cleared_on": "date",
}
# Evidence placeholders whose change is material (issue: "new amount, new file"); others, such
# as how many units have reported this month, drift every night without changing the case.
MATERIAL_SUFFIXES = ("_wan", "source_file")


@dataclass
class Flag:
    """Tonight's flag with what tracking needs."""

    subject_key: str
    flag_key: str
    rule: str
    severity: str
    fingerprint: str
    values: dict


def _night(logical_date: date | None) -> date:
    return logical_date or datetime.now(LOCAL_TZ).date()


def _find_table(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    found = con.execute(
        """select table_schema from information_schema.tables
           where table_name = ? and table_catalog = current_database()""",
        [name],
    ).fetchall()
    return f'"{found[0][0]}"."{name}"' if found else None


def _material_fields() -> dict[tuple[str, str], tuple[str, ...]]:
    """(rule, signal) -> the placeholders of its evidence sentence that are amounts or files."""
    out = {}
    for rule in load_rules():
        for signal in rule.signals:
            names = [f for _, f, _, _ in string.Formatter().parse(signal.evidence_zh) if f]
            out[(rule.rule, signal.signal)] = tuple(
                sorted({n for n in names if n.endswith(MATERIAL_SUFFIXES)})
            )
    return out


def fingerprint(rule: str, signals: list[str], row: dict) -> str:
    """What must stay equal for a decision to keep holding: the signals, amounts and files."""
    material = _material_fields()
    fields: dict[str, str] = {}
    for signal in signals:
        for name in material.get((rule, signal), ()):
            fields[name] = format_value(name, row.get(name))
    payload = json.dumps([sorted(signals), sorted(fields.items())], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def tonight_flags(con: duckdb.DuckDBPyConnection) -> list[Flag]:
    """``dq.gx_flags`` with a subject key (independent of the file) and a fingerprint."""
    entries = _find_table(con, "int_dq_entries")
    if entries is None:
        raise RuntimeError("the build file has no int_dq_entries (dbt pass 1 did not build it)")
    frame = con.execute(
        f"""
        with keyed as (
            select
                flags.*,
                case entries.entry_kind
                    when 'project_row' then concat_ws('|', flags.rule, flags.unit_name,
                        flags.year, flags.month, 'project', entries.project_id)
                    when 'sheet_total' then concat_ws('|', flags.rule, flags.unit_name,
                        flags.year, flags.month, 'total', flags.sheet)
                    else concat_ws('|', flags.rule, flags.entry_id)
                end as subject_base
            from dq.gx_flags as flags
            left join {entries} as entries on flags.entry_id = entries.entry_id
        )
        select
            *,
            row_number() over (
                partition by subject_base order by sheet, row_number, flag_key
            ) as occurrence
        from keyed
        """
    ).df()
    features = con.execute(
        f"select * from {entries} where entry_id in (select entry_id from dq.gx_flags)"
    ).df()
    by_entry = {r["entry_id"]: r for r in features.to_dict("records")}
    flags = []
    for row in frame.to_dict("records"):
        base = f"{row['subject_base']}|{row['occurrence']}"
        signals = [s for s in str(row.get("signal") or "").split(",") if s]
        flags.append(
            Flag(
                subject_key=hashlib.sha256(base.encode()).hexdigest()[:32],
                flag_key=row["flag_key"],
                rule=row["rule"],
                severity=row["severity"],
                fingerprint=fingerprint(row["rule"], signals, by_entry.get(row["entry_id"], {})),
                values=row,
            )
        )
    return flags


def baseline_path(settings: Settings, run_id: str) -> Path | None:
    """The last published warehouse built by another run ("last night"), for a rerun too."""
    # The inspection file holds audit.flag_changes and the flags' full evidence.
    candidates = [settings.inspection_path, settings.warehouse]
    if settings.history_dir.exists():
        candidates += sorted(settings.history_dir.glob("inspection_*.duckdb"), reverse=True)
    for path in candidates:
        if not path.exists():
            continue
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                built_by = scalar(con.execute("select run_id from audit.manifest"))
        except duckdb.Error:
            continue
        if built_by != run_id:
            return path
    return None


# --------------------------------------------------------------------------------------------
# The flag history store: what each published night's flag_changes and decisions were, kept in
# the state dir by the nightly run (its only writer, under the run lock). A published warehouse
# is rebuilt every night and can be rolled back or restored; this store is not, so "已消除 on
# night N", "escalated" and decisions carried to a resubmitted file survive both.

HISTORY_KEEP_NIGHTS = 30  # snapshots kept; the events table keeps every change forever
HISTORY_SCHEMA = (
    """create table if not exists nights (
        run_id text primary key,
        logical_date text,
        built_at text not null,
        recorded_at text not null
    )""",
    "create table if not exists flag_states (run_id text not null, "
    + ", ".join(f"{n} text" for n in FLAG_CHANGES_COLUMNS)
    + ", primary key (run_id, subject_key))",
    """create table if not exists flag_decisions (
        run_id text not null,
        flag_key text not null,
        decision text not null,
        decided_by text,
        decided_at text,
        note text,
        primary key (run_id, flag_key)
    )""",
    """create table if not exists flag_events (
        subject_key text not null,
        run_id text not null,
        night text,
        change text not null,
        flag_key text,
        severity text,
        reason_zh text,
        primary key (subject_key, run_id)
    )""",
)


def history_path(settings: Settings) -> Path:
    return settings.state_dir / "flag_history.sqlite"


def _history_writer(settings: Settings) -> sqlite3.Connection:
    from zhaoshang.recovery import private_dir

    path = history_path(settings)
    private_dir(path.parent)
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # the evidence names projects and investors: the pipeline's only
    con.execute("pragma journal_mode = wal")
    con.execute("pragma synchronous = full")
    for statement in HISTORY_SCHEMA:
        con.execute(statement)
    return con


def _text(value, kind: str | None = None) -> str | None:
    if is_missing(value):
        return None
    if kind == "date" and isinstance(value, datetime):
        value = value.date()  # DuckDB dates come out of a DataFrame as midnight Timestamps
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _typed(name: str, text: str | None):
    """A stored text back as what compare() reads from a warehouse's flag_changes."""
    if text is None:
        return None
    kind = FLAG_CHANGES_COLUMNS.get(name)
    if kind == "boolean":
        return text == "1"
    if kind == "integer":
        return int(text)
    if kind == "date":
        return date.fromisoformat(text)
    return text


def remember_published(settings: Settings, run_id: str) -> dict:
    """Copy the just-published night's flag_changes and decided flags into the history store.

    Idempotent (a rerun of the stage rewrites the night). Called after the atomic rename, so a
    night that failed before publishing never becomes anyone's "last night".
    """
    from zhaoshang.publish import full_path

    path = full_path(settings)
    with duckdb.connect(str(path), read_only=True) as wh:
        built_by, logical_date, built_at = one_row(
            wh.execute("select run_id, logical_date, built_at from audit.manifest")
        )
        if built_by != run_id:
            raise RuntimeError(f"published file is {built_by}, not {run_id}: nothing recorded")
        has = {
            r[0]
            for r in wh.execute(
                "select table_name from information_schema.tables where table_schema = 'audit'"
            ).fetchall()
        }
        changes = (
            wh.execute("select * from audit.flag_changes").df().to_dict("records")
            if "flag_changes" in has
            else []
        )
        decided = wh.execute(
            """select flag_key, status, decided_by, decided_at, note from audit.dq_flags
               where status in ('confirmed', 'dismissed', 'follow_up')"""
        ).fetchall()
    con = _history_writer(settings)
    try:
        con.execute("begin immediate")
        for table in ("nights", "flag_states", "flag_decisions"):
            con.execute(f"delete from {table} where run_id = ?", [run_id])
        con.execute(
            "insert into nights values (?, ?, ?, ?)",
            [run_id, _text(logical_date), _text(built_at), datetime.now(LOCAL_TZ).isoformat()],
        )
        names = list(FLAG_CHANGES_COLUMNS)
        con.executemany(
            f"insert into flag_states values (?, {', '.join('?' for _ in names)})",
            [[run_id, *(_text(c.get(n), FLAG_CHANGES_COLUMNS[n]) for n in names)] for c in changes],
        )
        con.executemany(
            "insert or replace into flag_decisions values (?, ?, ?, ?, ?, ?)",
            [[run_id, k, d, by, _text(at), note] for k, d, by, at, note in decided],
        )
        con.executemany(
            "insert or replace into flag_events values (?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    c["subject_key"],
                    run_id,
                    _text(c.get("changed_on"), "date"),
                    c["change"],
                    c.get("flag_key"),
                    c.get("severity"),
                    _text(c.get("change_reason_zh")),
                ]
                for c in changes
                if c.get("change_run_id") == run_id and c.get("change") != "unchanged"
            ],
        )
        old = [
            r[0]
            for r in con.execute(
                "select run_id from nights order by built_at desc limit -1 offset ?",
                [HISTORY_KEEP_NIGHTS],
            ).fetchall()
        ]
        for table in ("nights", "flag_states", "flag_decisions"):
            con.executemany(f"delete from {table} where run_id = ?", [[r] for r in old])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.close()
    return {"flag_states": len(changes), "decisions": len(decided)}


def _stored_night(settings: Settings, run_id: str) -> tuple[datetime, str] | None:
    """(built_at, run_id) of the newest night in the history store not built by ``run_id``."""
    path = history_path(settings)
    if not path.exists():
        return None
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        row = con.execute(
            "select built_at, run_id from nights where run_id <> ? order by built_at desc limit 1",
            [run_id],
        ).fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()
    return (datetime.fromisoformat(row[0]), row[1]) if row else None


def _read_stored(settings: Settings, night_run: str) -> tuple[dict[str, dict], dict[str, dict]]:
    con = sqlite3.connect(f"{history_path(settings).resolve().as_uri()}?mode=ro", uri=True)
    try:
        names = list(FLAG_CHANGES_COLUMNS)
        changes = {}
        for row in con.execute(
            f"select {', '.join(names)} from flag_states where run_id = ?", [night_run]
        ):
            record = {n: _typed(n, v) for n, v in zip(names, row, strict=True)}
            changes[record["subject_key"]] = record
        decided = {
            k: {
                "decision": d,
                "decided_by": by,
                "decided_at": datetime.fromisoformat(at) if at else None,
                "note": note,
            }
            for k, d, by, at, note in con.execute(
                """select flag_key, decision, decided_by, decided_at, note from flag_decisions
                   where run_id = ?""",
                [night_run],
            )
        }
    finally:
        con.close()
    return changes, decided


def _built_at(path: Path) -> datetime | None:
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return scalar(con.execute("select built_at from audit.manifest"))
    except duckdb.Error:
        return None


def baseline(settings: Settings, run_id: str) -> tuple[dict[str, dict], dict[str, dict], str]:
    """Last night's flag_changes and decisions, and where they came from.

    The newer of the history store's last night and the last published file: the store wins
    after a rollback or restore (the file is older), the file wins on the first night after
    an upgrade or when the store missed a night (a crash between publish and record).
    """
    stored = _stored_night(settings, run_id)
    path = baseline_path(settings, run_id)
    file_built = _built_at(path) if path is not None else None
    if stored is not None and (file_built is None or stored[0] >= file_built):
        changes, decided = _read_stored(settings, stored[1])
        return changes, decided, f"history:{stored[1]}"
    changes, decided = _read_baseline(path)
    return changes, decided, f"file:{path}" if path else "none"


def subject_events(settings: Settings, subject_key: str | None) -> list[dict]:
    """A subject's changes night by night (新增, 升级, 已消除), oldest first."""
    path = history_path(settings)
    if not subject_key or not path.exists():
        return []
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        rows = con.execute(
            """select night, change, severity, reason_zh, run_id from flag_events
               where subject_key = ? order by night, run_id""",
            [subject_key],
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()
    return [
        {"night": n, "change": c, "severity": sev, "reason_zh": r, "run_id": run}
        for n, c, sev, r, run in rows
    ]


def _read_baseline(path: Path | None) -> tuple[dict[str, dict], dict[str, dict]]:
    """(subject_key -> last night's flag_changes row, flag_key -> its decision in dq_flags)."""
    if path is None:
        return {}, {}
    with duckdb.connect(str(path), read_only=True) as con:
        has = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'audit'"
            ).fetchall()
        }
        changes = {}
        if "flag_changes" in has:
            frame = con.execute("select * from audit.flag_changes").df()
            changes = {r["subject_key"]: r for r in frame.to_dict("records")}
        decided = {}
        if "dq_flags" in has:
            rows = con.execute(
                """select flag_key, status, decided_by, decided_at, note from audit.dq_flags
                   where status in ('confirmed', 'dismissed', 'follow_up')"""
            ).fetchall()
            decided = {
                r[0]: {"decision": r[1], "decided_by": r[2], "decided_at": r[3], "note": r[4]}
                for r in rows
            }
    return changes, decided


def _value(row: dict, name: str):
    value = row.get(name)
    return None if is_missing(value) else value


def compare(tonight: list[Flag], baseline: dict[str, dict], run_id: str, night: date) -> list[dict]:
    """One flag_changes row per subject seen tonight or earlier."""
    rows = []
    seen = set()
    for flag in tonight:
        seen.add(flag.subject_key)
        before = baseline.get(flag.subject_key)
        v = flag.values
        record = {
            "subject_key": flag.subject_key,
            "flag_key": flag.flag_key,
            "previous_flag_key": None,
            "rule": flag.rule,
            "severity": flag.severity,
            "previous_severity": None,
            "evidence_fingerprint": flag.fingerprint,
            "unit_name": _value(v, "unit_name"),
            "year": _value(v, "year"),
            "month": _value(v, "month"),
            "project_name": _value(v, "project_name"),
            "source_file": _value(v, "source_file"),
            "sheet": _value(v, "sheet"),
            "row_number": _value(v, "row_number"),
            "evidence": _value(v, "evidence"),
            "is_current": True,
            "cleared_on": None,
        }
        if before is None or not before["is_current"]:
            again = before is not None
            record |= {
                "change": "new",
                "change_reason_zh": "消除后再次出现" if again else "首次发现",
                "change_run_id": run_id,
                "changed_on": night,
                "first_seen_on": night,
            }
        else:
            reasons = []
            old_rank = SEVERITY_RANK.get(before["severity"], 0)
            if SEVERITY_RANK.get(flag.severity, 0) > old_rank:
                reasons.append(
                    f"严重程度由{SEVERITY_ZH.get(before['severity'], before['severity'])}"
                    f"升为{SEVERITY_ZH.get(flag.severity, flag.severity)}"
                )
            if flag.fingerprint != before["evidence_fingerprint"]:
                reasons.append("证据有实质变化（金额或文件）")
            record |= {
                "previous_flag_key": before["flag_key"]
                if before["flag_key"] != flag.flag_key
                else before.get("previous_flag_key"),
                "previous_severity": before["severity"],
                "first_seen_on": before["first_seen_on"],
            }
            if reasons:
                record |= {
                    "change": "escalated",
                    "change_reason_zh": "；".join(reasons),
                    "change_run_id": run_id,
                    "changed_on": night,
                }
            else:
                record |= {
                    "change": "unchanged",
                    "change_reason_zh": None,
                    "change_run_id": before["change_run_id"],
                    "changed_on": before["changed_on"],
                }
        rows.append(record)
    for subject, before in baseline.items():
        if subject in seen:
            continue
        record = {k: before.get(k) for k in FLAG_CHANGES_COLUMNS}
        if before["is_current"]:
            record |= {
                "is_current": False,
                "change": "cleared",
                "change_reason_zh": "本行已更正或撤回，今晚不再触发",
                "change_run_id": run_id,
                "changed_on": night,
                "cleared_on": night,
            }
        elif before["change"] == "cleared":
            record["change"] = "unchanged"  # cleared on an earlier night: kept as 已消除
        rows.append(record)
    return rows


def carried_decisions(
    changes: list[dict], own: set[str], decided_before: dict[str, dict]
) -> list[tuple]:
    """Decisions of last night's flag for subjects whose case is unchanged tonight."""
    out = []
    for c in changes:
        if not c["is_current"] or c["change"] != "unchanged" or c["flag_key"] in own:
            continue
        earlier_key = c["previous_flag_key"] or c["flag_key"]
        for key in (c["flag_key"], earlier_key):
            earlier = decided_before.get(key)
            if earlier:
                out.append(
                    (
                        c["flag_key"],
                        earlier["decision"],
                        earlier["decided_by"],
                        earlier["decided_at"],
                        earlier["note"],
                        "carried",
                    )
                )
                break
    return out


def _own_csv_keys(con: duckdb.DuckDBPyConnection) -> set[str]:
    table = _find_table(con, "stg_reference__flag_decisions")
    if table is None:
        return set()
    return {r[0] for r in con.execute(f"select flag_key from {table}").fetchall()}


def prepare_build(
    settings: Settings, build_db: Path, run_id: str, logical_date: date | None = None
) -> dict:
    """Write ``dq.flag_decisions`` and ``dq.flag_changes`` into the build file (see module doc)."""
    store_rows = [(*row, "store") for row in decisions.for_build(settings)]
    last_night, decided_before, source = baseline(settings, run_id)
    with duckdb.connect(str(build_db)) as con:
        tonight = tonight_flags(con)
        changes = compare(tonight, last_night, run_id, _night(logical_date))
        own = {r[0] for r in store_rows} | _own_csv_keys(con)
        carried = carried_decisions(changes, own, decided_before)
        con.execute("begin")
        try:
            con.execute("create schema if not exists dq")
            con.execute(FLAG_DECISIONS_DDL)
            if store_rows or carried:
                con.executemany(
                    "insert into dq.flag_decisions values (?, ?, ?, ?, ?, ?)",
                    store_rows + carried,
                )
            columns = ", ".join(f"{n} {t}" for n, t in FLAG_CHANGES_COLUMNS.items())
            con.execute(f"create or replace table dq.flag_changes ({columns})")
            if changes:
                frame = pd.DataFrame.from_records(changes, columns=list(FLAG_CHANGES_COLUMNS))
                frame = frame.astype(object).where(frame.notna(), None)
                con.register("new_flag_changes", frame)
                try:
                    con.execute("insert into dq.flag_changes select * from new_flag_changes")
                finally:
                    con.unregister("new_flag_changes")
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    counts: dict[str, int] = {}
    for c in changes:
        if c["change_run_id"] == run_id:
            counts[c["change"]] = counts.get(c["change"], 0) + 1
    summary = {
        "store_decisions": len(store_rows),
        "carried_decisions": len(carried),
        "changes": counts,
        "baseline": source,
    }
    log.info("triage: %s", summary)
    return summary
