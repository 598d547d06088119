"""问题反映: validation of the resident's pick and the operator's form; a report made offline is
kept and delivered when the platform is back; maintenance reads the answers and overdue flags."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from test_client_support import free_port, start_reference_server

from kiosk.domain.problems import (
    COMMON_PROBLEMS,
    ProblemCategory,
    operator_report,
    problems_in,
    resident_report,
)
from kiosk.domain.validation import FieldInvalid
from kiosk.services.backend_client import BackendClient
from kiosk.services.outbox import RECEIPT_DELIVERED, RECEIPT_SAVED, Outbox, OutboxStatus
from kiosk.services.problem_reports import ProblemReports
from kiosk.services.store import KEY_FILE_NAME, PayloadCipher, open_store
from kiosk_backend.ledger import add_responder

# --- validation (pure) ----------------------------------------------------------------------


@pytest.mark.parametrize("problem", COMMON_PROBLEMS, ids=lambda p: p.code)
def test_every_common_problem_can_be_reported_in_its_category(problem):
    report = resident_report(problem.category.value, problem.code)
    assert report.description == problem.text and report.reporter == "resident"
    assert problem in problems_in(problem.category)


@pytest.mark.parametrize(
    ("category", "code", "phone", "field"),
    [
        ("device", "guide-how", None, "category"),
        ("nonsense", "guide-how", None, "category"),
        ("system", "guide-how", None, "problem_code"),
        ("guidance", "no-such-problem", None, "problem_code"),
        ("guidance", "guide-how", "1391234567", "phone"),
        ("guidance", "guide-how", "23912345678", "phone"),
        ("guidance", "guide-how", "139abc45678", "phone"),
    ],
)
def test_a_bad_resident_pick_names_the_field(category, code, phone, field):
    with pytest.raises(FieldInvalid) as refused:
        resident_report(category, code, phone)
    assert refused.value.field == field
    assert refused.value.message
    if phone:
        assert phone not in refused.value.message  # never echo personal data


@given(st.text(max_size=30))
def test_any_phone_text_is_accepted_cleanly_or_refused_with_field_invalid(text):
    """GIVEN any text typed as the phone THEN either a clean number that never shows in the
    report's repr, or FieldInvalid on "phone" whose message repeats no digits typed."""
    try:
        report = resident_report("guidance", "guide-how", text)
    except FieldInvalid as exc:
        assert exc.field == "phone"
        assert not re.search(r"\d{3}", exc.message)
    else:
        if report.phone:
            assert re.fullmatch(r"[0-9-]{10,13}", report.phone)
            assert report.phone not in repr(report)
        else:
            assert text.strip() == ""


def test_operator_form_checks_description_and_accepts_device_problems():
    report = operator_report("device", "扫码器扫不出电子社保卡", "更换扫码器", "0355-7012345")
    assert report.category is ProblemCategory.DEVICE
    assert report.suggestion == "更换扫码器" and report.phone == "0355-7012345"
    with pytest.raises(FieldInvalid) as short:
        operator_report("system", "  坏了 ")
    assert short.value.field == "description"
    with pytest.raises(FieldInvalid) as long:
        operator_report("system", "界面" * 300)
    assert long.value.field == "description"
    with pytest.raises(FieldInvalid) as control:
        operator_report("system", "流程不合理", "建议\x00修改")
    assert control.value.field == "suggestion"


@pytest.mark.parametrize(
    ("category", "code", "message"),
    [("system", "guide-how", "不属于该类别"), ("guidance", "no-such-problem", "请选择遇到的问题")],
)
def test_operator_form_checks_a_picked_problem_like_the_resident_pick(category, code, message):
    with pytest.raises(FieldInvalid) as refused:
        operator_report(category, "界面卡住不动了", problem_code=code)
    assert refused.value.field == "problem_code" and message in refused.value.message
    report = operator_report("guidance", "不知道怎么办理", problem_code="guide-how")
    assert report.problem_code == "guide-how" and report.reporter == "operator"


# --- through the outbox to the real server ---------------------------------------------------


@pytest.fixture
def store(data_dir):
    store = open_store(data_dir)
    yield store
    store.close()


def test_a_report_made_offline_is_delivered_once_the_platform_is_back(tmp_path, data_dir, store):
    """GIVEN the platform is down WHEN a resident and an operator report problems THEN both are
    saved (已保存，联网后自动提交), and once the platform starts each arrives exactly once."""
    port = free_port()
    secret = secrets.token_bytes(32)
    client = BackendClient(
        requests.Session(),
        f"http://127.0.0.1:{port}",
        "test-kiosk-0001",
        secret,
        connect_timeout=1.0,
        read_timeout=30.0,
    )
    outbox = Outbox(
        store,
        PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME),
        client.post_submission,
        backoff_initial_seconds=0.05,
        backoff_max_seconds=0.5,
    )
    reports = ProblemReports(outbox, lambda: client)
    outbox.start()
    server = None
    try:
        resident = reports.submit_resident("guidance", "guide-how", "13912345678", wait_seconds=0.5)
        operator = reports.submit_operator(
            "functional", "缺少社保关系转移接续模块", "增加转移接续查询", wait_seconds=0.5
        )
        assert [resident.receipt_text, operator.receipt_text] == [RECEIPT_SAVED] * 2
        assert {e.local_ref for e in reports.unsent()} == {resident.local_ref, operator.local_ref}
        # The phone is stored encrypted, never in the clear.
        raw = (data_dir / "kiosk.sqlite3").read_bytes()
        assert b"13912345678" not in raw

        server = start_reference_server(tmp_path, port=port, secret=secret)
        outbox.wake()
        assert outbox.drain(60)
        assert outbox.entry(resident.local_ref).status is OutboxStatus.DELIVERED
        assert outbox.entry(resident.local_ref).receipt_text == RECEIPT_DELIVERED
        assert reports.unsent() == []
        tickets = reports.tickets()
        assert len(tickets) == 2
        by_category = {t.category: t for t in tickets}
        assert by_category["guidance"].holder.level == "county"
        assert by_category["guidance"].description == "不知道怎么操作"
        assert by_category["functional"].holder.level_label == "省工作专班"
        assert by_category["functional"].suggestion == "增加转移接续查询"
        assert all(
            t.number == outbox.entry(r).reference_no
            for t, r in [
                (by_category["guidance"], resident.local_ref),
                (by_category["functional"], operator.local_ref),
            ]
        )
    finally:
        outbox.stop()
        if server is not None:
            server.handle.stop()


def test_maintenance_sees_answers_and_overdue_flags(tmp_path, data_dir, store):
    server = start_reference_server(tmp_path)
    try:
        desk_secret = secrets.token_bytes(32)
        add_responder(
            f"sqlite:///{server.db_path}",
            "desk-county",
            name="李四",
            role="县人社局",
            level="county",
            region_prefix="",
            secret_hex=desk_secret.hex(),
        )
        client = server.client()
        outbox = Outbox(
            store, PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME), client.post_submission
        )
        reports = ProblemReports(outbox, lambda: client)
        outbox.start()
        entry = reports.submit_resident("guidance", "guide-error", wait_seconds=30)
        assert entry.delivered
        (ticket,) = reports.tickets("open")
        assert ticket.answer is None and ticket.overdue is False
        assert ticket.holder.name == "李四"
        desk = BackendClient(requests.Session(), server.url, "desk-county", desk_secret)
        deadline = dt.date.today() + dt.timedelta(days=7)
        desk.post_submission(
            f"/ledger/desk/tickets/{ticket.id}/answer",
            {"result": "已安排工作人员上门指导", "feedback_deadline": deadline.isoformat()},
            str(uuid.uuid4()),
        )
        (answered,) = reports.tickets()
        assert answered.state == "answered"
        assert answered.answer.result == "已安排工作人员上门指导"
        assert answered.answer.feedback_deadline == deadline
        assert answered.overdue is False
        with pytest.raises(ValueError):
            reports.tickets("everything")
    finally:
        outbox.stop()
        server.handle.stop()


def test_a_report_about_an_item_is_answered_by_that_lines_designated_staff(
    tmp_path, data_dir, store
):
    """GIVEN a county with a 就业 desk and a 社保 desk WHEN a resident reports a guidance
    problem while doing item 26 THEN the 社保 desk holds it, and the kiosk says so."""
    server = start_reference_server(tmp_path)
    outbox = None
    try:
        for account, name, line in (("desk-jiuye", "王五", "employment"),
                                    ("desk-shebao", "赵六", "social_insurance")):  # fmt: skip
            add_responder(
                f"sqlite:///{server.db_path}",
                account,
                name=name,
                role="县人社局",
                level="county",
                region_prefix="",
                secret_hex=secrets.token_bytes(32).hex(),
                business_line=line,
            )
        client = server.client()
        outbox = Outbox(
            store, PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME), client.post_submission
        )
        reports = ProblemReports(outbox, lambda: client)
        outbox.start()
        entry = reports.submit_resident("guidance", "guide-how", item_no=26, wait_seconds=30)
        assert entry.delivered
        (ticket,) = reports.tickets("open")
        assert (ticket.item_no, ticket.business_line_label, ticket.holder.name) == (
            26,
            "社保",
            "赵六",
        )
        with pytest.raises(FieldInvalid):
            reports.submit_resident("guidance", "guide-how", item_no=41)
    finally:
        if outbox is not None:
            outbox.stop()
        server.handle.stop()
