"""A real SMTP server on loopback for end-to-end runs (reuses the alert tests' server)."""

from tests.alerts.alert_fixtures import SmtpServer, free_port  # noqa: F401
