"""The outbox worker delivering to the real reference server over HTTP on 127.0.0.1."""

from __future__ import annotations

import threading

import pytest
from test_client_support import (  # noqa: F401  (fixtures)
    free_port,
    reference_server,
    scripted_server,
    start_reference_server,
)

from kiosk.services import api_models as m
from kiosk.services.backend_client import IDENTITY_ENVELOPE_KEY, BackendClient
from kiosk.services.outbox import (
    RECEIPT_DELIVERED,
    RECEIPT_FAILED,
    RECEIPT_SAVED,
    Outbox,
    OutboxDepthChanged,
    OutboxStatus,
    SubmissionDelivered,
    SubmissionFailed,
)
from kiosk.services.store import KEY_FILE_NAME, PayloadCipher, open_store

PROBLEM = {  # a 问题反映 for the 问题台账 (client_ref: the kiosk's own reference)
    "client_ref": "outbox-test-0001",
    "category": "guidance",
    "kind": "problem_report",
    "reporter": "resident",
    "description": "不会操作零工登记，希望有语音提示",
}


def valid_id_number(body17: str) -> str:
    """Append the GB 11643 check character to 17 digits."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body17, weights, strict=True))
    return body17 + "10X98765432"[total % 11]


@pytest.fixture
def store(data_dir):
    store = open_store(data_dir)
    yield store
    store.close()


@pytest.fixture
def cipher(data_dir):
    return PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME)


def _outbox(store, cipher, client, events=None, **kwargs):
    kwargs.setdefault("backoff_initial_seconds", 0.05)
    kwargs.setdefault("backoff_max_seconds", 0.5)
    publish = events.append if events is not None else None
    return Outbox(store, cipher, client.post_submission, publish=publish, **kwargs)


def test_a_submission_is_delivered_with_the_platforms_receipt(
    reference_server,  # noqa: F811
    store,
    cipher,
):
    """GIVEN a running platform WHEN a resident registers as a job seeker THEN the outbox
    delivers it at once and the entry carries the 办件编号 and 办结期限 for the receipt."""
    events = []
    client = reference_server.client()
    outbox = _outbox(store, cipher, client, events)
    outbox.start()
    try:
        number = valid_id_number("14043119880715002")
        grant = client.open_identity("idcard_sam", number)  # the resident's ID card was read
        payload = {
            "id_number": number,
            "name": "王秀英",
            "kind": "odd",
            "phone": "13912345678",
            "occupations": ["保洁"],
            # as the flows add it (IdentityTokens.envelope): the proof travels, encrypted
            IDENTITY_ENVELOPE_KEY: {"token": grant.token, "session_ref": "", "claims": []},
        }
        entry = outbox.submit_and_wait("registration", m.PATH_JOB_SEEKERS, payload, timeout=60)
    finally:
        outbox.stop()
    assert entry.status is OutboxStatus.DELIVERED, entry
    assert entry.receipt_text == RECEIPT_DELIVERED
    answer = m.parse(m.SeekerReceipt, outbox.answer(entry.local_ref))
    assert entry.reference_no == answer.receipt.number
    assert entry.reference_no
    assert (
        SubmissionDelivered(entry.local_ref, "registration", entry.reference_no, entry.due_date)
        in events
    )
    assert events[-1] == OutboxDepthChanged(pending=0, failed=0)


def test_offline_submissions_are_kept_and_delivered_once_the_platform_is_back(
    tmp_path, store, cipher
):
    """GIVEN the platform is down WHEN residents submit THEN the receipt says 已保存，联网后自动提交
    and, once the platform starts, every submission is delivered exactly once."""
    port = free_port()
    secret = b"q" * 32
    client = BackendClient(
        __import__("requests").Session(),
        f"http://127.0.0.1:{port}",
        "test-kiosk-0001",
        secret,
        connect_timeout=1.0,
        read_timeout=30.0,
    )
    outbox = _outbox(store, cipher, client)
    outbox.start()
    server = None
    try:
        entries = [
            outbox.submit_and_wait(
                "problem_report",
                m.PATH_TICKETS,
                {**PROBLEM, "client_ref": f"outbox-test-{i:04d}", "suggestion": str(i)},
                timeout=0.5,
            )
            for i in range(3)
        ]
        assert [e.receipt_text for e in entries] == [RECEIPT_SAVED] * 3
        assert outbox.summary().pending == 3
        server = start_reference_server(tmp_path, port=port, secret=secret)
        outbox.wake()
        assert outbox.drain(timeout=120)
        tickets = server.client().tickets()
    finally:
        outbox.stop()
        if server is not None:
            server.handle.stop()
    assert sorted(t.suggestion for t in tickets) == ["0", "1", "2"]
    assert all(outbox.entry(e.local_ref).status is OutboxStatus.DELIVERED for e in entries)
    assert {outbox.entry(e.local_ref).reference_no for e in entries} == {t.number for t in tickets}


def test_a_refused_submission_fails_for_good_with_the_platforms_chinese_message(
    reference_server,  # noqa: F811
    store,
    cipher,
):
    events = []
    outbox = _outbox(store, cipher, reference_server.client(), events)
    entry = outbox.submit("problem_report", m.PATH_TICKETS, {**PROBLEM, "category": "nonsense"})
    outbox.run_once()
    after = outbox.entry(entry.local_ref)
    assert after.status is OutboxStatus.FAILED
    assert after.http_status == 422
    assert after.receipt_text == RECEIPT_FAILED
    failed = [e for e in events if isinstance(e, SubmissionFailed)]
    assert len(failed) == 1 and failed[0].status == 422 and failed[0].message
    assert outbox.answer(entry.local_ref)["field"] == "category"
    assert outbox.summary().failed == 1
    outbox.run_once()  # a failed entry is not sent again by itself ...
    assert outbox.entry(entry.local_ref).attempts == 1
    assert outbox.requeue(entry.local_ref)  # ... only when an operator puts it back
    assert outbox.entry(entry.local_ref).status is OutboxStatus.PENDING


@pytest.mark.parametrize("status", [500, 503, 408, 429, 401])
def test_server_errors_and_retryable_refusals_are_retried_until_accepted(
    scripted_server,  # noqa: F811
    store,
    cipher,
    status,
):
    scripted_server.script[:] = [
        (status, {"code": "x", "message": "稍后"}, {}),
        (status, {"code": "x", "message": "稍后"}, {}),
        (200, {"number": "BJ0001", "due_date": "2026-12-10"}, {}),
    ]
    client = BackendClient(
        __import__("requests").Session(),
        scripted_server.url,
        "k",
        b"s" * 32,
        sleep=lambda _s: None,
    )
    now = [1000.0]
    outbox = _outbox(store, cipher, client, clock=lambda: now[0])
    entry = outbox.submit("application", m.PATH_SKILL_SUBSIDY, {"n": 1})
    for _ in range(3):
        outbox.run_once()
        now[0] += 10  # past any backoff (cap 0.5 s)
    after = outbox.entry(entry.local_ref)
    assert after.status is OutboxStatus.DELIVERED
    assert (after.reference_no, after.due_date) == ("BJ0001", "2026-12-10")
    assert after.attempts == 3
    keys = {headers["Idempotency-Key"] for _m, _p, headers, _b in scripted_server.received}
    assert keys == {entry.idempotency_key}  # every attempt is the same submission


def test_a_resend_after_a_lost_acknowledgement_is_answered_from_the_first_time(
    reference_server,  # noqa: F811
    store,
    cipher,
):
    """GIVEN a submission the platform processed but whose delivery the kiosk never recorded
    (crash) WHEN the worker sends it again THEN the platform replays its first answer and no
    second ticket exists."""
    client = reference_server.client()
    outbox = _outbox(store, cipher, client)
    entry = outbox.submit("problem_report", m.PATH_TICKETS, PROBLEM)
    first = client.post_submission(
        m.PATH_TICKETS, PROBLEM, entry.idempotency_key
    )  # "before the crash"
    outbox.run_once()
    after = outbox.entry(entry.local_ref)
    assert after.status is OutboxStatus.DELIVERED
    assert after.reference_no == first["number"]
    assert len(client.tickets()) == 1


def test_the_worker_wakes_on_submit_rather_than_waiting_for_its_timer(
    reference_server,  # noqa: F811
    store,
    cipher,
):
    delivered = threading.Event()
    outbox = _outbox(
        store,
        cipher,
        reference_server.client(),
        None,
    )
    outbox._publish = lambda e: isinstance(e, SubmissionDelivered) and delivered.set()
    outbox.start()
    try:
        assert outbox.summary().pending == 0  # the worker is idle, asleep for up to 60 s
        outbox.submit("problem_report", m.PATH_TICKETS, PROBLEM)
        assert delivered.wait(30), "the worker did not wake up for a new submission"
    finally:
        outbox.stop()


def test_a_device_fault_ticket_is_opened_and_closed_through_the_outbox(
    reference_server,  # noqa: F811
    store,
    cipher,
):
    client = reference_server.client()
    outbox = _outbox(store, cipher, client)
    fault = {
        "client_ref": "fault-printer-paper-end-1",
        "category": "device",
        "kind": "device_fault",
        "reporter": "kiosk",
        "fault_key": "printer.paper_end",
        "description": "paper_end",
    }
    opened = outbox.submit("fault", m.PATH_TICKETS, fault)
    outbox.run_once()
    ticket_ref = outbox.entry(opened.local_ref).reference_no
    close = {"client_ref": fault["client_ref"], "resolution": "已装纸"}
    closed = outbox.submit("fault", m.PATH_TICKET_CLOSE, close)
    outbox.run_once()
    assert outbox.entry(closed.local_ref).status is OutboxStatus.DELIVERED
    (ticket,) = client.tickets()
    assert (ticket.number, ticket.state, ticket.resolution) == (ticket_ref, "closed", "已装纸")
    assert client.tickets("open") == []
