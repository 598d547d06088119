"""The console in a real Chromium: sign in (e-SSC code typed like a scanner, password + TOTP),
approve and carry out an account application, sign a monthly review, accept a pre-application
filed at a kiosk, answer and escalate a ticket, watch a help request arrive by itself, and see
the silent kiosk flagged. Each page seen is saved as a screenshot (see conftest)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import pyotp
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from kiosk.domain.identity import build_id_number
from tests.browser.conftest import LIVE_KIOSK, STALE_KIOSK
from tests.browser.console_pages import Console

pytestmark = [pytest.mark.slow]

# Demo account labels: Console.sign_in_essc types a fresh signed code of the account.
COUNTER = "ESSC-DEMO-OPERATOR-08"  # qy-counter-01, county counter and desk
CITY_DESK = "ESSC-DEMO-OPERATOR-09"  # cz-desk-01
VENDOR = "ESSC-DEMO-OPERATOR-03"
SYSADMIN = "ESSC-DEMO-OPERATOR-04"
BIZADMIN = "ESSC-DEMO-OPERATOR-05"
OPERATOR = "ESSC-DEMO-OPERATOR-01"


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


@pytest.fixture
def console(platform, driver, shots_dir) -> Console:
    backend, _clients = platform
    return Console(driver, backend.url, shots_dir, backend.essc_code)


def _resident_id(client, n: int) -> str:
    qr = client.essc_code(f"ESSC-DEMO-RESIDENT-{n:02d}")
    response = client.post("/api/v1/essc/verify", {"qr": qr})
    assert response.status_code == 200, response.text
    return response.json()["id_number"]


def test_signin_page_and_a_wrong_code(console):
    console.sign_out_all()
    console.open("/console/signin")
    console.shot("01-signin")
    console.driver.switch_to.active_element.send_keys("ESSC-NOT-A-CODE", Keys.ENTER)
    console.wait_text("main", "登录失败")
    assert console.path().startswith("/console/signin")
    console.sign_in_essc(OPERATOR)
    assert "李春梅" in console.text("header")
    assert "群众求助" in console.text("nav")
    assert "办件受理" not in console.text("nav")  # not granted to a village operator
    console.shot("02-home-operator")


def test_an_account_application_is_filed_approved_and_carried_out(console):
    new_id = build_id_number("140431", dt.date(1991, 5, 17), 371)
    console.sign_in_essc(SYSADMIN)
    console.open("/console/requests/new")
    console.choose("kind", "new")
    console.fill("applicant_unit", "沁源县郭道镇人民政府")
    console.fill("contact_name", "田志强")
    console.fill("contact_phone", "13934567890")
    console.fill("new_account", "qygd-op-101")
    console.fill("name", "许文静")
    console.fill("id_number", new_id)
    console.fill("phone", "13834561234")
    console.fill("region", "郭道镇郭道村")
    console.fill("title", "村就业社保协理员")
    console.fill("region_code", "140431")
    console.driver.find_element(By.CSS_SELECTOR, '#role option[value="operator"]').click()
    console.driver.find_element(
        By.CSS_SELECTOR, 'input[name="grants"][value="WATCH_HELP_REQUESTS"]'
    ).click()
    console.shot("20-request-form")
    console.press("提交申请单")
    console.wait_path("/console/requests/SQ")
    number = console.path().split("/")[-1].split("?")[0]
    assert console.text("#request-state") == "待审核"
    console.shot("21-request-submitted")
    console.open(f"/console/requests/{number}/print")
    sheet = console.text("article.form-sheet")
    assert "用户申请（变更）单" in sheet and number in sheet and new_id in sheet
    console.shot("22-request-print-a4")

    console.sign_in_essc(BIZADMIN)
    console.open(f"/console/requests/{number}")
    console.fill("opinion", "同意，按最小权限开通")
    console.shot("23-request-to-approve")
    console.press("同意")
    console.wait_text("#request-state", "已同意")

    console.sign_in_essc(SYSADMIN)
    console.open(f"/console/requests/{number}")
    console.press("办理")
    console.wait_text("main h1", "已办理申请单")
    password = console.text("#handover-password")
    assert len(password) == 12
    console.shot("24-handover")

    console.sign_in_password("qygd-op-101", password)
    console.wait_path("/console/password")
    console.fill("current", password)
    console.fill("new", "Guodao#2027ok")
    console.fill("repeat", "Guodao#2027ok")
    console.shot("25-password-change")
    console.press("保存")
    console.wait_text("main", "密码已修改")
    console.open("/console/")
    assert "许文静" in console.text("header")


def test_an_administrator_needs_the_totp_code(platform, console):
    backend, _clients = platform
    from kiosk_backend.db import make_engine, make_session_factory
    from kiosk_backend.models import Operator
    from kiosk_backend.staff import credentials

    engine = make_engine(backend.db_url)
    secret = pyotp.random_base32()
    with make_session_factory(engine)() as session:  # the administrator's own enrolment
        admin = session.get(Operator, "qy-bizadmin")
        admin.password_hash = credentials.hash_password("Bizadmin#2027")
        admin.totp_secret = secret
        session.commit()
    engine.dispose()
    console.sign_in_password("qy-bizadmin", "Bizadmin#2027")  # no TOTP
    console.wait_text("main", "登录失败")
    console.sign_in_password("qy-bizadmin", "Bizadmin#2027", pyotp.TOTP(secret).now())
    console.wait_signed_in()
    assert "马强" in console.text("header")


def test_the_monthly_review_is_signed_and_kept(console):
    month = _today().strftime("%Y-%m")
    console.sign_in_essc(BIZADMIN)
    console.open("/console/reviews")
    console.shot("30-reviews")
    console.follow(month)
    rows = console.css("main table tbody tr")
    accounts = {r.find_elements(By.TAG_NAME, "td")[0].text for r in rows}
    assert {"qy-sysadmin", "qy-bizadmin", "qyhe-op-001", "qy-counter-01"} <= accounts
    console.fill("note", "qyhe-op-002 已冻结，建议注销")
    console.shot("31-review-to-sign")
    console.press("确认核查并签字")
    console.wait_text("#review-signed", "签字存档")
    assert "马强" in console.text("#review-signed")
    console.shot("32-review-signed")


def test_a_pre_application_filed_at_a_kiosk_is_accepted_at_the_counter(platform, console):
    _backend, clients = platform
    kiosk = clients[LIVE_KIOSK]
    resident = _resident_id(kiosk, 5)
    filed = kiosk.post(
        "/api/v1/work-orders",
        {"id_number": resident, "item_no": 28, "phone": "13912345678", "note": "带户口本"},
    )
    assert filed.status_code == 200, filed.text
    number = filed.json()["number"]
    console.sign_in_essc(COUNTER)
    console.open(f"/console/applications?item=28&status=waiting_counter&kiosk={LIVE_KIOSK}")
    assert number in console.text("main table")
    assert resident not in console.text("main")  # masked in the list
    console.shot("10-applications")
    console.follow(number)
    assert console.text("#app-status") == "待柜面办理"
    assert resident in console.text("main") and "13912345678" in console.text("main")
    console.choose("target", "submitted")
    console.fill("reason", "材料齐全，已受理")
    console.shot("11-application-detail")
    console.press("确认")
    console.wait_text("#app-status", "已受理")
    mine = kiosk.post("/api/v1/applications/mine", {"id_number": resident})
    row = next(a for a in mine.json()["items"] if a["number"] == number)
    assert (row["status"], row["status_label"], row["result"]) == (
        "submitted",
        "已受理",
        "材料齐全，已受理",
    )
    assert resident not in console.driver.current_url


def test_a_ticket_is_answered_then_escalated_to_the_city(platform, console):
    _backend, clients = platform
    kiosk = clients[LIVE_KIOSK]
    opened = kiosk.post(
        "/api/v1/ledger/tickets",
        {
            "client_ref": f"console-{uuid.uuid4().hex[:12]}",
            "kind": "problem_report",
            "category": "guidance",
            "reporter": "operator",
            "description": "灵活就业登记时不清楚就业类型怎么选",
            "suggestion": "请给出各类型的例子",
            "contact_phone": "13698765432",
        },
    )
    assert opened.status_code == 200, opened.text
    ticket_id = opened.json()["id"]
    console.sign_in_essc(COUNTER)
    console.open("/console/tickets")
    console.shot("12-tickets")
    console.open(f"/console/tickets/{ticket_id}")
    assert console.text("#ticket-level").startswith("县人社部门")
    deadline = (_today() + dt.timedelta(days=5)).isoformat()
    console.fill("answer-text", "按实际从业形式选择：开网店选新就业形态")
    console.driver.execute_script(
        "document.getElementById('deadline').value = arguments[0]", deadline
    )
    console.press("提交答复")
    console.wait_text("#ticket-state", "已答复")
    console.shot("13-ticket-answered")
    console.fill("escalate-text", "涉及省级业务口径，县级无法确定")
    console.press("上报")
    console.wait_text("#ticket-level", "市人社部门")
    assert console.text("#ticket-state") == "已上报上级"
    console.open("/console/tickets/responsibility")
    console.shot("14-responsibility")

    console.sign_in_essc(CITY_DESK)
    console.open("/console/tickets")
    assert opened.json()["number"] in console.text("main table")
    listed = kiosk.get("/api/v1/ledger/tickets").json()["items"]
    mine = next(t for t in listed if t["id"] == ticket_id)
    assert (mine["state"], mine["holder"]["level"]) == ("escalated", "city")


def test_a_help_request_appears_without_reloading(platform, console):
    _backend, clients = platform
    console.sign_in_essc(COUNTER)
    console.open("/console/help")
    before = len(console.css("tr[data-help-id]"))
    sent = clients[LIVE_KIOSK].post(
        "/api/v1/help-requests", {"screen": "flow.confirm", "item_no": 10}
    )
    assert sent.status_code == 200, sent.text
    console.wait_text("#help-live", "flow.confirm")  # polled in, no reload
    assert len(console.css("tr[data-help-id]")) == before + 1
    assert console.driver.title.startswith("(")
    console.shot("15-help")
    console.press("接单")
    console.wait_text("#help-live", "处理中")


def test_the_silent_kiosk_stands_out_and_its_heartbeats_are_drawn(console):
    console.sign_in_essc(VENDOR)
    console.open("/console/fleet")
    stale = console.driver.find_element(By.CSS_SELECTOR, f'tr[data-kiosk="{STALE_KIOSK}"]')
    live = console.driver.find_element(By.CSS_SELECTOR, f'tr[data-kiosk="{LIVE_KIOSK}"]')
    assert "stale" in stale.get_attribute("class") and "失联" in stale.text
    assert "stale" not in (live.get_attribute("class") or "") and "纸将用完" in live.text
    console.shot("40-fleet")
    console.follow(STALE_KIOSK)
    chart = console.driver.find_element(By.CSS_SELECTOR, "figure.chart svg")
    summary = chart.get_attribute("aria-label")
    assert re.match(r"最近24小时收到心跳3次，中断\d+次", summary), summary
    assert len(console.css("figure.chart svg rect.beat")) == 3
    assert console.css("figure.chart svg rect.gap")
    console.shot("41-kiosk-stale")
    console.open(f"/console/fleet/{LIVE_KIOSK}")
    console.shot("42-kiosk-live")


def test_every_other_page_renders_for_its_role(console):
    console.sign_in_essc(COUNTER)
    console.shot("03-home-counter")
    console.sign_in_essc(SYSADMIN)
    console.shot("04-home-sysadmin")
    console.open("/console/accounts")
    console.shot("50-accounts")
    console.open("/console/accounts/qyhe-op-004")
    console.shot("51-account")
    console.open("/console/requests")
    console.shot("52-requests")
    console.sign_in_essc(BIZADMIN)
    console.open("/console/audit")
    assert "登录" in console.text("main table")
    console.shot("53-audit")


def test_keyboard_only_reaches_the_menu_and_the_page(console):
    console.sign_in_essc(COUNTER)
    body = console.driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    assert console.driver.switch_to.active_element.text == "跳到正文"
    visited = []
    for _ in range(12):
        console.driver.switch_to.active_element.send_keys(Keys.TAB)
        visited.append(console.driver.switch_to.active_element.text)
    assert "办件受理" in visited and "问题台账" in visited
    target = console.driver.switch_to.active_element
    while target.text != "办件受理":
        target.send_keys(Keys.SHIFT, Keys.TAB)
        target = console.driver.switch_to.active_element
    target.send_keys(Keys.ENTER)
    console.wait_path("/console/applications")
