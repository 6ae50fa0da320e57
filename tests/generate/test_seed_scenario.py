"""The seed half-year scenario: its truth at (2021, 6) is the seed's table, and the files say so."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from tests.generate.readback import check_files_against_truth
from tests.generate.signals import scan
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
    assert {k: v.new_projects for k, v in p.size_bands.items()} == {
        "<300": 328,
        "300-499": 47,
        "500-999": 37,
        ">=1000": 22,
    }


def test_sums_are_consistent(seed_inbox):
    _, truth = seed_inbox
    for p in truth.periods:
        assert sum(s.new_projects for s in p.sectors.values()) == p.totals["new_projects"]
        assert sum(s.funds_wan for s in p.sectors.values()) == pytest.approx(p.totals["funds_wan"])
        assert sum(b.new_projects for b in p.size_bands.values()) == p.totals["new_projects"]
        assert sum(u.new_projects for u in p.units.values()) == p.totals["new_projects"]
        assert sum(u.funds_wan for u in p.units.values()) == pytest.approx(p.totals["funds_wan"])
        assert (
            sum(s.share_pct for s in p.sectors.values()) == pytest.approx(100, abs=1e-3)
            or p.totals["funds_wan"] == 0
        )


def test_loans_only_from_banks_and_no_major_project(seed_inbox):
    _, truth = seed_inbox
    bank_units = {u["unit_name"] for u in truth.units if u["unit_type"] == "金融机构"}
    latest = {f.source_file for f in truth.files if f.is_latest}
    rows = [r for r in truth.rows if r.source_file in latest and r.status == "loaded"]
    assert all((r.values["sector"] == "金融贷款") == (r.unit_name in bank_units) for r in rows)
    major = float(reference.rule_parameters()["major_project_min_wan"])
    assert (
        max(
            float(r.values["total_investment_wan"])
            for r in rows
            if r.values.get("total_investment_wan")
        )
        < major
    )


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
    assert {a.unit_name for a in truth.anomalies} == set(SEED_BLANK_UNITS) - set(
        BLANK_SENDS_EMPTY_FORM
    )
    assert all(
        is_valid_uscc(r.values.get("investor_uscc")) for r in truth.rows if r.status == "loaded"
    )


def test_no_unplanted_signal_in_the_data(seed_inbox):
    _, truth = seed_inbox
    assert scan(truth) == {}


def test_quarantined_rows_are_known_and_excluded(seed_inbox):
    _, truth = seed_inbox
    assert sorted(q.reason_code for q in truth.expected_quarantine) == sorted(
        ["E_AMOUNT_NOT_EXACT", "E_DATE_INVALID", "E_REQUIRED", "E_ENUM"]
    )
    assert truth.counts["rows_quarantined"] == 4


def test_resubmission_replaces_the_first_version(seed_inbox):
    _, truth = seed_inbox
    superseded = [f for f in truth.files if f.status == "loaded" and not f.is_latest]
    assert len(superseded) == 1
    old = superseded[0]
    new = next(
        f
        for f in truth.files
        if f.is_latest and (f.unit_name, f.year, f.month) == (old.unit_name, old.year, old.month)
    )
    assert (
        "更正" in new.source_file
        and new.report_date > old.report_date
        and new.file_mtime > old.file_mtime
    )

    def funds(f):
        return sorted(
            r.values["funds_period_wan"] for r in truth.rows if r.source_file == f.source_file
        )

    assert funds(old) != funds(new)


def test_files_say_what_the_truth_says(seed_inbox):
    """Read every workbook back with openpyxl; recompute the seed table from the cells alone."""
    root, truth = seed_inbox
    totals = check_files_against_truth(root, truth)
    assert all(
        Decimal(str(total["funds_period_wan"])) == rows_sum
        for total, rows_sum in totals.values()
        if total.get("funds_period_wan") is not None
    )
    latest = {f.source_file for f in truth.files if f.is_latest}
    funds = Counter()
    projects: dict[str, set] = {}
    for r in truth.rows:  # one year in the inbox: every 新引进 project is first reported in it
        v = r.values
        if r.source_file not in latest or r.status != "loaded":
            continue
        if v["sector"] == "金融贷款" or v["project_kind"] == "新引进":
            funds[v["sector"]] += v["funds_period_wan"]
        if v["sector"] != "金融贷款" and v["project_kind"] == "新引进":
            projects.setdefault(v["sector"], set()).add(
                (r.unit_name, reference.project_name_key(v["project_name"]), v["investor_uscc"])
            )
    assert {s: funds[s] for s in SEED_TABLE.funds} == {
        s: Decimal(v) for s, v in SEED_TABLE.funds.items()
    }
    assert {s: len(k) for s, k in projects.items()} == SEED_TABLE.projects


def test_units_csv(seed_inbox):
    root, _truth = seed_inbox
    units = reference.load_units(root / "reference" / "units.csv")
    assert len(units) == 66
    assert Counter(u.unit_type for u in units) == {
        "乡镇": 24,
        "县直单位": 29,
        "金融机构": 7,
        "驻县单位": 6,
    }
    assert all(u.year == 2021 and u.target_funds_wan > 0 for u in units)
    assert all(u.target_projects == 0 for u in units if u.unit_type == "金融机构")
