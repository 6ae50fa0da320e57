"""Publish a run's build as two files, each by atomic rename, for two audiences.

- ``ZHAOSHANG_WAREHOUSE`` (analysts): the marts and the audit tables analysts read (load log,
  flags, verified exclusions, manifest, metrics); no seeds, staging, intermediate or dq schemas;
  every free-text column masked with ``zhaoshang.pii`` (phones, ID numbers, contact names).
- the inspection team's file (``ZHAOSHANG_INSPECTION_WAREHOUSE``, default
  ``<warehouse>_inspection.duckdb``): the whole build (flags with their evidence, quarantine with
  raw values) plus ``history.*``, the ledger's submission history.

DuckDB lets one process write a file, and on this stack even a read-only reader in another
process blocks a writer. So the nightly run never writes a published file: it builds its own
files, checks them, and swaps them in with ``os.replace``. An analyst holding the old file open
keeps reading the old snapshot; a failed run never reaches this step and yesterday's files stay.
The replaced files are copied (never linked) into the history folder; the last N are kept.
"""

from __future__ import annotations

import grp
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
from duckdb.func import FunctionNullHandling
from duckdb.sqltypes import VARCHAR

from zhaoshang import guards, pii
from zhaoshang.faults import fail_point
from zhaoshang.queries import scalar
from zhaoshang.recovery import connect_waiting
from zhaoshang.settings import Settings

log = logging.getLogger(__name__)

KEEP_HISTORY = 7  # default of ZHAOSHANG_HISTORY_KEEP
BUILD_FILE = "warehouse_build.duckdb"
# Tables analysts and checks rely on (DATA_CONTRACT §5); publish refuses a file without them.
CONTRACT_TABLES = (
    ("marts", "sector_summary"),
    ("marts", "size_band_summary"),
    ("marts", "unit_performance"),
    ("marts", "project_register"),
    ("audit", "dq_flags"),
    ("audit", "quarantine"),
    ("audit", "load_log"),
)
# What the analysts' file holds besides every marts table. Quarantine (raw cell values) and the
# file warnings stay with the inspection team.
ANALYST_AUDIT_TABLES = ("load_log", "dq_flags", "verified_exclusions", "manifest", "metrics")
# Text columns that are identifiers, not free text: copied as they are.
_IDENTIFIER_COLUMNS = {"sha256", "flag_key", "investor_uscc", "run_id", "detected_run_id"}
# Ledger tables copied into the inspection file's ``history`` schema (restore needs them too).
HISTORY_TABLES = ("submissions", "inbox_files", "runs", "file_warnings")


class PublishCheckFailed(RuntimeError):
    pass


@dataclass
class Published:
    path: Path
    run_id: str
    tables: dict[str, int]
    inspection_path: Path | None = None


def build_path(settings: Settings, run_id: str) -> Path:
    """The run's own build file: no run ever deletes or reuses another's."""
    return settings.build_dir / run_id / BUILD_FILE


# The relations an incremental night starts from (the last good build's; dbt rebuilds the rest):
# intermediate.int_ledger_changes says which periods that build holds, the incremental models
# hold them (dbt_project/macros/incremental_from_period.sql).
INCREMENTAL_STATE = (
    ("intermediate", "int_ledger_changes"),
    ("intermediate", "int_project_rows_latest"),
    ("intermediate", "int_funds_by_project_month"),
    ("intermediate", "int_projects_accumulated_to_month"),
)
# Seeds are kept too: the fingerprint says they are tonight's, so dbt does not reload them.
KEPT_SCHEMAS = ("seeds",)
# GX's last judgement, set aside under ``previous`` before dbt replaces it: the entries judged
# and the flags raised, so tonight GX judges only the entries whose features changed
# (zhaoshang.quality.validation, which drops the schema once read).
PREVIOUS_SCHEMA = "previous"
PREVIOUS_JUDGEMENT = {
    ("intermediate", "int_dq_entries"): "dq_entries",
    ("dq", "gx_flags"): "gx_flags",
    ("build_state", "gx_judgement"): "gx_judgement",
}
BUILD_STATE_TABLE = "build_state.dbt_build"


@dataclass(frozen=True)
class BuildState:
    fingerprint: str  # transform.project_fingerprint when the build started
    full_refresh: bool


@dataclass
class BuildStart:
    path: Path
    full_refresh: bool
    reason: str  # why tonight rebuilds everything, or where the build started from


def start_build(settings: Settings, run_id: str, fingerprint: str) -> BuildStart:
    """Create the run's build file: a copy of the published inspection file (the last good
    build: nothing is ever written into a published file) keeping only the incremental state,
    or an empty file when tonight must rebuild everything. A failed night leaves the published
    files as they were, so the next night starts from the same last good build."""
    build_db = build_path(settings, run_id)
    build_db.parent.mkdir(parents=True, exist_ok=True)
    for stale in build_db.parent.glob(build_db.name + "*"):
        stale.unlink()  # a retry starts again from the published build
    source = settings.inspection_path
    reason = _full_refresh_reason(settings, source, fingerprint)
    if reason is None:
        tmp = build_db.with_name(build_db.name + ".copy")
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, build_db)
        with duckdb.connect(str(build_db)) as con:
            keep = set(INCREMENTAL_STATE)
            con.execute(f"drop schema if exists {PREVIOUS_SCHEMA} cascade")
            present = con.execute(
                "select schema_name, table_name from duckdb_tables() "
                "where database_name = current_database()"
            ).fetchall()
            con.execute(f"create schema {PREVIOUS_SCHEMA}")
            for (schema, table), kept in PREVIOUS_JUDGEMENT.items():
                if (schema, table) in present:
                    con.execute(
                        f'create table {PREVIOUS_SCHEMA}."{kept}" as '
                        f'select * from "{schema}"."{table}"'
                    )
            for schema, table in present:
                if (schema, table) not in keep and schema not in (*KEPT_SCHEMAS, PREVIOUS_SCHEMA):
                    con.execute(f'drop table "{schema}"."{table}"')
    with duckdb.connect(str(build_db)) as con:
        con.execute("create schema if not exists build_state")
        con.execute(
            f"""create or replace table {BUILD_STATE_TABLE} as
                select ?::varchar as run_id, ?::varchar as dbt_fingerprint,
                       ?::boolean as full_refresh, ?::varchar as reason""",
            [run_id, fingerprint, reason is not None, reason or f"incremental from {source.name}"],
        )
    log.info("build file %s: %s", build_db, reason or f"incremental from {source}")
    return BuildStart(build_db, reason is not None, reason or f"incremental from {source}")


def read_build_state(build_db: Path) -> BuildState:
    """What ``start_build`` recorded in the run's build file (pass 2 and the docs read it)."""
    with duckdb.connect(str(build_db), read_only=True) as con:
        row = con.execute(
            f"select dbt_fingerprint, full_refresh from {BUILD_STATE_TABLE}"
        ).fetchone()
    if row is None:
        raise RuntimeError(f"{build_db}: {BUILD_STATE_TABLE} is empty")
    return BuildState(fingerprint=str(row[0]), full_refresh=bool(row[1]))


def _full_refresh_reason(settings: Settings, source: Path, fingerprint: str) -> str | None:
    if settings.full_refresh:
        return "ZHAOSHANG_FULL_REFRESH"
    if not source.exists():
        return "no published build"
    try:
        with duckdb.connect(str(source), read_only=True) as con:
            built_by = con.execute(f"select dbt_fingerprint from {BUILD_STATE_TABLE}").fetchone()
            published_run = scalar(con.execute("select run_id from audit.manifest"))
            present = set(
                con.execute(
                    "select schema_name, table_name from duckdb_tables() "
                    "where database_name = current_database()"
                ).fetchall()
            )
    except duckdb.Error as error:
        return f"published build unreadable for an incremental night: {error}"[:300]
    if not built_by or built_by[0] != fingerprint:
        return "dbt project or rules changed since the published build"
    if not set(INCREMENTAL_STATE) <= present:
        return "published build lacks the incremental state"
    # A restored (or otherwise replaced) file is not the ledger's last published night.
    from zhaoshang import ledger

    with ledger.connect(settings) as con:
        last = con.execute(
            "select run_id from runs where status = 'published' "
            "order by finished_at desc nulls last limit 1"
        ).fetchone()
    if not last or last[0] != published_run:
        return "published build is not the last published night (restored?)"
    return None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _no_wal(path: Path) -> None:
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        raise PublishCheckFailed(f"构建文件仍有未写入的WAL / build file still has a WAL: {wal}")


def finalize_build(build_db: Path, run_id: str, logical_date: str | None) -> dict[str, int]:
    """Write the manifest, check the contract tables, checkpoint and close the build file."""
    with duckdb.connect(str(build_db)) as con:
        missing = [
            f"{s}.{t}"
            for s, t in CONTRACT_TABLES
            if not scalar(
                con.execute(
                    "select count(*) from information_schema.tables where table_schema=? and table_name=?",
                    [s, t],
                )
            )
        ]
        if missing:
            raise PublishCheckFailed(f"构建结果缺少表 / build lacks tables: {', '.join(missing)}")
        counts = {
            f"{s}.{t}": scalar(con.execute(f"select count(*) from {s}.{t}"))
            for s, t in CONTRACT_TABLES
        }
        con.execute("create schema if not exists audit")
        con.execute(
            """create or replace table audit.manifest as
               select ?::varchar as run_id, ?::date as logical_date,
                      ?::timestamp as built_at, ?::varchar as table_counts_json""",
            [run_id, logical_date, datetime.now(), str(counts)],
        )
        con.execute("checkpoint")
    _no_wal(build_db)
    with duckdb.connect(str(build_db), read_only=True) as con:
        manifest_run = scalar(con.execute("select run_id from audit.manifest"))
    if manifest_run != run_id:
        raise PublishCheckFailed(f"manifest run_id {manifest_run!r} != {run_id!r}")
    return counts


def _add_history_and_metrics(settings: Settings, build_db: Path) -> None:
    """The inspection file's submission history and every night's metrics, from the ledger."""
    with duckdb.connect(str(build_db)) as con:
        con.execute("create schema if not exists history")
        con.execute("create schema if not exists audit")
        con.execute(f"attach '{_sql_path(settings.ledger_path)}' as ledger_src (read_only)")
        try:
            present = {
                r[0]
                for r in con.execute(
                    "select table_name from information_schema.tables where table_catalog = 'ledger_src'"
                ).fetchall()
            }
            for table in HISTORY_TABLES:
                if table in present:
                    con.execute(
                        f"create or replace table history.{table} as select * from ledger_src.main.{table}"
                    )
            source = "ledger_src.main.metrics" if "metrics" in present else None
            con.execute(
                "create or replace table audit.metrics as "
                + (
                    f"select * from {source}"
                    if source
                    else "select null::varchar run_id, null::varchar metric, null::double value, "
                    "null::varchar detail, null::timestamp recorded_at where false"
                )
            )
        finally:
            con.execute("detach ledger_src")


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def write_analyst_file(source_db: Path, target: Path) -> dict[str, int]:
    """The analysts' file from a full build: marts and the audit tables analysts need, masked."""
    target.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    with duckdb.connect(str(target)) as con:
        con.create_function(
            "zs_mask_pii",
            pii.mask_value,
            [VARCHAR],
            VARCHAR,
            null_handling=FunctionNullHandling.SPECIAL,
            side_effects=False,
        )
        con.execute(f"attach '{_sql_path(source_db)}' as src (read_only)")
        tables = con.execute(
            """select table_schema, table_name from information_schema.tables
               where table_catalog = 'src'
                 and (table_schema = 'marts' or (table_schema = 'audit' and table_name in ?))
               order by 1, 2""",
            [list(ANALYST_AUDIT_TABLES)],
        ).fetchall()
        for schema, table in tables:
            columns = con.execute(
                """select column_name, data_type from information_schema.columns
                   where table_catalog = 'src' and table_schema = ? and table_name = ?
                   order by ordinal_position""",
                [schema, table],
            ).fetchall()
            select = ", ".join(
                f'zs_mask_pii("{name}") as "{name}"'
                if dtype == "VARCHAR" and not _is_identifier(name)
                else f'"{name}"'
                for name, dtype in columns
            )
            con.execute(f"create schema if not exists {schema}")
            con.execute(
                f'create table {schema}."{table}" as select {select} from src.{schema}."{table}"'
            )
            _copy_comments(con, schema, table)
            counts[f"{schema}.{table}"] = scalar(
                con.execute(f'select count(*) from {schema}."{table}"')
            )
        con.execute("detach src")
        con.execute("checkpoint")
    _no_wal(target)
    return counts


def _copy_comments(con, schema: str, table: str) -> None:
    """dbt's table and column descriptions (Chinese) go with the copy: analysts read them."""
    comment = con.execute(
        "select comment from duckdb_tables() where database_name = 'src' and schema_name = ? "
        "and table_name = ?",
        [schema, table],
    ).fetchone()
    if comment and comment[0]:
        con.execute(f'comment on table {schema}."{table}" is {_literal(comment[0])}')
    for column, text in con.execute(
        "select column_name, comment from duckdb_columns() where database_name = 'src' "
        "and schema_name = ? and table_name = ? and comment is not null",
        [schema, table],
    ).fetchall():
        con.execute(f'comment on column {schema}."{table}"."{column}" is {_literal(text)}')


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _is_identifier(column: str) -> bool:
    return column in _IDENTIFIER_COLUMNS or column.endswith("_id")


def protect(path: Path, group: str | None, *, default_mode: int) -> None:
    """Read-only for everyone (analysts), owner only (inspection) or a configured OS group."""
    if group:
        os.chown(path, -1, grp.getgrnam(group).gr_gid)
        os.chmod(path, 0o440)
    else:
        os.chmod(path, default_mode)


def publish(settings: Settings, run_id: str, logical_date: str | None = None) -> Published:
    build_db = build_path(settings, run_id)
    guards.check_load(settings, build_db, settings.warehouse, run_id)
    try:
        counts = _checked_publish(settings, run_id, logical_date, build_db)
    except PublishCheckFailed as error:
        with connect_waiting(settings.ledger_path, 0) as con:  # M8: a verification failure
            guards.record(con, run_id, "publish_check_failures", 1, str(error)[:300])
        raise
    log.info(
        "published %s and %s (run %s): %s",
        settings.warehouse,
        settings.inspection_path,
        run_id,
        counts,
    )
    return Published(
        path=settings.warehouse,
        run_id=run_id,
        tables=counts,
        inspection_path=settings.inspection_path,
    )


def _checked_publish(settings, run_id, logical_date, build_db: Path) -> dict[str, int]:
    with duckdb.connect(str(build_db), read_only=True) as con:
        conservation_gap, outcome = guards.file_conservation(con)
    with connect_waiting(settings.ledger_path, 0) as con:
        guards.record(con, run_id, "file_conservation_gap", conservation_gap, outcome)  # M4
        guards.record(con, run_id, "publish_check_failures", 0, None)  # M8, this publish
    if conservation_gap:
        raise PublishCheckFailed(
            f"文件不守恒：{conservation_gap} 个文件去向不明 / files not conserved: "
            f"{conservation_gap} unaccounted for ({outcome})"
        )
    _add_history_and_metrics(settings, build_db)
    counts = finalize_build(build_db, run_id, logical_date)
    fail_point("publish:after_checkpoint")
    target, inspection = settings.warehouse, settings.inspection_path
    target.parent.mkdir(parents=True, exist_ok=True)
    inspection.parent.mkdir(parents=True, exist_ok=True)
    staged_analyst = target.with_name(f".{target.name}.{run_id}.tmp")
    staged_inspection = inspection.with_name(f".{inspection.name}.{run_id}.tmp")
    analyst_counts = write_analyst_file(build_db, staged_analyst)
    missing = [
        f"{s}.{t}" for s, t in CONTRACT_TABLES if s == "marts" and f"{s}.{t}" not in analyst_counts
    ]
    if missing:
        raise PublishCheckFailed(f"分析员文件缺少汇总表 / analysts' file lacks marts: {missing}")
    # Same filesystem: the build file itself is renamed; otherwise copy next to the target first.
    try:
        os.replace(build_db, staged_inspection)
    except OSError:
        shutil.copyfile(build_db, staged_inspection)
        build_db.unlink()
    protect(staged_analyst, settings.analyst_group, default_mode=0o444)
    protect(staged_inspection, settings.inspection_group, default_mode=0o400)
    for staged in (staged_analyst, staged_inspection):
        _fsync(staged)
    fail_point("publish:before_rename")
    stamp = history_stamp()
    keep_history(settings, target, "warehouse", stamp)
    keep_history(settings, inspection, "inspection", stamp)
    for final, staged in ((inspection, staged_inspection), (target, staged_analyst)):
        stale_wal = final.with_name(final.name + ".wal")
        if (
            stale_wal.exists()
        ):  # a WAL beside a published file would be replayed against the new one
            stale_wal.rename(stale_wal.with_name(f"{stale_wal.name}.stale-{run_id}"))
        os.replace(staged, final)
        _fsync(final.parent)
    fail_point("publish:after_rename")
    _clean_leftovers(settings, target)
    return counts


def history_files(settings: Settings, kind: str = "warehouse") -> list[Path]:
    """Kept published files of one kind ('warehouse' or 'inspection'), oldest first."""
    return sorted(settings.history_dir.glob(f"{kind}_*.duckdb"))


def history_stamp() -> str:
    return datetime.now().strftime("%Y%m%dT%H%M%S%f")


def keep_history(settings: Settings, published: Path, kind: str, stamp: str) -> None:
    """Copy (never hard-link: an analyst writing into the published file must not change the
    history) the file about to be replaced; keep the last ``history_keep``."""
    if not published.exists():
        return
    from zhaoshang.recovery import private_dir

    private_dir(settings.history_dir)
    copy = settings.history_dir / f"{kind}_{stamp}.duckdb"
    tmp = copy.with_name(copy.name + ".tmp")
    shutil.copyfile(published, tmp)
    os.chmod(tmp, 0o400)
    os.replace(tmp, copy)
    for path in history_files(settings, kind)[: -settings.history_keep]:
        path.unlink()


def _clean_leftovers(settings: Settings, target: Path) -> None:
    """Remove temp files of earlier crashed publishes and abandoned build folders (the lock says
    no other run is in progress)."""
    for folder, name in (
        (target.parent, target.name),
        (settings.inspection_path.parent, settings.inspection_path.name),
    ):
        for tmp in folder.glob(f".{name}.*.tmp"):
            tmp.unlink(missing_ok=True)
    if settings.build_dir.exists():
        for path in settings.build_dir.iterdir():
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.name.startswith("warehouse_"):  # the fixed-name build of older versions
                path.unlink(missing_ok=True)


def open_published(settings: Settings) -> duckdb.DuckDBPyConnection:
    """How analysts (and our own reports) open the warehouse: read-only, never blocking a run."""
    return duckdb.connect(str(settings.warehouse), read_only=True)


def full_path(settings: Settings) -> Path:
    """The published file with everything (the inspection team's), for the pipeline's own
    readers that need quarantine or evidence (receipts, the data-quality page, alerts)."""
    return settings.inspection_path if settings.inspection_path.exists() else settings.warehouse


def open_inspection(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The inspection team's file, read-only."""
    return duckdb.connect(str(full_path(settings)), read_only=True)
