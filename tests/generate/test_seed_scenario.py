"""The seed half-year scenario: its truth at (2021, 6) is the seed's table, and the files say so."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from tests.generate.readback import parsed, read_file
from zhaoshang import reference
from zhaoshang.generate import SEED_TABLE, generate_inbox, is_valid_uscc, seed_half_year
from zhaoshang.generate.roster import BLANK_SENDS_EMPTY_FORM, SEED_BLANK_UNITS


@pytest.fixture(scope="module")
def seed_inbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed")
    return root, generate_inbox(root, seed_half_year())


def test_seed_table_exactly(seed_inbox):
    _, truth = seed_inbox
    p = truth.period(2021, 6)
    for sector, count in SEED_TABLE.projects.items():
        assert p.sectors[sector].new_projects == count
    for sector, funds in SEED_TABLE.funds.items():
        assert p.sectors[sector].funds_wan == funds
    assert p.sectors["金融贷款"].new_projects == 0
    assert p.totals["new_projects"] == 434
    assert p.totals["funds_wan"] == 103705
    assert {k: v.new_projects for k, v in p.size_bands.items()} == {"<300": 328, "300-499": 47, "500-999": 37, ">=1000": 22}


def test_sums_are_consistent(seed_inbox):
    _, truth = seed_inbox
    for p in truth.periods:
        assert sum(s.new_projects for s in p.sectors.values()) == p.totals["new_projects"]
        assert sum(s.funds_wan for s in p.sectors.values()) == pytest.approx(p.totals["funds_wan"])
        assert sum(b.new_projects for b in p.size_bands.values()) == p.totals["new_projects"]
        assert sum(u.new_projects for u in p.units.values()) == p.totals["new_projects"]
        assert sum(u.funds_wan for u in p.units.values()) == pytest.approx(p.totals["funds_wan"])
        assert sum(s.share_pct for s in p.sectors.values()) == pytest.approx(100, abs=1e-3) or p.totals["funds_wan"] == 0


def test_loans_only_from_banks_and_no_major_project(seed_inbox):
    _, truth = seed_inbox
    bank_units = {u["unit_name"] for u in truth.units if u["unit_type"] == "金融机构"}
    latest = {f.source_file for f in truth.files if f.is_latest}
    rows = [r for r in truth.rows if r.source_file in latest and r.status == "loaded"]
    assert all((r.values["sector"] == "金融贷款") == (r.unit_name in bank_units) for r in rows)
    major = float(reference.rule_parameters()["major_project_min_wan"])
    assert max(float(r.values["total_investment_wan"]) for r in rows if r.values.get("total_investment_wan")) < major


def test_blank_units_and_scores(seed_inbox):
    _, truth = seed_inbox
    p = truth.period(2021, 6)
    assert sorted(n for n, u in p.units.items() if u.is_blank) == sorted(SEED_BLANK_UNITS)
    assert all(p.units[n].score == 0 and p.units[n].funds_wan == 0 for n in SEED_BLANK_UNITS)
    scores = [u.score for u in p.units.values() if not u.is_blank]
    assert max(scores) > 100
    assert min(scores) < 40
    assert len(p.units) == 66
    senders = {f.unit_name for f in truth.files}
    assert set(BLANK_SENDS_EMPTY_FORM) <= senders  # blank but not missing: they send the empty form
    assert not (set(SEED_BLANK_UNITS) - set(BLANK_SENDS_EMPTY_FORM)) & senders
    assert all(f.rows_read == 0 for f in truth.files if f.unit_name in SEED_BLANK_UNITS)


def test_score_formula(seed_inbox):
    _, truth = seed_inbox
    p = truth.period(2021, 6)
    for name, u in p.units.items():
        if u.is_blank:
            continue
        expected = 0.0
        if u.target_funds_wan:
            expected += 70 * u.funds_wan / (u.target_funds_wan * 6 / 12)
        if u.target_projects:
            expected += 30 * u.new_projects / (u.target_projects * 6 / 12)
        assert u.score == pytest.approx(expected, abs=1e-3), name


def test_no_figure_changing_anomalies(seed_inbox):
    _, truth = seed_inbox
    assert all(a.rule == "MISSING_REPORT" and not a.must_flag for a in truth.anomalies)
    assert {a.unit_name for a in truth.anomalies} == set(SEED_BLANK_UNITS) - set(BLANK_SENDS_EMPTY_FORM)
    assert all(is_valid_uscc(r.values.get("investor_uscc")) for r in truth.rows if r.status == "loaded")


def test_quarantined_rows_are_known_and_excluded(seed_inbox):
    _, truth = seed_inbox
    assert sorted(q.reason_code for q in truth.expected_quarantine) == sorted(
        ["E_AMOUNT_NOT_EXACT", "E_DATE_INVALID", "E_REQUIRED", "E_ENUM"])
    assert truth.counts["rows_quarantined"] == 4


def test_resubmission_replaces_the_first_version(seed_inbox):
    _, truth = seed_inbox
    superseded = [f for f in truth.files if f.status == "loaded" and not f.is_latest]
    assert len(superseded) == 1
    old = superseded[0]
    new = next(f for f in truth.files if f.is_latest and (f.unit_name, f.year, f.month) == (old.unit_name, old.year, old.month))
    assert "更正" in new.source_file and new.report_date > old.report_date and new.file_mtime > old.file_mtime
    funds = lambda f: sorted(r.values["funds_period_wan"] for r in truth.rows if r.source_file == f.source_file)  # noqa: E731
    assert funds(old) != funds(new)


def test_files_say_what_the_truth_says(seed_inbox):
    """Read every workbook back with openpyxl and recompute the seed table from the cells alone."""
    root, truth = seed_inbox
    by_pos = {(r.source_file, r.row_number): r for r in truth.rows}
    resolver = reference.UnitResolver(reference.load_units(root / "reference" / "units.csv"))
    new_rows = []
    for f in sorted(truth.files, key=lambda f: (f.year, f.month)):
        rows, total, ws = read_file(root, f)
        assert resolver.resolve(_unit_written(ws)) == f.unit_name
        assert [r["row_number"] for r in rows] == sorted(r.row_number for r in truth.rows if r.source_file == f.source_file)
        for raw in rows:
            expected = by_pos[(f.source_file, raw["row_number"])]
            if expected.status == "quarantined":
                continue
            values = parsed(raw)
            for key in ("funds_period_wan", "funds_cumulative_wan", "total_investment_wan", "sector", "project_kind"):
                assert values.get(key) == expected.values.get(key), (f.source_file, raw["row_number"], key)
            assert values["project_name"] == reference.normalize_text(expected.values["project_name"])
            if f.is_latest:
                key = (f.unit_name, values["project_name"], values["investor_uscc"])
                new_rows.append((key, values))
        amounts = [parsed(r)["funds_period_wan"] for r in rows if by_pos[(f.source_file, r["row_number"])].status == "loaded"]
        if total.get("funds_period_wan") is not None:
            assert Decimal(str(total["funds_period_wan"])) == sum(amounts, Decimal(0))
    funds = Counter()
    projects: dict[str, set] = {}
    for key, v in new_rows:  # one year in the inbox: every 新引进 project is first reported in it
        if v["sector"] == "金融贷款" or v["project_kind"] == "新引进":
            funds[v["sector"]] += v["funds_period_wan"]
        if v["sector"] != "金融贷款" and v["project_kind"] == "新引进":
            projects.setdefault(v["sector"], set()).add(key)
    assert {s: funds[s] for s in SEED_TABLE.funds} == {s: Decimal(v) for s, v in SEED_TABLE.funds.items()}
    assert {s: len(k) for s, k in projects.items()} == SEED_TABLE.projects


def _unit_written(ws) -> str:
    for col in range(1, ws.max_column + 1):
        value = ws.cell(row=2, column=col).value
        if value and "填报单位" in str(value):
            return str(value).split("填报单位：", 1)[1].split("      ")[0]
    raise AssertionError("no 填报单位 on row 2")
