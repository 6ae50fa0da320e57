"""Where the loader's time goes: cProfile around ``load_submissions``, summed by component.

Only the loader's main thread is profiled. The sandbox workers parse in other processes, and
the pool's threads unpickle and decode their replies, so all of that shows up here as the time
the main thread waits for results ("sandboxed parse").
cProfile slows Python-heavy code, so compare the shares, not the absolute seconds.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections.abc import Callable
from pathlib import Path

# (label, file suffix, function name); run one after another inside load_submissions, not nested.
COMPONENTS = (
    ("sha256 of every inbox file (inbox.scan)", "zhaoshang/inbox.py", "scan"),
    ("inbox_files upsert (executemany)", "zhaoshang/ledger/load.py", "record_inbox_presence"),
    ("landing copy + re-hash (inbox.land)", "zhaoshang/inbox.py", "land"),
    ("sandboxed parse (workers + reply decode)", "zhaoshang/ledger/load.py", "default_reader"),
    ("records from parsed rows (_to_records)", "zhaoshang/ledger/load.py", "_to_records"),
    ("DuckDB delete+insert (_write)", "zhaoshang/ledger/load.py", "_write"),
    ("conservation check", "zhaoshang/ledger/load.py", "conservation_gaps"),
)


def profile_call(call: Callable[[], dict], text_path: Path) -> dict:
    """Run ``call`` under cProfile; return its result with seconds per component.

    The 40 costliest functions (cumulative) are written to ``text_path``.
    """
    profiler = cProfile.Profile()
    started = time.perf_counter()
    result = profiler.runcall(call)
    total = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    cumulative: dict[str, float] = {}
    for (filename, _line, function), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        for label, suffix, name in COMPONENTS:
            if function == name and filename.replace("\\", "/").endswith(suffix):
                cumulative[label] = cumulative.get(label, 0.0) + ct
    components = {label: round(cumulative.get(label, 0.0), 3) for label, _s, _n in COMPONENTS}
    components["other (imports, connect, bookkeeping)"] = round(total - sum(components.values()), 3)
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(40)
    text_path.write_text(buffer.getvalue(), encoding="utf-8")
    return {
        "loader": result,
        "profiled_seconds": round(total, 3),
        "components": components,
        "profile_text": str(text_path),
    }
