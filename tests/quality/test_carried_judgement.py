"""GX judges only the entries whose features changed (``validation.carried_judgement``).

On a real DuckDB file laid out as ``publish.start_build`` leaves it: tonight's feature table,
and last night's entries, flags and judgement fingerprint under ``previous``. Known answers: which
entries carry, and that their flags come back with tonight's run id; hard negatives: a changed
feature (also NULL to a value), a new entry, another fingerprint, a missing table, changed columns.
"""

from __future__ import annotations

import dataclasses
import shutil

import duckdb
import pytest

from zhaoshang import settings as settings_module
from zhaoshang.publish import PREVIOUS_SCHEMA
from zhaoshang.quality import validation
from zhaoshang.quality.validation import GX_FLAGS_COLUMNS, GX_FLAGS_DDL, carried_judgement

FINGERPRINT = "f" * 64


def _flag(entry_id: str, rule: str, run_id: str = "last_night") -> dict:
    return {
        "flag_key": f"{rule}:{entry_id}",
        "rule_flag_key": f"{rule}:{entry_id}",
        "rule": rule,
        "severity": "high",
        "signal": "signal",
        "unit_name": "骆集乡",
        "year": 2021,
        "month": 3,
        "project_name": "项目",
        "submission_id": "s1",
        "source_file": "a.xlsx",
        "sheet": "Sheet1",
        "row_number": 5,
        "evidence": "证据",
        "entry_id": entry_id,
        "detected_run_id": run_id,
    }


@pytest.fixture
def build(tmp_path):
    """Last night judged e1..e4 (flags on e1, e2, e4); tonight e2 changed a feature, e4's NULL
    became a value, e5 is new; e1 and e3 are unchanged."""
    path = tmp_path / "build.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema intermediate")
        con.execute(f"create schema {PREVIOUS_SCHEMA}")
        last = """select * from (values
            ('e1', 0.91::double, 'a'), ('e2', 0.40, 'b'), ('e3', null, 'c'), ('e4', null, 'd')
        ) t(entry_id, name_similarity, project_kind)"""
        tonight = """select * from (values
            ('e1', 0.91::double, 'a'), ('e2', 0.95, 'b'), ('e3', null, 'c'), ('e4', 0.2, 'd'),
            ('e5', 0.99, 'e')
        ) t(entry_id, name_similarity, project_kind)"""
        con.execute(f"create table {PREVIOUS_SCHEMA}.dq_entries as {last}")
        con.execute(f"create table intermediate.{validation.FEATURE_TABLE} as {tonight}")
        con.execute("create schema dq")
        con.execute(GX_FLAGS_DDL)
        columns = ", ".join(GX_FLAGS_COLUMNS)
        for entry_id, rule in (("e1", "OLD_AS_NEW"), ("e2", "OLD_AS_NEW"), ("e4", "INFLATED")):
            flag = _flag(entry_id, rule)
            con.execute(
                f"insert into dq.gx_flags ({columns}) values ({', '.join('?' * len(flag))})",
                [flag[c] for c in GX_FLAGS_COLUMNS],
            )
        con.execute(f"create table {PREVIOUS_SCHEMA}.gx_flags as select * from dq.gx_flags")
        con.execute(
            f"create table {PREVIOUS_SCHEMA}.gx_judgement as select ? as fingerprint",
            [FINGERPRINT],
        )
    return path


def test_unchanged_entries_carry_their_flags_with_tonights_run_id(build):
    with duckdb.connect(str(build)) as con:
        carried = carried_judgement(con, FINGERPRINT, "tonight")
        ids = con.execute("select entry_id from unchanged_entries order by 1").fetchall()
    assert carried is not None
    unchanged, flags = carried
    assert unchanged == 2
    assert ids == [("e1",), ("e3",)]  # e2 changed, e4 NULL -> 0.2, e5 new
    assert list(flags.columns) == list(GX_FLAGS_COLUMNS)
    assert flags["entry_id"].tolist() == ["e1"]  # e3 had no flag to carry
    assert flags["detected_run_id"].tolist() == ["tonight"]
    assert flags.iloc[0]["evidence"] == "证据" and int(flags.iloc[0]["row_number"]) == 5


def test_another_judgement_carries_nothing(build):
    with duckdb.connect(str(build)) as con:
        assert carried_judgement(con, "0" * 64, "tonight") is None


@pytest.mark.parametrize("missing", ["dq_entries", "gx_flags", "gx_judgement"])
def test_missing_previous_table_carries_nothing(build, missing):
    with duckdb.connect(str(build)) as con:
        con.execute(f"drop table {PREVIOUS_SCHEMA}.{missing}")
        assert carried_judgement(con, FINGERPRINT, "tonight") is None


@pytest.mark.parametrize(
    "change",
    ["add column extra int", "alter column name_similarity type float", "drop column project_kind"],
)
def test_changed_feature_columns_carry_nothing(build, change):
    with duckdb.connect(str(build)) as con:
        con.execute(f"alter table intermediate.{validation.FEATURE_TABLE} {change}")
        assert carried_judgement(con, FINGERPRINT, "tonight") is None


def test_write_flags_records_the_judgement_and_drops_the_previous_schema(build):
    with duckdb.connect(str(build)) as con:
        _, flags = carried_judgement(con, FINGERPRINT, "tonight")
        validation.write_flags(con, flags, FINGERPRINT)
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        assert PREVIOUS_SCHEMA not in schemas
        assert con.execute(f"select fingerprint from {validation.JUDGEMENT_TABLE}").fetchall() == [
            (FINGERPRINT,)
        ]
        assert con.execute("select entry_id, detected_run_id from dq.gx_flags").fetchall() == [
            ("e1", "tonight")
        ]


def test_fingerprint_covers_suites_rules_code_and_county(tmp_path, monkeypatch):
    copies = []
    for source in validation._JUDGEMENT_FILES:
        target = tmp_path / source.parent.name / source.name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("uncommitted"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        copies.append(target)
    monkeypatch.setattr(validation, "_JUDGEMENT_FILES", tuple(copies))
    settings = settings_module.load()
    base = validation.judgement_fingerprint(settings)
    assert validation.judgement_fingerprint(settings) == base  # stable

    other_county = dataclasses.replace(settings, county_code="320101")
    assert validation.judgement_fingerprint(other_county) != base
    suites, rules_dir, package = copies[0], copies[1], copies[2]
    for edited in (
        suites / "expectations" / "dq_findings.json",
        rules_dir / "dq_rules.csv",
        package / "evidence.py",
    ):
        original = edited.read_bytes()
        edited.write_bytes(original + b"\n")
        assert validation.judgement_fingerprint(settings) != base, edited
        edited.write_bytes(original)
    assert validation.judgement_fingerprint(settings) == base
