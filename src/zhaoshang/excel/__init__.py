"""The Excel-reading stage: one submitted workbook -> ``ParsedSubmission`` or ``SubmissionRejected``.

    read_submission(path, source_file=..., limits=Limits()) -> ParsedSubmission

File-level problems (container, format, size, template) raise ``SubmissionRejected`` whose
``Problem`` names the code (errors.MESSAGES); row-level problems stay on each ``ParsedRow``
(quarantined rows are in ``rows`` with a non-empty ``problems``).

Modules, in the order a file meets them:

- ``sniff``    magic bytes, zip central directory, package parts, XML scan (before any parser)
- ``sheetxml`` byte-level facts about a worksheet that calamine does not report
- ``headers``  header row(s) and column matching via dbt_project/seeds/column_map.csv
- ``sheet``    the 填报单位/报告期 line and the kind of each row (project, 合计, footer, ...)
- ``values``   cell normalisation: Decimal amounts in 万元, dates, enums, text
- ``reader``   the above, in process
- ``sandbox``/``worker``  the same in a child process with RLIMIT_AS and a wall timeout
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from zhaoshang.errors import SubmissionRejected
from zhaoshang.excel.limits import Limits
from zhaoshang.excel.model import ParsedRow, ParsedSubmission
from zhaoshang.excel.reader import parse_workbook
from zhaoshang.excel.sandbox import SandboxPool

__all__ = [
    "Limits",
    "ParsedRow",
    "ParsedSubmission",
    "SubmissionRejected",
    "read_submission",
    "read_submissions",
    "shutdown",
]

_DEFAULT_LIMITS = Limits()
_pools: dict[int, SandboxPool] = {}  # worker count -> pool, started on first use
_pool_lock = threading.Lock()


def read_submission(
    path: Path,
    *,
    source_file: str | None = None,
    limits: Limits = _DEFAULT_LIMITS,
    sandbox: bool = True,
) -> ParsedSubmission:
    """Read one submitted workbook as the county form (DATA_CONTRACT §3).

    ``source_file`` names the file in every Problem (default: the file name). ``sandbox=False``
    parses in this process: for tests and trusted files only, as no memory or time limit applies.
    """
    path = Path(path)
    source = source_file if source_file is not None else path.name
    if not sandbox:
        return parse_workbook(path, source, limits)
    return _pool_of(1).parse(path, source, limits)


def read_submissions(
    items: Iterable[tuple[Path, str | None]],
    *,
    limits: Limits = _DEFAULT_LIMITS,
    workers: int | None = None,
) -> Iterator[tuple[Path, ParsedSubmission | SubmissionRejected]]:
    """Read a batch in parallel sandbox workers; yields (path, result or rejection) in input order.

    The workers persist across calls (a ledger reading its inbox in batches starts them once);
    ``shutdown()`` stops them.
    """
    pool = _pool_of(max(1, workers or os.cpu_count() or 1))
    yield from pool.parse_many(
        ((Path(p), s if s is not None else Path(p).name) for p, s in items), limits
    )


def _pool_of(workers: int) -> SandboxPool:
    with _pool_lock:
        if not _pools:
            atexit.register(shutdown)
        if workers not in _pools:
            _pools[workers] = SandboxPool(workers=workers)
        return _pools[workers]


def shutdown() -> None:
    """Stop every sandbox worker this process started (they restart on the next read)."""
    with _pool_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()
