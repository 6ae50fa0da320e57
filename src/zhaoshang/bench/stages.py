"""Benchmark stages, each run in its own process: ``python -m zhaoshang.bench.stages NAME OUT.json``.

The parent (``runner``) starts one process per stage so that peak memory is that stage's alone,
and points ``ZHAOSHANG_*`` at the scenario's inbox and a scratch state directory. A stage calls
the package's own functions (``pipeline``, ``transform``, ``excel``) and times only that call,
after the imports; it writes ``{"seconds", "cpu_seconds", "result"}`` to OUT.json. CPU time
counts the children the stage waited for (sandbox workers, dbt), and is less disturbed than
wall time by other load on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

from zhaoshang import settings as settings_module
from zhaoshang.logs import install_pii_filter
from zhaoshang.settings import Settings

# A second night on the same state directory (the incremental case) needs its own run id.
RUN_ID = os.environ.get("ZHAOSHANG_BENCH_RUN_ID", "bench")


def cpu_seconds() -> float:
    """User + system CPU of this process and of the children it has waited for (workers, dbt)."""
    usages = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return sum(u.ru_utime + u.ru_stime for u in usages)


def stopping_workers(call: Callable[[], dict]) -> Callable[[], dict]:
    """``call``, then stop the sandbox workers: reaped, their CPU time counts for the stage."""

    def run() -> dict:
        from zhaoshang import excel

        try:
            return call()
        finally:
            excel.shutdown()

    return run


def inbox_files(settings: Settings) -> list[Path]:
    return sorted(settings.submissions_dir.rglob("*.xlsx"))


def raw_calamine(settings: Settings, opts: argparse.Namespace) -> Callable[[], dict]:
    """Fastest reader: every sheet's values of every file, nothing else."""
    from python_calamine import CalamineWorkbook

    files = inbox_files(settings)

    def run() -> dict:
        sheets = rows = cells = 0
        for path in files:
            workbook = CalamineWorkbook.from_path(str(path))
            for name in workbook.sheet_names:
                values = workbook.get_sheet_by_name(name).to_python()
                sheets += 1
                rows += len(values)
                cells += sum(len(r) for r in values)
        return {"files": len(files), "sheets": sheets, "sheet_rows": rows, "cells": cells}

    return run


def raw_openpyxl(settings: Settings, opts: argparse.Namespace) -> Callable[[], dict]:
    """openpyxl read-only on every k-th file (``sample`` files), for comparison."""
    from openpyxl import load_workbook

    files = inbox_files(settings)
    sample = max(1, opts.sample)
    chosen = files[:: max(1, len(files) // sample)][:sample]

    def run() -> dict:
        rows = 0
        for path in chosen:
            workbook = load_workbook(path, read_only=True, data_only=True)
            for sheet in workbook.worksheets:
                rows += sum(1 for _ in sheet.iter_rows(values_only=True))
            workbook.close()
        return {"files": len(chosen), "files_in_inbox": len(files), "sheet_rows": rows}

    return run


def init_empty(settings: Settings, opts: argparse.Namespace) -> Callable[[], dict]:
    """An empty ledger (schema only): the baseline for fixed costs."""
    from zhaoshang import ledger

    def run() -> dict:
        ledger.connect(settings).close()
        return {}

    return run


def load(settings: Settings, opts: argparse.Namespace) -> Callable[[], dict]:
    """Ingestion as the nightly run does it (sha256, landing copy, sandboxed parse, ledger)."""
    from zhaoshang import pipeline

    return stopping_workers(lambda: pipeline.load_submissions(settings, RUN_ID))


def load_profiled(settings: Settings, opts: argparse.Namespace) -> Callable[[], dict]:
    """``load`` under cProfile; the result names where the loader's (parent's) time goes."""
    from zhaoshang.bench.profile import profile_call
    from zhaoshang.pipeline import load_submissions

    text = opts.out.with_suffix(".txt")
    return stopping_workers(lambda: profile_call(lambda: load_submissions(settings, RUN_ID), text))


def parse_inprocess(settings: Settings, opts: argparse.Namespace) -> Callable[[], dict]:
    """The project's reader on every file in this one process: no sandbox, no IPC, no ledger."""
    from zhaoshang.errors import SubmissionRejected
    from zhaoshang.excel import read_submission

    files = inbox_files(settings)

    def run() -> dict:
        rows = rejected = 0
        for path in files:
            try:
                rows += len(read_submission(path, sandbox=False).rows)
            except SubmissionRejected:
                rejected += 1
        return {"files": len(files), "rows": rows, "rejected": rejected}

    return run


def parse_sandboxed(settings: Settings, opts: argparse.Namespace) -> Callable[[], dict]:
    """The same through ``read_submissions`` (sandbox pool, one worker per CPU), no ledger."""
    from zhaoshang.excel import read_submissions

    files = inbox_files(settings)

    def run() -> dict:
        rows = 0
        for _path, result in read_submissions((p, None) for p in files):
            rows += len(getattr(result, "rows", ()))  # a rejection has no rows; nothing is kept
        return {"files": len(files), "rows": rows}

    return stopping_workers(run)


def _one_sandbox_reader(batch: list[tuple[Path, str]]):
    """``ledger.default_reader`` with one sandbox worker: one batch process = one core."""
    from zhaoshang import excel

    for index, (_path, result) in enumerate(excel.read_submissions(batch, workers=1)):
        yield index, result


def _batch_worker(settings: Settings, queue, results) -> None:
    """One Celery worker's share: take batch numbers off the queue until it is empty."""
    from zhaoshang import batches, excel

    try:
        while (index := queue.get()) is not None:
            try:
                results.put(batches.parse_batch(settings, RUN_ID, index, _one_sandbox_reader))
            except Exception as error:  # the parent waits for one answer a batch
                results.put({"batch": index, "error": repr(error)})
    finally:
        excel.shutdown()


def parse_batches(settings: Settings, opts: argparse.Namespace) -> Callable[[], dict]:
    """The distributed ingestion's parse step: ``batches.plan`` (untimed), then every batch
    through ``batches.parse_batch`` in ``--workers`` processes pulling from one queue, as Celery
    workers do; each process parses with one sandbox worker, so N processes use N cores."""
    from zhaoshang import batches

    indices = batches.plan(settings, RUN_ID, batch_size=opts.batch_files)
    ctx = multiprocessing.get_context("fork")

    def run() -> dict:
        queue, results = ctx.Queue(), ctx.Queue()
        for index in indices:
            queue.put(index)
        for _ in range(opts.workers):
            queue.put(None)
        procs = [
            ctx.Process(target=_batch_worker, args=(settings, queue, results))
            for _ in range(opts.workers)
        ]
        for proc in procs:
            proc.start()
        done = [results.get() for _ in indices]  # before join: a full pipe would block them
        for proc in procs:
            proc.join()
        errors = [d["error"] for d in done if "error" in d]
        if errors or any(proc.exitcode for proc in procs):
            raise RuntimeError(f"batch workers failed: {errors[:3]}")
        return {
            "workers": opts.workers,
            "batches": len(done),
            "files": sum(d["files"] for d in done),
            "rows_read": sum(d["rows_read"] for d in done),
        }

    return run


def features(settings: Settings, opts: argparse.Namespace) -> Callable[[], dict]:
    from zhaoshang import pipeline

    return lambda: pipeline.build_features(settings, RUN_ID)


def validate(settings: Settings, opts: argparse.Namespace) -> Callable[[], dict]:
    from zhaoshang import pipeline

    return lambda: pipeline.validate_entries(settings, RUN_ID)


def marts(settings: Settings, opts: argparse.Namespace) -> Callable[[], dict]:
    """dbt pass 2 alone (``pipeline.build_marts`` also refreshes the docs: see ``docs``)."""
    from zhaoshang import pipeline

    def run() -> dict:
        result = pipeline.build_mart_models(settings, RUN_ID)
        return {"nodes": result.nodes, "elapsed_s": result.elapsed_s}

    return run


def docs(settings: Settings, opts: argparse.Namespace) -> Callable[[], dict]:
    """The dbt docs site, the second half of ``pipeline.build_marts`` (kept when unchanged)."""
    from zhaoshang import pipeline

    def run() -> dict:
        out = pipeline.refresh_docs(settings, RUN_ID)
        return {"docs": str(out) if out else None}

    return run


def publish(settings: Settings, opts: argparse.Namespace) -> Callable[[], dict]:
    """Stage 5 of the night: guards, checks and the atomic rename of the warehouse files."""
    from zhaoshang import pipeline

    return lambda: pipeline.publish_warehouse(settings, RUN_ID)


def nightly(settings: Settings, opts: argparse.Namespace) -> Callable[[], dict]:
    """The whole night in this one process, as ``python -m zhaoshang nightly`` runs it (every
    stage, exports, report, alerts and receipts; dbt's next child and GX started early)."""
    from zhaoshang import pipeline

    def run() -> dict:
        report = pipeline.run_nightly(settings, run_id=RUN_ID)
        return {
            "files_new": report["load"]["files_new"],
            "rows_loaded": report["load"]["rows_loaded"],
            "flags": report["validate"]["flags"],
            "tables": report["publish"]["tables"],
        }

    return stopping_workers(run)


STAGES: dict[str, Callable[[Settings, argparse.Namespace], Callable[[], dict]]] = {
    f.__name__: f
    for f in (
        raw_calamine,
        raw_openpyxl,
        init_empty,
        load,
        load_profiled,
        parse_inprocess,
        parse_sandboxed,
        parse_batches,
        features,
        validate,
        marts,
        docs,
        publish,
        nightly,
    )
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zhaoshang.bench.stages")
    parser.add_argument("stage", choices=sorted(STAGES))
    parser.add_argument("out", type=Path, help="write the stage's JSON result here")
    parser.add_argument("--sample", type=int, default=100, help="files for raw_openpyxl")
    parser.add_argument("--workers", type=int, default=1, help="processes for parse_batches")
    parser.add_argument("--batch-files", type=int, default=50, help="files a batch (parse_batches)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("great_expectations", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    install_pii_filter()
    run = STAGES[args.stage](settings_module.load(), args)  # imports happen here, untimed
    started, cpu_started = time.perf_counter(), cpu_seconds()
    result = run()
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    record = {"seconds": seconds, "cpu_seconds": cpu, "result": result}
    args.out.write_text(json.dumps(record, default=str, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
