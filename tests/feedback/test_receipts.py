"""Receipts after real nights: forms filled for every unit with known rows, planted bad rows and a
refused file; each unit's receipt lists exactly its own problems (nothing of other units, no
inspection-only rule), real SMTP on loopback gets one receipt per affected unit with an address,
and after a corrected resubmission the next receipt marks the problems resolved."""

from __future__ import annotations

import io
import random
from datetime import date
from decimal import Decimal

import duckdb
import openpyxl
import pytest

from tests.alerts.alert_fixtures import SmtpServer, free_port
from tests.forms.fill import fill, project_rows, resave_with_libreoffice
from zhaoshang import pipeline
from zhaoshang import settings as settings_module
from zhaoshang.forms import write_templates
from zhaoshang.generate import make_uscc
from zhaoshang.generate.uscc import corrupt_check_char

UNITS_CSV = """unit_name,unit_type,aliases,year,target_funds_wan,target_projects,contact_email,feedback
济阳镇,乡镇,济阳;济阳镇人民政府,2021,1000,30,jiyang@units.example.cn,
城关镇,乡镇,城关,2021,2000,20,chengguan@units.example.cn,on
财政局,县直单位,县财政局,2021,500,5,czj@units.example.cn,
工行,金融机构,中国工商银行夏邑支行,2021,800,0,gh@units.example.cn,off
"""
INSPECTION_ONLY = ("以旧充新", "拼凑挂靠", "本地资金", "以小充大", "LOCAL_AS_OUTSIDE", "OLD_AS_NEW")
PHONE = "13812345678"


def _night(settings, day: str) -> dict:
    return pipeline.run_nightly(settings, date.fromisoformat(day), run_id=f"night-{day}")


def _receipt_text(path) -> str:
    book = openpyxl.load_workbook(path)
    return "\n".join(str(c.value) for row in book.active.iter_rows() for c in row if c.value)


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    base = tmp_path_factory.mktemp("receipts")
    raw = base / "raw"
    (raw / "reference").mkdir(parents=True)
    (raw / "reference" / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    smtp = SmtpServer(free_port()).start()
    mp = pytest.MonkeyPatch()
    mp.setenv("ZHAOSHANG_RAW_DIR", str(raw))
    mp.setenv("ZHAOSHANG_WAREHOUSE", str(base / "warehouse" / "zhaoshang.duckdb"))
    mp.setenv("ZHAOSHANG_OUTPUT_DIR", str(base / "output"))
    mp.setenv("ZHAOSHANG_SMTP_URL", smtp.url)
    mp.delenv("ZHAOSHANG_STATE_DIR", raising=False)
    mp.delenv("ZHAOSHANG_ALERT_TO", raising=False)
    try:
        settings = settings_module.load()
        forms = {
            p.name.split("_")[0]: p
            for p in write_templates(base / "forms", 2021, 3, settings.units_csv, all_units=True)
        }
        rng = random.Random(2021)
        inbox = raw / "submissions"
        known: dict[str, list[dict]] = {}
        # 济阳镇: clean rows, one amount typed as text (quarantined), one USCC mistyped (a data
        # error it corrects) and one county-registered investor declared 省外 (a suspicion for
        # the inspection team only).
        jiyang = project_rows(rng, "济阳镇", 3, 2021, 3)
        bad_amount = dict(
            jiyang[0],
            project_name="济阳镇待定资金项目",
            investor_name="待定公司",
            funds_period_wan="待定",
            funds_cumulative_wan=None,
            total_investment_wan=None,
            contract_amount_wan=None,
            investor_uscc=make_uscc("110105", rng),
            remarks=None,
        )
        bad_uscc = dict(
            jiyang[1],
            project_name="济阳镇代码错误项目",
            investor_uscc=corrupt_check_char(make_uscc("110105", rng)),
        )
        local = dict(
            jiyang[2],
            project_name="济阳镇本地企业项目",
            investor_name="本县公司",
            investor_uscc=make_uscc("411426", rng),
        )
        first = [*jiyang, bad_amount, bad_uscc, local]
        fill(forms["济阳镇"], inbox / "济阳镇" / "3月报表.xlsx", first, date(2021, 4, 2))
        known["济阳镇"] = [*jiyang, bad_uscc, local]
        for unit in ("城关镇", "工行"):
            rows = project_rows(rng, unit, 2, 2021, 3)
            if unit == "工行":
                for r in rows:
                    r["sector"] = "金融贷款"
            filled = fill(forms[unit], base / "filled" / f"{unit}.xlsx", rows, date(2021, 4, 3))
            (inbox / unit).mkdir(parents=True)
            resave_with_libreoffice(filled, inbox / unit)
            known[unit] = rows
        (inbox / "财政局").mkdir(parents=True)
        (inbox / "财政局" / "3月报表.xlsx").write_text(
            "项目名称,投资方\n某项目,某公司\n", encoding="utf-8"
        )
        first_night = _night(settings, "2021-04-10")
        first_mail = list(smtp.inbox.messages)

        # The corrections: 济阳镇 resubmits March with the amount and the USCC fixed; 财政局
        # sends its March report on the form.
        fixed = [
            *jiyang,
            dict(
                bad_amount, funds_period_wan=Decimal("12.5"), funds_cumulative_wan=Decimal("12.5")
            ),
            dict(bad_uscc, investor_uscc=make_uscc("110105", rng)),
            local,
        ]
        fill(forms["济阳镇"], inbox / "济阳镇" / "3月报表（更正）.xlsx", fixed, date(2021, 4, 9))
        czj = project_rows(rng, "财政局", 1, 2021, 3)
        fill(forms["财政局"], inbox / "财政局" / "2021年3月.xlsx", czj, date(2021, 4, 9))
        second_night = _night(settings, "2021-04-11")
        second_mail = smtp.inbox.messages[len(first_mail) :]
        yield {
            "settings": settings,
            "known": known,
            "first": first_night,
            "second": second_night,
            "first_mail": first_mail,
            "second_mail": second_mail,
            "fixed": fixed,
            "czj": czj,
        }
    finally:
        smtp.stop()
        mp.undo()


def _by_unit(messages) -> dict[str, object]:
    out = {}
    for m in messages:
        unit = m["Subject"].split("】", 1)[1].split(" ", 1)[0]
        assert unit not in out, "one receipt per unit per night"
        out[unit] = m
    return out


def _period_funds(rows):
    return sum((r["funds_period_wan"] for r in rows), Decimal(0))


def test_the_warehouse_built_from_filled_forms_has_the_known_totals(nights):
    settings = nights["settings"]
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        got = {
            u: (float(f), int(n))
            for u, f, n in con.execute(
                "select unit_name, funds_wan, new_projects from marts.unit_performance "
                "where year = 2021 and month = 3"
            ).fetchall()
        }
    # After the second night: 济阳镇's corrected file replaced the first, 财政局 reported.
    expected = {
        "济阳镇": nights["fixed"],
        "城关镇": nights["known"]["城关镇"],
        "工行": nights["known"]["工行"],
        "财政局": nights["czj"],
    }
    for unit, rows in expected.items():
        counted = [r for r in rows if r["sector"] != "金融贷款"]
        assert got[unit] == (float(_period_funds(rows)), len(counted)), unit


def test_first_night_one_receipt_per_affected_unit_with_an_address(nights):
    assert nights["first"]["receipts"].get("status") == "ok", nights["first"]["receipts"]
    mails = _by_unit(nights["first_mail"])
    assert set(mails) == {"济阳镇", "城关镇", "财政局"}  # 工行 has feedback off
    for unit, message in mails.items():
        recipients = message["To"]
        assert (
            recipients
            == {
                "济阳镇": "jiyang@units.example.cn",
                "城关镇": "chengguan@units.example.cn",
                "财政局": "czj@units.example.cn",
            }[unit]
        )
        key = message["X-Zhaoshang-Alert-Key"]
        assert key.startswith("HZ-") and key in message["Subject"]
    receipts = {r["unit_name"]: r for r in nights["first"]["receipts"]["receipts"]}
    assert set(receipts) == {"济阳镇", "城关镇", "财政局", "工行"}
    assert receipts["工行"]["emailed"] is False
    out = nights["settings"].output_dir / "feedback"
    for unit in receipts:
        assert (out / unit / "2021年3月_回执.xlsx").exists(), unit


def test_each_receipt_lists_exactly_its_own_problems_and_no_suspicion(nights):
    mails = _by_unit(nights["first_mail"])
    texts = {u: m.get_body(preferencelist=("plain",)).get_content() for u, m in mails.items()}
    jiyang = texts["济阳镇"]
    assert "[退回的行]" in jiyang and "待定" in jiyang and "第7行" in jiyang
    assert "[数据问题]" in jiyang and "统一社会信用代码" in jiyang and "第8行" in jiyang
    assert jiyang.count("\n1. ") == 1 and "\n2. " in jiyang and "\n3. " not in jiyang
    assert "城关镇" not in jiyang and "财政局" not in jiyang and "工行" not in jiyang
    chengguan = texts["城关镇"]
    assert "没有需要更正的问题" in chengguan and "入库 2 行" in chengguan
    czj = texts["财政局"]
    assert "[拒收的文件]" in czj and "CSV" in czj and "[缺报]" in czj and "2021年3月" in czj
    assert "济阳镇" not in czj
    for unit, text in texts.items():
        html = mails[unit].get_body(preferencelist=("html",)).get_content()
        attachment = next(mails[unit].iter_attachments()).get_content()
        book_text = _receipt_text(io.BytesIO(attachment))
        for content in (text, html, book_text):
            for word in INSPECTION_ONLY:
                assert word not in content, (unit, word)
            assert PHONE not in content and "王经理" not in content
    assert "=HYPERLINK" not in texts["城关镇"]  # file rows only; no clerk text is echoed
    xlsx = nights["settings"].output_dir / "feedback" / "济阳镇" / "2021年3月_回执.xlsx"
    book = openpyxl.load_workbook(xlsx)
    assert all(c.data_type != "f" for row in book.active.iter_rows() for c in row)


def test_after_the_corrected_resubmission_the_next_receipt_marks_problems_resolved(nights):
    mails = _by_unit(nights["second_mail"])
    assert set(mails) == {"济阳镇", "财政局"}  # 城关镇 and 工行 have nothing new: no e-mail
    jiyang = mails["济阳镇"].get_body(preferencelist=("plain",)).get_content()
    assert "已解决的问题（共 2 项）" in jiyang
    assert "已由更正后的文件“submissions/济阳镇/3月报表（更正）.xlsx”替代" in jiyang
    assert "没有需要更正的问题" in jiyang
    czj = mails["财政局"].get_body(preferencelist=("plain",)).get_content()
    assert "已解决的问题（共 2 项）" in czj and "已收到该月月报" in czj
    assert "没有需要更正的问题" in czj
    for message in mails.values():
        text = message.get_body(preferencelist=("plain",)).get_content()
        for word in INSPECTION_ONLY:
            assert word not in text
    units = {r["unit_name"] for r in nights["second"]["receipts"]["receipts"]}
    assert units == {"济阳镇", "财政局"}


def test_a_rerun_of_the_same_night_sends_nothing_twice(nights):
    settings = nights["settings"]
    again = pipeline.send_receipts(settings, "night-2021-04-11")
    assert again["receipts"] == [] and again["sent_smtp"] == 0
