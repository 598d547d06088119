"""The 问题台账 on the real reference server over HTTP: routing (附件5), escalation county → city →
province → refused, answers with 反馈时限, overdue flags, dedup of device faults, 责任清单."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

import pytest
import requests
import sqlalchemy as sa
from test_client_support import start_reference_server

from kiosk.services.backend_client import BackendClient
from kiosk.services.errors import BackendRejected
from kiosk_backend.ledger import add_responder

REGION = "140431"
DESKS = {
    "county": ("desk-county-140431", REGION, "县人社局就业股"),
    "city": ("desk-city-1404", "1404", "市人社局信息科"),
    "province": ("desk-province", "", "省工作专班"),
}


class Platform:
    def __init__(self, server):
        self.server = server
        self.db_url = f"sqlite:///{server.db_path}"
        self.kiosk = server.client()
        self.kiosk.register("1.0.0", "沁河镇城关社区服务点", REGION, ["printer"])
        self.desks: dict[str, BackendClient] = {}
        for level, (account, prefix, role) in DESKS.items():
            secret = secrets.token_bytes(32)
            add_responder(
                self.db_url,
                account,
                name=f"{level}责任人",
                role=role,
                level=level,
                region_prefix=prefix,
                secret_hex=secret.hex(),
            )
            self.desks[level] = BackendClient(
                requests.Session(), server.url, account, secret, read_timeout=30.0
            )

    def open(self, client=None, **body) -> dict:
        body.setdefault("client_ref", uuid.uuid4().hex)
        body.setdefault("reporter", "operator")
        body.setdefault("kind", "problem_report")
        return (client or self.kiosk).post_submission("/ledger/tickets", body, str(uuid.uuid4()))

    def desk(self, level: str, action: str, ticket_id: int, body: dict) -> dict:
        path = f"/ledger/desk/tickets/{ticket_id}/{action}"
        return self.desks[level].post_submission(path, body, str(uuid.uuid4()))

    def kiosk_ticket(self, ticket_id: int) -> dict:
        items = self.kiosk.get("/ledger/tickets")["items"]
        return next(t for t in items if t["id"] == ticket_id)


@pytest.fixture
def platform(tmp_path):
    server = start_reference_server(tmp_path)
    try:
        yield Platform(server)
    finally:
        server.handle.stop()


@pytest.mark.parametrize(
    ("category", "level", "holder"),
    [
        ("system", "province", "desk-province"),
        ("functional", "province", "desk-province"),
        ("guidance", "county", "desk-county-140431"),
    ],
)
def test_problem_reports_are_routed_by_category(platform, category, level, holder):
    """GIVEN desks at every level WHEN a kiosk reports a problem THEN 系统性/功能性 go to the
    province task force and 业务指导性 to the county, with the holder's answer deadline."""
    ticket = platform.open(category=category, description="办理流程中找不到下一步按钮")
    assert ticket["state"] == "assigned"
    assert ticket["holder"]["level"] == level
    assert ticket["holder"]["account"] == holder
    assert ticket["number"].startswith("WT")
    days = {"county": 3, "province": 10}[level]
    from kiosk.domain.workdays import due_date

    assert ticket["answer_due"] == due_date(ticket_today(ticket), days).date.isoformat()
    assert [e["action"] for e in ticket["events"]] == ["submitted", "assigned"]
    assert ticket["overdue"] is False


def ticket_today(ticket: dict) -> dt.date:
    return dt.date.fromisoformat(ticket["assigned_on"])


def test_device_faults_go_to_the_county_and_a_repeat_returns_the_open_ticket(platform):
    first = platform.open(
        kind="device_fault", category="device", reporter="kiosk", fault_key="printer.paper_end"
    )
    assert first["holder"]["level"] == "county"
    assert first["description"].startswith("打印机缺纸")
    again = platform.open(
        kind="device_fault", category="device", reporter="kiosk", fault_key="printer.paper_end"
    )
    assert again["id"] == first["id"] and again["duplicate"] is True
    closed = platform.kiosk.post_submission(
        "/ledger/tickets/close",
        {"client_ref": uuid.uuid4().hex, "fault_key": "printer.paper_end"},
        str(uuid.uuid4()),
    )
    assert closed["id"] == first["id"] and closed["state"] == "closed"
    assert closed["resolution"] == "设备已恢复，自动关闭"
    fresh = platform.open(
        kind="device_fault", category="device", reporter="kiosk", fault_key="printer.paper_end"
    )
    assert fresh["id"] != first["id"] and fresh["duplicate"] is False
    assert [t["id"] for t in platform.kiosk.get("/ledger/tickets", {"state": "open"})["items"]] == [
        fresh["id"]
    ]


def test_guidance_escalates_county_to_city_to_province_and_no_further(platform):
    ticket = platform.open(category="guidance", description="不会办理失业登记，窗口也说不清")
    tid = ticket["id"]
    with pytest.raises(BackendRejected) as not_yet:
        platform.desk("city", "answer", tid, {"result": "x", "feedback_deadline": "2099-01-01"})
    assert not_yet.value.status == 403 and "县人社部门" in not_yet.value.message

    at_city = platform.desk("county", "escalate", tid, {"reason": "涉及市级系统权限"})
    assert at_city["state"] == "escalated"
    assert at_city["holder"] == {
        "level": "city",
        "level_label": "市人社部门",
        "account": "desk-city-1404",
        "name": "city责任人",
        "role": "市人社局信息科",
        "business_line": "",  # a desk of every line
        "business_line_label": "",
    }
    from kiosk.domain.workdays import due_date

    today = dt.date.fromisoformat(at_city["assigned_on"])
    assert at_city["answer_due"] == due_date(today, 5).date.isoformat()

    at_province = platform.desk("city", "escalate", tid, {"reason": "需省级调整系统"})
    assert at_province["holder"]["level"] == "province"
    assert at_province["answer_due"] == due_date(today, 10).date.isoformat()
    with pytest.raises(BackendRejected) as last:
        platform.desk("province", "escalate", tid, {"reason": "再上报"})
    assert last.value.status == 409 and last.value.code == "cannot_escalate"
    assert "省工作专班已是最高一级" in last.value.message

    moves = [
        (e["from_level"], e["to_level"])
        for e in platform.kiosk_ticket(tid)["events"]
        if e["action"] == "escalated"
    ]
    assert moves == [("county", "city"), ("city", "province")]


def test_an_answer_carries_result_and_feedback_deadline_down_to_the_kiosk(platform):
    ticket = platform.open(
        reporter="resident",
        category="guidance",
        problem_code="guide-material",
        contact_phone="13912345678",
    )
    assert ticket["description"] == "不清楚需要准备什么材料"
    assert ticket["contact_phone"] == "139****5678"
    deadline = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    with pytest.raises(BackendRejected) as past:
        platform.desk(
            "county",
            "answer",
            ticket["id"],
            {"result": "已电话告知", "feedback_deadline": "2020-01-01"},
        )
    assert past.value.status == 422 and past.value.field == "feedback_deadline"
    answered = platform.desk(
        "county",
        "answer",
        ticket["id"],
        {"result": "已在服务点张贴材料清单", "feedback_deadline": deadline},
    )
    assert answered["contact_phone"] == "13912345678"  # the desk calls the resident back
    seen = platform.kiosk_ticket(ticket["id"])
    assert seen["state"] == "answered" and seen["state_label"] == "已答复"
    assert seen["answer"]["result"] == "已在服务点张贴材料清单"
    assert seen["answer"]["feedback_deadline"] == deadline
    assert seen["answer"]["answered_by"] == "desk-county-140431"
    closed = platform.desk("county", "close", ticket["id"], {"resolution": "群众已知晓"})
    assert closed["state"] == "closed"
    with pytest.raises(BackendRejected) as after:
        platform.desk(
            "county", "answer", ticket["id"], {"result": "x", "feedback_deadline": deadline}
        )
    assert after.value.status == 409


def test_overdue_flags_follow_the_deadlines(platform):
    late = platform.open(category="guidance", description="打印的回执看不清楚")
    engine = sa.create_engine(platform.db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE ledger_tickets SET answer_due = :d WHERE id = :i"),
            {"d": "2026-01-05", "i": late["id"]},
        )
    engine.dispose()
    seen = platform.kiosk_ticket(late["id"])
    assert seen["overdue"] is True and seen["answer_overdue"] is True
    desk_view = platform.desks["county"].get("/ledger/desk/tickets", {"overdue_only": "true"})
    assert [t["id"] for t in desk_view["items"]] == [late["id"]]
    listing = platform.desks["province"].get("/ledger/responsibility")
    row = next(i for i in listing["items"] if i["ticket_id"] == late["id"])
    assert row["overdue"] is True and row["holder"]["account"] == "desk-county-140431"
    county = next(r for r in listing["responders"] if r["account"] == "desk-county-140431")
    assert county["open_tickets"] == 1 and county["overdue_tickets"] == 1
    # An answer clears the answer flag; a passed 反馈时限 raises the feedback flag.
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    platform.desk(
        "county", "answer", late["id"], {"result": "已调整", "feedback_deadline": tomorrow}
    )
    engine = sa.create_engine(platform.db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE ledger_tickets SET feedback_deadline = :d WHERE id = :i"),
            {"d": "2026-01-06", "i": late["id"]},
        )
    engine.dispose()
    seen = platform.kiosk_ticket(late["id"])
    assert (seen["answer_overdue"], seen["feedback_overdue"], seen["overdue"]) == (
        False,
        True,
        True,
    )


def test_kiosks_cannot_use_desk_endpoints_and_desks_cannot_file_tickets(platform):
    ticket = platform.open(category="system", description="界面按钮太小")
    with pytest.raises(BackendRejected) as kiosk_as_desk:
        platform.kiosk.post_submission(
            f"/ledger/desk/tickets/{ticket['id']}/close", {"resolution": "x"}, str(uuid.uuid4())
        )
    assert kiosk_as_desk.value.status == 403
    with pytest.raises(BackendRejected) as desk_as_kiosk:
        platform.open(client=platform.desks["county"], category="system", description="界面太小")
    assert desk_as_kiosk.value.status == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "device_fault", "category": "system", "fault_key": "printer.paper_end"}, ""),
        ({"category": "guidance", "problem_code": "sys-ui"}, "problem_code"),
        ({"category": "guidance", "problem_code": "no-such"}, "problem_code"),
        ({"category": "guidance", "description": ""}, "description"),
        ({"category": "guidance", "description": "x", "contact_phone": "12345"}, "contact_phone"),
        ({"category": "device", "reporter": "resident", "description": "坏了"}, ""),
    ],
)
def test_bad_reports_get_a_422_naming_the_problem(platform, body, field):
    with pytest.raises(BackendRejected) as refused:
        platform.open(**body)
    assert refused.value.status == 422
    assert refused.value.code == "invalid_field"
    if field:
        assert refused.value.field == field
    assert refused.value.message


def test_a_repeated_client_ref_is_one_ticket(platform):
    ref = uuid.uuid4().hex
    first = platform.open(client_ref=ref, category="functional", description="缺少社保转移模块")
    second = platform.open(client_ref=ref, category="functional", description="缺少社保转移模块")
    assert second["id"] == first["id"] and second["duplicate"] is True
    assert len(platform.kiosk.get("/ledger/tickets")["items"]) == 1


def test_concurrent_opens_of_one_fault_make_one_ticket(platform):
    """GIVEN eight requests opening the same fault at once (different client refs and keys)
    THEN the unique constraint leaves exactly one open ticket and every answer names it."""
    import threading

    results, errors = [], []

    def open_one():
        try:
            client = platform.server.client()
            results.append(
                platform.open(
                    client=client,
                    kind="device_fault",
                    category="device",
                    reporter="kiosk",
                    fault_key="sscard.offline",
                )["id"]
            )
        except Exception as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(results) == 8 and len(set(results)) == 1
    assert len(platform.kiosk.get("/ledger/tickets")["items"]) == 1


def test_add_responder_command_writes_a_private_secret_and_the_desk_can_sign(tmp_path, platform):
    import stat

    from kiosk_backend.ledger_admin import main

    secret_file = tmp_path / "desk" / "county2.secret"
    argv = ["add-responder", "--db", platform.db_url, "--account", "desk-county-2"]
    argv += ["--level", "county", "--region", "1404", "--name", "王五", "--role", "县人社局"]
    assert main([*argv, "--secret-file", str(secret_file)]) == 0
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = bytes.fromhex(secret_file.read_text().strip())
    desk = BackendClient(requests.Session(), platform.server.url, "desk-county-2", secret)
    assert desk.get("/ledger/desk/tickets")["items"] == []
    assert main([*argv[:-2], "--region", "x1", "--secret-file", str(secret_file)]) == 2


def test_a_desk_works_its_tickets_from_the_command_line(platform):
    """GIVEN a guidance ticket WHEN the county desk lists, answers and the province escalate is
    tried from the CLI THEN the same rules apply (refusals exit 2) and the kiosk sees the answer."""
    import io

    from kiosk_backend.ledger_admin import main

    ticket = platform.open(category="guidance", description="不会打印缴费凭证")
    base = ["--db", platform.db_url, "--account", "desk-county-140431"]
    listing = io.StringIO()
    assert main(["tickets", *base], out=listing) == 0
    line = listing.getvalue().strip()
    assert line.startswith(
        f"{ticket['id']}\t{ticket['number']}\t已分派\t县人社部门/desk-county-140431"
    )
    deadline = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    answer = ["answer", *base, "--ticket", str(ticket["id"]), "--result", "已上门指导"]
    assert main([*answer, "--deadline", deadline], out=io.StringIO()) == 0
    assert platform.kiosk_ticket(ticket["id"])["answer"]["result"] == "已上门指导"
    province = ["--db", platform.db_url, "--account", "desk-province"]
    refused = ["escalate", *province, "--ticket", str(ticket["id"]), "--reason", "x"]
    assert main(refused, out=io.StringIO()) == 2  # the county holds it, not the province
    assert (
        main(["tickets", "--db", platform.db_url, "--account", "kiosk-x"], out=io.StringIO()) == 2
    )
    whole = io.StringIO()
    assert main(["responsibility", *province], out=whole) == 0
    assert "已答复" in whole.getvalue()
