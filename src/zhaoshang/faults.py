"""Fault injection for crash tests: ``ZHAOSHANG_FAIL_AT=<stage>:<step>`` stops the run there.

``ZHAOSHANG_FAIL_MODE=kill`` sends SIGKILL to the process (a power cut: no cleanup, no
``finally``); anything else raises. Unset in production, where ``fail_point`` is a no-op.
"""

from __future__ import annotations

import os
import signal


def fail_point(name: str) -> None:
    if os.environ.get("ZHAOSHANG_FAIL_AT") != name:
        return
    if os.environ.get("ZHAOSHANG_FAIL_MODE") == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise RuntimeError(f"injected failure at {name}")
