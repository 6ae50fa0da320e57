"""What the incremental models and the kept docs were built with: a change to any of it (the dbt
project, the rules, the Python dbt calls, the ledger's DDL that the sources read, the county)
changes the fingerprint, so the next night rebuilds from nothing and regenerates the docs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from zhaoshang import transform
from zhaoshang.settings import DBT_PROJECT_DIR


def test_the_fingerprint_covers_the_project_the_udfs_the_ledger_ddl_and_the_county(workspace):
    package = Path(transform.__file__).resolve().parent
    covered = [DBT_PROJECT_DIR / n for n in transform._FINGERPRINTED]
    covered += [package / n for n in transform._FINGERPRINTED_CODE]
    assert all(path.exists() for path in covered), covered
    assert package / "ledger" / "schema.py" in covered
    first = transform.project_fingerprint(workspace)
    assert transform.project_fingerprint(workspace) == first  # stable
    other_county = dataclasses.replace(workspace, county_code=workspace.county_code + "9")
    assert transform.project_fingerprint(other_county) != first
