"""Task logs for ``make run``'s Airflow run, where the Airflow UI looks for them.

``airflow dags test`` runs every task inside its own process and prints the tasks' logs to its
console instead of writing Airflow's per-task log files, so the UI's Logs tab of that run would be
empty. The console output (kept in the run's log file) marks where each task starts and ends;
this module cuts it along those marks and writes each task's part to
``$AIRFLOW_HOME/logs/dag_id=…/run_id=…/task_id=…/attempt=N.log`` as the JSON lines Airflow 3's
file task handler reads. Nothing here imports Airflow.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

_START = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>[\w.-]+) map_index=(?P<map>-?\d+)")
_END = re.compile(r"\[DAG TEST\] end task task_id=(?P<task>[\w.-]+)")
_RUN = re.compile(r"<TaskInstance: [\w.-]+\.[\w.-]+ (?P<run>\S+) \[")
_LINE = re.compile(r"^(?P<ts>\d{4}-\d\d-\d\dT[\d:.]+Z?) \[(?P<level>\w+)\s*\] (?P<event>.*)$")
# Terminal colour codes in the console renderer's output.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _json_line(raw: str) -> str:
    text = _ANSI.sub("", raw.rstrip("\n"))
    match = _LINE.match(text)
    if match:
        record = {"timestamp": match["ts"], "level": match["level"], "event": match["event"]}
    else:
        record = {"level": "info", "event": text}
    return json.dumps(record, ensure_ascii=False)


def split_task_logs(console_log: Path, airflow_home: Path, dag_id: str) -> list[Path]:
    """Write one Airflow log file per task attempt found in ``console_log``; return their paths."""
    written: list[Path] = []
    attempts: dict[str, int] = {}
    current: tuple[str, int] | None = None
    run_id: str | None = None
    buffer: list[str] = []

    def flush() -> None:
        if current is None or run_id is None or not buffer:
            return
        task, map_index = current
        folder = airflow_home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task}"
        if map_index >= 0:
            folder = folder / f"map_index={map_index}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"attempt={attempts[task]}.log"
        target.write_text("\n".join(_json_line(line) for line in buffer) + "\n", encoding="utf-8")
        written.append(target)

    with console_log.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            start = _START.search(line)
            if start:
                flush()
                buffer = [line]
                current = (start["task"], int(start["map"]))
                attempts[start["task"]] = attempts.get(start["task"], 0) + 1
                continue
            if current is None:
                continue
            buffer.append(line)
            run = _RUN.search(line) if run_id is None else None
            if run:
                run_id = run["run"]
            if _END.search(line):
                flush()
                current, buffer = None, []
    flush()
    return written
