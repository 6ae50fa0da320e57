"""dbt's child process, which can be started before it is needed.

Every dbt invocation runs in a child of its own (``zhaoshang.transform`` explains why), and a
child spends about 3 s importing dbt, DuckDB and the adapter before it reads a file. When one
process runs the whole night (``make run``, ``python -m zhaoshang nightly``:
``Settings.warm_start``), the next stage's child is started while the current stage works, so
that import overlaps with parsing or GX; the child then waits on its stdin for its one request
(arguments, environment, working directory), runs ``dbt`` as the ``dbt`` executable does, and
exits, releasing the build file with it. A child started ahead also parses the project while it
waits (``dbt parse``: partial parsing, about 1 s) and hands the manifest to its invocation,
which then skips parsing; it does so only when the request's environment is the one it parsed
with. A child is used once, so no dbt state or DuckDB handle outlives its invocation. Not
started ahead, as on an Airflow worker (one task a process), a child is spawned when needed and
costs what the ``dbt`` executable costs.

``python -m zhaoshang.dbt_process`` is the child.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

_PARSE_ARGS = "ZHAOSHANG_DBT_PARSE_ARGS"  # set: the child runs `dbt parse <these>` while it waits
# How long an unused child gets to exit after its stdin closes before it is killed.
_IDLE_EXIT_S = 5.0


@dataclass
class Finished:
    returncode: int
    output: str  # the child's stdout and stderr, as dbt printed them


class DbtProcess:
    """One child that imports dbt at once and runs one invocation when asked."""

    def __init__(self, env: dict[str, str], parse: list[str] | None = None):
        if parse is not None:
            env = env | {_PARSE_ARGS: json.dumps(parse, ensure_ascii=False)}
        self._output: IO[str] = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        # Output to a file, not a pipe: dbt prints thousands of lines and nobody reads a
        # waiting child's pipe, which would stall it once full.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "zhaoshang.dbt_process"],
            stdin=subprocess.PIPE,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
        )

    @property
    def waiting(self) -> bool:
        return self.proc.poll() is None and self.proc.stdin is not None

    def run(self, args: list[str], env: dict[str, str], cwd: Path) -> Finished:
        """Send the one request and wait for dbt to finish."""
        request = json.dumps({"args": args, "env": env, "cwd": str(cwd)}, ensure_ascii=False)
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(request + "\n")
            self.proc.stdin.close()
        except BrokenPipeError:
            pass  # the child died while waiting: its return code and output say why
        returncode = self.proc.wait()
        self._output.seek(0)
        output = self._output.read()
        self._output.close()
        return Finished(returncode, output)

    def discard(self) -> None:
        """An unused child: closing its stdin tells it to exit."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=_IDLE_EXIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._output.close()


_waiting: DbtProcess | None = None


def start_next(env: dict[str, str], parse: list[str] | None = None) -> None:
    """Start the child the next invocation will use, unless one is already waiting; with
    ``parse`` (dbt's project, profile, target and log options) it parses the project too,
    so nothing else may run dbt until that invocation (runs never overlap: zhaoshang.locking)."""
    global _waiting
    if _waiting is not None and _waiting.waiting:
        return
    if _waiting is not None:
        _waiting.discard()
    _waiting = DbtProcess(env, parse)


def take(env: dict[str, str]) -> DbtProcess:
    """The waiting child if there is one (``start_next``), else a new one."""
    global _waiting
    child, _waiting = _waiting, None
    if child is not None and child.waiting:
        return child
    if child is not None:
        child.discard()
    return DbtProcess(env)


def waiting_pid() -> int | None:
    """The waiting child's pid, if any (for tests and logs)."""
    return _waiting.proc.pid if _waiting is not None and _waiting.waiting else None


def discard_waiting() -> None:
    global _waiting
    if _waiting is not None:
        _waiting.discard()
        _waiting = None


atexit.register(discard_waiting)


def _read_by_dbt(env: Mapping[str, str]) -> dict[str, str]:
    """The variables our project and dbt's flags read (env_var(), DBT_*); others, such as
    Airflow's per-task AIRFLOW_CTX_*, do not change a parse."""
    return {k: v for k, v in env.items() if k.startswith(("ZHAOSHANG_", "DBT_"))}


def child_main() -> int:
    """Import what every dbt invocation needs (and parse, if asked), then run the one request
    from stdin as ``dbt <args>`` and exit with the code the ``dbt`` executable would."""
    import dbt.adapters.duckdb  # noqa: F401 - the slow imports, done before the request
    from dbt.cli.main import dbtRunner
    from dbt.contracts.graph.manifest import Manifest

    import zhaoshang.dbt_plugin  # noqa: F401 - the profile's plugin

    parse_args = os.environ.pop(_PARSE_ARGS, None)
    parsed_with = _read_by_dbt(os.environ)
    manifest = None
    if parse_args:
        parsed = dbtRunner().invoke(["parse", *json.loads(parse_args)])
        manifest = parsed.result if parsed.success and isinstance(parsed.result, Manifest) else None
    line = sys.stdin.readline()
    if not line.strip():
        return 0  # the parent did not need this child after all
    request = json.loads(line)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    if _read_by_dbt(request["env"]) != parsed_with:
        manifest = None  # parsed for another environment: env_var() values may differ
    result = dbtRunner(manifest=manifest).invoke(request["args"])
    if result.exception is not None:
        print(f"dbt: {type(result.exception).__name__}: {result.exception}", file=sys.stderr)
        return 2  # as the executable: 2 = dbt could not run, 1 = a node failed
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(child_main())
