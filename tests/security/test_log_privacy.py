"""A failure whose text quotes a resident never reaches the log file or the diagnostics bundle.

Finding (issue 13): ``log.exception`` in the UI dispatcher, the submissions' printing and the
outbox worker wrote exception text — which can carry a name or an address the digit scrubber
cannot recognise — into ``<data_dir>/logs/kiosk.log`` and from there into ``kiosk diag bundle``.
Each test makes one of those paths fail with an exception quoting a (fictional) resident, then
reads the real log file and the real bundle zip: the failure's type is there, the text is not.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import zipfile
from pathlib import Path

import pytest
from test_flows_support import build_rig

from kiosk.config import load_config
from kiosk.diag.bundle import write_bundle
from kiosk.domain.person import IdentitySource, Person
from kiosk.logsetup import setup_logging
from kiosk.services.outbox import Outbox
from kiosk.services.printing import PrintingService
from kiosk.services.store import PayloadCipher, open_store
from kiosk_backend.testing import running_backend

NAME = "慕容秋菊"
ADDRESS = "王和镇古寨村五组"
QUOTED = f"{NAME}（{ADDRESS}）"  # what a careless exception message would say


@pytest.fixture
def kiosk_log(data_dir):
    """The kiosk's own log set-up on the test's data directory; the root logger restored."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    root.handlers[:] = []  # only ours: another test's handler must not see the records first
    path = setup_logging(data_dir / "logs", level="INFO")
    yield path
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def _wait_for(path: Path, text: str, seconds: float = 30.0) -> str:
    deadline = time.monotonic() + seconds
    while True:
        content = path.read_text(encoding="utf-8") if path.exists() else ""
        if text in content:
            return content
        assert time.monotonic() < deadline, f"{text!r} never reached the log"
        time.sleep(0.05)


def _bundle_text(data_dir: Path, out: Path) -> str:
    bundle = write_bundle(load_config(), data_dir, out, inventory={})
    with zipfile.ZipFile(bundle) as archive:
        return "\n".join(archive.read(n).decode("utf-8") for n in archive.namelist())


def _assert_private(data_dir: Path, log_path: Path, event: str, exc_type: str, tmp_path: Path):
    """The log line names the failure (type and place); neither log nor bundle quotes it."""
    content = _wait_for(log_path, event)
    bundle = _bundle_text(data_dir, tmp_path / "bundle")
    for text in (NAME, ADDRESS):
        assert text not in content
        assert text not in bundle
    assert event in bundle  # the bundle does carry the log
    line = next(line for line in content.splitlines() if event in line)
    assert f"{exc_type} at " in line


def test_an_outbox_worker_failure_is_logged_without_its_text(data_dir, kiosk_log, tmp_path):
    # GIVEN the outbox whose delivery fails with an exception quoting the resident
    def deliver(path, payload, key):
        raise RuntimeError(f"cannot send the registration of {QUOTED}")

    store = open_store(data_dir)
    outbox = Outbox(store, PayloadCipher.from_key_file(data_dir / "store.key"), deliver)
    outbox.start()
    try:
        outbox.submit("application", "/api/v1/work-orders", {"name": NAME, "address": ADDRESS})
        # THEN the worker's round failure is logged as a summary
        _assert_private(data_dir, kiosk_log, "outbox worker round failed", "RuntimeError", tmp_path)
    finally:
        outbox.stop()
        store.engine.dispose()


def test_a_failed_ui_call_is_logged_without_its_text(data_dir, kiosk_log, tmp_path):
    from kivy.clock import Clock

    from kiosk.screens.dispatch import UiDispatcher

    # GIVEN a result handed to the UI thread that fails on the resident's data
    def show_result():
        raise KeyError(f"no field for {QUOTED}")

    dispatcher = UiDispatcher()
    dispatcher(show_result)
    Clock.tick()  # the frame that drains the queue
    _assert_private(data_dir, kiosk_log, "UI call failed", "KeyError", tmp_path)


def test_an_unhandled_ui_error_is_logged_without_its_text(data_dir, kiosk_log, tmp_path):
    from kiosk.app import RecoverFromUiErrors

    class App:
        recovered = 0

        def recover_from_error(self):
            self.recovered += 1

    # GIVEN a screen's error that quotes the resident (Kivy hands it to the app's handler)
    handler = RecoverFromUiErrors(App())
    try:
        raise ValueError(f"cannot lay out {QUOTED}")
    except ValueError as error:
        handler.handle_exception(error)
    _assert_private(data_dir, kiosk_log, "unhandled UI error", "ValueError", tmp_path)


def test_a_printing_failure_is_logged_without_its_text(data_dir, kiosk_log, tmp_path, monkeypatch):
    # GIVEN a kiosk whose printer fails on a rare character of the resident's name
    def print_receipt(self, receipt):
        raise LookupError(f"no glyph for 菊 in {QUOTED}")

    monkeypatch.setattr(PrintingService, "print_receipt", print_receipt)
    rig = build_rig(tmp_path / "rig", online=False, submit_timeout=0.5)
    try:
        rig.flows.begin_session(
            Person(
                source=IdentitySource.IDCARD,
                id_number="14043119550315002X",
                name=NAME,
                sex="女",
                birth_date=dt.date(1955, 3, 15),
                address=ADDRESS,
            )
        )
        # WHEN the resident files a counter item: saved, then the receipt fails to print
        result = rig.flows.work_order(34, {"phone": "13812345678"})
        assert result.accepted and not result.printed
        _assert_private(data_dir, kiosk_log, "printing failed", "LookupError", tmp_path)
    finally:
        rig.close()


def test_a_platform_route_failure_is_logged_without_its_text(
    data_dir, kiosk_log, tmp_path, monkeypatch
):
    # GIVEN the reference platform in this process (as demo mode runs it, logging into the
    # kiosk's log) with a route that fails quoting a resident
    import kiosk_backend.routes.help_requests as help_requests

    def failing(*args, **kwargs):
        raise RuntimeError(f"help call refused for {QUOTED}")

    monkeypatch.setattr(help_requests, "commit_with_answer", failing)
    with running_backend(
        f"sqlite:///{tmp_path / 'p.sqlite3'}", seed_postings=5, seed_persons=5
    ) as backend:
        response = backend.client.post("/api/v1/help-requests", {"screen": "home"})
    # THEN the kiosk gets the contract's 500 and the log a summary
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    _assert_private(data_dir, kiosk_log, "unhandled server error", "RuntimeError", tmp_path)
