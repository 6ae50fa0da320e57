"""A logging filter that masks personal data (phone and ID numbers) in every log record.

Airflow's secret masker covers connections, not business data; clerks' sheets carry contact
phone numbers, so every handler on the root logger gets this filter.
"""

from __future__ import annotations

import logging

from zhaoshang.errors import mask_pii


class PiiMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: let logging report it as usual
            return True
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_pii_filter(logger: logging.Logger | None = None) -> None:
    target = logger or logging.getLogger()
    pii_filter = PiiMaskingFilter()
    target.addFilter(pii_filter)
    for handler in target.handlers:
        handler.addFilter(pii_filter)
