"""Resident flows under Xvfb, one full flow per pattern, against the real parts.

Each scenario runs the real app in its own process (tests/gui_flow_driver.py) with the
reference backend on 127.0.0.1, the device simulators on ptys / the virtual card, and taps
through Kivy's input path.
"""

from __future__ import annotations

import os
import re

import pytest
from gui_flow_driver import run_flow_scenario

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display (xvfb-run)"),
]

REFERENCE = re.compile(r"^BJ\d{14}$")
ORIENTATIONS = ["portrait", "landscape"]


def assert_elderly_sizes(seen):
    """Every screen and overlay shot: visible text ≥ 32 px, enabled tap targets ≥ 120 px."""
    assert seen["sizes"], "no screen was measured"
    for label, sizes in seen["sizes"].items():
        assert sizes["min_font_px"] >= 32, (label, sizes)
        if sizes["min_target_px"] is not None:
            assert sizes["min_target_px"] >= 120, (label, sizes)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_form_by_card_submits_prints_and_leads_to_matches_with_reasons(data_dir, orientation):
    """GIVEN the virtual social security card WHEN a resident runs 固定工求职登记 by taps
    THEN eligibility comes first, the keypad refuses a short phone number, the submission is
    已受理 with a reference and a printed receipt, 查看推荐岗位 shows matches with reasons, and
    taking the card out wipes every screen."""
    seen = run_flow_scenario("form_then_match", data_dir, orientation=orientation)

    assert seen["form_mode"] == "eligibility"
    assert "【符合】" in seen["eligibility_text"]
    assert seen["asked"][0] == "phone" and "occupations" in seen["asked"]
    assert seen["keypad_error"] == "“联系电话”手机号码应为11位"
    assert seen["values"]["occupations"] == ["电工", "司机"]
    confirm = seen["confirm"]
    assert confirm["status"] == "已受理"
    assert REFERENCE.match(confirm["reference"])
    assert confirm["printed"] is True and "打印" in confirm["print_text"]
    assert seen["receipts_printed"] is True
    assert confirm["next_text"] == "查看推荐岗位"
    assert seen["match_rows"] > 0
    assert all(reason.startswith("推荐理由：") for reason in seen["match_reasons"])
    assert any("工种相符" in reason for reason in seen["match_reasons"])
    assert seen["masked_shown_before_end"] is True
    assert seen["full_name_ever_shown"] is False
    assert seen["name_left"] is False
    assert seen["id_left"] is False
    assert seen["session_after_removal"] is False
    assert_elderly_sizes(seen)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_search_list_is_anonymous_pages_and_filters_by_chip(data_dir, orientation):
    seen = run_flow_scenario("search_list_item_3", data_dir, orientation=orientation)

    assert seen["identified"] is False, "item 3 is anonymous: no identity asked"
    assert seen["first_page"]["rows"] > 0
    assert seen["first_page"]["page"].startswith("第 1 / ")
    assert "司机" in seen["chips"] and "电工" in seen["chips"]
    if "second_page" in seen:
        assert seen["second_page"].startswith("第 2 / ")
    assert seen["query"] == "司机"
    assert seen["query_rows"], "a common query finds postings"
    assert all("司机" in row for row in seen["query_rows"])
    assert seen["detail"]
    assert_elderly_sizes(seen)


def test_records_by_essc_have_totals_year_filter_and_failure_reasons(data_dir):
    seen = run_flow_scenario("records_item_26", data_dir, orientation="landscape")

    everything = seen["all"]
    assert everything["rows"] > 2
    assert "合计" in everything["totals"] and "元" in everything["totals"]
    assert everything["failed"].startswith("其中 2 笔发放失败")
    assert len(everything["failed_rows"]) == 2
    assert all(r.startswith("发放失败：") and len(r) > 6 for r in everything["failed_rows"])
    year = seen["year"]
    assert year["rows"] < everything["rows"]
    assert all(title.startswith(str(year["year"])) for title in year["titles"])
    assert year["totals"].startswith(f"{year['year']}年合计")
    assert_elderly_sizes(seen)


def test_certificate_by_essc(data_dir):
    seen = run_flow_scenario("certificate_item_13", data_dir)

    assert seen["message"] == ""
    assert seen["body"] or seen["header"]
    assert "：" in (seen["body"] + seen["header"])
    assert_elderly_sizes(seen)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_my_applications_from_home_lists_status_and_flags_rejections(data_dir, orientation):
    """GIVEN a resident with one application in review and one rejected WHEN they tap 我的办件
    on the home screen and scan their e-SSC THEN both are listed with their status, the
    rejection drawn as a warning with its reason."""
    seen = run_flow_scenario("my_applications_from_home", data_dir, orientation=orientation)

    assert seen["identify_for"] == "我的办件"
    by_title = {row["title"]: row for row in seen["rows"]}
    assert by_title["灵活就业登记"]["extra"] == "状态：审核中"
    assert by_title["灵活就业登记"]["warn"] is False
    assert by_title["技能提升补贴申领"]["extra"].startswith("状态：不予受理（")
    assert by_title["技能提升补贴申领"]["warn"] is True
    assert_elderly_sizes(seen)


def test_help_button_chimes_and_tells_the_operator_screen_and_item(data_dir):
    """GIVEN 就业政策法规查询 on screen WHEN the resident taps 请工作人员帮忙 THEN the chime plays
    (SDL's dummy audio device), the server records the screen and item 12, and the panel says staff were told; with the platform down it
    sends the resident to the counter."""
    seen = run_flow_scenario(
        "help_chimes_and_reaches_the_operator", data_dir, env={"SDL_AUDIODRIVER": "dummy"}
    )

    assert seen["chimes"] == 1
    assert seen["status_online"] == "已通知工作人员，请稍候"
    assert seen["server_rows"] == [["search_list", 12]]
    assert seen["status_offline"] == "网络暂时不通，请到柜台找工作人员帮忙"
    assert seen["chimes_after_second"] == 2
    assert_elderly_sizes(seen)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_counter_item_by_agent_books_a_work_order_and_shows_receipt_when_printer_fails(
    data_dir, orientation
):
    """GIVEN the printer out of paper WHEN a helper (e-SSC) books 灵活就业人员参保登记 for a
    resident (ID card) THEN the work order gets a queue number, the screen says the printer
    failed and shows the receipt image, and 我的办件 lists it."""
    seen = run_flow_scenario("counter_item_work_order", data_dir, orientation=orientation)

    assert seen["notice"]["materials"] and seen["notice"]["hours"]
    assert seen["agent_prompt"].startswith("代办")
    assert "*" in seen["agent_text"] and seen["agent_on_form"] == seen["agent_text"]
    confirm = seen["confirm"]
    assert confirm["status"] == "已受理"
    assert REFERENCE.match(confirm["reference"])
    assert re.match(r"^[ABC]\d{3}$", confirm["queue"])
    assert confirm["printed"] is False
    assert confirm["print_text"].startswith("打印机故障，请拍照或记下受理编号")
    assert confirm["has_preview"] is True and confirm["texture"][1] > confirm["texture"][0]
    assert any(confirm["reference"] in row and confirm["queue"] in row for row in seen["mine"])
    assert seen["name_left"] is False
    assert_elderly_sizes(seen)


def test_idle_timeout_wipes_every_trace_of_the_resident(data_dir):
    seen = run_flow_scenario(
        "session_wipe_on_idle",
        data_dir,
        env={"KIOSK__SESSION__IDLE_SECONDS": "8", "KIOSK__SESSION__PROMPT_SECONDS": "3"},
    )

    assert {"masked_name", "masked_id", "totals", "record"} <= set(seen["shown_before"])
    assert seen["left_after"] == []
    assert seen["session_after"] is False
    assert seen["records_rows_after"] == 0


def test_identification_failures_say_what_to_do_and_a_good_code_still_works(data_dir):
    seen = run_flow_scenario("identify_errors", data_dir)

    assert seen["pictures_outside_tiles"] == []
    assert "社会保障卡" in seen["unreadable_card"]
    assert seen["invalid_id_number"] not in ("", seen["unreadable_card"])
    assert "核验" in seen["invalid_id_number"] or "柜台" in seen["invalid_id_number"]
    assert "二维码" in seen["unknown_qr"]
    assert "身份证读卡器暂不可用" in seen["reader_offline"]
    assert seen["session_identified"] is False
    assert seen["recovered_to"] == "form"
    assert_elderly_sizes(seen)


def test_offline_submission_is_saved_and_still_printed(data_dir):
    seen = run_flow_scenario("offline_submission", data_dir)

    confirm = seen["confirm"]
    assert confirm["status"] == "已保存，联网后自动提交"
    assert confirm["reference"] and not confirm["reference"].startswith("BJ")
    assert confirm["printed"] is True
    assert "联网" in confirm["detail"] or "网络" in confirm["detail"]
    assert confirm["next_text"] == "", "no follow-up step while the platform has not answered"
    assert seen["pending"] == 1
    assert seen["pending_kinds"] == ["application"], "this resident's one submission, nothing else"
    assert seen["outbox_entries"] == 1, "the second tap on 提交 sent nothing"
    assert seen["spinner_text"] == "正在提交，请稍候"


def test_odd_job_demand_with_text_town_village_numbers_then_seeker_matches(data_dir):
    """GIVEN an ID card WHEN 招聘零工登记 is filled (text box, town → village, keypad numbers,
    a date) THEN it is 已受理 and 查看推荐的求职者 uses that demand to show seekers with reasons."""
    seen = run_flow_scenario("demand_then_match", data_dir)

    assert seen["village_before_town"] == "请先选择上一项，再选这一项"
    values = seen["values"]
    assert values["employer_name"] == "王家小院"
    assert values["town"] == "沁河镇" and values["village"]
    assert values["workers_needed"] == "3" and values["pay_per_day"] == "180"
    assert seen["status"] == "已受理"
    assert seen["next_text"] == "查看推荐的求职者"
    assert seen["match_rows"] > 0 or seen["match_message"]
    assert all(reason.startswith("推荐理由：") for reason in seen["match_reasons"])
    assert_elderly_sizes(seen)


def test_match_before_registration_offers_the_registration(data_dir):
    seen = run_flow_scenario("match_needs_registration", data_dir)

    assert "登记" in seen["message"]
    assert seen["prior_text"] == "去办理：固定工求职登记"
    assert seen["then"]
