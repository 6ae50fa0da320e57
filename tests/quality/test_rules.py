"""Every planted anomaly is flagged with its rule; no clean look-alike is flagged.

The fixture (ledger_fixture.py) plants each rule of DATA_CONTRACT §5 and, beside them, the
rows a naive rule would wrongly flag: a 二期 project with its own contract, a shared project
whose shares add up to 100 %, a 续建 project reported again, a local investor declared as
local money, a first file superseded by a correction, a month in which nobody reported.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import duckdb
import pytest
from dq_fixture import PHONE, gx_file_hashes, read_flags

from zhaoshang import quality
from zhaoshang.quality import evidence, gx_files
from zhaoshang.quality.rules import load_rules, rule_parameters
from zhaoshang.settings import EXPECTATIONS_DIR


def _unflagged(flags, expected) -> list[str]:
    """The planted anomalies (entry × rule × signal) the flags miss."""
    flagged = {(f["entry_id"], f["rule"], f["signal"]) for f in flags}
    return [
        f"{planted.what} ({planted.rule} {planted.signal})"
        for planted in expected
        if (planted.entry_id, planted.rule, planted.signal) not in flagged
    ]


PLANTED_SIGNALS = [
    ("OLD_AS_NEW", "earlier_year_same_project"),
    ("OLD_AS_NEW", "phase_two_unverified"),
    ("INFLATED_AMOUNT", "yuan_as_wan"),
    ("INFLATED_AMOUNT", "above_total_investment"),
    ("INFLATED_AMOUNT", "above_contract"),
    ("INFLATED_AMOUNT", "cumulative_backwards"),
    ("INFLATED_AMOUNT", "cumulative_mismatch"),
    ("DUPLICATE_CLAIM", "shares_over_100"),
    ("LOCAL_AS_OUTSIDE", "county_registered_investor"),
    ("INVALID_USCC", "malformed"),
    ("INVALID_USCC", "check_digit_mismatch"),
    ("TOTAL_MISMATCH", "total_above_rows"),
    ("TOTAL_MISMATCH", "differs_with_quarantined_rows"),
    ("MISSING_REPORT", "no_report"),
    ("MISSING_REPORT", "only_rejected"),
]


def test_each_planted_anomaly_is_flagged_with_its_rule_and_signal(dq_build):
    assert _unflagged(dq_build.flags, dq_build.fixture.expected) == []


def test_every_planted_signal_is_in_the_mutation_list(dq_build):
    assert sorted({(e.rule, e.signal) for e in dq_build.fixture.expected}) == sorted(
        PLANTED_SIGNALS
    )


@pytest.mark.parametrize(("rule", "signal"), PLANTED_SIGNALS, ids=[s for _, s in PLANTED_SIGNALS])
def test_gx_decides_a_suite_without_the_signals_expectation_misses_its_anomalies(
    dq_build, rule, signal, tmp_path, monkeypatch
):
    """Mutation: the same features judged by a suite that lacks one signal's expectation. That
    signal's planted anomalies go unflagged (the planted-anomaly test would fail) and every
    other flag stays: the verdict is the expectation's, not the SQL's."""
    project = tmp_path / "expectations"
    shutil.copytree(EXPECTATIONS_DIR, project, ignore=shutil.ignore_patterns("uncommitted"))
    suite_file = project / "gx" / "expectations" / f"{gx_files.SUITE}.json"
    suite = json.loads(suite_file.read_text(encoding="utf-8"))
    kept = [
        e
        for e in suite["expectations"]
        if (e["meta"]["rule"], e["meta"]["signal"]) != (rule, signal)
    ]
    assert len(kept) == len(suite["expectations"]) - 1
    suite["expectations"] = kept
    suite_file.write_text(json.dumps(suite, ensure_ascii=False, indent=2), encoding="utf-8")
    monkeypatch.setattr(
        gx_files,
        "context_for",
        lambda settings: gx_files.open_context(tmp_path / "docs", tmp_path / "results", project),
    )
    build_db = tmp_path / "build.duckdb"
    shutil.copyfile(dq_build.build_db, build_db)

    quality.validate(build_db, "run-without-" + signal, dq_build.settings)
    flags = read_flags(build_db)

    planted = [e for e in dq_build.fixture.expected if (e.rule, e.signal) == (rule, signal)]
    assert planted and len(_unflagged(flags, planted)) == len(planted)
    assert not [f for f in flags if f["signal"] == signal]
    others = sorted(f["flag_key"] for f in dq_build.flags if f["signal"] != signal)
    assert sorted(f["flag_key"] for f in flags) == others


def test_nothing_else_is_flagged(dq_build):
    planted = {(e.entry_id, e.rule, e.signal) for e in dq_build.fixture.expected}
    extra = [
        (f["rule"], f["signal"], f["unit_name"], f["month"], f["project_name"], f["evidence"])
        for f in dq_build.flags
        if (f["entry_id"], f["rule"], f["signal"]) not in planted
    ]
    assert extra == []
    flagged_entries = {f["entry_id"] for f in dq_build.flags}
    assert not flagged_entries & set(dq_build.fixture.clean_rows), [
        dq_build.fixture.clean_rows[e] for e in flagged_entries & set(dq_build.fixture.clean_rows)
    ]
    assert dq_build.summary["flags"] == len(dq_build.fixture.expected) == 22
    assert dq_build.summary["by_rule"] == {
        "OLD_AS_NEW": 3,
        "INFLATED_AMOUNT": 5,
        "DUPLICATE_CLAIM": 6,
        "LOCAL_AS_OUTSIDE": 1,
        "INVALID_USCC": 2,
        "TOTAL_MISMATCH": 2,
        "MISSING_REPORT": 3,
    }


def test_clean_look_alikes_are_checked_not_skipped(dq_build):
    """The look-alikes are in the validated table (so 'not flagged' means 'judged clean')."""
    with duckdb.connect(str(dq_build.build_db), read_only=True) as con:
        checked = {
            r[0] for r in con.execute("select entry_id from intermediate.int_dq_entries").fetchall()
        }
        phase_two = con.execute(
            """select is_phase_two, has_own_contract, earlier_report_match
               from intermediate.int_dq_entries where project_name = '冷链物流中心二期项目'"""
        ).fetchall()
        shared = con.execute(
            """select distinct claiming_unit_count, share_sum
               from intermediate.int_dq_entries where project_name = '商贸物流园'"""
        ).fetchall()
    superseded = dq_build.fixture.submissions["初报"]
    clean = {e for e in dq_build.fixture.clean_rows if not e.startswith(superseded)}
    assert len(clean) > 20 and clean <= checked
    assert not {e for e in checked if e.startswith(superseded)}
    assert phase_two == [(True, True, True), (True, True, True)]
    assert shared == [(2, 100)]


def test_superseded_file_is_not_checked(dq_build):
    superseded = dq_build.fixture.submissions["初报"]
    assert not [f for f in dq_build.flags if f["submission_id"] == superseded]


def test_severity_follows_the_signal(dq_build):
    severity = {(f["unit_name"], f["rule"], f["signal"]): f["severity"] for f in dq_build.flags}
    assert severity[("济阳镇", "OLD_AS_NEW", "earlier_year_same_project")] == "high"
    assert severity[("城关镇", "OLD_AS_NEW", "phase_two_unverified")] == "low"
    assert severity[("城关镇", "TOTAL_MISMATCH", "total_above_rows")] == "high"
    assert severity[("会亭镇", "TOTAL_MISMATCH", "differs_with_quarantined_rows")] == "low"
    # one row each: the entry funds above both its planned investment and its contract
    assert severity[("城关镇", "INFLATED_AMOUNT", "above_total_investment")] == "high"
    assert severity[("城关镇", "INFLATED_AMOUNT", "above_contract")] == "medium"
    assert severity[("会亭镇", "INFLATED_AMOUNT", "cumulative_mismatch")] == "medium"


def test_evidence_tells_the_inspector_where_and_why(dq_build):
    by_signal = {(f["rule"], f["signal"], f["unit_name"]): f for f in dq_build.flags}
    old = by_signal[("OLD_AS_NEW", "earlier_year_same_project", "济阳镇")]
    assert (
        old["source_file"] == "2021/济阳镇1月.xlsx"
        and old["sheet"] == "Sheet1"
        and old["row_number"] == 4
    )
    assert (
        "“年产10万吨饲料加工项目”已于2020年5月由济阳镇报送（文件“2020/济阳镇5月.xlsx”，工作表“Sheet1”，第4行"
        in old["evidence"]
    )
    phase = by_signal[("OLD_AS_NEW", "phase_two_unverified", "城关镇")]
    assert (
        "二期" in phase["evidence"]
        and "无法判断" in phase["evidence"]
        and "“服装加工厂”" in phase["evidence"]
    )
    claim = next(
        f
        for f in dq_build.flags
        if f["rule"] == "DUPLICATE_CLAIM"
        and f["unit_name"] == "会亭镇"
        and f["project_name"] == "智能装备产业园"
    )
    assert (
        "会亭镇（计入比例100%" in claim["evidence"] and "城关镇（计入比例100%" in claim["evidence"]
    )
    assert "合计200%" in claim["evidence"]
    backwards = by_signal[("INFLATED_AMOUNT", "cumulative_backwards", "城关镇")]
    assert "600万元" in backwards["evidence"] and "800万元" in backwards["evidence"]
    mismatch = by_signal[("INFLATED_AMOUNT", "cumulative_mismatch", "会亭镇")]
    assert "累计到位资金900万元" in mismatch["evidence"] and "之和600万元" in mismatch["evidence"]
    yuan = by_signal[("INFLATED_AMOUNT", "yuan_as_wan", "济阳镇")]
    assert "5,000,000万元" in yuan["evidence"] and "“元”填成了“万元”" in yuan["evidence"]
    total = by_signal[("TOTAL_MISMATCH", "total_above_rows", "城关镇")]
    assert "合计行2520，各项目行之和2020，多500" in total["evidence"]
    local = by_signal[("LOCAL_AS_OUTSIDE", "county_registered_investor", "会亭镇")]
    assert "411426" in local["evidence"] and "“省外”" in local["evidence"]
    check = by_signal[("INVALID_USCC", "check_digit_mismatch", "会亭镇")]
    assert "应为“Q”，实为“R”" in check["evidence"]
    rejected = by_signal[("MISSING_REPORT", "only_rejected", "财政局")]
    assert rejected["month"] == 3 and "被拒收" in rejected["evidence"]


def test_one_investors_project_under_similar_names_is_one_claim(dq_build):
    """拼凑挂靠 when two units write one investor's project differently (the county's name in
    front, 建设, a longer name) or in different months; each side's evidence names the other
    unit's name as written, file, sheet and row. Hard negatives (same investor, a different
    project; a 二期 elsewhere; a shared 60/40 under near names) stay clean (test above)."""
    claims = {
        (f["unit_name"], f["project_name"]): f["evidence"]
        for f in dq_build.flags
        if f["rule"] == "DUPLICATE_CLAIM"
    }
    county_prefixed = claims[("济阳镇", "夏邑县新型建材产业园建设项目")]
    assert (
        "会亭镇（计入比例100%，1月起报送“新型建材产业园项目”，文件“2021/会亭镇1月.xlsx”工作表“Sheet1”第"
        in county_prefixed
    )
    assert "被2个单位申报" in county_prefixed and "合计200%" in county_prefixed
    plain = claims[("会亭镇", "新型建材产业园项目")]
    assert (
        "济阳镇（计入比例100%，1月起报送“夏邑县新型建材产业园建设项目”，文件“2021/济阳镇1月.xlsx”"
        in plain
    )
    march = claims[("济阳镇", "绿色食品深加工项目")]
    assert "会亭镇（计入比例100%，1月起报送“绿色食品深加工基地项目”" in march
    january = claims[("会亭镇", "绿色食品深加工基地项目")]
    assert (
        "济阳镇（计入比例100%，3月起报送“绿色食品深加工项目”，文件“2021/济阳镇3月.xlsx”" in january
    )


def test_nobody_is_missing_in_a_month_nobody_reported(dq_build):
    assert not [f for f in dq_build.flags if f["rule"] == "MISSING_REPORT" and f["month"] == 2]
    assert sorted(
        (f["unit_name"], f["month"]) for f in dq_build.flags if f["rule"] == "MISSING_REPORT"
    ) == [
        ("盐务局", 1),
        ("盐务局", 3),
        ("财政局", 3),
    ]


def test_no_phone_number_in_any_flag(dq_build):
    text = " ".join(str(v) for f in dq_build.flags for v in f.values())
    assert PHONE not in text
    assert not re.search(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])", text)
    assert "139****5678" in text  # the project name that carried one is masked, not dropped


def test_flag_keys_are_stable_across_runs(dq_build):
    first = {f["flag_key"]: f for f in dq_build.flags}
    again = quality.validate(dq_build.build_db, "run-2", dq_build.settings)
    second = {f["flag_key"]: f for f in read_flags(dq_build.build_db)}
    assert again["flags"] == len(first) and set(second) == set(first)
    assert {f["detected_run_id"] for f in second.values()} == {"run-2"}
    for key, flag in second.items():
        assert key == evidence.flag_key(flag["rule"], flag["signal"], flag["entry_id"])
        assert flag["rule_flag_key"] == evidence.rule_flag_key(flag["rule"], flag["entry_id"])
    # the pre-split key (sha of rule + entry) is what decisions filed before were keyed on
    assert (
        evidence.rule_flag_key("INVALID_USCC", "x|Sheet1|5")
        == hashlib.sha256(b"INVALID_USCC|x|Sheet1|5").hexdigest()[:32]
    )
    missing = next(f for f in second.values() if f["rule"] == "MISSING_REPORT")
    assert missing["entry_id"] == f"unit_month|{missing['unit_name']}|2021|{missing['month']}"


def test_every_signal_and_placeholder_is_described_in_dq_rules(dq_build):
    rules = {r.rule: r for r in load_rules()}
    for flag in dq_build.flags:
        assert rules[flag["rule"]].signal(flag["signal"]) is not None, (flag["rule"], flag)
    with duckdb.connect(str(dq_build.build_db), read_only=True) as con:
        columns = {r[0] for r in con.execute("describe intermediate.int_dq_entries").fetchall()}
    columns |= set(rule_parameters())
    for rule in rules.values():
        for signal in rule.signals:
            placeholders = set(re.findall(r"\{(\w+)\}", signal.evidence_zh))
            assert placeholders <= columns, (signal.signal, placeholders - columns)


def test_gx_flags_exists_and_is_empty_when_nothing_fails(dq_build, tmp_path):
    clean_db = tmp_path / "clean.duckdb"
    with duckdb.connect(str(clean_db)) as con:
        con.execute(f"attach '{dq_build.build_db}' as built (read_only)")
        con.execute("create schema intermediate")
        con.execute(
            """create table intermediate.int_dq_entries as
               select * from built.intermediate.int_dq_entries
               where entry_id not in (select entry_id from built.dq.gx_flags)"""
        )
        kept = con.execute("select count(*) from intermediate.int_dq_entries").fetchone()[0]
    summary = quality.validate(clean_db, "run-clean", dq_build.settings)
    assert kept > 20 and summary["entries_checked"] == kept and summary["flags"] == 0
    with duckdb.connect(str(clean_db), read_only=True) as con:
        assert con.execute("select count(*) from dq.gx_flags").fetchone()[0] == 0

    # an inbox with nothing in it yet: no entries at all
    with duckdb.connect(str(clean_db)) as con:
        con.execute("delete from intermediate.int_dq_entries")
        con.execute("drop schema dq cascade")
    summary = quality.validate(clean_db, "run-empty", dq_build.settings)
    assert summary["entries_checked"] == 0 and summary["flags"] == 0
    with duckdb.connect(str(clean_db), read_only=True) as con:
        assert con.execute("select count(*) from dq.gx_flags").fetchone()[0] == 0


def test_data_docs_are_built_into_the_output_dir(dq_build):
    docs = dq_build.settings.output_dir / "data_docs"
    assert dq_build.summary["data_docs"] == str(docs / "index.html")
    pages = "".join(p.read_text(encoding="utf-8") for p in docs.rglob("*.html"))
    assert "以旧充新（OLD_AS_NEW）" in pages and "漏报（MISSING_REPORT）" in pages


def test_a_run_does_not_touch_the_reviewed_gx_files(dq_build):
    assert gx_file_hashes() == dq_build.gx_files_before


def test_the_real_flags_make_a_clean_alert(dq_build):
    """The digest composed from this build's flags: counts add up, nothing personal, no markup."""
    from zhaoshang.alerts import build_email, compose_flags_alert

    alert = compose_flags_alert(dq_build.flags, run_id="run-1", recipients=("duchazu@example.cn",))
    message = build_email(alert, "zhaoshang@example.cn")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert alert.subject.startswith("【招商引资疑点】新增22条：以旧充新3、以小充大5、拼凑挂靠6")
    assert alert.alert_key in alert.subject
    assert (
        "城关镇（共 6 条）" in text and "会亭镇（共 9 条）" in text and "盐务局（共 2 条）" in text
    )
    for body in (text, alert.body_html, alert.subject):
        assert not re.search(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])", body)


def test_sql_and_suite_read_the_same_rule_constants(dq_build):
    """The two places a constant is used agree on the real features: dbt's earlier-report match
    (name_similarity_min, read from rule_parameters) is exactly GX's similarity comparison, and
    the seed's USCC pattern in the suite says what dbt's format check (macros/uscc.sql) says."""
    suite = json.loads(
        (EXPECTATIONS_DIR / "gx" / "expectations" / f"{gx_files.SUITE}.json").read_text("utf-8")
    )
    kwargs = {(e["meta"]["rule"], e["meta"]["signal"]): e["kwargs"] for e in suite["expectations"]}
    similarity = kwargs[("OLD_AS_NEW", "earlier_year_same_project")]["max_value"]
    pattern = kwargs[("INVALID_USCC", "malformed")]["regex"]
    assert similarity == float(rule_parameters()["name_similarity_min"])
    assert pattern == rule_parameters()["uscc_pattern"]
    with duckdb.connect(str(dq_build.build_db), read_only=True) as con:
        matches = con.execute(
            """select name_similarity, earlier_report_match from intermediate.int_dq_entries
               where name_similarity is not null"""
        ).fetchall()
        usccs = con.execute(
            """select investor_uscc_key, uscc_format_ok from intermediate.int_dq_entries
               where investor_uscc_key is not null"""
        ).fetchall()
    assert matches
    assert [(s, m) for s, m in matches if (s >= similarity) != m] == []
    assert {ok for _, ok in usccs} == {True, False}
    assert [(u, ok) for u, ok in usccs if bool(re.match(pattern, u)) != ok] == []


def test_every_flag_row_has_its_chinese_rule_and_signal_and_old_decisions_hold(dq_build, tmp_path):
    """audit.dq_flags (dbt, real build): one row per entry × rule × signal, each named in Chinese
    from dq_rules.csv (its not_null tests run in the build); a decision filed under the key of
    the flag before the split by signal (rule_flag_key) holds for each signal until one is filed
    under the signal's own flag_key."""
    from zhaoshang import transform

    build_db = tmp_path / "build.duckdb"
    shutil.copyfile(dq_build.build_db, build_db)
    two = [
        f
        for f in dq_build.flags
        if f["rule"] == "INFLATED_AMOUNT" and f["project_name"] == "建材加工项目"
    ]
    assert sorted(f["signal"] for f in two) == ["above_contract", "above_total_investment"]
    assert len({f["rule_flag_key"] for f in two}) == 1
    own = next(f for f in two if f["signal"] == "above_contract")
    with duckdb.connect(str(build_db)) as con:
        con.execute(
            """create table dq.flag_decisions (flag_key varchar, decision varchar,
               decided_by varchar, decided_at timestamp, note varchar, decision_source varchar)"""
        )
        con.execute(
            """insert into dq.flag_decisions values
               (?, 'confirmed', '李四', '2021-04-01 09:00', '核实：超出计划', 'store'),
               (?, 'dismissed', '王五', '2021-04-02 09:00', '合同已补签', 'store')""",
            [own["rule_flag_key"], own["flag_key"]],
        )
    result = transform.run_dbt(
        dq_build.settings, build_db, ["build", "--select", "+dq_flags"], tmp_path / "work"
    )
    assert result.ok, "\n".join(result.failures[:10])
    with duckdb.connect(str(build_db), read_only=True) as con:
        rows = con.execute(
            "select flag_key, rule, rule_zh, signal, signal_zh, severity, status from audit.dq_flags"
        ).fetchall()
    catalogue = {
        (s.rule, s.signal): (r.rule_zh, s.signal_zh) for r in load_rules() for s in r.signals
    }
    assert len(rows) == len(dq_build.flags)
    for _key, rule, rule_zh, signal, signal_zh, _severity, _status in rows:
        assert rule_zh and signal_zh and (rule_zh, signal_zh) == catalogue[(rule, signal)]
    status = {r[3]: r[6] for r in rows if r[0] in {f["flag_key"] for f in two}}
    assert status == {"above_total_investment": "confirmed", "above_contract": "dismissed"}
    assert {r[6] for r in rows if r[0] not in {f["flag_key"] for f in two}} == {"open"}
