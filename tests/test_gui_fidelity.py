"""Items as the seed defines them, under Xvfb against the real parts (tests/gui_fidelity_driver.py):
the current month's benefit items of 26 and 36 on the screen, long histories paged with totals
of the whole history, counter items' own forms and duplicate bookings.

Screenshots go to ``$KIOSK_TEST_SHOTS`` when it is set (else to the test's temporary directory).
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from gui_fidelity_driver import run_fidelity_scenario
from test_gui_flow_patterns import assert_elderly_sizes

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display (xvfb-run)"),
]

ORIENTATIONS = ["portrait", "landscape"]
MONEY = re.compile(r"([0-9,]+\.[0-9]{2})元")


def _shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("KIOSK_TEST_SHOTS") or tmp_path / "shots")


def _amounts(text: str) -> list[Decimal]:
    return [Decimal(m.replace(",", "")) for m in MONEY.findall(text)]


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_item_26_shows_the_current_months_benefit_items(data_dir, tmp_path, orientation):
    """GIVEN an enterprise pensioner WHEN they open 26 by e-SSC THEN a card names last month's
    benefit, its four items are on the glass and add up to it; the records list the year's
    payments, and a year chip brings that year's totals from the platform."""
    seen = run_fidelity_scenario(
        "records_item_26_components", data_dir, orientation=orientation, shots=_shots(tmp_path)
    )
    everything = seen["all"]
    assert everything["breakdown_shown"]
    assert everything["breakdown_heading"].startswith("当前月待遇项目组成明细：")
    assert "3,126.40元" in everything["breakdown_heading"]
    for name in ("基础养老金", "个人账户养老金", "过渡性养老金", "调节金"):
        assert name in everything["breakdown_text"]
    assert _amounts(everything["breakdown_text"]) == [
        Decimal("1406.88"),
        Decimal("781.60"),
        Decimal("687.81"),
        Decimal("250.11"),
    ]
    assert sum(_amounts(everything["breakdown_text"])) == Decimal("3126.40")
    assert "已发放合计 31,264.00元" in everything["totals"]  # 10 paid × 3,126.40
    assert everything["failed"].startswith("其中 2 笔发放失败")
    assert everything["rows"] == 12 and everything["page_text"] == ""
    year = seen["year"]
    assert year["totals"].startswith(f"{year['year']}年合计")
    assert all(title.startswith(str(year["year"])) for title in year["titles"])
    assert year["breakdown_heading"] == everything["breakdown_heading"]
    assert_elderly_sizes(seen)


def test_item_36_shows_the_resident_pensions_items(data_dir, tmp_path):
    seen = run_fidelity_scenario("records_item_36_components", data_dir, shots=_shots(tmp_path))
    everything = seen["all"]
    assert everything["breakdown_shown"]
    assert "213.00元" in everything["breakdown_heading"]
    assert _amounts(everything["breakdown_text"]) == [Decimal("166.14"), Decimal("46.86")]
    assert_elderly_sizes(seen)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_item_25_pages_a_thirty_year_history_with_its_totals(data_dir, tmp_path, orientation):
    """GIVEN a resident insured since 1994 WHEN they open 25 THEN the header and the totals speak
    of every month on record (372 up to 2024, ¥84,816.00 for them), not of the page shown;
    下一页 brings the next 24 older months with the same totals; 更多年份 offers every year and
    the one chosen brings its own totals."""
    seen = run_fidelity_scenario(
        "records_item_25_pages", data_dir, orientation=orientation, shots=_shots(tmp_path)
    )
    first, second = seen["first"], seen["second"]
    months = int(re.search(r"缴费月数 (\d+)个月", first["totals"]).group(1))
    assert months >= 372 + 23
    assert re.search(rf"累计缴费月数：{months}\b", first["header"])
    assert first["rows"] == 24 and first["page_text"].startswith("第 1 / ")
    assert second["page_text"].startswith("第 2 / ") and second["rows"] == 24
    assert second["totals"] == first["totals"]
    assert second["titles"][0] < first["titles"][-1]  # older months, newest first
    year = seen["year_2010"]  # from 更多年份: base 600 + 150 × 16 = 3,000 at 8 %, 12 months
    assert year["chip"] == "2010年" and year["rows"] == 12 and year["page_text"] == ""
    assert year["totals"] == "2010年合计：缴费月数 12个月；已到账缴费合计 2,880.00元"
    assert seen["chips"] == [2026, 2025]
    assert_elderly_sizes(seen)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_item_40_asks_which_loss_report_and_a_second_booking_shows_the_first(
    data_dir, tmp_path, orientation
):
    """GIVEN a resident WHEN they book 社会保障卡挂失与解挂 by taps THEN the form asks which (临时挂失
    / 正式挂失 / 解除挂失) besides the phone, the booking gets a queue number; booking it again
    while it is open says so and shows the same number, and nothing is filed twice."""
    seen = run_fidelity_scenario(
        "counter_item_40_choice_then_duplicate",
        data_dir,
        orientation=orientation,
        shots=_shots(tmp_path),
    )
    assert ["action", "picker"] in seen["first_asked"]
    first, again = seen["first"], seen["again"]
    assert first["accepted"] and first["status"] == "已受理"
    assert re.fullmatch(r"C\d{3}", first["queue"])
    assert again["accepted"] and again["status"] == "已有预约，未重复提交"
    assert (again["queue"], again["reference"]) == (first["queue"], first["reference"])
    assert f"排队号 {first['queue']}" in again["detail"] and "无需重复预约" in again["detail"]
    assert_elderly_sizes(seen)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_item_22_certificate_number_with_letters_by_taps(data_dir, tmp_path, orientation):
    """GIVEN an insured employee WHEN they type the certificate number S0000-1404 on the
    on-screen keyboard's letter keys THEN it is taken as typed and the claim is accepted."""
    seen = run_fidelity_scenario(
        "skill_subsidy_certificate_with_letters",
        data_dir,
        orientation=orientation,
        shots=_shots(tmp_path),
    )
    assert seen["typed"] == seen["value"] == "S0000-1404"
    assert seen["status"] == "已受理" and re.fullmatch(r"BJ\d{14}", seen["reference"])
    assert_elderly_sizes(seen)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_item_pages_publish_procedure_and_basis(data_dir, tmp_path, orientation):
    seen = run_fidelity_scenario(
        "item_pages_publish_procedure_and_basis",
        data_dir,
        orientation=orientation,
        shots=_shots(tmp_path),
    )
    kiosk_item, counter_item = seen["item_26"], seen["item_40"]
    assert kiosk_item["procedure"].startswith("1. 在本机刷社保卡")
    assert "查看当前月待遇项目组成明细" in kiosk_item["procedure"]
    assert "《中华人民共和国社会保险法》" in kiosk_item["basis"]
    assert counter_item["procedure"].startswith("1. 在本机查看一次性告知后")
    assert "临时挂失" in counter_item["procedure"]
    assert counter_item["basis"] == "沁源县就业社保服务事项清单（40项）"
    assert_elderly_sizes(seen)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_item_8_offers_the_employers_own_demands_with_dates(data_dir, tmp_path, orientation):
    """GIVEN an employer with two open demands from earlier visits WHEN they open item 8 and
    identify THEN both are offered with their dates, the one picked is matched with reasons,
    and 换一条 offers them again."""
    seen = run_fidelity_scenario(
        "item_8_matches_one_of_the_employers_demands",
        data_dir,
        orientation=orientation,
        shots=_shots(tmp_path),
    )
    assert len(seen["offered"]) == 2
    assert seen["offered"][0].startswith("电工 3人 · ") and "开工\n中峪乡 · " in seen["offered"][0]
    assert seen["offered"][1].startswith("搬运工 2人 · ")
    assert seen["chosen"] == seen["offered"][0] and seen["can_switch"] is True
    assert seen["reasons"] and all(r.startswith("推荐理由：") for r in seen["reasons"])
    assert seen["switch_offered"] == 2
    assert_elderly_sizes(seen)
