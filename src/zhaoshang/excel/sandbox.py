"""Parse workbooks in a child process with memory and time limits; the parent always survives.

RELIABILITY §3 rule 3 and G25: a file that gets past the sniff and still exhausts memory or
time kills only its worker, and is rejected with E_RESOURCE_LIMIT.

The worker is a plain ``subprocess`` (``python -m zhaoshang.excel.worker``), not
``multiprocessing``: Airflow runs tasks in daemonic processes, which may not have
multiprocessing children. It is persistent: starting Python and importing calamine costs
~100 ms, reading a small county file a few ms, so one worker serves many files and is
recycled after ``Limits.max_tasks_per_worker`` files, when its resident memory passes
``Limits.recycle_rss_bytes``, or after any failure. ``SandboxPool``
runs several workers for a batch.

Replies are unpickled with an allow-list of the reader's own types, so a worker subverted
by a hostile file still cannot make the parent execute anything.
"""

from __future__ import annotations

import io
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import zhaoshang
from zhaoshang.errors import Problem, SubmissionRejected
from zhaoshang.excel import wire
from zhaoshang.excel.limits import Limits
from zhaoshang.excel.model import ParsedSubmission
from zhaoshang.excel.worker import HEADER, write_frame

# Replies hold builtins (wire.encode) and Problems; nothing else may be named in them.
_ALLOWED_GLOBALS = {("zhaoshang.errors", "Problem")}


class _ReplyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"worker reply refers to {module}.{name}")
        return super().find_class(module, name)


def _load_reply(payload: bytes) -> tuple[str, object]:
    reply = _ReplyUnpickler(io.BytesIO(payload)).load()
    if not (isinstance(reply, tuple) and len(reply) == 2 and isinstance(reply[0], str)):
        raise pickle.UnpicklingError("malformed worker reply")
    return reply


def _is_rejection(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], Problem)
        and (value[1] is None or isinstance(value[1], dict))
    )


class _WorkerDied(Exception):
    pass


class SandboxWorker:
    """One worker process, started on first use and restarted after any failure."""

    def __init__(self, stderr: int | None = subprocess.DEVNULL):
        self._proc: subprocess.Popen[bytes] | None = None
        self._tasks = 0
        self._address_space: int | None = None
        self._stderr = stderr

    def parse(self, path: Path, source_file: str, limits: Limits) -> ParsedSubmission:
        """ParsedSubmission, or SubmissionRejected (E_RESOURCE_LIMIT if the worker was killed)."""
        proc = self._ready(limits)
        request = pickle.dumps((str(path), source_file, limits), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            assert proc.stdin is not None
            write_frame(proc.stdin, request)
            payload = self._read_reply(proc, time.monotonic() + limits.parse_timeout_s)
            status, value = _load_reply(payload)
        except (_WorkerDied, OSError, pickle.UnpicklingError, EOFError, ValueError):
            self.close(busy=True)
            raise SubmissionRejected(Problem("E_RESOURCE_LIMIT", source_file)) from None
        self._tasks += 1
        if status == "ok" and isinstance(value, dict):
            return wire.decode(value)
        if status == "rejected" and _is_rejection(value):
            problem, hint = cast(tuple[Any, Any], value)
            if problem.code == "E_RESOURCE_LIMIT":
                self.close()  # the worker is exiting to free its heap
            raise SubmissionRejected(problem, hint)
        self.close()
        raise SubmissionRejected(Problem("E_UNREADABLE", source_file, detail=str(value)[:40]))

    def pid(self, limits: Limits) -> int:
        """The worker's process id, starting it if needed (for measurements)."""
        return self._ready(limits).pid

    def _ready(self, limits: Limits) -> subprocess.Popen[bytes]:
        stale = (
            self._tasks >= limits.max_tasks_per_worker
            or self._address_space != limits.address_space_bytes
            or (
                self._proc is not None
                and self._tasks % _RSS_CHECK_EVERY == 0
                and _resident_bytes(self._proc.pid) > limits.recycle_rss_bytes
            )
        )
        if self._proc is not None and (stale or self._proc.poll() is not None):
            self.close()
        if self._proc is None:
            self._proc = _spawn(limits.address_space_bytes, self._stderr)
            self._address_space = limits.address_space_bytes
            self._tasks = 0
        return self._proc

    def _read_reply(self, proc: subprocess.Popen[bytes], deadline: float) -> bytes:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        head = _read_exactly(fd, HEADER.size, deadline)
        (size,) = HEADER.unpack(head)
        return _read_exactly(fd, size, deadline)

    def close(self, busy: bool = False) -> None:
        """Stop the worker; the next parse starts a new one.

        An idle worker exits when its stdin closes; a busy one (timed out, or its reply could not
        be read) is killed at once. It is our own child, killed by its handle, never by name.
        """
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if busy:
            proc.kill()
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_RSS_CHECK_EVERY = 50  # files between two looks at a worker's resident memory
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def _resident_bytes(pid: int) -> int:
    """A live child's resident memory (Linux /proc); 0 where it cannot be read."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return 0


def _read_exactly(fd: int, size: int, deadline: float) -> bytes:
    chunks = []
    remaining = size
    while remaining:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            raise _WorkerDied("timeout")
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise _WorkerDied("timeout")
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise _WorkerDied("eof")  # killed by the kernel (RLIMIT_AS, OOM) or crashed
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _spawn(address_space: int, stderr: int | None) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    package_root = str(Path(zhaoshang.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env["RUST_BACKTRACE"] = "0"  # a calamine panic must not dump frames (or cell text) to logs
    return subprocess.Popen(
        [sys.executable, "-m", "zhaoshang.excel.worker", "--address-space", str(address_space)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=env,
        close_fds=True,
    )


class SandboxPool:
    """``workers`` sandbox workers reading a batch of files in parallel (order preserved)."""

    def __init__(self, workers: int | None = None, stderr: int | None = subprocess.DEVNULL):
        self._size = max(1, workers or os.cpu_count() or 1)
        self._idle = [SandboxWorker(stderr) for _ in range(self._size)]
        self._lock = threading.Lock()
        self._available = threading.Semaphore(self._size)

    def parse(self, path: Path, source_file: str, limits: Limits) -> ParsedSubmission:
        with self._available:
            with self._lock:
                worker = self._idle.pop()
            try:
                return worker.parse(path, source_file, limits)
            finally:
                with self._lock:
                    self._idle.append(worker)

    def parse_many(
        self, items: Iterable[tuple[Path, str]], limits: Limits
    ) -> Iterator[tuple[Path, ParsedSubmission | SubmissionRejected]]:
        """(path, ParsedSubmission or the SubmissionRejected) for each (path, source_file)."""

        def one(item: tuple[Path, str]) -> tuple[Path, ParsedSubmission | SubmissionRejected]:
            try:
                return item[0], self.parse(item[0], item[1], limits)
            except SubmissionRejected as rejected:
                return item[0], rejected

        with ThreadPoolExecutor(self._size) as threads:
            yield from threads.map(one, items)

    def close(self) -> None:
        with self._lock:
            for worker in self._idle:
                worker.close()
