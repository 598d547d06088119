"""Log setup: personal data never reaches a log file or the console, bad log calls never crash."""

from __future__ import annotations

import io
import json
import logging
import os
import stat

import pytest

from kiosk.logsetup import LOG_FILE_NAME, setup_logging

ID_NUMBER = "11010519491231002X"
PHONE = "13812345678"


@pytest.fixture
def kiosk_logging(tmp_path):
    """setup_logging with a console handler; restores the root logger afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    # Only our handlers first in line: a handler another test left on the root logger (Kivy's,
    # when kivy was imported in this process) would see each record before our filter does.
    root.handlers[:] = []
    path = setup_logging(tmp_path / "logs", level="DEBUG", console=True)
    yield path, _console(root)
    for handler in list(root.handlers):
        if getattr(handler, "_kiosk", False):
            root.removeHandler(handler)
            handler.close()
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def _console(root: logging.Logger) -> io.StringIO:
    """Point the console handler setup_logging added at a buffer the test can read."""
    buffer = io.StringIO()
    for handler in root.handlers:
        if getattr(handler, "_kiosk", False) and type(handler) is logging.StreamHandler:
            handler.setStream(buffer)
            return buffer
    raise AssertionError("setup_logging(console=True) added no console handler")


def _fail_with_personal_data() -> None:
    raise ValueError(f"resident {ID_NUMBER} phone {PHONE} not found")


def test_a_logged_exception_is_scrubbed_in_the_file_and_on_the_console(kiosk_logging):
    path, buffer = kiosk_logging
    log = logging.getLogger("kiosk.test")
    try:
        _fail_with_personal_data()
    except ValueError:
        log.exception("lookup failed for %s", ID_NUMBER)
    console = buffer.getvalue()
    written = path.read_text(encoding="utf-8")
    assert "lookup failed" in console and "ValueError" in console
    entry = json.loads(written.splitlines()[-1])
    assert "ValueError" in entry["exc"]
    for text in (console, written):
        assert ID_NUMBER not in text
        assert PHONE not in text
        assert "[redacted]" in text


def test_a_traceback_cached_unscrubbed_by_another_handler_is_scrubbed_on_the_console(
    kiosk_logging,
):
    # A handler added before ours (pytest, Kivy) formats first and caches record.exc_text.
    plain = logging.StreamHandler(io.StringIO())
    logging.getLogger().handlers.insert(0, plain)
    try:
        try:
            _fail_with_personal_data()
        except ValueError:
            logging.getLogger("kiosk.test").exception("lookup failed")
    finally:
        logging.getLogger().removeHandler(plain)
    assert ID_NUMBER in plain.stream.getvalue()  # the cached traceback really was unscrubbed
    console = kiosk_logging[1].getvalue()
    assert "ValueError" in console
    assert ID_NUMBER not in console


def test_a_malformed_log_call_does_not_raise_into_the_caller(kiosk_logging):
    log = logging.getLogger("kiosk.test")
    log.warning("two placeholders %s %s", "one")  # would raise TypeError from the filter
    log.info("still logging")
    lines = kiosk_logging[0].read_text(encoding="utf-8").splitlines()
    messages = [json.loads(line)["msg"] for line in lines]
    assert messages[-2] == "unformattable log call (TypeError)"
    assert messages[-1] == "still logging"


def test_the_log_file_is_named_and_placed_as_documented(kiosk_logging):
    path, _ = kiosk_logging
    assert path.name == LOG_FILE_NAME
    logging.getLogger("kiosk.test").info("hello")
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[-1])["msg"] == "hello"


def test_log_files_are_private_whatever_the_umask_and_after_a_rollover(tmp_path):
    """Scrubbed or not, the log tells what happened at a public kiosk: owner-only files."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    root.handlers[:] = []
    old_umask = os.umask(0o022)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / LOG_FILE_NAME).write_text("", encoding="utf-8")
    os.chmod(logs / LOG_FILE_NAME, 0o644)  # left by an older version
    try:
        path = setup_logging(logs, max_bytes=300, backup_count=2)
        for n in range(20):
            logging.getLogger("kiosk.test").info("line %d of some length to force a rollover", n)
    finally:
        os.umask(old_umask)
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    files = sorted(logs.iterdir())
    assert len(files) == 3  # kiosk.log, kiosk.log.1, kiosk.log.2
    assert path in files
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
