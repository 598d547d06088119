"""Maintenance over the real demo runtime (no Kivy): every simulated device, the embedded
platform over HTTP, the outbox and print queue — wired by ``parts_from_runtime`` exactly as
the app wires them."""

from __future__ import annotations

import pytest

from kiosk.config import load_config
from kiosk.domain.roles import Role
from kiosk.services.audit import AuditLog
from kiosk.services.bus import EventBus
from kiosk.services.embedded_backend import demo_essc_code
from kiosk.services.maintenance import OK, MaintenanceFacade, parts_from_runtime
from kiosk.services.maintenance_auth import (
    AccountRefused,
    BackendOperatorVerifier,
    MaintenanceAuth,
    PinStore,
)
from kiosk.services.runtime import RuntimeOptions, build_runtime


@pytest.fixture
def runtime(data_dir):
    config = load_config()
    options = RuntimeOptions(pcsc_available=lambda: None, printer_poll_seconds=0.5)
    built = build_runtime(config, data_dir, EventBus(), options=options)
    built.start()
    assert built.backend.wait_ready(60), "embedded platform did not come up"
    yield built
    built.stop()


def test_pages_show_the_live_demo_runtime(runtime, data_dir):
    config = load_config()
    parts, client = parts_from_runtime(runtime)
    auth = MaintenanceAuth(
        verifier=BackendOperatorVerifier(client),
        pin_store=PinStore(data_dir),
        audit=AuditLog(data_dir),
    )
    with pytest.raises(AccountRefused):  # locked: refused by the kiosk
        auth.sign_in_with_qr(demo_essc_code(data_dir, "ESSC-DEMO-OPERATOR-02"))
    operator = auth.sign_in_with_qr(demo_essc_code(data_dir, "ESSC-DEMO-OPERATOR-01"))
    assert operator.role is Role.OPERATOR
    facade = MaintenanceFacade(config, data_dir, parts, version="test")

    devices = facade.panel(operator, "devices")
    titles = [row.title.split("：")[0] for row in devices.rows]
    assert set(titles) == {"凭条打印机", "身份证阅读器", "社保卡读卡器", "扫码器"}

    network = facade.panel(operator, "network")
    platform = [r for r in network.rows if r.title.startswith("平台")][0]
    assert platform.tone == OK, platform

    queue = facade.panel(operator, "print_queue")
    assert any("待补打凭条：0张" in r.title for r in queue.rows)
    outbox = facade.panel(operator, "outbox")
    assert any("待上传" in r.title for r in outbox.rows)
    tickets = facade.panel(operator, "tickets")
    assert tickets.rows  # the ledger answered (possibly "no tickets")
    assert "需联网" not in tickets.rows[-1].title

    printed = facade.print_text_lines(["维护模式打印测试", "第二行"])
    assert printed.tone == OK, printed.message
