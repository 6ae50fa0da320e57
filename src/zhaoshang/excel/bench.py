"""Measure the Excel reader against a raw calamine parse of the same files.

    python -m zhaoshang.excel.bench FILE_OR_DIR [...] [--workers N]

Prints, per mode, CPU time (this process plus the sandbox workers, so other load on the
machine does not distort it) and wall time, in ms per file and rows per second:

- ``raw``        calamine: open the workbook, read every sheet into Python lists;
- ``in-process`` ``read_submission(sandbox=False)``: sniff, layout, normalisation;
- ``sandboxed``  ``read_submission()``: the same in one persistent worker process;
- ``parallel``   ``read_submissions(workers=N)``: the same in N fresh workers (start included).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path

from python_calamine import CalamineWorkbook

from zhaoshang.excel import Limits, SubmissionRejected, read_submission, shutdown
from zhaoshang.excel.sandbox import SandboxPool, SandboxWorker

_LIMITS = Limits(max_tasks_per_worker=1_000_000)  # no recycling inside a measurement


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measure(run: Callable[[], float | None], repeat: int) -> tuple[float, float]:
    """Best (cpu, wall) seconds over ``repeat`` runs; cpu adds child CPU (ended children, or
    what ``run`` returns for a live one)."""
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        cpu0, child0, wall0 = time.process_time(), _children_cpu(), time.perf_counter()
        live_child = run() or 0.0
        best_wall = min(best_wall, time.perf_counter() - wall0)
        cpu = time.process_time() - cpu0 + _children_cpu() - child0 + live_child
        best_cpu = min(best_cpu, cpu)
    return best_cpu, best_wall


def _raw(files: list[Path]) -> int:
    rows = 0
    for path in files:
        try:
            workbook = CalamineWorkbook.from_path(str(path))
            for name in workbook.sheet_names:  # every sheet: the data sheet may not be the first
                rows += len(workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))
        except Exception:
            continue
    return rows


def _process_cpu(pid: int) -> float:
    """CPU seconds of a live child (Linux /proc), so a warm worker can be measured."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _sandboxed(files: list[Path], worker: SandboxWorker) -> float:
    """Parse with a warm worker; returns the worker's CPU seconds spent on it."""
    pid = worker.pid(_LIMITS)
    before = _process_cpu(pid)
    for path in files:
        with contextlib.suppress(SubmissionRejected):  # rejections are part of the workload
            worker.parse(path, path.name, _LIMITS)
    return _process_cpu(pid) - before


def _parallel(files: list[Path], workers: int) -> None:
    """A fresh pool, closed at the end so its workers' CPU time is counted (start included)."""
    pool = SandboxPool(workers)
    try:
        for _ in pool.parse_many(((p, p.name) for p in files), _LIMITS):
            pass
    finally:
        pool.close()


def _in_process(files: list[Path]) -> None:
    for path in files:
        with contextlib.suppress(SubmissionRejected):
            read_submission(path, limits=_LIMITS, sandbox=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    files = sorted(
        p for root in args.paths for p in ([root] if root.is_file() else root.rglob("*.xlsx"))
    )
    rows = _raw(files)
    print(f"{len(files)} files, {rows} sheet rows")
    worker = SandboxWorker()
    started = time.perf_counter()
    with contextlib.suppress(SubmissionRejected):
        worker.parse(files[0], files[0].name, _LIMITS)
    print(f"worker start + first file: {(time.perf_counter() - started) * 1000:.0f} ms wall")
    modes: list[tuple[str, Callable[[], float | None]]] = [
        ("raw calamine", lambda: _raw(files) and None),
        ("in-process", lambda: _in_process(files)),
        ("sandboxed", lambda: _sandboxed(files, worker)),
        (f"parallel x{args.workers}", lambda: _parallel(files, args.workers)),
    ]
    raw_cpu = None
    for name, run in modes:
        cpu, wall = _measure(run, args.repeat)
        raw_cpu = raw_cpu or cpu
        print(
            f"{name:14s} cpu {cpu / len(files) * 1000:8.2f} ms/file {rows / cpu:9.0f} rows/s (x{cpu / raw_cpu:4.2f})"
            f" | wall {wall / len(files) * 1000:8.2f} ms/file {rows / wall:9.0f} rows/s"
        )
    worker.close()
    shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
