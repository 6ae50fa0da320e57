"""Sample-data generator: county inboxes of monthly Excel reports with known answers.

``generate_inbox(out_dir, scenario)`` writes ``reference/units.csv`` and
``submissions/**.xlsx`` the way the county's units send them (contract §2-§3, with the
clerks' messiness) and returns a ``Truth`` computed from the rows written: year-to-date figures
by sector, size band and unit, planted anomalies and look-alikes with file/sheet/row, rows to
quarantine and files to reject. ``bad_files(out_dir)`` writes the files the loader must reject.

Scenarios: ``seed_half_year()`` (the seed's half-year table, exactly), ``small()``,
``with_anomalies()``, ``county_year()``, ``province_year()``. CLI: ``python -m zhaoshang.generate``.

In a test::

    truth = generate_inbox(tmp_path / "raw", with_anomalies())
    p = truth.period(2021, 3)                      # year-to-date figures as of 2021-03
    p.sectors["二产"].funds_wan, p.size_bands["<300"].new_projects, p.units["济阳镇"].score
    truth.anomalies      # rule, unit, year, month, source_file, sheet, row_number, project_name, must_flag
    truth.lookalikes     # clean rows a rule must NOT flag
    truth.expected_quarantine, truth.expected_rejected, truth.files, truth.rows, truth.counts
    truth.to_json(path); Truth.from_json(path)
"""

from zhaoshang.generate.badfiles import EXPECTED_CODE as BAD_FILE_CODES
from zhaoshang.generate.badfiles import bad_files
from zhaoshang.generate.inbox import generate_inbox
from zhaoshang.generate.scenario import (
    PRESETS,
    SEED_TABLE,
    Messiness,
    Scenario,
    county_year,
    province_year,
    seed_half_year,
    small,
    with_anomalies,
)
from zhaoshang.generate.truth import Truth
from zhaoshang.generate.uscc import is_valid_uscc, make_uscc, uscc_check_char


def main(argv: list[str] | None = None) -> int:
    from zhaoshang.generate.__main__ import main as cli_main

    return cli_main(argv)


__all__ = [
    "BAD_FILE_CODES",
    "PRESETS",
    "SEED_TABLE",
    "Messiness",
    "Scenario",
    "Truth",
    "bad_files",
    "county_year",
    "generate_inbox",
    "is_valid_uscc",
    "main",
    "make_uscc",
    "province_year",
    "seed_half_year",
    "small",
    "uscc_check_char",
    "with_anomalies",
]
