"""The sandbox worker: ``python -m zhaoshang.excel.worker`` parses workbooks sent by its parent.

It caps its own address space (RLIMIT_AS) and disables core dumps (a dump would hold the
file's personal data), then serves requests until stdin closes. Each request is one
length-prefixed pickle ``(path, source_file, limits)`` from the trusted parent; each reply is
``("ok", wire.encode(ParsedSubmission))``, ``("rejected", (Problem, hint dict or None))`` or
``("failed", exception type name)``.
The parent unpickles replies with an allow-list (``sandbox.py``), so a worker subverted by a
hostile file cannot make the parent run code.

Nothing from a cell is ever written to stderr: an unexpected exception is reported by type and
traceback lines only (exception messages can quote cell text).
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import struct
import sys
import traceback
from pathlib import Path
from typing import BinaryIO

HEADER = struct.Struct(">Q")  # frame length prefix


def read_frame(stream: BinaryIO) -> bytes | None:
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    data = stream.read(size)
    return data if len(data) == size else None


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def _set_limits(address_space: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _protocol_streams() -> tuple[BinaryIO, BinaryIO]:
    """Keep the real stdout for replies and point fd 1 at stderr, so a stray print (or a
    library writing to stdout) cannot corrupt the reply stream."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return sys.stdin.buffer, replies


def handle(request: bytes) -> tuple[tuple[str, object], bool]:
    """(reply, keep running). Imports are here so the rlimit applies to them too."""
    from zhaoshang.errors import Problem, SubmissionRejected
    from zhaoshang.excel import wire
    from zhaoshang.excel.reader import parse_workbook

    path, source_file, limits = pickle.loads(request)
    try:
        return ("ok", wire.encode(parse_workbook(Path(path), source_file, limits))), True
    except SubmissionRejected as rejected:
        return ("rejected", (rejected.problem, rejected.hint)), True
    except MemoryError:
        # The heap may be fragmented or half-built: answer, then let the parent start afresh.
        return ("rejected", (Problem("E_RESOURCE_LIMIT", source_file), None)), False
    except Exception as error:
        sys.stderr.write(
            f"zhaoshang.excel.worker: {type(error).__name__}\n{''.join(traceback.format_tb(error.__traceback__))}"
        )
        return ("failed", type(error).__name__), True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address-space", type=int, required=True)
    args = parser.parse_args(argv)
    _set_limits(args.address_space)
    requests, replies = _protocol_streams()
    import zhaoshang.excel.reader  # noqa: F401 - warm imports before the first file

    while (request := read_frame(requests)) is not None:
        reply, keep_running = handle(request)
        try:
            payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = pickle.dumps(("failed", "MemoryError"))
            keep_running = False
        write_frame(replies, payload)
        if not keep_running:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
