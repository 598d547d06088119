"""Offline, printer faults and the end of a session, through the flows facade and real parts.

The rig starts with NO server listening on its port: submissions must be saved and receipted
as 已保存，联网后自动提交, then delivered when the reference server comes up on that port.
"""

from __future__ import annotations

import datetime as dt
import gc
import weakref

import pytest
from test_flows_support import RESIDENT_EMPLOYED, build_rig, county_today

from kiosk.devices.scanner.events import QrScanned
from kiosk.domain.identity import build_id_number
from kiosk.domain.person import IdentitySource, Person
from kiosk.domain.receipt import STATUS_ACCEPTED, STATUS_SAVED_OFFLINE
from kiosk.services.errors import BackendUnavailable
from kiosk.services.flows import MY_APPLICATIONS_OFFLINE
from kiosk.services.outbox import OutboxStatus
from kiosk.services.session import EndReason

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(name="offline_rig")
def offline_rig_fixture(tmp_path):
    """No platform yet; a short submit wait, since offline nothing can be delivered anyway."""
    rig = build_rig(tmp_path / "offline", online=False, submit_timeout=1.5)
    yield rig
    rig.close()


@pytest.fixture(name="online_rig")
def online_rig_fixture(tmp_path):
    rig = build_rig(tmp_path / "online")
    yield rig
    rig.close()


def card_holder(name: str, age: int, sequence: int) -> Person:
    today = county_today()
    birth = dt.date(today.year - age, 5, 20)
    number = build_id_number("140431", birth, sequence)
    return Person(IdentitySource.SSCARD, number, name, "男", birth)


def test_offline_submissions_are_saved_receipted_and_delivered_when_back(offline_rig):
    """GIVEN the platform is unreachable WHEN a resident submits item 10 and a work order THEN
    both are saved, the receipts say 已保存，联网后自动提交 and print; WHEN the platform comes
    back THEN both land on it exactly once and 我的办件 shows them."""
    rig = offline_rig
    with pytest.raises(BackendUnavailable):
        rig.flows.identify(QrScanned("ESSC-DEMO-RESIDENT-05"))  # e-SSC needs the platform
    rig.flows.start_session(card_holder("高建平", 36, 311))  # a card works offline
    assessment = rig.flows.eligibility(10)
    # offline the kiosk's own rules: the card tells age and sex, all item 10 asks of him
    assert assessment.source == "kiosk" and assessment.eligible is True
    assert [c.key for c in assessment.conditions] == ["age_16", "under_retirement_age"]
    form = rig.flows.form(1)
    assert next(f for f in form.fields if f.definition.key == "towns").options == ()
    saved = rig.flows.submit(
        10,
        {"phone": "13812345678", "employment_type": "个体经营", "started_on": "20260105"},
    )
    assert saved.accepted and not saved.delivered
    assert saved.status_text == STATUS_SAVED_OFFLINE == saved.receipt.status_text
    assert saved.reference == saved.local_ref and saved.receipt.reference == saved.local_ref
    assert saved.due.estimated and saved.receipt.due_estimated
    assert saved.due.date > county_today() and saved.printed
    order = rig.flows.work_order(24, {"reason": "失踪或生存状态不明"})  # the phone: not asked again
    assert order.accepted and not order.delivered and order.queue_number == ""
    assert "柜台" in order.message and order.receipt.status_text == STATUS_SAVED_OFFLINE
    mine = rig.flows.my_applications()
    assert mine.note == MY_APPLICATIONS_OFFLINE
    assert {(r.item_no, r.pending_upload) for r in mine.rows} == {(10, True), (24, True)}
    with pytest.raises(BackendUnavailable, match="个人记录暂时无法查询"):
        rig.flows.records(25)
    help_offline = rig.flows.help_request("item_form", 10)
    assert not help_offline.sent and "柜台" in help_offline.message

    rig.start_server()
    rig.outbox.wake()
    assert rig.outbox.drain(timeout=120)
    for result in (saved, order):
        entry = rig.outbox.entry(result.local_ref)
        assert entry.status is OutboxStatus.DELIVERED and entry.reference_no.startswith("BJ")
    number = rig.session.resident.id_number
    rows = rig.server_rows(
        "select a.item_no, a.status, a.queue_no from applications a join persons p "
        "on p.id = a.person_id where p.id_number = ? order by a.item_no",
        number,
    )
    assert [(r[0], r[1]) for r in rows] == [(10, "submitted"), (24, "waiting_counter")]
    assert rows[1][2]  # the work order got its queue number on delivery
    online = rig.flows.my_applications()
    assert online.note == "" and {r.item_no for r in online.rows} == {10, 24}
    assert not any(r.pending_upload for r in online.rows)


def test_public_lists_are_served_from_the_cache_when_the_platform_goes_away(offline_rig):
    rig = offline_rig
    rig.start_server()
    fresh = rig.flows.search(14)
    towns = rig.flows.picker_options("api:/places#towns")
    assert fresh.rows and fresh.note == "" and "沁河镇" in towns
    rig.server.handle.stop()
    cached = rig.flows.search(14)
    assert cached.note.startswith("数据更新于") and cached.rows == fresh.rows
    assert rig.flows.picker_options("api:/places#towns") == towns
    with pytest.raises(BackendUnavailable):
        rig.flows.search(3, query="司机")  # a text query is not cached: say offline
    rig.server = None


def test_a_printer_without_paper_gives_the_receipt_on_screen(online_rig):
    rig = online_rig
    rig.flows.start_session(QrScanned(rig.essc_code(RESIDENT_EMPLOYED)))
    rig.printer_sim.set_paper("end")
    try:
        result = rig.flows.work_order(24, {"phone": "13812345678", "reason": "死亡"})
    finally:
        rig.printer_sim.set_paper("ok")
    assert result.accepted and result.delivered and result.status_text == STATUS_ACCEPTED
    assert not result.printed and result.preview_png.startswith(PNG_MAGIC)
    assert "纸" in result.print_message


def test_session_end_leaves_no_trace_of_the_person(online_rig):
    """GIVEN a resident and an agent ran records, eligibility and a work order WHEN it ends
    THEN neither the session object nor the facade reaches either person any more."""
    rig = online_rig
    agent = card_holder("赵志刚", 44, 513)
    rig.flows.begin_session(agent, as_agent=True)
    resident = rig.flows.start_session(QrScanned(rig.essc_code(RESIDENT_EMPLOYED)))
    rig.flows.records(25)
    rig.flows.eligibility(22)
    result = rig.flows.work_order(24, {"phone": "13812345678", "reason": "死亡"})
    assert result.receipt.agent == agent.masked
    session = rig.session.current
    refs = [weakref.ref(resident), weakref.ref(agent), weakref.ref(rig.session.resident)]
    name, number = resident.name, resident.id_number
    del resident, agent
    assert rig.flows.end_session(EndReason.TRANSACTION_DONE)
    gc.collect()
    assert [ref() for ref in refs] == [None, None, None]
    assert session.identity.resident is None and session.identity.agent is None
    assert rig.session.current is None and rig.session.resident is None
    leftovers = [
        value
        for value in _reachable(rig.flows)
        if isinstance(value, str) and (name in value or number in value)
    ]
    assert leftovers == []


def _reachable(root, limit: int = 20000):
    """Every object reachable from *root* through attributes and containers (bounded)."""
    seen, stack = set(), [root]
    while stack and len(seen) < limit:
        current = stack.pop()
        if id(current) in seen or isinstance(current, type | type(gc) | type(_reachable)):
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list | tuple | set | frozenset):
            stack.extend(current)
        elif hasattr(current, "__dict__") and current.__class__.__module__.startswith("kiosk"):
            stack.extend(vars(current).values())
