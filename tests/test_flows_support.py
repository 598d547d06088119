"""Shared rig for the resident-flow tests (no tests here).

``flows_rig`` wires the real parts: the reference server with demo data over HTTP on
127.0.0.1, the signed backend client, the outbox (SQLite, encrypted) with its worker, the
printer simulator on a pty pair driven by the real ESC/POS driver and printing service, the
session manager, and the :class:`FlowsService` under test. ``offline_rig`` is the same with no
server listening yet (``rig.start_server()`` brings it up on the agreed port).
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from test_client_support import KIOSK_ID, free_port, start_reference_server

from kiosk.devices.printer.driver import EscPosPrinter
from kiosk.devices.printer.profile import PrinterProfile
from kiosk.devices.printer.simulator import PrinterSimulator
from kiosk.devices.scanner.events import QrScanned
from kiosk.domain.catalogue import load_catalogue
from kiosk.domain.items import load_definitions
from kiosk.fonts import find_cjk_font
from kiosk.services.backend_client import BackendClient
from kiosk.services.cache import OfflineCache
from kiosk.services.flows import FlowsService, SubmissionAnswers
from kiosk.services.outbox import Outbox
from kiosk.services.printing import PrintingService, PrintQueue
from kiosk.services.session import EndReason, SessionManager
from kiosk.services.store import PayloadCipher, open_store
from kiosk_backend.ledger import add_responder
from kiosk_backend.provision import new_secret_hex
from kiosk_backend.seed.desks import DEMO_DESKS
from kiosk_backend.testing import SignedClient

SERVICE_POINT = "沁源县沁河镇城关社区就业社保服务点"
COUNTER_HOURS = "周一至周五 上午8:30-12:00 下午14:30-17:30（法定节假日除外）"
COUNTY = ZoneInfo("Asia/Shanghai")

RESIDENT_BASIC_CLAIM = "ESSC-DEMO-RESIDENT-01"  # 62, resident pension 16 years
RESIDENT_PENSIONER = "ESSC-DEMO-RESIDENT-02"  # 67, resident pension payments, one failed
RESIDENT_UI_CLAIMANT = "ESSC-DEMO-RESIDENT-03"  # 41, involuntary, insured 30 months
RESIDENT_ENTERPRISE_RETIREE = "ESSC-DEMO-RESIDENT-04"  # enterprise pension, two failed
RESIDENT_YOUNG = "ESSC-DEMO-RESIDENT-05"  # 24, not enrolled anywhere
RESIDENT_STUDENT = "ESSC-DEMO-RESIDENT-06"  # 17, a student
RESIDENT_EMPLOYED = "ESSC-DEMO-RESIDENT-07"  # 35, insured, 就业创业证, archive
RESIDENT_ODD_JOB = "ESSC-DEMO-RESIDENT-08"  # 52, odd-job electrician seeker


def county_today() -> dt.date:
    return dt.datetime.now(COUNTY).date()


@dataclass
class FlowsRig:
    flows: FlowsService
    session: SessionManager
    outbox: Outbox
    printer_sim: PrinterSimulator
    printer: EscPosPrinter
    events: list = field(default_factory=list)
    server: object | None = None
    port: int = 0
    secret: bytes = b""
    directory: Path | None = None

    def identify(self, qr: str, *, as_agent: bool = False):
        """Identify through the e-SSC path (the QR goes to the server unchanged)."""
        return self.flows.start_session(QrScanned(qr), as_agent=as_agent)

    def start_server(self) -> None:
        assert self.server is None and self.directory is not None
        self.server = start_reference_server(
            self.directory, port=self.port, secret=self.secret, seed=True
        )

    def server_rows(self, sql: str, *params) -> list[tuple]:
        """Read the server's own database (proves a submission landed there)."""
        assert self.server is not None
        with sqlite3.connect(self.server.db_path) as conn:
            return conn.execute(sql, params).fetchall()

    def server_execute(self, sql: str, *params) -> None:
        """Arrange server-side facts the demo seed lacks (a test's GIVEN), committed at once."""
        assert self.server is not None
        with sqlite3.connect(self.server.db_path) as conn:
            conn.execute(sql, params)

    def close(self) -> None:
        self.outbox.stop()
        self.printer.close()
        self.printer_sim.stop()
        if self.server is not None:
            self.server.handle.stop()


def county_desk_client(db_path: Path, url: str) -> SignedClient:
    """Re-key the demo county desk in the platform database at *db_path* (the
    administrator's step) and sign as it against *url*."""
    county = DEMO_DESKS[0]
    secret = new_secret_hex()
    add_responder(
        f"sqlite:///{db_path}",
        county.account,
        name=county.name,
        role=county.role,
        level=county.level,
        region_prefix=county.region_prefix,
        secret_hex=secret,
    )
    return SignedClient(url, county.account, secret)


def desk_client(rig: FlowsRig) -> SignedClient:
    return county_desk_client(rig.server.db_path, rig.server.handle.url)


def build_rig(directory: Path, *, online: bool = True, submit_timeout: float = 20.0) -> FlowsRig:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    secret = secrets.token_bytes(32)
    server = (
        start_reference_server(directory, port=port, secret=secret, seed=True) if online else None
    )
    client = BackendClient(
        requests.Session(),
        f"http://127.0.0.1:{port}",
        KIOSK_ID,
        secret,
        connect_timeout=2.0,
        read_timeout=30.0,
    )
    kiosk_dir = directory / "kiosk"
    kiosk_dir.mkdir()
    store = open_store(kiosk_dir)
    cipher = PayloadCipher.from_key_file(kiosk_dir / "store.key")
    events: list = []
    answers = SubmissionAnswers(client.post_submission)
    outbox = Outbox(
        store,
        cipher,
        answers.deliver,
        publish=events.append,
        backoff_initial_seconds=0.2,
        backoff_max_seconds=1.0,
    )
    outbox.start()
    font = find_cjk_font()
    simulator = PrinterSimulator(output_dir=directory / "printed", font_path=font)
    printer = EscPosPrinter(simulator.start(), poll_interval=0, status_timeout=2.0)
    printer.open()
    printing = PrintingService(
        printer,
        PrintQueue(kiosk_dir / "print-queue.sqlite3", cipher),
        PrinterProfile(),
        font,
        publish=events.append,
    )
    session = SessionManager(publish=events.append)
    flows = FlowsService(
        client=client,
        outbox=outbox,
        answers=answers,
        session=session,
        definitions=load_definitions(),
        catalogue=load_catalogue(),
        service_point=SERVICE_POINT,
        counter_hours=COUNTER_HOURS,
        printing=printing,
        cache=OfflineCache(store),
        submit_timeout=submit_timeout,
        today=county_today,
    )
    return FlowsRig(
        flows=flows,
        session=session,
        outbox=outbox,
        printer_sim=simulator,
        printer=printer,
        events=events,
        server=server,
        port=port,
        secret=secret,
        directory=directory,
    )


@pytest.fixture(scope="module", name="flows_rig")
def flows_rig_fixture(tmp_path_factory):
    """One online rig per test module (the demo seed takes a few seconds)."""
    rig = build_rig(tmp_path_factory.mktemp("flows"))
    yield rig
    rig.close()


@pytest.fixture(name="fresh_session")
def fresh_session_fixture(flows_rig):
    """Each test starts and leaves with no session open."""
    flows_rig.session.end(EndReason.SHUTDOWN)
    yield flows_rig
    flows_rig.session.end(EndReason.SHUTDOWN)
