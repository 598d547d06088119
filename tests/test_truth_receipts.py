"""What a resident takes home is true, end to end: the kiosk's flows against the reference
platform over HTTP, with the operating system's zone set to UTC or New York.

- one clock: the receipt's 提交时间, the date inside the 受理编号 and 我的办件 agree, in China time;
- 办结时限 as the catalogue says it: 即时办结（已办结）, a due date from the filing day (10), and a
  counter pre-application's 受理后N个工作日内办结 until the county desk accepts it, then the due
  date counted from the acceptance day (recomputed on the platform);
- the receipt's QR, decoded from the printed picture, opens the platform's public progress page,
  which shows the item, status and 办结时限 and nothing personal.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import requests
from PIL import Image
from pyzbar.pyzbar import decode
from test_flows_items import new_resident
from test_flows_support import (  # noqa: F401  (fixtures)
    COUNTY,
    RESIDENT_BASIC_CLAIM,
    RESIDENT_EMPLOYED,
    build_rig,
    county_today,
    desk_client,
    flows_rig_fixture,
    fresh_session_fixture,
)
from zone_support import os_zone_fixture  # noqa: F401  (fixture)

from kiosk.domain.progress_link import CAPTION_KIOSK, CAPTION_PHONE, ProgressLinks
from kiosk.domain.workdays import due_date
from kiosk.services.session import EndReason
from kiosk_backend.check_codes import KEY_NAME, check_code

TEMPLATE = "{backend}/progress/{number}?c={check}"


@pytest.fixture(name="rig")
def linked_rig(fresh_session):
    fresh_session.flows.progress_links = ProgressLinks(TEMPLATE)
    yield fresh_session
    fresh_session.flows.progress_links = ProgressLinks()


def qr_of(png: bytes) -> str:
    symbols = decode(Image.open(io.BytesIO(png)))
    assert len(symbols) == 1, symbols
    return symbols[0].data.decode("utf-8")


def label(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def seeker_values() -> dict:
    return {"phone": "13812345678", "occupations": ["电工"], "salary": "3000-5000元"}


def test_receipt_number_and_my_applications_share_china_time(rig, os_zone):
    """GIVEN the OS zone is UTC or New York WHEN a resident registers as a job seeker (1,
    即时办结) THEN the receipt's time is China time, its date is the number's date, 办结时限
    says 即时办结（已办结）, and 我的办件 shows the same minute."""
    before = dt.datetime.now(COUNTY).replace(second=0, microsecond=0)
    person = new_resident("赵春生", 30)
    rig.flows.start_session(person)
    result = rig.flows.submit(1, seeker_values())
    after = dt.datetime.now(COUNTY)
    assert result.accepted and result.delivered, result.message
    receipt = result.receipt
    assert receipt.submitted_at.utcoffset() == dt.timedelta(hours=8)
    assert before <= receipt.submitted_at <= after
    assert result.reference[2:10] == f"{receipt.submitted_at:%Y%m%d}"
    assert receipt.deadline_text == "即时办结（已办结）"
    assert result.deadline.label_zh() == "即时办结（已办结）"
    row = next(r for r in rig.flows.my_applications().rows if r.reference == result.reference)
    assert row.submitted == f"{receipt.submitted_at:%Y-%m-%d %H:%M}"
    assert row.due_text == "即时办结（已办结）"


def test_the_printed_qr_opens_the_progress_page_without_personal_data(rig, os_zone):
    person = new_resident("钱秀兰", 45)
    rig.flows.start_session(person)
    result = rig.flows.submit(1, seeker_values())
    assert result.printed and result.preview_png, result.print_message
    url = qr_of(result.preview_png)  # the picture on the confirmation screen
    [(key,)] = rig.server_rows("select value from platform_secrets where name = ?", KEY_NAME)
    code = check_code(key, result.reference)  # only the platform can make it
    assert re.fullmatch(r"[a-z2-7]{16}", code)
    assert url == f"{rig.server.handle.url}/progress/{result.reference}?c={code}"
    assert result.receipt.qr_caption == CAPTION_PHONE
    assert rig.printer_sim.wait_for_receipts(len(rig.printer_sim.jobs))
    paper = rig.printer_sim.receipts[-1].read_bytes()  # what the simulated printer took
    assert qr_of(paper) == url  # the paper says the same
    page = requests.get(url, timeout=10)  # a phone, unsigned
    assert page.status_code == 200
    html = page.text
    for text in ("固定工求职登记", "已办结", "即时办结（已办结）", result.reference):
        assert text in html, text
    minute = f"{result.receipt.submitted_at:%H:%M}"
    assert minute in html  # China time on the page too
    for secret in (person.name, person.masked_name, person.id_number, person.id_number[-4:]):
        assert secret not in html
    assert "13812345678" not in html and "电工" not in html  # no answers either
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"


def test_item_10_keeps_its_filing_day_clock(rig):
    rig.flows.start_session(new_resident("孙立新", 33))
    result = rig.flows.submit(
        10,
        {
            "phone": "13812345678",
            "employment_type": "新就业形态（网约车、外卖、快递等）",
            "started_on": f"{county_today() - dt.timedelta(days=20):%Y%m%d}",
        },
    )
    assert result.accepted and result.delivered, result.message
    filed = dt.date.fromisoformat(
        f"{result.reference[2:6]}-{result.reference[6:8]}-{result.reference[8:10]}"
    )
    due = due_date(filed, 5)
    assert result.deadline.basis == "filed"
    assert result.receipt.deadline_text == due.label_zh()
    assert result.receipt.due_date == due.date


def test_a_counter_item_counts_from_the_desks_acceptance(rig, os_zone):
    """GIVEN 预约柜台办理 of 34 (2 working days) WHEN booked THEN the receipt and 我的办件 say
    受理后2个工作日内办结 and the platform stores no due date; WHEN the county desk accepts it
    THEN the platform computes the due date from that day and 我的办件 and the progress page
    say it, with the acceptance day."""
    rig.identify(RESIDENT_BASIC_CLAIM)
    result = rig.flows.work_order(34, {"phone": "13812345678"})
    assert result.accepted and result.delivered, result.message
    assert result.receipt.deadline_text == "受理后2个工作日内办结"
    assert result.receipt.due_date is None
    assert rig.server_rows(
        "select due_date, accepted_on from applications where number = ?", result.reference
    ) == [(None, None)]

    def mine():
        rows = rig.flows.my_applications().rows
        return next(r for r in rows if r.reference == result.reference)

    assert mine().due_text == "受理后2个工作日内办结"
    url = qr_of(result.preview_png)
    assert "受理后2个工作日内办结" in requests.get(url, timeout=10).text

    desk = desk_client(rig)
    moved = desk.post(
        f"/api/v1/desk/applications/{result.reference}/status", {"status": "submitted"}
    )
    assert moved.status_code == 200, moved.text
    accepted_on = county_today()
    due = due_date(accepted_on, 2)
    assert moved.json()["accepted_on"] == accepted_on.isoformat()
    assert moved.json()["due_date"] == due.date.isoformat()
    expected = f"{due.label_zh()}（{accepted_on.month}月{accepted_on.day}日柜台受理起算）"
    assert mine().due_text == expected
    assert expected in requests.get(url, timeout=10).text
    # Later steps keep the acceptance day's clock.
    path = f"/api/v1/desk/applications/{result.reference}/status"
    assert desk.post(path, {"status": "in_review"}).status_code == 200
    assert mine().due_text == expected
    # The county finishes the case: the resident may book item 34 again (the next zone's run
    # does; while a booking is open a second one only hands back the first).
    assert desk.post(path, {"status": "completed"}).status_code == 200


def test_a_scanned_receipt_opens_its_application_first_and_only_for_its_owner(rig):
    person = new_resident("李冬梅", 50)
    rig.flows.start_session(person)
    result = rig.flows.submit(1, seeker_values())
    other = rig.flows.submit(4, {"phone": "13912345678", "occupations": ["搬运工"]})
    assert other.accepted, other.message
    scanned = rig.flows.recognise_receipt(qr_of(result.preview_png))
    assert scanned is not None and scanned.reference == result.reference
    mine = rig.flows.my_applications(scanned.reference)
    assert mine.focus_found is True and mine.rows[0].reference == result.reference
    rig.flows.end_session(EndReason.LOGOUT)
    rig.identify(RESIDENT_EMPLOYED)  # someone else finds the slip
    theirs = rig.flows.my_applications(scanned.reference)
    assert theirs.focus_found is False
    assert all(row.reference != result.reference for row in theirs.rows)
    assert theirs.note == f"您的办件中没有受理编号为 {result.reference} 的办件，请确认凭证是本人的"


def test_offline_receipts_say_what_they_can_and_open_the_delivered_application_later(tmp_path):
    """GIVEN the platform is down WHEN a counter item and a 即时办结 item are submitted THEN the
    receipts promise only what is known, their QR holds the outbox reference (for the kiosk's
    own scanner, said so in the caption); once delivered, scanning it opens the platform's
    application."""
    rig = build_rig(tmp_path / "offline", online=False, submit_timeout=1.0)
    try:
        rig.flows.progress_links = ProgressLinks(TEMPLATE)
        rig.flows.start_session(new_resident("吴桂芳", 47))
        booking = rig.flows.work_order(28, {"phone": "13812345678"})
        seeker = rig.flows.submit(1, seeker_values())
        assert not booking.delivered and not seeker.delivered
        assert booking.receipt.deadline_text == "受理后2个工作日内办结"
        assert seeker.receipt.deadline_text == "即时办结（联网提交后办结）"
        for result in (booking, seeker):
            assert result.receipt.qr_payload == result.local_ref
            assert result.receipt.qr_caption == CAPTION_KIOSK
            assert qr_of(result.preview_png) == result.local_ref
        scanned = rig.flows.recognise_receipt(seeker.local_ref)
        assert scanned.kind == "local"
        rig.start_server()
        assert rig.outbox.drain(60)
        number = rig.outbox.entry(seeker.local_ref).reference_no
        assert number and number.startswith("BJ")
        mine = rig.flows.my_applications(scanned.reference)
        assert mine.focus_found is True and mine.rows[0].reference == number
    finally:
        rig.close()
