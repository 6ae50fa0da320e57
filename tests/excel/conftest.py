"""Fixtures for the Excel reader's tests; helpers live in excel_helpers.py, fixture writers in
workbook_builder.py (both importable because this folder is put on sys.path)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def xlsx(tmp_path):
    """A fresh path for a fixture workbook."""
    counter = iter(range(10_000))
    return lambda name="f": tmp_path / f"{name}-{next(counter)}.xlsx"
