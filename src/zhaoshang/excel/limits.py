"""The resource limits a submitted workbook must stay within (RELIABILITY §3, "starting limits").

One frozen, picklable value that travels with every parse request into the sandbox worker, so a
test or an operator can tighten a limit for one call. The defaults are the catalogue's starting
points; calibrate them from the resource envelope of real files (RELIABILITY M16).
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * MIB
    max_zip_entries: int = 200
    max_uncompressed_bytes: int = 200 * MIB  # sum of the central directory's declared sizes
    max_compression_ratio: float = 100.0
    # A high ratio only matters for big parts: a 2 KB styles.xml may legitimately compress 100:1.
    ratio_check_min_bytes: int = 1 * MIB
    max_shared_strings: int = 500_000
    max_sheets: int = 50
    # OLE/CFB (.xls, .et): a workbook holds a handful of streams (Workbook, summaries, CompObj);
    # their declared sizes count against max_uncompressed_bytes like a zip's parts.
    max_ole_streams: int = 64
    max_rows: int = 100_000  # highest sheet row holding a value
    max_columns: int = 200  # highest sheet column holding a value
    header_search_rows: int = 15  # the header must start within the first N rows
    parse_timeout_s: float = 60.0  # wall clock per file, sandboxed parse only
    address_space_bytes: int = 1536 * MIB  # RLIMIT_AS of the sandbox worker
    # A worker is recycled after this many files, or sooner once its resident memory passes
    # recycle_rss_bytes (fragmentation, a leak): a restart costs ~150 ms of CPU, a county file 1.
    max_tasks_per_worker: int = 5_000
    recycle_rss_bytes: int = 384 * MIB
