"""``[core] hostname_callable`` for the distributed test: each local worker reports the name its
container would have, so the test can see which worker ran which task."""

from __future__ import annotations

import os
import socket


def from_env() -> str:
    return os.environ.get("ZHAOSHANG_TEST_HOSTNAME") or socket.getfqdn()
