"""What the resident sees and takes home, on the glass (tests/gui_truth_driver.py): the child's
operating-system zone is UTC or New York, and every time and date it shows must be China's.

Screenshots go to $TRUTH_SHOTS when set (to look at them), else into the test's directory.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from gui_truth_driver import run_truth_scenario

from kiosk.domain.workdays import due_date

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display (xvfb-run)"),
]

CHINA = ZoneInfo("Asia/Shanghai")
WEEKDAYS = "一二三四五六日"
# Each orientation once in each foreign zone.
CASES = [("portrait", "America/New_York"), ("landscape", "UTC")]


def shots_dir(tmp_path: Path) -> Path:
    return Path(os.environ.get("TRUTH_SHOTS") or tmp_path / "shots")


def china_days(before: dt.datetime, after: dt.datetime) -> set[dt.date]:
    """The China dates the scenario ran on (two around midnight)."""
    return {before.astimezone(CHINA).date(), after.astimezone(CHINA).date()}


def clock_day(text: str) -> tuple[int, int, str]:
    match = re.match(r"(\d+)月(\d+)日 星期(.)\n(\d\d):(\d\d)$", text)
    assert match, text
    return int(match[1]), int(match[2]), match[3]


@pytest.mark.parametrize(("orientation", "zone"), CASES)
def test_receipt_screens_and_page_tell_china_time_and_the_catalogues_deadline(
    data_dir, tmp_path, orientation, zone
):
    before = dt.datetime.now(dt.UTC)
    seen = run_truth_scenario(
        "receipt_truth", data_dir, orientation=orientation, zone=zone, shots=shots_dir(tmp_path)
    )
    after = dt.datetime.now(dt.UTC)
    days = china_days(before, after)
    # The idle screen's clock is China's.
    month, day, weekday = clock_day(seen["clock_text"])
    assert any((d.month, d.day, WEEKDAYS[d.weekday()]) == (month, day, weekday) for d in days)
    # Forms: at least six rows at once in landscape; portrait as before (one column).
    if orientation == "landscape":
        assert seen["rows_in_view"] >= 6, seen
    confirm = seen["confirm"]
    assert confirm["status"] == "已受理" and confirm["printed"] is True
    number = confirm["reference"]
    assert re.fullmatch(r"BJ\d{14}", number)
    assert dt.date(int(number[2:6]), int(number[6:8]), int(number[8:10])) in days
    assert confirm["due"] == "即时办结（已办结）"
    assert confirm["has_preview"] is True
    assert confirm["preview_caption"] == "↑ 您的凭证（与打印的相同，可上下滑动）"
    # Zoomed from the 576-dot paper until the QR code (at most ~230 dots) is 300 px on the
    # glass: at least 1.3 times the paper's width, unless the room is narrower.
    width, _height = confirm["preview_px"]
    assert width >= min(1.3 * 576, confirm["room_px"]), confirm
    # The QR is read off the screen picture itself, and it is the paper's.
    [url] = seen["codes_on_glass"]
    assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/progress/{number}\?c=[a-z2-7]{{16}}", url)
    assert seen["codes_on_paper"] == [url]
    page = seen["page"]
    assert page["status"] == 200
    for text in ("固定工求职登记", "已办结", "即时办结（已办结）", number):
        assert text in page["text"]
    # After 办理完成, the slip scanned at the kiosk: identity first, then that application
    # first in 我的办件, which says the same in China time.
    assert seen["session_after_finish"] is False
    assert seen["identify_status"].startswith("已识别办理凭证")
    assert seen["scanned_note"] == f"已为您找到扫码的办件（受理编号 {number}），显示在第一条"
    first = seen["mine_first"]
    assert first["title"] == "【扫码的办件】固定工求职登记"
    assert f"受理编号：{number}" in first["lines"]
    submitted = re.search(r"提交时间：(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)", first["lines"])
    assert submitted, first
    shown = dt.datetime(*map(int, submitted.groups()), tzinfo=CHINA)
    assert before - dt.timedelta(minutes=1) <= shown <= after
    assert "办结时限：即时办结（已办结）" in first["lines"].replace("\n", "")
    # Elderly sizes on every screen shot.
    for label, sizes in seen["sizes"].items():
        assert sizes["min_font_px"] >= 32, (label, sizes)


@pytest.mark.parametrize(("orientation", "zone"), CASES)
def test_a_counter_booking_waits_for_the_counter_then_counts_from_acceptance(
    data_dir, tmp_path, orientation, zone
):
    before = dt.datetime.now(dt.UTC)
    seen = run_truth_scenario(
        "counter_truth", data_dir, orientation=orientation, zone=zone, shots=shots_dir(tmp_path)
    )
    after = dt.datetime.now(dt.UTC)
    confirm = seen["confirm"]
    assert confirm["status"] == "已受理" and re.fullmatch(r"[A-Z]\d{3}", confirm["queue"])
    assert confirm["due"] == "受理后2个工作日内办结"
    assert len(seen["codes_on_glass"]) == 1
    accepted = seen["accepted"]
    assert accepted["http"] == 200 and accepted["status"] == "submitted"
    accepted_on = dt.date.fromisoformat(accepted["accepted_on"])
    assert accepted_on in china_days(before, after)
    due = due_date(accepted_on, 2)
    assert accepted["due_date"] == due.date.isoformat()
    expected = f"{due.label_zh()}（{accepted_on.month}月{accepted_on.day}日柜台受理起算）"
    booked = [lines for lines in seen["mine_lines"] if confirm["reference"] in lines]
    assert booked and f"办结时限：{expected}" in booked[0].replace("\n", "")
    assert seen["page"]["status"] == 200 and expected in seen["page"]["text"]
