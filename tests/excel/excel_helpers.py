"""Helpers shared by the Excel reader's tests: read in process (fast) and catch rejections."""

from __future__ import annotations

from pathlib import Path

import pytest

from zhaoshang.errors import Problem, SubmissionRejected
from zhaoshang.excel import Limits, ParsedSubmission, read_submission

SOURCE = "raw/submissions/济阳镇/2021-03.xlsx"


DEFAULT = Limits()


def read(path: Path, limits: Limits = DEFAULT, sandbox: bool = False) -> ParsedSubmission:
    return read_submission(path, source_file=SOURCE, limits=limits, sandbox=sandbox)


def rejection(path: Path, limits: Limits = DEFAULT, sandbox: bool = False) -> Problem:
    with pytest.raises(SubmissionRejected) as caught:
        read(path, limits, sandbox)
    problem = caught.value.problem
    assert problem.source_file == SOURCE
    assert problem.message_zh and problem.message_en
    return problem


def problems_of(parsed: ParsedSubmission, row_number: int) -> list[Problem]:
    row = next(r for r in parsed.rows if r.row_number == row_number)
    return row.problems


def warning_codes(parsed: ParsedSubmission) -> list[str]:
    return [w.code for w in parsed.warnings]


def assert_conservation(parsed: ParsedSubmission) -> None:
    assert parsed.rows_read == len(parsed.rows) + parsed.rows_ignored_blank
    for row in parsed.rows:
        for problem in row.problems:
            assert problem.row_number == row.row_number
            assert problem.sheet == parsed.sheet and problem.source_file == SOURCE
