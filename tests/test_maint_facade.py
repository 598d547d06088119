"""MaintenanceFacade without Kivy: roles decide the menu, every view/action is audited, nothing
shown is a resident's data. Real parts: the printer simulator on a pty with the real driver and
print queue, the real outbox store, the reference backend over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.config import load_config
from kiosk.devices.base import DeviceHealth, DeviceState
from kiosk.devices.printer.driver import EscPosPrinter
from kiosk.devices.printer.profile import PrinterProfile
from kiosk.devices.printer.simulator import PrinterSimulator
from kiosk.domain.receipt import STATUS_SAVED_OFFLINE, Receipt, masked_person
from kiosk.domain.roles import AccountStatus, OperatorAccount, PermissionDenied, Role
from kiosk.fonts import find_cjk_font
from kiosk.services.audit import AuditLog
from kiosk.services.backend_client import BackendClient
from kiosk.services.errors import BackendRejected
from kiosk.services.maintenance import (
    BAD,
    EXIT_RESTART,
    EXIT_TO_DESKTOP,
    HIDDEN,
    OK,
    MaintenanceFacade,
    MaintenanceParts,
    PageUnavailable,
    log_tail,
    redacted_config,
)
from kiosk.services.maintenance_auth import MaintenanceSession, SessionExpired
from kiosk.services.outbox import Outbox
from kiosk.services.printing import PrintingService, PrintQueue
from kiosk.services.store import KEY_FILE_NAME, PayloadCipher, open_store

RESIDENT_NAME = "王小明"
RESIDENT_ID = "140431199001011234"
REFERENCE = "JJB20261129-000777"


class FakeClock:
    """Monotonic seconds the test moves by hand (the session's idle timer)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def signed_in(data_dir, clock):
    def make(role: Role) -> MaintenanceSession:
        account = OperatorAccount(f"acct-{role.value}", "李*", role, AccountStatus.ACTIVE)
        return MaintenanceSession(account, "essc", AuditLog(data_dir), clock=clock)

    return make


def audit_actions(data_dir: Path) -> list[tuple[str, str]]:
    return [(e.role, e.action) for e in AuditLog(data_dir).entries()]


def panel_text(panel) -> str:
    parts = [panel.title, panel.note]
    for row in panel.rows:
        parts += [row.title, row.detail]
    return "\n".join(parts)


@pytest.fixture
def config():
    return load_config()


# -- menu and authorization ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (
            Role.OPERATOR,
            {"devices", "print_queue", "outbox", "tickets", "network", "logs", "acceptance"},
            {"config", "system", "diagnostics", "audit"},
        ),
        (
            Role.VENDOR,
            {"devices", "diagnostics", "network", "logs", "acceptance"},
            {"print_queue", "outbox", "tickets", "config", "system", "audit"},
        ),
        (
            Role.SYSTEM_ADMIN,
            {"config", "system", "audit", "acceptance"},
            {"print_queue", "outbox", "devices", "diagnostics"},
        ),
        (
            Role.BUSINESS_ADMIN,
            {"audit"},
            {"print_queue", "outbox", "config", "system", "acceptance"},
        ),
    ],
)
def test_menu_shows_only_what_the_role_may_do(data_dir, config, signed_in, role, shown, hidden):
    facade = MaintenanceFacade(config, data_dir)
    keys = {entry.key for entry in facade.menu(signed_in(role))}
    assert shown <= keys
    assert not (hidden & keys)


def test_every_view_is_audited_and_a_denied_one_too(data_dir, config, signed_in):
    facade = MaintenanceFacade(config, data_dir)
    operator = signed_in(Role.OPERATOR)
    facade.panel(operator, "logs")
    with pytest.raises(PermissionDenied):
        facade.panel(operator, "config")
    with pytest.raises(PermissionDenied):
        facade.act(operator, "system", "exit")
    with pytest.raises(PageUnavailable):
        facade.panel(operator, "nonsense")
    actions = audit_actions(data_dir)
    assert ("operator", "view.logs") in actions
    assert actions.count(("operator", "denied")) == 2
    assert AuditLog(data_dir).verify().ok


def test_an_idle_session_can_do_nothing(data_dir, config, signed_in, clock):
    facade = MaintenanceFacade(config, data_dir)
    operator = signed_in(Role.OPERATOR)
    clock.now += 121
    with pytest.raises(SessionExpired):
        facade.panel(operator, "devices")
    assert facade.menu(operator) == []
    assert ("operator", "maintenance.end") in audit_actions(data_dir)


# -- device status -------------------------------------------------------------------------------


def test_device_page_shows_state_last_error_and_counters(data_dir, config, signed_in):
    healths = [
        DeviceHealth("printer", DeviceState.FAULT, "缺纸", "paper_end", {"jobs": 4}, "/dev/pts/9"),
        DeviceHealth("scanner", DeviceState.OK, counters={"scans": 12}),
    ]
    facade = MaintenanceFacade(config, data_dir, MaintenanceParts(devices=lambda: healths))
    panel = facade.panel(signed_in(Role.VENDOR), "devices")
    assert panel.rows[0].title == "凭条打印机：故障" and panel.rows[0].tone == BAD
    assert "最近错误：paper_end" in panel.rows[0].detail
    assert "jobs 4" in panel.rows[0].detail
    assert panel.rows[1].title == "扫码器：正常" and panel.rows[1].tone == OK


def test_device_page_says_when_no_drivers_are_wired(data_dir, config, signed_in):
    panel = MaintenanceFacade(config, data_dir).panel(signed_in(Role.OPERATOR), "devices")
    assert "未接入" in panel.rows[0].title


# -- print queue: paper out, replace, reprint ----------------------------------------------------


@pytest.fixture
def simulator(tmp_path):
    sim = PrinterSimulator(tmp_path / "receipts")
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def printer(simulator):
    driver = EscPosPrinter(simulator.port, poll_interval=0, status_timeout=0.5)
    driver.open()
    yield driver
    driver.close()


@pytest.fixture
def printing(printer, data_dir):
    return PrintingService(
        printer, PrintQueue.in_data_dir(data_dir), PrinterProfile(), find_cjk_font(), publish=print
    )


def make_receipt() -> Receipt:
    return Receipt(
        service_point="沁源县沁河镇城关社区就业社保服务点",
        item_no="2-01",
        item_name="灵活就业人员参保登记",
        reference=REFERENCE,
        submitted_at=datetime(2026, 11, 29, 10, 15),
        status_text=STATUS_SAVED_OFFLINE,
        person=masked_person(RESIDENT_NAME, RESIDENT_ID),
        due_date=date(2026, 12, 3),
    )


def printed_text(simulator) -> str:
    return "\n".join(
        op.data.decode("gb18030", errors="replace")
        for job in simulator.jobs
        for op in job
        if op.name == "text"
    )


def test_paper_replaced_reprints_the_queue_and_never_shows_the_receipt(
    data_dir, config, signed_in, simulator, printer, printing
):
    """GIVEN a receipt queued because the paper ran out
    WHEN the operator opens 打印纸和补打 THEN it shows one waiting receipt and the paper problem,
    but not whose receipt it is; WHEN paper is loaded and 已换纸，补打凭条 tapped THEN it prints
    (marked 补打), the queue is empty and both steps are in the audit log."""
    simulator.set_paper("end")
    outcome = printing.print_receipt(make_receipt())
    assert outcome.printed is False
    parts = MaintenanceParts(printing=printing, printer=printer, printer_profile=PrinterProfile())
    facade = MaintenanceFacade(config, data_dir, parts)
    operator = signed_in(Role.OPERATOR)

    panel = facade.panel(operator, "print_queue")
    text = panel_text(panel)
    assert "待补打凭条：1张" in text
    assert "缺纸" in text
    assert REFERENCE not in text and "王" not in text and RESIDENT_ID[-4:] not in text
    assert [a.key for a in panel.actions] == ["reprint"]

    still_out = facade.act(operator, "print_queue", "reprint")
    assert still_out.tone == BAD and "仍有1张" in still_out.message

    simulator.set_paper("ok")
    done = facade.act(operator, "print_queue", "reprint")
    assert done.tone == OK and done.message == "已补打1张凭条"
    assert printing.pending() == []
    assert "补打" in printed_text(simulator)
    actions = audit_actions(data_dir)
    assert ("operator", "paper.replaced") in actions
    assert ("operator", "print_queue.reprint") in actions


def test_vendor_cannot_reprint_residents_receipts(data_dir, config, signed_in, printing):
    facade = MaintenanceFacade(config, data_dir, MaintenanceParts(printing=printing))
    vendor = signed_in(Role.VENDOR)
    with pytest.raises(PermissionDenied):
        facade.panel(vendor, "print_queue")
    with pytest.raises(PermissionDenied):
        facade.act(vendor, "print_queue", "reprint")


def test_print_text_lines_goes_through_the_printer_and_reports_paper_out(
    data_dir, config, simulator, printer
):
    parts = MaintenanceParts(printer=printer, printer_profile=PrinterProfile())
    facade = MaintenanceFacade(config, data_dir, parts)
    result = facade.print_text_lines(["验收自查单", "第二行 ASCII 123", "生僻字 䶮"])
    assert result.tone == OK
    text = printed_text(simulator)
    assert "验收自查单" in text and "第二行 ASCII 123" in text
    simulator.set_paper("end")
    refused = facade.print_text_lines(["x"])
    assert refused.tone == BAD and "缺纸" in refused.message


def test_print_text_lines_without_a_printer_says_so(data_dir, config):
    result = MaintenanceFacade(config, data_dir).print_text_lines(["x"])
    assert result.tone == BAD and "未接入" in result.message


# -- outbox ---------------------------------------------------------------------------------------


class Platform:
    """The deliver callable: refuses while ``refuse`` is set, then accepts."""

    def __init__(self) -> None:
        self.refuse = True
        self.delivered: list[str] = []

    def __call__(self, path, payload, key):
        if self.refuse:
            raise BackendRejected("材料不全", status=422, code="missing_material")
        self.delivered.append(key)
        return {"reference_no": "R-1"}


def test_outbox_page_counts_and_retry_now_requeues_failed(data_dir, config, signed_in):
    store = open_store(data_dir)
    platform = Platform()
    outbox = Outbox(store, PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME), platform)
    outbox.submit("application", "/api/v1/applications", {"name": RESIDENT_NAME, "id": RESIDENT_ID})
    outbox.run_once()
    outbox.submit("registration", "/api/v1/registrations", {"name": RESIDENT_NAME})
    facade = MaintenanceFacade(config, data_dir, MaintenanceParts(outbox=outbox))
    operator = signed_in(Role.OPERATOR)

    panel = facade.panel(operator, "outbox")
    text = panel_text(panel)
    assert "待上传：1笔" in text and "平台拒收：1笔" in text
    assert "业务申请" in text and "missing_material" in text
    assert RESIDENT_NAME not in text and RESIDENT_ID not in text

    platform.refuse = False
    result = facade.act(operator, "outbox", "retry")
    assert "已重新排队1笔" in result.message
    outbox.run_once()
    outbox.run_once()
    assert outbox.summary().failed == 0 and outbox.summary().pending == 0
    assert len(platform.delivered) == 2
    assert ("operator", "outbox.retry") in audit_actions(data_dir)


# -- logs and config ------------------------------------------------------------------------------


def test_logs_show_time_level_message_only_and_scrubbed(data_dir, config, signed_in):
    logs = data_dir / "logs"
    logs.mkdir()
    records = [
        {"ts": "2026-11-29T09:00:00", "level": "INFO", "msg": "started", "event": "gui_start"},
        {"ts": "2026-11-29T09:01:00", "level": "ERROR", "msg": f"bad {RESIDENT_ID}", "x": "秘密"},
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in records] + ["not json at all"]
    (logs / "kiosk.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    tail = log_tail(logs / "kiosk.log")
    assert [(t.level, t.message) for t in tail] == [
        ("INFO", "started"),
        ("ERROR", "bad [redacted]"),
    ]
    panel = MaintenanceFacade(config, data_dir).panel(signed_in(Role.VENDOR), "logs")
    text = panel_text(panel)
    assert RESIDENT_ID not in text and "秘密" not in text and "gui_start" not in text
    assert panel.rows[0].tone == BAD  # newest first


def test_config_page_hides_secrets_for_the_system_admin(data_dir, tmp_path, signed_in):
    site = tmp_path / "site.toml"
    site.write_text('[backend]\nsecret_file = "/etc/kiosk/device.secret"\n', encoding="utf-8")
    config = load_config(site)
    view = redacted_config(config)
    assert view["backend"]["secret_file"] == HIDDEN
    assert view["maintenance"]["pin_max_tries"] == 5
    panel = MaintenanceFacade(config, data_dir).panel(signed_in(Role.SYSTEM_ADMIN), "config")
    text = panel_text(panel)
    assert "argon2" not in text and "device.secret" not in text
    assert "[kiosk]" in text and "device_id = 'demo-kiosk-0001'" in text


# -- restart / exit -------------------------------------------------------------------------------


def test_restart_and_exit_are_requests_for_the_system_admin_only(data_dir, config, signed_in):
    facade = MaintenanceFacade(config, data_dir)
    admin = signed_in(Role.SYSTEM_ADMIN)
    panel = facade.panel(admin, "system")
    assert [a.key for a in panel.actions] == ["restart", "exit"]
    assert all(a.confirm for a in panel.actions)
    assert facade.act(admin, "system", "restart").shutdown.exit_code == EXIT_RESTART
    assert facade.act(admin, "system", "exit").shutdown.exit_code == EXIT_TO_DESKTOP
    for role in (Role.OPERATOR, Role.VENDOR, Role.BUSINESS_ADMIN):
        with pytest.raises(PermissionDenied):
            facade.exit_request(signed_in(role))
    actions = audit_actions(data_dir)
    assert ("system_admin", "kiosk.restart") in actions
    assert ("system_admin", "kiosk.exit_to_desktop") in actions


# -- network, acceptance and diagnostics against the real reference backend -----------------------


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    from kiosk.services.embedded_backend import start_embedded_backend

    directory = tmp_path_factory.mktemp("backend")
    config = load_config()
    url, secret, handle = start_embedded_backend(directory, config.kiosk.device_id)
    session = requests.Session()
    client = BackendClient.from_config(session, config.backend, url, config.kiosk.device_id, secret)
    yield client
    session.close()
    handle.stop()


def test_network_page_reaches_the_platform_over_http(data_dir, config, signed_in, backend):
    facade = MaintenanceFacade(config, data_dir, MaintenanceParts(backend=backend))
    panel = facade.panel(signed_in(Role.OPERATOR), "network")
    platform = [r for r in panel.rows if r.title.startswith("平台")][0]
    assert platform.title.startswith("平台：正常") and platform.tone == OK


def test_network_page_reports_an_unreachable_platform(data_dir, config, signed_in):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session = requests.Session()
    client = BackendClient.from_config(
        session, config.backend, f"http://127.0.0.1:{port}", "demo-kiosk-0001", b"k" * 32
    )
    facade = MaintenanceFacade(config, data_dir, MaintenanceParts(backend=client))
    panel = facade.panel(signed_in(Role.VENDOR), "network")
    platform = [r for r in panel.rows if r.title.startswith("平台")][0]
    assert platform.title == "平台：不可达" and platform.tone == BAD
    session.close()


def test_acceptance_page_marks_inspector_lines_and_prints(
    data_dir, config, signed_in, backend, simulator, printer
):
    healths = [DeviceHealth(n, DeviceState.OK) for n in ("idcard", "sscard", "printer", "scanner")]
    parts = MaintenanceParts(
        devices=lambda: healths,
        backend=backend,
        printer=printer,
        printer_profile=PrinterProfile(),
    )
    facade = MaintenanceFacade(config, data_dir, parts, version="0.1.0")
    operator = signed_in(Role.OPERATOR)
    panel = facade.panel(operator, "acceptance")
    assert len(panel.rows) == 12  # 11 lines of 附件4 and the total
    inspector = [r for r in panel.rows if "分] 由验收人员评分" in r.title]
    assert len(inspector) == 7
    line2 = [r for r in panel.rows if r.title.startswith("2. ")][0]
    assert line2.tone == OK and "凭条打印机：在线" in line2.detail
    line9 = [r for r in panel.rows if r.title.startswith("9. ")][0]
    assert line9.tone == BAD and "演示模式" in line9.detail
    result = facade.act(operator, "acceptance", "print")
    assert result.tone == OK
    assert "就业社保服务点验收自查单" in printed_text(simulator)
    assert ("operator", "acceptance.print") in audit_actions(data_dir)


def test_vendor_runs_diagnostics_and_exports_a_bundle(data_dir, config, signed_in, tmp_path):
    from kiosk.diag.all import collect
    from kiosk.diag.bundle import write_bundle

    parts = MaintenanceParts(
        diagnostics=lambda: collect(config, card_timeout=20, test_page=False),
        export_bundle=lambda out: write_bundle(config, data_dir, out),
    )
    facade = MaintenanceFacade(config, data_dir, parts)
    vendor = signed_in(Role.VENDOR)
    panel = facade.panel(vendor, "diagnostics")
    assert [a.key for a in panel.actions] == ["run", "bundle"]
    ran = facade.act(vendor, "diagnostics", "run")
    assert ran.tone == OK and "全部通过" in ran.message
    after = panel_text(facade.panel(vendor, "diagnostics"))
    assert "自检 身份证阅读器：通过" in after and "读卡：成功" in after
    assert "自检 扫码器：通过" in after and "PC/SC" in after
    exported = facade.act(vendor, "diagnostics", "bundle")
    assert "诊断包已保存" in exported.message
    assert list((data_dir / "diag-bundles").glob("kiosk-diag-*.zip"))
    with pytest.raises(PermissionDenied):
        facade.act(signed_in(Role.OPERATOR), "diagnostics", "run")


# -- the log tail parser never crashes and never lets an ID number through ----------------------

_id_like = st.from_regex(r"\A[1-6]\d{16}[\dX]\Z", fullmatch=True)
_record = st.fixed_dictionaries(
    {
        "ts": st.text(max_size=20),
        "level": st.sampled_from(["INFO", "WARNING", "ERROR"]),
        "msg": st.tuples(st.text(max_size=40), _id_like, st.text(max_size=40)).map("".join),
    }
)
_line = st.one_of(
    _record.map(lambda r: json.dumps(r, ensure_ascii=False)),
    st.text(max_size=80).filter(lambda t: "\n" not in t and "\r" not in t),
    st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(_line, max_size=30))
def test_log_tail_survives_any_file_and_masks_id_numbers(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("logs") / "kiosk.log"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogateescape")
    for line in log_tail(path, lines=100):
        assert not re.search(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])", line.message)
        assert len(line.message) <= 160
        assert "\n" not in line.message


# -- 问题反映 tickets with answers and overdue flags -----------------------------------------------


def test_tickets_page_lists_the_kiosks_ledger_from_the_platform(
    data_dir, config, signed_in, backend
):
    """GIVEN an operator's 问题反映 delivered through the outbox to the reference platform
    WHEN the operator opens 问题反映和答复 THEN the ticket is listed with its state, who holds
    it and when it must be answered; the vendor may not open the page."""
    from kiosk.services.problem_reports import ProblemReports

    outbox = Outbox(
        open_store(data_dir), PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME),
        backend.post_submission,
    )  # fmt: skip
    reports = ProblemReports(outbox, client=lambda: backend)
    reports.submit_operator("guidance", "不会办理灵活就业参保登记的退费", "请县里派人指导")
    facade = MaintenanceFacade(config, data_dir, MaintenanceParts(problem_reports=reports))
    operator = signed_in(Role.OPERATOR)
    before = panel_text(facade.panel(operator, "tickets"))
    assert "尚未送达平台：1件" in before
    outbox.run_once()
    panel = facade.panel(operator, "tickets")
    text = panel_text(panel)
    assert "尚未送达平台" not in text
    ticket = [r for r in panel.rows if "业务指导" in r.title]
    assert ticket, text
    assert "不会办理灵活就业参保登记的退费" in ticket[0].detail
    assert "承办：" in ticket[0].detail and "前答复" in ticket[0].detail
    with pytest.raises(PermissionDenied):
        facade.panel(signed_in(Role.VENDOR), "tickets")

    # one tap on a common problem reports it (the outbox worker delivers it at once)
    report_page = facade.panel(operator, "report")
    assert "send:guide-material" in {r.action for r in report_page.rows}
    assert "send:dev-printer" in {r.action for r in report_page.rows}
    outbox.start()
    try:
        sent = facade.act(operator, "report", "send:dev-printer")
    finally:
        outbox.stop()
    assert sent.tone == OK and "工单编号" in sent.message, sent.message
    listed = panel_text(facade.panel(operator, "tickets"))
    assert "打印机不出纸、卡纸或打印不清" in listed
    assert ("operator", "problem.report") in audit_actions(data_dir)
    with pytest.raises(PageUnavailable):
        facade.act(operator, "report", "nonsense")
    assert facade.act(operator, "report", "send:no-such-code").tone == BAD


def test_tickets_page_offline_says_it_needs_the_network(data_dir, config, signed_in):
    from kiosk.services.errors import BackendUnavailable
    from kiosk.services.problem_reports import ProblemReports

    def offline():
        raise BackendUnavailable("网络不通", code="offline")

    outbox = Outbox(
        open_store(data_dir), PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME), print
    )
    reports = ProblemReports(outbox, client=offline)
    facade = MaintenanceFacade(config, data_dir, MaintenanceParts(problem_reports=reports))
    panel = facade.panel(signed_in(Role.OPERATOR), "tickets")
    assert panel.rows[-1].title == "需联网才能查看处理情况和答复" and panel.rows[-1].tone == BAD


def test_ticket_row_flags_overdue_answers_and_scrubs_free_text():
    import datetime as dt

    from kiosk.services.maintenance import ticket_row
    from kiosk.services.problem_reports import LedgerTicket, TicketAnswer, TicketHolder

    ticket = LedgerTicket(
        id=1, number="WT-0001", kind="problem_report", category="guidance",
        category_label="业务指导性问题", fault_key="", description=f"群众 {RESIDENT_ID} 咨询",
        suggestion="", reporter="operator", state="answered", state_label="已答复",
        holder=TicketHolder("county", "县人社部门", "qy-expert", "张专家", "expert"),
        assigned_on=dt.date(2026, 11, 1), answer_due=dt.date(2026, 11, 5),
        answer=TicketAnswer("已电话指导", dt.date(2026, 11, 20), None, "qy-expert"),
        overdue=True, answer_overdue=False, feedback_overdue=True,
        created_at=dt.datetime(2026, 11, 1, 9), closed_at=None, resolution="",
    )  # fmt: skip
    row = ticket_row(ticket)
    assert row.tone == BAD and "【反馈超期】" in row.title
    assert "答复：已电话指导，反馈时限 2026-11-20" in row.detail
    assert RESIDENT_ID not in row.detail and "[redacted]" in row.detail
