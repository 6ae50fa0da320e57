"""Run one benchmark stage in its own process and measure it: wall time and peak memory.

Peak memory is taken two ways, both for the stage's process tree only:

* ``max_rss_mb``: ``ru_maxrss`` of the stage's process — the largest single process among it
  and the children it waited for (sandbox workers, the dbt CLI). A child's ``ru_maxrss`` starts
  at the RSS of the process it was forked from, and this parent may be large (it generated the
  inbox), so the stage is forked from a tiny launcher (``python -S``, ~10 MB) instead;
* ``tree_rss_mb``: the peak of the *sum* of RSS over the process and all its descendants,
  sampled every 0.1 s with psutil (what the machine must hold at once; a short spike between
  samples can be missed).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

SAMPLE_INTERVAL_S = 0.1

# argv: RSS_FILE COMMAND...; writes the command's ru_maxrss (KiB) to RSS_FILE, exits with its code.
_LAUNCHER = """\
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    except OSError as error:
        sys.stderr.write(f"cannot run {sys.argv[2]}: {error}\\n")
    os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


@dataclass
class Measured:
    stage: str
    ok: bool
    seconds: float | None  # the stage's own call, timed inside the process (after imports)
    cpu_s: float | None  # CPU of the call, incl. the children it waited for (workers, dbt)
    process_s: float  # the whole process: interpreter start, imports, the call, exit
    max_rss_mb: float
    tree_rss_mb: float
    result: dict = field(default_factory=dict)
    log: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _sample_tree_rss(pid: int, done: threading.Event, peak: list[int]) -> None:
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    while not done.is_set():
        total = 0
        try:
            for proc in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
        except psutil.Error:
            pass
        peak[0] = max(peak[0], total)
        done.wait(SAMPLE_INTERVAL_S)


def run_process(
    command: list[str], env: dict[str, str], log_path: Path
) -> tuple[int, float, float, float]:
    """Run ``command`` with stdout+stderr to ``log_path``: (exit code, wall s, max RSS MB, tree RSS MB)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    rss_path = log_path.with_suffix(".maxrss")
    rss_path.unlink(missing_ok=True)
    launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(rss_path), *command]
    with log_path.open("wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(launcher, env=env, stdout=log, stderr=subprocess.STDOUT)
        done, peak = threading.Event(), [0]
        sampler = threading.Thread(
            target=_sample_tree_rss, args=(proc.pid, done, peak), daemon=True
        )
        sampler.start()
        code = proc.wait()
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
    max_rss_kib = int(rss_path.read_text()) if rss_path.exists() else 0  # KiB on Linux
    return code, wall, max_rss_kib / 1024, peak[0] / 2**20


def run_stage(stage: str, env: dict[str, str], work: Path, *extra: str) -> Measured:
    """``python -m zhaoshang.bench.stages STAGE`` in a fresh process, measured."""
    out = work / "bench" / f"{stage}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "zhaoshang.bench.stages", stage, str(out), *extra]
    code, wall, max_rss, tree_rss = run_process(command, env, out.with_suffix(".log"))
    data = json.loads(out.read_text(encoding="utf-8")) if code == 0 and out.exists() else {}
    return Measured(
        stage=stage,
        ok=bool(data),
        seconds=data.get("seconds"),
        cpu_s=data.get("cpu_seconds"),
        process_s=wall,
        max_rss_mb=max_rss,
        tree_rss_mb=tree_rss,
        result=data.get("result", {}),
        log=str(out.with_suffix(".log")),
    )


def run_command(stage: str, command: list[str], env: dict[str, str], work: Path) -> Measured:
    """Any command (e.g. ``dbt --version``) measured the same way; its seconds are its wall time."""
    log = work / "bench" / f"{stage}.log"
    code, wall, max_rss, tree_rss = run_process(command, env, log)
    seconds = wall if code == 0 else None
    return Measured(stage, code == 0, seconds, None, wall, max_rss, tree_rss, log=str(log))


def log_tail(measured: Measured, lines: int = 15) -> str:
    try:
        text = Path(measured.log).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])
