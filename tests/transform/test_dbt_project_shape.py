"""Structure the nightly relies on: the two passes, the staged columns, the relation names."""

from __future__ import annotations

import csv
import json

import yaml
from dbt_runner import DBT_PROJECT_DIR, PASS_2, query

CONTRACT_COLUMNS = {
    ("marts", "sector_summary"): {
        "year",
        "month",
        "sector",
        "new_projects",
        "funds_wan",
        "share_pct",
        "continuing_funds_wan",
    },
    ("marts", "size_band_summary"): {"year", "month", "size_band", "new_projects", "funds_wan"},
    ("marts", "unit_performance"): {
        "year",
        "month",
        "unit_name",
        "unit_type",
        "new_projects",
        "funds_wan",
        "continuing_funds_wan",
        "target_funds_wan",
        "target_projects",
        "completion_pct",
        "schedule_gap_pct",
        "score",
        "rank",
        "is_blank",
        "open_flags",
    },
    ("marts", "project_register"): {
        "project_id",
        "project_name",
        "investor_name",
        "investor_uscc",
        "unit_name",
        "sector",
        "size_band",
        "project_kind",
        "first_reported_month",
        "total_investment_wan",
        "funds_to_date_wan",
    },
    ("audit", "dq_flags"): {
        "rule",
        "severity",
        "unit_name",
        "year",
        "month",
        "project_name",
        "source_file",
        "sheet",
        "row_number",
        "evidence",
    },
    ("audit", "quarantine"): {
        "source_file",
        "sheet",
        "row_number",
        "column_name",
        "reason_zh",
        "reason_en",
    },
    ("audit", "load_log"): {
        "source_file",
        "sha256",
        "unit_name",
        "year",
        "month",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
        "status",
    },
}


def test_contract_tables_have_contract_columns(plain_warehouse):
    rows = query(
        plain_warehouse,
        "select table_schema, table_name, column_name from information_schema.columns",
    )
    present: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        present.setdefault((r["table_schema"], r["table_name"]), set()).add(r["column_name"])
    for table, columns in CONTRACT_COLUMNS.items():
        assert table in present, table
        assert columns <= present[table], (table, columns - present[table])


def test_no_views_in_the_build_file(plain_warehouse):
    """The build file is published as is: a view onto the ledger or raw/ would break for analysts."""
    views = query(
        plain_warehouse, "select schema_name, view_name from duckdb_views() where not internal"
    )
    assert views == []


# Written into the build file between the passes: the quality flags (zhaoshang.quality) and the
# team's decisions and tonight's changes (zhaoshang.triage).
BETWEEN_PASSES = {
    "source.zhaoshang.dq.gx_flags",
    "source.zhaoshang.dq.flag_decisions",
    "source.zhaoshang.dq.flag_changes",
}


def test_pass_2_reads_only_pass_1_tables_and_the_quality_flags(plain_warehouse):
    manifest = json.loads(
        (plain_warehouse.target_path / "manifest.json").read_text(encoding="utf-8")
    )
    nodes = manifest["nodes"]
    pass_2_paths = tuple(s.removeprefix("path:") + "/" for s in PASS_2)

    def sources_reached(unique_id: str, seen: set[str]) -> set[str]:
        found = set()
        for parent in manifest["parent_map"].get(unique_id, []):
            if parent in seen:
                continue
            seen.add(parent)
            if parent.startswith("source."):
                found.add(parent)
            elif nodes[parent]["config"]["materialized"] == "ephemeral":
                found |= sources_reached(parent, seen)  # inlined: its sources are read in pass 2
        return found

    for unique_id, node in nodes.items():
        if node["resource_type"] == "model" and node["original_file_path"].startswith(pass_2_paths):
            assert sources_reached(unique_id, set()) <= BETWEEN_PASSES, unique_id
    # and no pass-1 node reads the flags, which do not exist yet in pass 1
    for unique_id, parents in manifest["parent_map"].items():
        node = nodes.get(unique_id)
        if (
            node
            and node["resource_type"] == "model"
            and not node["original_file_path"].startswith(pass_2_paths)
        ):
            assert not BETWEEN_PASSES & set(parents), unique_id


def test_staged_project_rows_document_every_canonical_column_except_personal_data():
    with (DBT_PROJECT_DIR / "seeds" / "column_map.csv").open(encoding="utf-8") as f:
        column_map = list(csv.DictReader(f))
    renamed = {"status": "project_status", "high_tech": "is_high_tech"}
    expected = {
        renamed.get(c["canonical_name"], c["canonical_name"])
        for c in column_map
        if c["is_pii"] != "true"
    }
    models = yaml.safe_load(
        (DBT_PROJECT_DIR / "models/staging/ledger/_ledger__models.yml").read_text("utf-8")
    )
    (model,) = [m for m in models["models"] if m["name"] == "stg_ledger__project_rows"]
    documented = {c["name"] for c in model["columns"]}
    assert expected <= documented, expected - documented
    pii = {c["canonical_name"] for c in column_map if c["is_pii"] == "true"}
    assert not (pii & documented)


def test_timings_of_the_two_passes(plain_warehouse, flagged_warehouse):
    """Not a limit the machine must meet; printed so a slow change is noticed (pytest -s)."""
    for name, build in (("plain", plain_warehouse), ("flagged", flagged_warehouse)):
        print(name, {k: round(v, 1) for k, v in build.seconds.items()})
        assert all(v > 0 for v in build.seconds.values())
