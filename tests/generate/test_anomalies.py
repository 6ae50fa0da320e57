"""The anomaly scenario: every flag rule planted where the truth says, look-alikes clean, and
no signal in the data that the truth does not explain (an independent scan of the rows)."""

from __future__ import annotations

import zipfile
from decimal import Decimal

import openpyxl
import pytest

from tests.generate.readback import check_files_against_truth
from tests.generate.signals import latest_rows, scan
from zhaoshang import reference
from zhaoshang.errors import MESSAGES
from zhaoshang.generate import BAD_FILE_CODES, generate_inbox, with_anomalies
from zhaoshang.generate.scenario import ALL_BAD_FILES

RULES = {
    "OLD_AS_NEW",
    "INFLATED_AMOUNT",
    "DUPLICATE_CLAIM",
    "LOCAL_AS_OUTSIDE",
    "INVALID_USCC",
    "TOTAL_MISMATCH",
    "MISSING_REPORT",
}
OUTSIDE = {"境外", "省外", "省内县外"}


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("anomalies")
    return root, generate_inbox(root, with_anomalies(bad_files=ALL_BAD_FILES))


def _planted(truth, rule, lookalike=False):
    items = truth.lookalikes if lookalike else truth.anomalies
    return {(a.source_file, a.row_number) for a in items if a.rule == rule}


def test_every_rule_is_planted(inbox):
    _, truth = inbox
    assert {a.rule for a in truth.anomalies if a.must_flag} >= RULES
    for a in truth.anomalies:
        if a.rule != "MISSING_REPORT":
            assert a.source_file and a.sheet and a.row_number
    assert {a.rule for a in truth.lookalikes} == {"OLD_AS_NEW", "DUPLICATE_CLAIM"}


def test_files_hold_the_rows_and_totals(inbox):
    root, truth = inbox
    totals = check_files_against_truth(root, truth)
    mismatched = {
        src
        for src, (total, rows_sum) in totals.items()
        if Decimal(str(total.get("funds_period_wan") or 0)) != rows_sum
    }
    assert mismatched == {a.source_file for a in truth.anomalies if a.rule == "TOTAL_MISMATCH"}
    for a in truth.anomalies:
        if a.rule == "TOTAL_MISMATCH":
            ws = openpyxl.load_workbook(root / a.source_file)[a.sheet]
            assert str(ws.cell(row=a.row_number, column=1).value).replace(" ", "") == "合计"


def test_signals_match_the_plants_exactly(inbox):
    _, truth = inbox
    found = scan(truth)
    for rule in ("INVALID_USCC", "LOCAL_AS_OUTSIDE", "INFLATED_AMOUNT", "DUPLICATE_CLAIM"):
        assert found.get(rule) and found[rule] == _planted(truth, rule), rule
    assert found["SHARED_PROJECT"] == _planted(truth, "DUPLICATE_CLAIM", lookalike=True)
    details = " ".join(a.detail for a in truth.anomalies if a.rule == "INFLATED_AMOUNT")
    assert all(
        word in details for word in ("大于计划总投资", "元填成了万元", "还少", "不等于上月累计")
    )


def test_old_as_new_matches_the_plants_and_look_alikes(inbox):
    _, truth = inbox
    rows = latest_rows(truth)
    signal = scan(truth)["EARLIER_INVESTOR_NEW"]
    lookalikes = [a for a in truth.lookalikes if a.rule == "OLD_AS_NEW"]
    phase_two = {(a.source_file, a.row_number) for a in lookalikes if "二期" in a.project_name}
    assert phase_two and signal == _planted(truth, "OLD_AS_NEW") | phase_two
    by_pos = {(r.source_file, r.row_number): r for r in rows}
    for pos in phase_two:  # its own contract, signed this year
        v = by_pos[pos].values
        assert v["contract_amount_wan"] and v["signed_date"].year == 2021
    continuing = [
        by_pos[(a.source_file, a.row_number)]
        for a in lookalikes
        if (a.source_file, a.row_number) not in phase_two
    ]
    assert continuing and all(r.values["project_kind"] == "续建" for r in continuing)


def test_reported_figures_follow_the_counting_rules(inbox):
    """An independent recount of 2021 from the rows (as reported: unit + name + USCC)."""
    _, truth = inbox
    rows = latest_rows(truth)
    first = {}
    for r in sorted(rows, key=lambda r: (r.year, r.month)):
        first.setdefault(
            (
                r.unit_name,
                reference.project_name_key(r.values["project_name"]),
                r.values["investor_uscc"],
            ),
            r.year,
        )
    last = max(m for y, m in (p for p in [(p.year, p.month) for p in truth.periods]) if y == 2021)
    new, funds, cont = set(), Decimal(0), Decimal(0)
    for r in rows:
        if r.year != 2021:
            continue
        v = r.values
        key = (r.unit_name, reference.project_name_key(v["project_name"]), v["investor_uscc"])
        credited = v["funds_period_wan"] * (v.get("credit_share_pct") or Decimal(100)) / 100
        if v["sector"] == "金融贷款":
            funds += credited
        elif v["project_kind"] == "新引进" and first[key] == 2021:
            new.add(key)
            funds += credited
        else:
            cont += credited
    totals = truth.period(2021, last).totals
    assert totals["new_projects"] == len(new)
    assert totals["funds_wan"] == pytest.approx(float(funds))
    assert totals["continuing_funds_wan"] == pytest.approx(float(cont))
    resigned = [a for a in truth.anomalies if a.rule == "OLD_AS_NEW" and "相同" in a.detail]
    assert resigned and all(
        first[(a.unit_name, reference.project_name_key(a.project_name), _uscc(rows, a))] == 2020
        for a in resigned
    )


def _uscc(rows, anomaly):
    return next(
        r.values["investor_uscc"]
        for r in rows
        if (r.source_file, r.row_number) == (anomaly.source_file, anomaly.row_number)
    )


def test_missing_report(inbox):
    _, truth = inbox
    sent = {(f.unit_name, f.year, f.month) for f in truth.files if f.status == "loaded"}
    must = [a for a in truth.anomalies if a.rule == "MISSING_REPORT" and a.must_flag]
    assert must
    for a in must:
        assert (a.unit_name, a.year, a.month) not in sent
        assert any(
            (a.unit_name, y, m) in sent
            for y, m in {(f.year, f.month) for f in truth.files if f.year == a.year}
        )


def test_quarantined_cells(inbox):
    root, truth = inbox
    assert sorted(q.reason_code for q in truth.expected_quarantine) == sorted(
        ["E_AMOUNT_NOT_EXACT", "E_DATE_INVALID", "E_REQUIRED", "E_ENUM"]
    )
    for q in truth.expected_quarantine:
        f = truth.file(q.source_file)
        ws = openpyxl.load_workbook(root / q.source_file)[q.sheet]
        header = next(text for name, text in f.columns.items() if name == q.column_name)
        col = next(
            c.column
            for row in ws.iter_rows(min_row=f.header_rows[-1], max_row=f.header_rows[-1])
            for c in row
            if c.value is not None and str(c.value) == header.split(">")[-1]
        )
        value = ws.cell(row=q.row_number, column=col).value
        expected = {
            "E_AMOUNT_NOT_EXACT": "约500万",
            "E_DATE_INVALID": "2021年2月30日",
            "E_REQUIRED": None,
            "E_ENUM": "其他产业",
        }
        assert value == expected[q.reason_code]


def test_bad_files(inbox):
    root, truth = inbox
    by_kind = {r.kind: root / r.source_file for r in truth.expected_rejected}
    assert set(by_kind) == set(ALL_BAD_FILES)
    assert all(
        r.reason_code == BAD_FILE_CODES[r.kind] and r.reason_code in MESSAGES
        for r in truth.expected_rejected
    )
    assert by_kind["empty"].stat().st_size == 0
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(by_kind["zip_corrupt"]).testzip()
    assert by_kind["csv_as_xlsx"].read_bytes().startswith("\ufeff夏邑县".encode())
    assert by_kind["html_as_xlsx"].read_bytes().lstrip().lower().startswith(b"<html")
    assert by_kind["legacy_xls"].read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    headers = [c.value for c in openpyxl.load_workbook(by_kind["missing_header"]).active[3]]
    assert "项目名称" in headers and not any(h and "产业" in str(h) for h in headers)
    assert "县老干部局" in openpyxl.load_workbook(by_kind["unknown_unit"]).active["A2"].value
    with zipfile.ZipFile(by_kind["xml_entity"]) as z:
        assert b"<!ENTITY" in z.read("xl/worksheets/sheet1.xml")
    with zipfile.ZipFile(by_kind["zip_bomb"]) as z:
        assert sum(i.file_size for i in z.infolist()) > 300_000_000
    assert by_kind["zip_bomb"].stat().st_size < 2_000_000
    assert truth.counts["files_rejected"] == len(ALL_BAD_FILES)


def test_messiness_is_varied_and_recorded(inbox):
    root, truth = inbox
    features = {
        feat.split(":")[0]
        + (":" + feat.split(":")[1] if feat.startswith(("writer", "bracket", "hidden")) else "")
        for f in truth.files
        for feat in f.features
    }
    for wanted in (
        "two_row_header",
        "shuffled_columns",
        "instructions_sheet",
        "blank_rows",
        "unit_alias",
        "optional",
        "dropped",
        "info_split_cells",
        "writer:openpyxl",
        "writer:xlsxwriter",
        "bracket_units:full",
        "bracket_units:half",
        "hidden_sheet:first",
        "hidden_sheet:last",
        "report_date",
        "header_synonyms",
    ):
        assert wanted in features, wanted
    styles = {n["style"] for n in truth.messiness}
    assert {
        "thousands",
        "fullwidth",
        "wan_suffix",
        "yi",
        "ymd_cn",
        "dotted",
        "slashed",
        "alias",
    } <= styles
    names = [f.source_file for f in truth.files]
    assert any(f.unit_name not in f.source_file for f in truth.files if f.status == "loaded")
    assert any(n.count("/") >= 3 for n in names)  # nested folders below submissions/
    hidden = next(f for f in truth.files if any(x.startswith("hidden_sheet") for x in f.features))
    wb = openpyxl.load_workbook(root / hidden.source_file)
    assert any(ws.sheet_state == "hidden" for ws in wb.worksheets)
    assert wb[hidden.sheet].sheet_state == "visible"
