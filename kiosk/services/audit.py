"""Append-only, tamper-evident audit log of maintenance actions (JSON lines in the data dir).

Each line is one JSON object (keys sorted, UTF-8)::

    {"seq": 1, "time": "2026-11-29T08:40:00Z", "account": "op-0001", "role": "operator",
     "action": "paper.replaced", "detail": {...}, "prev": "<64 hex>", "hash": "<64 hex>"}

``hash`` is the SHA-256 of the entry's canonical JSON without ``hash``; ``prev`` is the previous
entry's ``hash`` (64 zeros for the first entry), so editing, deleting or reordering any entry
breaks the chain at that point. A head file (``audit.head``) holds the last ``seq`` and ``hash``
so that cutting entries off the end is detected too. Someone who can rewrite both files and
recompute every hash can forge the log; the chain makes tampering evident, it does not prevent it.

The API only appends: there is no update or delete. Each append takes an exclusive ``flock`` (the
app and the ``kiosk`` command may both write), writes one line with ``O_APPEND`` and fsyncs it
before returning. Thread- and process-safe.

No personal data: ``detail`` values are checked with the log scrubber's patterns (ID numbers,
phone numbers, long digit runs) and rejected with :class:`AuditDataError`; the account id is
the platform's account, never a resident's data.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.logsetup import scrub
from kiosk.services.durable_files import fsync_dir, write_private_file

AUDIT_FILE_NAME = "audit.jsonl"
HEAD_FILE_NAME = "audit.head"
GENESIS = "0" * 64
FIELDS = ("seq", "time", "account", "role", "action", "detail", "prev", "hash")
MAX_TEXT = 200

WallClock = Callable[[], dt.datetime]


class AuditError(Exception):
    """The audit log could not be written or read (I/O error, corrupt head)."""


class AuditDataError(AuditError, ValueError):
    """An entry was refused: a field is empty, too long, not plain text, or holds personal data."""


@dataclass(frozen=True)
class AuditEntry:
    """One recorded maintenance action."""

    seq: int
    time: str
    account: str
    role: str
    action: str
    detail: Mapping[str, str | int | bool] = field(default_factory=dict)
    prev: str = GENESIS
    hash: str = ""

    def body(self) -> dict:
        """The fields covered by ``hash`` (everything but ``hash``)."""
        return {
            "seq": self.seq,
            "time": self.time,
            "account": self.account,
            "role": self.role,
            "action": self.action,
            "detail": dict(self.detail),
            "prev": self.prev,
        }


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :meth:`AuditLog.verify`: ``ok``, entries read, and where it first broke."""

    ok: bool
    entries: int
    broken_seq: int | None = None  # the seq (1-based line number) of the first broken entry
    reason: str = ""


def entry_hash(body: Mapping) -> str:
    """SHA-256 hex of the canonical JSON of *body* (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AuditLog:
    """The audit log at ``<directory>/audit.jsonl``; see the module docstring."""

    def __init__(self, directory: Path, *, clock: WallClock = _utc_now) -> None:
        self.path = Path(directory) / AUDIT_FILE_NAME
        self.head_path = Path(directory) / HEAD_FILE_NAME
        self._clock = clock
        self._lock = threading.Lock()

    def append(
        self,
        account: str,
        role: str,
        action: str,
        detail: Mapping[str, str | int | bool] | None = None,
    ) -> AuditEntry:
        """Record one action durably and return the entry; raise :class:`AuditDataError` on bad
        fields (nothing is written then) or :class:`AuditError` on I/O failure."""
        detail = dict(detail or {})
        _check_text("account", account)
        _check_text("role", role)
        _check_text("action", action)
        for key, value in detail.items():
            _check_text("detail key", key)
            if isinstance(value, str):
                _check_text(f"detail.{key}", value, allow_empty=True)
            elif not isinstance(value, bool | int):
                raise AuditDataError(f"detail.{key} must be text, an integer or a boolean")
        stamp = self._clock().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            with self._lock, self._locked_file() as fd:
                last, torn = _last_entry(fd)
                seq, prev = (last["seq"] + 1, last["hash"]) if last else (1, GENESIS)
                entry = AuditEntry(seq, stamp, account, role, action, detail, prev)
                entry = AuditEntry(**{**entry.body(), "hash": entry_hash(entry.body())})
                line = json.dumps(
                    {**entry.body(), "hash": entry.hash},
                    sort_keys=True,
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
                prefix = "\n" if torn else ""
                os.write(fd, (prefix + line + "\n").encode("utf-8"))
                os.fsync(fd)
                self._write_head(entry)
        except OSError as exc:
            raise AuditError(f"audit log {self.path}: {exc.strerror or exc}") from exc
        return entry

    def entries(self) -> Iterator[AuditEntry]:
        """Every well-formed entry in file order (use :meth:`verify` to trust them)."""
        if not self.path.exists():
            return
        with self.path.open("r", encoding="utf-8", errors="replace", newline="\n") as fh:
            for line in fh:
                record = _parse(line)
                if record is not None:
                    yield AuditEntry(**record)

    def verify(self) -> VerifyResult:
        """Walk the chain; report the first entry that is malformed, out of order, altered or
        missing (including entries cut off the end, via the head file)."""
        count = 0
        prev = GENESIS
        if self.path.exists():
            with self.path.open("r", encoding="utf-8", errors="replace", newline="\n") as fh:
                for number, line in enumerate(fh, start=1):
                    record = _parse(line)
                    if record is None:
                        return VerifyResult(False, count, number, "not a valid entry")
                    if record["seq"] != number:
                        return VerifyResult(
                            False, count, number, f"sequence {record['seq']}, expected {number}"
                        )
                    if record["prev"] != prev:
                        return VerifyResult(
                            False, count, number, "previous-entry hash does not match"
                        )
                    body = {k: v for k, v in record.items() if k != "hash"}
                    if entry_hash(body) != record["hash"]:
                        return VerifyResult(False, count, number, "entry content was altered")
                    prev = record["hash"]
                    count = number
        head = self._read_head()
        if head is not None and (head["seq"], head["hash"]) != (count, prev):
            if head["seq"] > count:
                return VerifyResult(
                    False, count, count + 1, f"entries {count + 1}–{head['seq']} are missing"
                )
            return VerifyResult(False, count, head["seq"], "head file does not match the log")
        if head is None and count:
            return VerifyResult(False, count, count, "head file is missing")
        return VerifyResult(True, count)

    # -- internals ------------------------------------------------------------------------------

    def _locked_file(self):
        return _FlockedAppend(self.path)

    def _write_head(self, entry: AuditEntry) -> None:
        data = json.dumps({"seq": entry.seq, "hash": entry.hash}).encode("ascii")
        write_private_file(self.head_path, data)

    def _read_head(self) -> dict | None:
        try:
            head = json.loads(self.head_path.read_text(encoding="ascii"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"seq": -1, "hash": ""}
        if not isinstance(head, dict) or not isinstance(head.get("seq"), int):
            return {"seq": -1, "hash": ""}
        return head


class _FlockedAppend:
    """Open the log for read+append under an exclusive flock (context manager → fd)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def __enter__(self) -> int:
        created = not self._path.exists()
        self._fd = os.open(self._path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        if created:
            fsync_dir(self._path.parent)
        return self._fd

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def _last_entry(fd: int) -> tuple[dict | None, bool]:
    """The last well-formed entry (None if none) and whether the file lacks a final newline.

    A line torn by a power cut is skipped here (``verify`` still reports it), so maintenance
    can go on recording; the next entry continues the chain from the last good one.
    """
    size = os.fstat(fd).st_size
    if size == 0:
        return None, False
    torn = os.pread(fd, 1, size - 1) != b"\n"
    data = b""
    position = size
    while position > 0 and len(data) < _TAIL_LIMIT:
        step = min(4096, position)
        position -= step
        data = os.pread(fd, step, position) + data
        lines = data.split(b"\n")
        # the first piece may be a partial line unless we reached the start of the file
        candidates = lines if position == 0 else lines[1:]
        for raw in reversed(candidates):
            record = _parse(raw.decode("utf-8", errors="replace")) if raw.strip() else None
            if record is not None:
                return record, torn
    raise AuditError("no intact entry at the end of the audit log; run `kiosk audit verify`")


_TAIL_LIMIT = 1 << 20


def _parse(line: str) -> dict | None:
    """A JSON line with exactly the entry fields of the right types, else None."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or set(record) != set(FIELDS):
        return None
    if not isinstance(record["seq"], int) or not isinstance(record["detail"], dict):
        return None
    if not all(isinstance(record[k], str) for k in FIELDS if k not in ("seq", "detail")):
        return None
    return record


def _check_text(name: str, value: object, *, allow_empty: bool = False) -> None:
    if not isinstance(value, str):
        raise AuditDataError(f"{name} must be text")
    if not value and not allow_empty:
        raise AuditDataError(f"{name} must not be empty")
    if len(value) > MAX_TEXT or any(ch in value for ch in "\n\r\x00"):
        raise AuditDataError(f"{name} must be one line of at most {MAX_TEXT} characters")
    if name.startswith("detail") and scrub(value) != value:
        raise AuditDataError(f"{name} looks like personal data (ID/phone/card number)")
