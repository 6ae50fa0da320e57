"""The real nightly DAG on a messy inbox with known answers: every file, row and planted anomaly
ends up exactly where the generator says, and a rerun changes nothing."""

from __future__ import annotations

import re

import duckdb
import pytest

from tests.e2e.dagrun import marts_fingerprint, query, run_nightly_dag
from tests.e2e.smtp import SmtpServer, free_port
from zhaoshang import settings as settings_module
from zhaoshang.generate import bad_files, generate_inbox, with_anomalies

INSPECTORS = "duchazu@county.example,kaopingban@county.example"


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def nightly(module_env, airflow_db, smtp):
    raw = module_env / "raw"
    truth = generate_inbox(raw, with_anomalies())
    rejected = truth.expected_rejected + bad_files(raw, year=2021, month=2, seed=3)  # every kind
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHAOSHANG_SMTP_URL", smtp.url)
        mp.setenv("ZHAOSHANG_ALERT_TO", INSPECTORS)
        state = run_nightly_dag("2021-12-31")
        settings = settings_module.load()
    return {
        "truth": truth,
        "rejected": rejected,
        "state": state,
        "settings": settings,
        "smtp": smtp,
    }


def test_the_run_succeeds_and_publishes(nightly):
    assert nightly["state"] == "success"
    assert nightly["settings"].warehouse.exists()


def test_every_file_is_loaded_superseded_or_rejected_with_its_reason(nightly):
    wh = nightly["settings"].warehouse
    log = {
        r[0]: r[1:]
        for r in query(wh, "select source_file, status, unit_name, year, month from audit.load_log")
    }
    expected_rejected = {r.source_file: r.reason_code for r in nightly["rejected"]}
    loaded = [f for f in nightly["truth"].files if f.status == "loaded"]
    assert len(log) == len(loaded) + len(expected_rejected)
    for f in loaded:
        status, unit, year, month = log[f.source_file]
        assert status == ("loaded" if f.is_latest else "superseded"), f.source_file
        assert (unit, year, month) == (f.unit_name, f.year, f.month), f.source_file
    codes = dict(
        query(
            nightly["settings"].inspection_path,  # quarantine is the inspection team's
            "select source_file, reason_code from audit.quarantine where decision = 'REJECT-FILE'",
        )
    )
    assert codes == expected_rejected
    for source_file in expected_rejected:
        assert log[source_file][0] == "rejected"


def test_rows_read_equal_rows_loaded_plus_quarantined_plus_blank_for_every_file(nightly):
    wh = nightly["settings"].warehouse
    per_file = query(
        wh,
        "select source_file, rows_read, rows_loaded, rows_quarantined, rows_ignored_blank from audit.load_log",
    )
    for source_file, read, loaded, quarantined, blank in per_file:
        assert read == loaded + quarantined + blank, source_file
    counts = nightly["truth"].counts
    totals = query(
        wh,
        "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined), sum(rows_ignored_blank) from audit.load_log",
    )[0]
    assert totals == (
        counts["rows_read"],
        counts["rows_loaded"],
        counts["rows_quarantined"],
        counts["rows_ignored_blank"],
    )


def test_quarantine_holds_exactly_the_bad_rows_with_their_cell_and_reason(nightly):
    wh = nightly["settings"].inspection_path  # raw values: the inspection team's file only
    got = set(
        query(
            wh,
            "select source_file, sheet, row_number, reason_code from audit.quarantine where decision = 'QUARANTINE-ROW'",
        )
    )
    expected = {
        (q.source_file, q.sheet, q.row_number, q.reason_code)
        for q in nightly["truth"].expected_quarantine
    }
    assert got == expected
    for reason_zh, reason_en in query(wh, "select reason_zh, reason_en from audit.quarantine"):
        assert "文件" in reason_zh and "file" in reason_en  # names the file in both languages


def test_every_planted_anomaly_is_flagged_and_nothing_clean(nightly):
    wh = nightly["settings"].inspection_path  # the flags' full evidence
    flags = query(
        wh,
        "select rule, severity, unit_name, year, month, source_file, sheet, row_number, evidence from audit.dq_flags",
    )
    by_row = {(f[0], f[5], f[6], f[7]) for f in flags if f[7] is not None}
    by_unit_month = {(f[0], f[2], f[3], f[4]) for f in flags}
    truth = nightly["truth"]
    for a in truth.anomalies:
        if not a.must_flag:
            continue
        if a.row_number is not None:
            assert (a.rule, a.source_file, a.sheet, a.row_number) in by_row, a
        else:
            assert (a.rule, a.unit_name, a.year, a.month) in by_unit_month, a
    planted_rows = {(a.rule, a.source_file, a.sheet, a.row_number) for a in truth.anomalies}
    planted_unit_months = {(a.rule, a.unit_name, a.year, a.month) for a in truth.anomalies}
    lookalike_rows = {(a.source_file, a.sheet, a.row_number) for a in truth.lookalikes}
    for rule, severity, unit, year, month, source_file, sheet, row, evidence in flags:
        assert evidence, "every flag carries evidence"
        if row is None:
            assert (rule, unit, year, month) in planted_unit_months, (rule, unit, year, month)
        elif (source_file, sheet, row) in lookalike_rows:
            assert severity == "low", (rule, source_file, row, evidence)
        else:
            assert (rule, source_file, sheet, row) in planted_rows, (
                rule,
                source_file,
                row,
                evidence,
            )


def test_marts_match_the_generators_truth_for_every_month(nightly):
    wh = nightly["settings"].warehouse
    for period in nightly["truth"].periods:
        ym = [period.year, period.month]
        sectors = {
            r[0]: r[1:]
            for r in query(
                wh,
                "select sector, new_projects, funds_wan, continuing_funds_wan from marts.sector_summary where year=? and month=?",
                ym,
            )
        }
        for sector, fig in period.sectors.items():
            got = sectors[sector]
            assert (got[0], float(got[1]), float(got[2])) == pytest.approx(
                (fig.new_projects, fig.funds_wan, fig.continuing_funds_wan)
            ), (period.year, period.month, sector)
        units = {
            r[0]: r[1:]
            for r in query(
                wh,
                "select unit_name, new_projects, funds_wan, is_blank, score from marts.unit_performance where year=? and month=?",
                ym,
            )
        }
        for unit, fig in period.units.items():
            got = units[unit]
            assert got[0] == fig.new_projects and float(got[1]) == pytest.approx(fig.funds_wan), (
                ym,
                unit,
            )
            assert got[2] == fig.is_blank and float(got[3]) == pytest.approx(fig.score, abs=0.01), (
                ym,
                unit,
            )


def test_a_rerun_changes_nothing_even_with_an_analyst_connected(nightly):
    wh = nightly["settings"].warehouse
    before = marts_fingerprint(wh)
    ledger_counts = _ledger_counts(nightly["settings"])
    analyst = duckdb.connect(str(wh), read_only=True)
    try:
        assert run_nightly_dag("2022-01-01") == "success"
        assert analyst.execute("select count(*) from marts.unit_performance").fetchone()[0] > 0
    finally:
        analyst.close()
    assert marts_fingerprint(wh) == before
    assert _ledger_counts(nightly["settings"]) == ledger_counts
    assert len(nightly["smtp"].inbox.messages) == 1  # nothing new the second night: no e-mail


def test_the_inspection_team_gets_one_email_with_the_new_flags(nightly):
    messages = nightly["smtp"].inbox.messages
    assert len(messages) >= 1
    message = messages[0]
    flags = query(nightly["settings"].warehouse, "select rule, unit_name from audit.dq_flags")
    assert {a.addr_spec for a in message["To"].addresses} == set(INSPECTORS.split(","))
    assert str(len(flags)) in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    for rule, _unit in flags:
        assert rule in text
    for unit in {u for _r, u in flags}:
        assert unit in text
    attachments = [
        part for part in message.iter_attachments() if part.get_filename().endswith(".xlsx")
    ]
    assert len(attachments) == 1
    import io

    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(attachments[0].get_content())).worksheets[0]
    data_rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if any(r)]
    assert len(data_rows) == len(flags)
    html = message.get_body(preferencelist=("html",)).get_content()
    cells = " ".join(str(c) for r in data_rows for c in r if c is not None)
    for shown in (text, html, cells, str(message["Subject"])):
        assert (
            re.search(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])", shown) is None
        )  # no phone numbers


def _ledger_counts(settings) -> tuple:
    with duckdb.connect(str(settings.ledger_path), read_only=True) as con:
        return tuple(
            con.execute(f"select count(*) from {t}").fetchone()[0]
            for t in ("submissions", "project_rows", "quarantine", "sheet_totals")
        )


def test_no_phone_number_of_the_sheets_reaches_the_warehouse_or_the_outputs(nightly):
    """Contact phones are in every sheet (联系人及电话 and the 填表人 footer); none may leave the ledger."""
    phones = {
        m.group(0)
        for row in nightly["truth"].rows
        for m in re.finditer(r"1[3-9]\d{9}", str(row.values.get("contact") or ""))
    }
    assert phones, "the generated sheets carry contact phone numbers"
    settings = nightly["settings"]
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        text_columns = con.execute(
            """select table_schema, table_name, column_name from information_schema.columns
               where table_schema in ('marts', 'audit') and data_type = 'VARCHAR'"""
        ).fetchall()
        for schema, table, column in text_columns:
            values = con.execute(f'select distinct "{column}" from {schema}.{table}').fetchall()
            blob = " ".join(str(v[0]) for v in values)
            assert not any(p in blob for p in phones), (schema, table, column)
    for path in settings.output_dir.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".json", ".txt", ".eml", ".csv"}:
            text = path.read_text(encoding="utf-8", errors="ignore")
            assert not any(p in text for p in phones), path


def test_docs_for_analysts_and_inspectors_are_in_the_output_dir(nightly):
    from zhaoshang.pipeline import regenerate_docs

    settings = nightly["settings"]
    assert (settings.output_dir / "dbt_docs" / "index.html").exists()  # written by the night
    assert (settings.output_dir / "data_docs" / "index.html").exists()
    (settings.output_dir / "dbt_docs" / "index.html").unlink()
    docs = regenerate_docs(settings)  # make docs, between nights
    assert docs["dbt_docs"] and (settings.output_dir / "dbt_docs" / "catalog.json").exists()


def test_analysts_get_the_latest_month_as_an_excel_workbook(nightly):
    import openpyxl

    from zhaoshang.exports import export_path

    settings = nightly["settings"]
    year, month = max((p.year, p.month) for p in nightly["truth"].periods)
    workbook = openpyxl.load_workbook(export_path(settings, year, month), read_only=True)
    assert workbook.sheetnames == ["按产业", "按规模", "单位考核", "本年新引进", "续建", "疑点"]
    # row 1 title, row 2 as-of line, row 3 headings, then data and a 合计 row
    sectors = {r[0]: r[2] for r in workbook["按产业"].iter_rows(min_row=4, values_only=True)}
    for sector, fig in nightly["truth"].period(year, month).sectors.items():
        assert sectors[sector] == pytest.approx(fig.funds_wan)
    units = [
        r for r in workbook["单位考核"].iter_rows(min_row=4, values_only=True) if "合计" not in r
    ]
    assert len(units) == len(nightly["truth"].period(year, month).units)
