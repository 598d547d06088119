"""代办 end to end: the kiosk sends the agent with a form, the platform records it beside the
resident and shows it masked in 我的办件; the county desk then moves the application and the
kiosk's 我的办件 shows the movement (real server over HTTP, the kiosk's own flows and client)."""

from __future__ import annotations

import datetime as dt

from test_flows_items import new_resident
from test_flows_support import (  # noqa: F401  (fixtures)
    RESIDENT_BASIC_CLAIM,
    RESIDENT_UI_CLAIMANT,
    RESIDENT_YOUNG,
    desk_client,
    flows_rig_fixture,
    fresh_session_fixture,
)


def test_a_form_submitted_by_an_agent_records_the_agent_and_shows_it_masked(fresh_session):
    rig = fresh_session
    helper = new_resident("李春梅", 40)
    rig.flows.begin_session(helper, as_agent=True)
    resident = rig.identify(RESIDENT_UI_CLAIMANT)
    result = rig.flows.submit(23, {"phone": "13412345678", "seeking_work": "是"})
    assert result.accepted and result.delivered, result.message
    assert result.receipt.agent == helper.masked  # on the printed receipt
    stored = rig.server_rows(
        "select agent_id_number, agent_name, person_id from applications where number = ?",
        result.reference,
    )
    assert stored[0][:2] == (helper.id_number, "李春梅")
    (resident_row,) = rig.server_rows("select id_number from persons where id = ?", stored[0][2])
    assert resident_row == (resident.id_number,)  # the resident is still the applicant

    mine = rig.flows._client.post_query("/applications/mine", {"id_number": resident.id_number})
    listed = next(a for a in mine["items"] if a["number"] == result.reference)
    assert listed["agent"]["name_masked"] == "李*梅"
    assert listed["agent"]["id_number_masked"] == helper.masked_id_number
    assert helper.id_number not in str(mine)  # never the full number


def test_without_an_agent_nothing_is_recorded(fresh_session):
    rig = fresh_session
    rig.identify(RESIDENT_BASIC_CLAIM)
    result = rig.flows.work_order(34, {"phone": "13812345678"})
    assert result.accepted, result.message
    assert result.receipt.agent == ""
    stored = rig.server_rows(
        "select agent_id_number, agent_name from applications where number = ?", result.reference
    )
    assert stored == [("", "")]


def test_the_county_desk_moves_an_application_and_my_applications_follows(fresh_session):
    rig = fresh_session
    rig.identify(RESIDENT_YOUNG)
    result = rig.flows.submit(
        10,
        {
            "phone": "13812345678",
            "employment_type": "个体经营",
            "started_on": f"{dt.date.today() - dt.timedelta(days=30):%Y%m%d}",
        },
    )
    assert result.accepted and result.delivered, result.message

    def status_of_mine() -> str:
        rows = rig.flows.my_applications().rows
        return next(r for r in rows if r.reference == result.reference).status_text

    assert status_of_mine() == "已受理"
    desk = desk_client(rig)
    path = f"/api/v1/desk/applications/{result.reference}/status"
    queue = desk.get("/api/v1/desk/applications", params={"status": "submitted"})
    assert queue.status_code == 200
    assert result.reference in [a["number"] for a in queue.json()["items"]]

    skipped = desk.post(path, {"status": "completed"})  # 已受理 cannot jump to 已办结
    assert skipped.status_code == 409 and skipped.json()["code"] == "invalid_transition"
    assert desk.post(path, {"status": "in_review"}).status_code == 200
    assert status_of_mine() == "审核中"
    no_reason = desk.post(path, {"status": "rejected"})
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    rejected = desk.post(
        path, {"status": "rejected", "reason": "经营场所证明不全，请补充后重新申请"}
    )
    assert rejected.status_code == 200, rejected.text
    assert [e["to_status"] for e in rejected.json()["events"]] == ["in_review", "rejected"]
    assert status_of_mine() == "不予受理"
    final = desk.post(path, {"status": "in_review"})
    assert final.status_code == 409  # a decided application stays decided
