"""Structured, rotated log files under the data directory, with personal data scrubbed.

The rule is that callers never pass personal data to a log call; :class:`PersonalDataFilter`
is the second line of defence: it masks anything shaped like a resident ID number, a social
security card number, a phone number or a long digit run before a record is written.

Times in logs are UTC with their offset (``2026-12-04T18:31:17.123+00:00``), whatever the
operating system's zone: a log line can be matched with the platform's records without
guessing which zone a machine was set to.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.handlers
import os
import re
import traceback
from pathlib import Path

LOG_FILE_NAME = "kiosk.log"

_PATTERNS = [
    re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"),  # 18-digit ID number
    re.compile(r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])"),  # 15-digit legacy ID number
    re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"),  # mainland mobile number
    re.compile(r"(?<!\d)\d{8,}(?!\d)"),  # any other long digit run (card numbers, accounts)
]
REDACTED = "[redacted]"


def scrub(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def failure_summary(exc: BaseException) -> str:
    """Where *exc* came from, without its message: ``KeyError at form.py:88 in fill <- ...``.

    For failures of code that handles residents' records (event handlers, session wipes): the
    message may quote a name or address, which the digit-based scrub cannot recognise. Frames
    are listed innermost first; only file names, line numbers and function names appear.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in reversed(frames))
    return f"{type(exc).__qualname__} at {where}" if where else type(exc).__qualname__


class PersonalDataFilter(logging.Filter):
    """Masks personal data in a record's message; a malformed call is logged, never raised.

    Filters run outside logging's own error handling, so a format/argument mismatch in a log
    call would otherwise propagate into (and crash) the caller.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception as exc:  # any formatting error in the caller's call
            record.msg, record.args = f"unformattable log call ({type(exc).__name__})", None
            return True
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class ScrubbingFormatter(logging.Formatter):
    """A plain-text formatter that scrubs the whole line, traceback included.

    Exception messages can hold what a caller never meant to log, and another handler may
    already have cached the unscrubbed traceback on the record, so the finished text is scrubbed.
    """

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def utc_stamp(record: logging.LogRecord) -> str:
    """The record's time, UTC with offset, to the millisecond."""
    moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return moment.isoformat(timespec="milliseconds")


class UtcFormatter(logging.Formatter):
    """A plain-text formatter whose ``%(asctime)s`` is :func:`utc_stamp` (servers' logs)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_stamp(record)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, msg, plus whitelisted ``extra`` fields."""

    EXTRA_KEYS = ("event", "device", "screen", "item", "state", "ms", "count", "code", "status")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": utc_stamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in self.EXTRA_KEYS:
            if hasattr(record, key):
                entry[key] = scrub(str(getattr(record, key)))
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log file readable by the kiosk user only (0600), whatever the umask, also
    after a rollover and for a file an older version left with a wider mode."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.fchmod(fd, 0o600)
            return open(fd, self.mode, encoding=self.encoding, errors=self.errors)
        except BaseException:
            os.close(fd)
            raise


def setup_logging(
    log_dir: Path,
    level: str = "INFO",
    max_bytes: int = 2_000_000,
    backup_count: int = 5,
    console: bool = False,
) -> Path:
    """Send the root logger to a rotated JSON-lines file in *log_dir*; return its path."""
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = log_dir / LOG_FILE_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kiosk", False):
            root.removeHandler(handler)
    handler = PrivateRotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
    )
    handler.setFormatter(JsonFormatter())
    handler.addFilter(PersonalDataFilter())
    handler._kiosk = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if console:
        stream = logging.StreamHandler()
        stream.setFormatter(ScrubbingFormatter("%(levelname)s %(name)s: %(message)s"))
        stream.addFilter(PersonalDataFilter())
        stream._kiosk = True  # type: ignore[attr-defined]
        root.addHandler(stream)
    root.setLevel(level)
    return path
