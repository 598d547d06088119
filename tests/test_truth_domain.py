"""The service point's clock, 办结时限 as the catalogue says it, and what a receipt's QR holds
(pure domain: kiosk.domain.clock, kiosk.domain.deadlines, kiosk.domain.progress_link)."""

from __future__ import annotations

import datetime as dt
from datetime import date

import pytest
from zone_support import os_zone_fixture  # noqa: F401  (fixture)

from kiosk.config import ConfigError, load_config
from kiosk.domain.clock import ServiceClock, UnknownZone, parse_instant, zone_of
from kiosk.domain.deadlines import Deadline, deadline_of, offline_deadline
from kiosk.domain.progress_link import (
    CAPTION_KIOSK,
    CAPTION_PHONE,
    ProgressLinks,
    ProgressTemplateError,
    ScannedReceipt,
)
from kiosk.domain.workdays import DueDate, WorkingCalendar, due_date

# 2026-12-04 18:31:17 UTC is 2026-12-05 02:31:17 in 沁源县 (the two clocks).
INSTANT = dt.datetime(2026, 12, 4, 18, 31, 17, tzinfo=dt.UTC)


def test_the_clock_gives_china_time_whatever_the_os_zone(os_zone):
    clock = ServiceClock(now_utc=lambda: INSTANT)
    now = clock.now()
    assert (now.year, now.month, now.day, now.hour, now.minute) == (2026, 12, 5, 2, 31)
    assert now.utcoffset() == dt.timedelta(hours=8)
    assert clock.today() == date(2026, 12, 5)
    assert clock.from_timestamp(INSTANT.timestamp()) == now
    # A naive time from a store is UTC, never the OS's local time.
    assert clock.local(INSTANT.replace(tzinfo=None)) == now
    assert parse_instant("2026-12-04T18:31:17Z", clock) == now
    assert parse_instant("2026-12-05T02:31:17+08:00", clock) == now
    assert parse_instant("not a time", clock) is None


def test_another_configured_zone_is_honoured():
    clock = ServiceClock("Asia/Urumqi", now_utc=lambda: INSTANT)
    assert clock.now().hour == 0 and clock.today() == date(2026, 12, 5)


@pytest.mark.parametrize("name", ["", "Mars/Base", "../etc/passwd", "/etc/localtime", " UTC"])
def test_unknown_zones_are_refused(name):
    with pytest.raises(UnknownZone):
        zone_of(name)


def test_config_names_a_bad_zone_and_a_bad_template():
    with pytest.raises(ConfigError, match=r"kiosk\.timezone = 'Asia/Pekin' is invalid"):
        load_config(environ={"KIOSK__KIOSK__TIMEZONE": "Asia/Pekin"})
    with pytest.raises(ConfigError, match=r"receipt\.progress_url .* needs \{check\}"):
        load_config(environ={"KIOSK__RECEIPT__PROGRESS_URL": "https://a.example/{number}"})
    config = load_config(environ={})
    assert config.kiosk.timezone == "Asia/Shanghai"
    assert config.receipt.progress_url == "{backend}/progress/{number}?c={check}"


# -- 办结时限 ------------------------------------------------------------------------------------


def test_an_immediate_item_says_it_is_done_not_a_date():
    answer = {"status": "completed", "due_basis": "immediate", "time_limit_days": 0}
    answer["due_date"] = "2026-12-05"
    assert deadline_of(answer).label_zh() == "即时办结（已办结）"


def test_a_filed_item_gives_its_due_date():
    answer = {"status": "submitted", "due_basis": "filed", "time_limit_days": 5}
    answer["due_date"] = "2026-12-11"
    assert deadline_of(answer).label_zh() == "2026年12月11日"


def test_a_counter_item_waits_for_the_counter_then_counts_from_acceptance():
    waiting = {"status": "waiting_counter", "due_basis": "on_acceptance", "time_limit_days": 2}
    assert deadline_of({**waiting, "due_date": None}).label_zh() == "受理后2个工作日内办结"
    instant = {**waiting, "time_limit_days": 0}
    assert deadline_of(instant).label_zh() == "柜台受理后即时办结"
    accepted = {
        "status": "submitted",
        "due_basis": "accepted",
        "time_limit_days": 2,
        "accepted_on": "2026-12-07",
        "due_date": "2026-12-09",
    }
    assert deadline_of(accepted).label_zh() == "2026年12月9日（12月7日柜台受理起算）"
    instant_done = {**accepted, "time_limit_days": 0, "status": "completed"}
    assert deadline_of(instant_done).label_zh() == "即时办结（已办结）"


def test_refused_applications_promise_nothing_and_old_answers_keep_their_date():
    refused = {"status": "rejected", "due_basis": "filed", "due_date": "2026-12-11"}
    assert deadline_of(refused) is None
    legacy = {"status": "submitted", "due_date": "2026-12-11", "due_estimated": False}
    assert deadline_of(legacy, 5) == Deadline("filed", 5, DueDate(date(2026, 12, 11)))
    assert deadline_of({"status": "submitted"}) is None
    assert deadline_of({"due_basis": "filed", "due_date": "12/11/2026"}).label_zh() == ""


def test_offline_receipts_promise_only_what_is_known():
    calendar = WorkingCalendar()
    today = date(2026, 12, 4)
    counter = offline_deadline(2, counter=True, today=today, calendar=calendar)
    assert counter.label_zh() == "受理后2个工作日内办结"
    instant = offline_deadline(0, counter=False, today=today, calendar=calendar)
    assert instant.label_zh() == "即时办结（联网提交后办结）"
    filed = offline_deadline(5, counter=False, today=today, calendar=calendar)
    expected = due_date(today, 5).date
    assert filed.label_zh() == (
        f"{expected.year}年{expected.month}月{expected.day}日（预计：联网提交后以受理时间为准）"
    )


# -- the receipt's QR code -------------------------------------------------------------------


def test_the_template_makes_the_url_and_the_kiosk_recognises_it_again():
    links = ProgressLinks("{backend}/progress/{number}?c={check}")
    url, caption = links.qr_and_caption(
        "BJ20261205000015", "abcdefghij234567", "http://127.0.0.1:8123/"
    )
    assert url == "http://127.0.0.1:8123/progress/BJ20261205000015?c=abcdefghij234567"
    assert caption == CAPTION_PHONE
    assert links.recognise(url) == ScannedReceipt("BJ20261205000015", "platform")
    province = ProgressLinks("https://rs.example.gov.cn/jjb/q?no={number}&sign={check}")
    link = province.url("BJ20261205000015", "k2")
    assert link == "https://rs.example.gov.cn/jjb/q?no=BJ20261205000015&sign=k2"
    assert province.recognise(link + "x7q").reference == "BJ20261205000015"


def test_without_a_template_or_a_check_code_the_caption_points_to_the_kiosk():
    assert ProgressLinks().qr_and_caption("BJ20261205000015", "abcd") == (
        "BJ20261205000015",
        CAPTION_KIOSK,
    )
    links = ProgressLinks("https://a.example/p/{number}?c={check}")
    assert links.qr_and_caption("261205-ABCD1234", "") == ("261205-ABCD1234", CAPTION_KIOSK)
    needs_root = ProgressLinks("{backend}/progress/{number}?c={check}")
    assert needs_root.qr_and_caption("BJ20261205000015", "abcd", "")[1] == CAPTION_KIOSK
    assert "微信" not in CAPTION_KIOSK and "支付宝" not in CAPTION_KIOSK


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("BJ20261205000015", ScannedReceipt("BJ20261205000015", "platform")),
        ("261205-ABCD1234", ScannedReceipt("261205-ABCD1234", "local")),
        ("ESSC-DEMO-RESIDENT-01", None),
        ("https://evil.example/progress/BJ20261205000015?c=abcd", None),
        ("BJ2026", None),
        ("", None),
    ],
)
def test_what_the_scanner_takes_for_a_receipt(code, expected):
    links = ProgressLinks("https://jjb.example.gov.cn/progress/{number}?c={check}")
    assert links.recognise(code) == expected


@pytest.mark.parametrize(
    "template",
    [
        "https://a.example/{number}",
        "https://a.example/{check}",
        "https://a.example/{number}/{number}?c={check}",
        "https://a.example/{number}?c={check}&x={secret}",
        "ftp://a.example/{number}?c={check}",
        "https://a.example/{number}?c={check} ",
        "https://a.example/{number?c={check}",
    ],
)
def test_malformed_templates_are_refused(template):
    with pytest.raises(ProgressTemplateError):
        ProgressLinks(template)
