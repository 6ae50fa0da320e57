"""Alert tests: a real SMTP server (aiosmtpd) on a free loopback port."""

from __future__ import annotations

import pytest
from alert_fixtures import SmtpServer, free_port


@pytest.fixture
def smtp_server():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()
