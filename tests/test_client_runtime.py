"""BackendRuntime: the composition root's one component for platform, outbox and cache."""

from __future__ import annotations

import requests
from test_client_support import free_port

from kiosk.config import load_config
from kiosk.services import api_models as m
from kiosk.services.backend_runtime import BackendReachabilityChanged, BackendRuntime
from kiosk.services.embedded_backend import demo_essc_code
from kiosk.services.outbox import OutboxStatus
from kiosk.services.signing import create_secret_file

PROBLEM = {
    "client_ref": "runtime-test-0001",
    "category": "system",
    "kind": "problem_report",
    "reporter": "resident",
    "description": "字太小，看不清",
}


def test_demo_mode_starts_the_embedded_platform_and_delivers(data_dir):
    """GIVEN demo config (backend.url empty) WHEN the runtime starts THEN submissions made before
    the platform is up are saved at once and delivered once it is."""
    config = load_config(environ={"KIOSK_DATA_DIR": str(data_dir)})
    events = []
    device = {"name": "printer", "state": "fault", "detail": "缺纸", "counters": {"jobs": 2}}
    runtime = BackendRuntime(
        config, data_dir, publish=events.append, heartbeat_source=lambda: ([device], "out")
    )
    early = runtime.outbox.submit("problem_report", m.PATH_TICKETS, PROBLEM)  # before start()
    runtime.start()
    try:
        assert runtime.wait_ready(timeout=240), runtime.setup_error
        assert runtime.outbox.drain(timeout=120)
        assert runtime.outbox.entry(early.local_ref).status is OutboxStatus.DELIVERED
        catalogue = runtime.public_info.catalogue()
        assert len(catalogue.value.items) == 40 and not catalogue.from_cache
        code = demo_essc_code(data_dir, "ESSC-DEMO-RESIDENT-01")
        assert runtime.client().verify_essc(code).name
        assert runtime.beat()  # registered, heartbeat accepted
        assert BackendReachabilityChanged(True, "") in events
    finally:
        runtime.stop()


def test_a_site_without_a_provisioned_secret_keeps_accepting_submissions(data_dir):
    config = load_config(
        environ={
            "KIOSK_DATA_DIR": str(data_dir),
            "KIOSK__KIOSK__MODE": "site",
            "KIOSK__BACKEND__URL": "https://platform.invalid",
        }
    )
    events = []
    runtime = BackendRuntime(config, data_dir, publish=events.append)
    runtime.start()
    try:
        assert not runtime.wait_ready(timeout=60)
        assert not runtime.beat()
        assert events == [BackendReachabilityChanged(False, "not_ready")]
        assert "not found" in runtime.setup_error
        entry = runtime.outbox.submit("problem_report", m.PATH_TICKETS, PROBLEM)
        assert runtime.outbox.entry(entry.local_ref).status is OutboxStatus.PENDING
    finally:
        runtime.stop()


class _TrackedSession(requests.Session):
    def __init__(self):
        super().__init__()
        self.closed = False

    def close(self):
        self.closed = True
        super().close()


def test_stop_closes_the_platform_connections(data_dir):
    """GIVEN a provisioned site kiosk whose platform refuses connections WHEN the runtime stops
    THEN both clients' sessions (the UI's and the outbox worker's) are closed."""
    secret_file = data_dir / "device.secret"
    create_secret_file(secret_file)
    config = load_config(
        environ={
            "KIOSK_DATA_DIR": str(data_dir),
            "KIOSK__KIOSK__MODE": "site",
            "KIOSK__BACKEND__URL": f"http://127.0.0.1:{free_port()}",
            "KIOSK__BACKEND__SECRET_FILE": str(secret_file),
        }
    )
    sessions: list[_TrackedSession] = []

    def factory():
        sessions.append(_TrackedSession())
        return sessions[-1]

    runtime = BackendRuntime(config, data_dir, session_factory=factory)
    runtime.start()
    try:
        assert runtime.wait_ready(timeout=60), runtime.setup_error
        assert not runtime.beat()  # nothing listens: offline, not an error
    finally:
        runtime.stop()
    assert len(sessions) == 2
    assert all(session.closed for session in sessions)
