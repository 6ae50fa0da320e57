"""Loading spread over workers, one writer: plan, parse in batches anywhere, write once.

On one machine ``ledger.load_new_submissions`` parses and writes in one process. On Airflow's
CeleryExecutor the same load is split in three so that parsing (the costly part) runs on every
worker while the ledger keeps a single writer:

1. ``plan`` (writer): scan the inbox, record what is in it, pick the files whose content the
   ledger has not seen and write them as numbered batches to the run's work dir.
2. ``parse_batch`` (any worker, many at once): land and parse one batch in the sandbox and
   write its ledger records (submissions, rows, totals, quarantine, warnings) as Parquet files of
   text columns to the shared state dir. It never opens the ledger.
3. ``write`` (writer): insert every batch in order, one transaction per batch, casting the text
   the same way the embedded load does, so both paths give the same ledger.

A batch is committed whole or not at all; a retried ``write`` skips batches already in the
ledger. Only the small plan and Parquet files cross machines: DuckDB files stay on the writer.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import date, datetime
from pathlib import Path

import duckdb

from zhaoshang import guards, inbox, ledger
from zhaoshang.faults import fail_point
from zhaoshang.ledger import load as ledger_load
from zhaoshang.ledger.schema import create_schema
from zhaoshang.queries import scalar
from zhaoshang.reference import UnitResolver, load_units
from zhaoshang.settings import Settings

log = logging.getLogger(__name__)

_RECORD_ATTRS = ("submission", "rows", "totals", "quarantine", "warnings")


def batches_dir(settings: Settings, run_id: str) -> Path:
    """Under the run's work dir, which publishing removes once the night is done."""
    return settings.state_dir / "runs" / run_id / "batches"


def _plan_path(settings: Settings, run_id: str) -> Path:
    return batches_dir(settings, run_id) / "plan.json"


def _write_json_atomically(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


def plan(
    settings: Settings,
    run_id: str,
    *,
    logical_date: date | None = None,
    batch_size: int | None = None,
) -> list[int]:
    """Writer step: the new files in batches; returns the batch numbers (at least one).

    An empty night still has one (empty) batch, so the mapped parse and the load after it run
    and the night publishes as it does on one machine.
    """
    batch_size = batch_size or settings.batch_files
    files = inbox.scan(
        settings.raw_dir,
        stable_seconds=settings.stable_seconds,
        hash_cache=inbox.hash_cache_for(settings.state_dir),
    )
    load_units(settings.units_csv)  # a broken roster stops the night before any write
    summary = ledger.LoadSummary(run_id=run_id, files_seen=len(files))
    with ledger.connect(settings) as con:
        guards.check_inbox(settings, con, files, run_id)  # before the inbox is recorded
        ledger.record_inbox_presence(con, files, run_id)
        new_files = ledger.select_new_files(con, files, summary)
    chunks = [new_files[i : i + batch_size] for i in range(0, len(new_files), batch_size)] or [[]]
    _write_json_atomically(
        _plan_path(settings, run_id),
        {
            "run_id": run_id,
            "logical_date": logical_date.isoformat() if logical_date else None,
            "received_at": datetime.now().isoformat(),
            "files_seen": summary.files_seen,
            "files_already_known": summary.files_already_known,
            "batches": [
                [
                    {
                        "path": str(f.path),
                        "source_file": f.source_file,
                        "size_bytes": f.size_bytes,
                        "mtime": f.mtime.isoformat(),
                        "sha256": f.sha256,
                    }
                    for f in chunk
                ]
                for chunk in chunks
            ],
        },
    )
    log.info("plan: %d files seen, %d new in %d batches", len(files), len(new_files), len(chunks))
    return list(range(len(chunks)))


def _read_plan(settings: Settings, run_id: str) -> dict:
    path = _plan_path(settings, run_id)
    if not path.exists():
        raise FileNotFoundError(
            f"本次运行没有分批计划：{path} / no batch plan for this run: {path}"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _ledger_columns() -> dict[str, list[tuple[str, str]]]:
    """The ledger's columns and types from its DDL, without opening the ledger."""
    with duckdb.connect(":memory:") as con:
        create_schema(con)
        return {table: ledger.table_columns(con, table) for table in ledger.TABLES}


def _batch_dir(settings: Settings, run_id: str, index: int) -> Path:
    return batches_dir(settings, run_id) / f"{index:05d}"


def parse_batch(settings: Settings, run_id: str, index: int, reader=None) -> dict:
    """Worker step: land and parse batch ``index``; write its records as Parquet; count them."""
    reader = reader or ledger.default_reader
    the_plan = _read_plan(settings, run_id)
    entries = the_plan["batches"][index]
    logical = the_plan["logical_date"]
    logical_date = date.fromisoformat(logical) if logical else None
    received_at = datetime.fromisoformat(the_plan["received_at"])
    resolver = UnitResolver(load_units(settings.units_csv))
    files = [
        inbox.InboxFile(
            path=Path(e["path"]),
            source_file=e["source_file"],
            size_bytes=e["size_bytes"],
            mtime=datetime.fromisoformat(e["mtime"]),
            sha256=e["sha256"],
        )
        for e in entries
    ]
    landed = inbox.land_all(files, settings.landing_dir)
    records: list = [None] * len(files)
    for position, result in reader(landed):
        records[position] = ledger_load._to_records(
            files[position], result, resolver, run_id, received_at, logical_date
        )
    out = _batch_dir(settings, run_id, index)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(":memory:") as con:
        for (table, columns), attr in zip(_ledger_columns().items(), _RECORD_ATTRS, strict=True):
            rows: list[dict] = []
            for rec in records:
                value = getattr(rec, attr)
                rows.extend([value] if isinstance(value, dict) else value)
            con.register("batch_frame", ledger.text_frame(columns, rows))
            target = str(tmp / f"{table}.parquet").replace("'", "''")
            con.execute(f"copy (select * from batch_frame) to '{target}' (format parquet)")
            con.unregister("batch_frame")
    if out.exists():  # a retried parse replaces what an earlier attempt left
        for stale in out.iterdir():
            stale.unlink()
        out.rmdir()
    os.replace(tmp, out)
    counts = ledger.LoadSummary(run_id=run_id)
    for rec in records:
        ledger.count_into(counts, rec)
    return {
        "batch": index,
        "files": len(files),
        "files_rejected": counts.files_rejected,
        "rows_read": counts.rows_read,
    }


def write(settings: Settings, run_id: str) -> ledger.LoadSummary:
    """Writer step: every parsed batch into the ledger, in plan order, one transaction each."""
    the_plan = _read_plan(settings, run_id)
    summary = ledger.LoadSummary(
        run_id=run_id,
        files_seen=the_plan["files_seen"],
        files_already_known=the_plan["files_already_known"],
    )
    missing = [
        i
        for i in range(len(the_plan["batches"]))
        if not (_batch_dir(settings, run_id, i) / "submissions.parquet").exists()
    ]
    if missing:
        raise RuntimeError(f"批次尚未解析：{missing[:10]} / batches not parsed yet: {missing[:10]}")
    with ledger.connect(settings) as con:
        columns = {table: ledger.table_columns(con, table) for table in ledger.TABLES}
        for index, entries in enumerate(the_plan["batches"]):
            if not entries:
                continue
            folder = _batch_dir(settings, run_id, index)
            ids = [e["sha256"] for e in entries]
            already = scalar(
                con.execute(
                    "select count(*) from submissions where submission_id in (select unnest(?))",
                    [ids],
                )
            )
            if already:  # committed by an earlier attempt of this task: whole or not at all
                summary.files_already_known += len(entries)
                continue
            summary.files_new += len(entries)
            _insert_batch(con, columns, folder)
            fail_point("load:after_commit")
            _count_batch(con, columns["submissions"], folder, summary)
    log.info("load (batches): %s", summary.describe())
    return summary


def _parquet(folder: Path, table: str) -> str:
    return "'" + str(folder / f"{table}.parquet").replace("'", "''") + "'"


def _insert_batch(con, columns: dict[str, list[tuple[str, str]]], folder: Path) -> None:
    ledger.insert_parquet_batch(con, columns, {t: _parquet(folder, t) for t in ledger.TABLES})


def _count_batch(con, columns, folder: Path, summary: ledger.LoadSummary) -> None:
    """The summary counts from the batch's submissions, as the embedded load counts them."""
    typed = ", ".join(f"cast({name} as {sql}) as {name}" for name, sql in columns)
    frame = con.execute(f"select {typed} from read_parquet({_parquet(folder, 'submissions')})").df()
    for record in frame.to_dict("records"):
        ledger.count_into(summary, ledger_load._Records(record, [], [], [], []))
