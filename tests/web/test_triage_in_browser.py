"""The inspection team's web pages, driven in headless Chromium against the real app, the real
nightly run (dbt, GX, DuckDB) and a real SMTP server on loopback.

One unit's February report carries a planted 以小充大 row (累计到位 above 计划总投资), typed with
full-width digits, a thousands separator, a dotted date and a phone in 备注. An inspector filters
to that unit, opens the flag (the cells as typed, masked) and dismisses it with a note; the next
night (the real DAG, dag.test()) the warehouse says dismissed and nobody is mailed; the unit then
reports a larger amount: the flag comes back as escalated by e-mail; the unit corrects its file:
the flag shows 已消除 with the night; the published files are rolled back to the first night's and
a fifth night still knows when it cleared.

Set ZHAOSHANG_WRITE_SCREENSHOTS=1 to refresh the README images in docs/images/ from this run.
"""

from __future__ import annotations

import http.cookiejar
import os
import random
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

import duckdb
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.alerts.alert_fixtures import SmtpServer, free_port
from tests.e2e.dagrun import run_nightly_dag
from tests.excel.workbook_builder import Form, project_row, write_form
from tests.web.browser import AppServer, Browser
from zhaoshang import decisions, pipeline, restore
from zhaoshang import settings as settings_module
from zhaoshang.generate import generate_inbox, make_uscc, with_anomalies
from zhaoshang.web import auth, create_app

# Whole nights and a browser: the integration tier (make test-fast leaves it out).
pytestmark = pytest.mark.integration

UNIT = "会亭镇"
PROJECT = "示范冷链物流项目"
INSPECTOR = ("王督查", "inspect-pass-1")
ANALYST = ("李分析", "analyst-pass-1")
NOTE = "已核对银行进账单，累计数含设备投资，排除"
REPORT = Path("submissions") / "会亭镇_2021年2月招商引资进展表.xlsx"
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def write_unit_report(raw: Path, *, period_wan: int, cumulative_wan: int) -> None:
    """会亭镇's February report: two clean rows and the planted row (total investment 1,000)."""
    rng = random.Random(11)
    rows = [
        project_row(
            i,
            项目名称=f"会亭食品加工{i}号项目",
            投资方=f"郑州会亭食品{i}有限公司",
            统一社会信用代码=make_uscc("410100", rng),
            签约时间=date(2021, 2, 3),
            period=5,  # small beside the unit's target, so its completion stays plausible
            联系人及电话="赵六 13700001111",
        )
        for i in (1, 2)
    ]
    rows.append(
        project_row(
            3,
            项目名称=PROJECT,
            投资方="开封冷链物流股份有限公司",
            统一社会信用代码=make_uscc("410200", rng),
            签约时间="2021.2.8",  # as the unit typed them: a dotted date, full-width digits,
            total="１０００",  # a thousands separator and a phone in 备注
            # above every cumulative figure below: one signal (above_total_investment), one flag
            contract="3,000.5",
            period=period_wan,
            cumulative=cumulative_wan,
            备注="请致电13812345678核实",
        )
    )
    form = Form(meta=[[f"填报单位：{UNIT}      报告期：2021年2月      单位：万元"]], rows=rows)
    path = raw / REPORT
    path.parent.mkdir(parents=True, exist_ok=True)
    write_form(path, form, sheet_title="2月")


def night(day: str) -> dict:
    return pipeline.run_nightly(settings_module.load(), date.fromisoformat(day))


def query(site, sql: str, params=()) -> list[tuple]:
    path = site.get("path") or site["settings"].warehouse  # the analysts' file unless told
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def planted(site) -> list[tuple]:
    """(flag_key, status, severity, decided_by, note) of the planted row's 以小充大 flag (its
    above_total_investment signal; one flag per signal)."""
    return query(
        site,
        """select flag_key, status, severity, decided_by, note from audit.dq_flags
           where rule = 'INFLATED_AMOUNT' and signal = 'above_total_investment'
             and project_name = ?""",
        [PROJECT],
    )


def mails_about(site, start: int, text: str) -> list:
    messages = site["smtp"].inbox.messages[start:]
    return [m for m in messages if text in m.get_body(preferencelist=("plain",)).get_content()]


@pytest.fixture(scope="module")
def site(tmp_path_factory, airflow_db):
    base = tmp_path_factory.mktemp("web")
    smtp = SmtpServer(free_port()).start()
    port = free_port()
    mp = pytest.MonkeyPatch()
    mp.setenv("ZHAOSHANG_RAW_DIR", str(base / "raw"))
    mp.setenv("ZHAOSHANG_WAREHOUSE", str(base / "warehouse" / "zhaoshang.duckdb"))
    mp.setenv("ZHAOSHANG_OUTPUT_DIR", str(base / "output"))
    mp.setenv("ZHAOSHANG_SMTP_URL", smtp.url)
    mp.setenv("ZHAOSHANG_ALERT_TO", "duchazu@county.example")
    mp.setenv("ZHAOSHANG_WEB_BASE_URL", f"http://127.0.0.1:{port}")
    mp.delenv("ZHAOSHANG_STATE_DIR", raising=False)
    scenario = with_anomalies(units=6, months=range(1, 3), history_months=(12,), bad_files=())
    truth = generate_inbox(base / "raw", scenario)
    for f in truth.files:  # the unit's own February report is replaced by the planted one
        if f.unit_name == UNIT and (f.year, f.month) == (2021, 2):
            (base / "raw" / f.source_file).unlink()
    write_unit_report(base / "raw", period_wan=5, cumulative_wan=1500)
    settings = settings_module.load()
    with decisions.writer(settings) as con:
        auth.add_user(con, *INSPECTOR[:1], "inspector", INSPECTOR[1])
        auth.add_user(con, *ANALYST[:1], "analyst", ANALYST[1])
    night("2021-03-01")
    app = AppServer(create_app(settings), port).start()
    yield {"settings": settings, "smtp": smtp, "url": app.url, "raw": base / "raw"}
    app.stop()
    smtp.stop()
    mp.undo()


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


def login(browser: Browser, url: str, who: tuple[str, str], next_path: str = "/flags") -> None:
    driver = browser.driver
    driver.delete_all_cookies()
    driver.get(f"{url}{next_path}")
    assert "/login" in driver.current_url
    driver.find_element(By.ID, "username").send_keys(who[0])
    driver.find_element(By.ID, "password").send_keys(who[1])
    browser.submit("login-button")
    assert "/login" not in driver.current_url, driver.page_source[:500]


def save_screenshot(browser: Browser, name: str, tmp: Path) -> None:
    path = browser.screenshot(tmp / name)
    assert path.stat().st_size < 200_000
    if os.environ.get("ZHAOSHANG_WRITE_SCREENSHOTS"):
        IMAGES.mkdir(parents=True, exist_ok=True)
        (IMAGES / name).write_bytes(path.read_bytes())


def test_dismissed_stays_quiet_escalates_on_a_larger_amount_and_clears_when_corrected(
    site, browser, tmp_path
):
    url, driver = site["url"], browser.driver
    [(first_key, status, severity, _, _)] = planted(site)
    assert (status, severity) == ("open", "high")
    assert len(mails_about(site, 0, PROJECT)) == 1  # announced on the first night
    excluded = query(site, "select flag_keys from audit.verified_exclusions")
    assert any(first_key in keys for (keys,) in excluded)  # an open flag keeps the row out

    # -- triage in the browser: filter to the unit, open the flag, dismiss it with a note
    login(browser, url, INSPECTOR)
    total = len(driver.find_elements(By.CSS_SELECTOR, "tr.flag-row"))
    Select(driver.find_element(By.ID, "filter-unit")).select_by_value(UNIT)
    browser.submit("filter-button")
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.flag-row")
    assert rows and len(rows) < total
    assert all(UNIT in r.text for r in rows)
    save_screenshot(browser, "web_flags.png", tmp_path)
    browser.follow(f'tr[data-flag-key="{first_key}"] a.flag-link')
    evidence = driver.find_element(By.ID, "evidence").text
    assert "1,500万元" in evidence and "1,000万元" in evidence
    cells = driver.find_element(By.ID, "source-row").text
    assert PROJECT in cells and "13700001111" not in driver.page_source
    typed = driver.find_element(By.ID, "typed-row").text  # the cells as typed, masked
    for text in ("１０００", "3,000.5", "2021.2.8", "请致电138****5678核实", PROJECT):
        assert text in typed, text
    assert "13812345678" not in driver.page_source
    driver.find_element(By.ID, "decision-dismissed").click()
    driver.find_element(By.ID, "decision-note").send_keys(NOTE)
    save_screenshot(browser, "web_flag.png", tmp_path)
    browser.submit("decision-submit")
    assert driver.find_element(By.ID, "saved").is_displayed()
    assert driver.find_element(By.ID, "flag-status").text == "排除"
    assert NOTE in driver.find_element(By.ID, "history").text
    assert INSPECTOR[0] in driver.find_element(By.ID, "history").text

    # -- next night, by the real DAG (dag.test): dismissed in the warehouse, out of the
    # verified exclusions, not mailed
    mailed = len(site["smtp"].inbox.messages)
    assert run_nightly_dag("2021-03-02") == "success"
    assert planted(site) == [(first_key, "dismissed", "high", INSPECTOR[0], NOTE)]
    excluded = query(site, "select flag_keys from audit.verified_exclusions")
    assert not any(first_key in keys for (keys,) in excluded)
    assert mails_about(site, mailed, PROJECT) == []

    # -- the unit reports a larger amount: a new file, the same case, e-mailed as escalated
    write_unit_report(site["raw"], period_wan=5, cumulative_wan=2600)
    mailed = len(site["smtp"].inbox.messages)
    night("2021-03-03")
    [(second_key, status, _, _, _)] = planted(site)
    assert second_key != first_key and status == "open"
    [mail] = mails_about(site, mailed, PROJECT)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "[升级]" in text and "证据有实质变化" in text
    assert f"{url}/flags/{second_key}" in text
    assert "升级1条" in mail["Subject"]
    driver.get(f"{url}/flags/{first_key}")  # the old link leads to the flag's new key
    assert driver.current_url.endswith(f"/flags/{second_key}")
    assert driver.find_element(By.ID, "flag-change").text == "升级"
    assert "2,600万元" in driver.find_element(By.ID, "evidence").text

    # -- the unit corrects its file: the flag clears, with the night it cleared
    write_unit_report(site["raw"], period_wan=5, cumulative_wan=600)
    mailed = len(site["smtp"].inbox.messages)
    night("2021-03-04")
    assert planted(site) == []
    [mail] = mails_about(site, mailed, PROJECT)
    assert "[已消除]" in mail.get_body(preferencelist=("plain",)).get_content()
    driver.get(f"{url}/flags/{second_key}")
    assert "2021-03-04" in driver.find_element(By.ID, "cleared-banner").text
    assert driver.find_element(By.ID, "flag-status").text == "已消除"
    driver.get(f"{url}/flags?status=cleared&unit={urllib.parse.quote(UNIT)}")
    assert second_key in [
        r.get_attribute("data-flag-key")
        for r in driver.find_elements(By.CSS_SELECTOR, "tr.flag-row")
    ]
    driver.get(f"{url}/overview")
    assert driver.find_elements(By.CSS_SELECTOR, "#chart-units tr.unit-row")
    images = driver.find_elements(By.CSS_SELECTOR, ".chart img")  # the report's own charts
    assert len(images) == 5
    for image in images:
        assert driver.execute_script("return arguments[0].naturalWidth", image) > 100
    save_screenshot(browser, "web_overview.png", tmp_path)

    # -- a rollback to the first night's files: the flag history lives in the state dir's
    # store, so the next night still knows the case cleared on 03-04 and mails nothing about it
    settings = site["settings"]
    oldest = restore.available(settings)[0]
    restore.restore(settings, oldest)
    assert query(site, "select logical_date from audit.manifest") == [(date(2021, 3, 1),)]
    mailed = len(site["smtp"].inbox.messages)
    night("2021-03-05")
    assert planted(site) == []
    assert mails_about(site, mailed, PROJECT) == []
    [(cleared_on, change)] = query(
        site | {"path": site["settings"].inspection_path},
        """select cleared_on, change from audit.flag_changes
           where rule = 'INFLATED_AMOUNT' and project_name = ?""",
        [PROJECT],
    )
    assert (cleared_on, change) == (date(2021, 3, 4), "unchanged")
    driver.get(f"{url}/flags/{second_key}")
    assert "2021-03-04" in driver.find_element(By.ID, "cleared-banner").text
    events = driver.find_element(By.ID, "flag-events").text.splitlines()[1:]
    assert [e.split()[:2] for e in events] == [
        ["2021-03-01", "新增"],
        ["2021-03-03", "升级"],
        ["2021-03-04", "已消除"],
    ]


def _session_opener(browser: Browser) -> urllib.request.OpenerDirector:
    """An HTTP client carrying the browser's session cookie (to post what the page offers not)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    cookie = browser.driver.get_cookie("zhaoshang_session")
    opener.addheaders = [("Cookie", f"zhaoshang_session={cookie['value']}")]
    return opener


def _post(opener, url: str, fields: dict) -> tuple[int, str]:
    body = urllib.parse.urlencode(fields).encode()
    try:
        with opener.open(urllib.request.Request(url, data=body, method="POST")) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _open_flag_key(site) -> str:
    return query(site, "select flag_key from audit.dq_flags where status = 'open' limit 1")[0][0]


def _store_history(site, flag_key: str) -> list:
    with decisions.writer(site["settings"]) as con:
        return decisions.history(con, flag_key)


def test_an_analyst_reads_but_cannot_decide(site, browser):
    key = _open_flag_key(site)
    login(browser, site["url"], ANALYST, f"/flags/{key}")
    driver = browser.driver
    assert driver.find_element(By.ID, "evidence").text
    assert driver.find_elements(By.ID, "decision-form") == []
    assert "只读" in driver.find_element(By.ID, "read-only").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', driver.page_source).group(1)
    status, page = _post(
        _session_opener(browser),
        f"{site['url']}/flags/{key}/decision",
        {"decision": "dismissed", "note": "分析员不应能排除", "csrf_token": token},
    )
    assert status == 403 and "只有督查员可以登记结论" in page
    assert _store_history(site, key) == []


def test_without_a_session_every_page_shows_the_login(site, browser):
    driver = browser.driver
    driver.delete_all_cookies()
    key = _open_flag_key(site)
    for path in (f"/flags/{key}", "/flags", "/overview", f"/units/{urllib.parse.quote(UNIT)}"):
        driver.get(f"{site['url']}{path}")
        assert "/login" in driver.current_url, path
        assert driver.find_element(By.ID, "login-form")
    status, page = _post(
        urllib.request.build_opener(),
        f"{site['url']}/flags/{key}/decision",
        {"decision": "dismissed", "note": "无会话"},
    )
    assert status == 200 and 'id="login-form"' in page  # redirected to the login page
    assert _store_history(site, key) == []


def test_a_decision_posted_without_the_csrf_token_is_refused(site, browser):
    key = _open_flag_key(site)
    login(browser, site["url"], INSPECTOR, f"/flags/{key}")
    opener = _session_opener(browser)
    for fields in (
        {"decision": "confirmed", "note": "没有令牌"},
        {"decision": "confirmed", "note": "错误令牌", "csrf_token": "forged"},
    ):
        status, page = _post(opener, f"{site['url']}/flags/{key}/decision", fields)
        assert status == 403 and "安全令牌" in page
    assert _store_history(site, key) == []


def test_repeated_failed_logins_lock_the_name(site):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{site['url']}/login") as response:
        token = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode()).group(1)
    name = "锁定测试员"
    with decisions.writer(site["settings"]) as con:
        auth.add_user(con, name, "inspector", "right-password")
    for _ in range(auth.MAX_FAILURES):
        status, page = _post(
            opener,
            f"{site['url']}/login",
            {"username": name, "password": "wrong", "csrf_token": token},
        )
        assert status == 401 and "用户名或密码错误" in page
    status, page = _post(
        opener,
        f"{site['url']}/login",
        {"username": name, "password": "right-password", "csrf_token": token},
    )
    assert status == 401 and "登录失败次数过多" in page
