"""Append-only, tamper-evident audit log of maintenance actions (JSON lines in the data dir).

Each line is one JSON object (keys sorted, UTF-8)::

    {"seq": 1, "time": "2026-11-29T08:40:00Z", "account": "op-0001", "role": "operator",
     "action": "paper.replaced", "detail": {...}, "prev": "<64 hex>", "hash": "<64 hex>"}

``hash`` is the SHA-256 of the entry's canonical JSON without ``hash``; ``prev`` is the previous
entry's ``hash`` (64 zeros for the first entry), so editing, deleting or reordering any entry
breaks the chain at that point. A head file (``audit.head``) holds the last ``seq`` and ``hash``
so that cutting entries off the end is detected too.

Tampering stays on record. :meth:`AuditLog.append` compares the head file with the tail of the
log before it writes; when they disagree (entries cut off, the log deleted or rewritten, the head
deleted) it first writes an ``audit.chain_break`` entry (account ``system``) carrying the old
head and what it found, then the entry it was asked for — so the next ``verify`` still reports
the loss instead of "intact". The only disagreement it accepts silently is the head one entry
behind the log with that entry's ``prev``: the power cut between writing a line and its head.

The head also leaves the kiosk: :meth:`AuditLog.head` goes out in every heartbeat and the
platform keeps each head it receives (``GET /kiosks/audit-heads``); :func:`check_platform_heads`
then proves that the log still holds every entry the platform saw. Someone who can rewrite both
files and recompute every hash can forge the local log; the platform's copy bounds what they can
deny. A log that is gone is reported, never "verified": without it, the head file or the
platform's heads say that a log should exist; with neither, ``verify`` says it could not verify.

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
CHAIN_BREAK_ACTION = "audit.chain_break"
SYSTEM_ACCOUNT = "system"

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
class Head:
    """The last entry of a log: its ``seq`` and ``hash`` (``Head(0, GENESIS)``: no entry)."""

    seq: int
    hash: str


EMPTY_HEAD = Head(0, GENESIS)


@dataclass(frozen=True)
class ChainBreak:
    """An ``audit.chain_break`` entry: at entry ``seq`` the log held ``tail_seq`` entries
    although its head said ``old_head_seq`` (``reason``: entries_removed, log_missing, ...)."""

    seq: int
    time: str
    reason: str
    old_head_seq: int
    old_head_hash: str
    tail_seq: int

    def describe(self) -> str:
        return (
            f"chain break recorded at entry {self.seq} ({self.time}): {self.reason}; the head "
            f"said {self.old_head_seq} entries, the log held {self.tail_seq}"
        )


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :meth:`AuditLog.verify`: ``ok``, entries read, and where it first broke.

    ``verified`` is False when there was nothing to verify (no log, no head): that is never
    "intact". ``chain_breaks`` lists the breaks the log itself recorded.
    """

    ok: bool
    entries: int
    broken_seq: int | None = None  # the seq (1-based line number) of the first broken entry
    reason: str = ""
    verified: bool = True
    chain_breaks: tuple[ChainBreak, ...] = ()


@dataclass(frozen=True)
class PlatformHead:
    """A head the platform received in a heartbeat (``regression``: it went backwards)."""

    seq: int
    hash: str
    received_at: str
    regression: bool = False


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
                tail = Head(last["seq"], last["hash"]) if last else EMPTY_HEAD
                head = self._read_head()
                problem = head_problem(head, tail, last["prev"] if last else "")
                if problem is not None:
                    noticed = _chain_break(tail, stamp, problem, head)
                    _write_line(fd, noticed, torn)
                    tail, torn = Head(noticed.seq, noticed.hash), False
                entry = _sealed(
                    AuditEntry(tail.seq + 1, stamp, account, role, action, detail, tail.hash)
                )
                _write_line(fd, entry, torn)
                os.fsync(fd)
                self._write_head(entry)
        except OSError as exc:
            raise AuditError(f"audit log {self.path}: {exc.strerror or exc}") from exc
        return entry

    def head(self) -> Head:
        """The head of the log as it is on disk now (its last intact entry); EMPTY_HEAD when
        there is no log. Raises AuditError when no intact entry ends the log. For heartbeats."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return EMPTY_HEAD
        except OSError as exc:
            raise AuditError(f"audit log {self.path}: {exc.strerror or exc}") from exc
        try:
            last, _torn = _last_entry(fd)
        finally:
            os.close(fd)
        return Head(last["seq"], last["hash"]) if last else EMPTY_HEAD

    def head_pair(self) -> tuple[int, str]:
        """:meth:`head` as ``(seq, hash)`` (what a heartbeat carries)."""
        head = self.head()
        return head.seq, head.hash

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
        missing (including entries cut off the end, via the head file), then any chain break
        the log recorded. A missing log is reported (the head file says one existed) or, with
        no head either, not verified (``verified=False``)."""
        count = 0
        prev = GENESIS
        last_prev = ""
        breaks: list[ChainBreak] = []
        head = self._read_head()
        if not self.path.exists():
            if head is None:
                return VerifyResult(
                    False, 0, None, "no audit log here (nothing recorded yet, or deleted)", False
                )
            if head.seq > 0:
                return VerifyResult(
                    False, 0, 1, f"the audit log is missing; its head says {head.seq} entries"
                )
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
                    noticed = _as_chain_break(record)
                    if noticed is not None:
                        breaks.append(noticed)
                    last_prev, prev = record["prev"], record["hash"]
                    count = number
        problem = head_problem(head, Head(count, prev), last_prev)
        if problem is not None:
            if head is not None and head.seq > count:
                return VerifyResult(
                    False, count, count + 1, f"entries {count + 1}–{head.seq} are missing"
                )
            if head is None:
                return VerifyResult(False, count, count, "head file is missing")
            return VerifyResult(False, count, max(head.seq, 1), "head file does not match the log")
        if breaks:
            first = breaks[0]
            return VerifyResult(
                False, count, first.seq, first.describe(), chain_breaks=tuple(breaks)
            )
        return VerifyResult(True, count)

    # -- internals ------------------------------------------------------------------------------

    def _locked_file(self):
        return _FlockedAppend(self.path)

    def _write_head(self, entry: AuditEntry) -> None:
        data = json.dumps({"seq": entry.seq, "hash": entry.hash}).encode("ascii")
        write_private_file(self.head_path, data)

    def _read_head(self) -> Head | None:
        """The head file's content; None without one; ``Head(-1, "")`` when unreadable."""
        try:
            head = json.loads(self.head_path.read_text(encoding="ascii"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return UNREADABLE_HEAD
        if (
            not isinstance(head, dict)
            or not isinstance(head.get("seq"), int)
            or not isinstance(head.get("hash"), str)
        ):
            return UNREADABLE_HEAD
        return Head(head["seq"], head["hash"])


UNREADABLE_HEAD = Head(-1, "")


def head_problem(head: Head | None, tail: Head, tail_prev: str) -> str | None:
    """Why the head file and the log's tail (*tail*, whose entry links to *tail_prev*)
    disagree, or None when they agree. Tolerated: no head for a one-entry log, and a head
    exactly one entry behind with that entry's ``prev`` — a power cut between the two writes."""
    if head is None:
        return "head_missing" if tail.seq > 1 else None
    if head.seq < 0:
        return "head_unreadable"
    if head == tail:
        return None
    if head.seq == tail.seq - 1 and head.hash == tail_prev:
        return None
    if tail.seq == 0:
        return "log_missing"
    if head.seq > tail.seq:
        return "entries_removed"
    return "head_mismatch"


def check_platform_heads(log: AuditLog, heads: list[PlatformHead]) -> list[str]:
    """What the platform's recorded heads say about this log: for each head it received, the
    log must still hold that entry with that hash. Returns problems (empty: consistent)."""
    held = {entry.seq: entry.hash for entry in log.entries()}
    problems = []
    for head in heads:
        if head.seq == 0:
            continue
        local = held.get(head.seq)
        if local is None:
            problems.append(
                f"the platform received head {head.seq} ({head.hash[:12]}…) at {head.received_at};"
                f" this log has no entry {head.seq}: entries were removed"
            )
        elif local != head.hash:
            problems.append(
                f"the platform received head {head.seq} ({head.hash[:12]}…) at {head.received_at};"
                f" entry {head.seq} here is different: the log was rewritten"
            )
        if head.regression:
            problems.append(
                f"the platform saw this kiosk's head go back to {head.seq} at {head.received_at}"
            )
    return problems


def _sealed(entry: AuditEntry) -> AuditEntry:
    return AuditEntry(**{**entry.body(), "hash": entry_hash(entry.body())})


def _chain_break(tail: Head, stamp: str, reason: str, old: Head | None) -> AuditEntry:
    """The ``audit.chain_break`` entry that continues the chain from what the log holds."""
    old = old or EMPTY_HEAD
    detail = {
        "reason": reason,
        "old_head_seq": old.seq,
        "old_head_hash": old.hash,
        "tail_seq": tail.seq,
    }
    return _sealed(
        AuditEntry(
            tail.seq + 1,
            stamp,
            SYSTEM_ACCOUNT,
            SYSTEM_ACCOUNT,
            CHAIN_BREAK_ACTION,
            detail,
            tail.hash,
        )
    )


def _as_chain_break(record: dict) -> ChainBreak | None:
    if record["action"] != CHAIN_BREAK_ACTION or record["account"] != SYSTEM_ACCOUNT:
        return None
    detail = record["detail"]
    return ChainBreak(
        seq=record["seq"],
        time=record["time"],
        reason=str(detail.get("reason", "")),
        old_head_seq=int(detail.get("old_head_seq", -1)),
        old_head_hash=str(detail.get("old_head_hash", "")),
        tail_seq=int(detail.get("tail_seq", -1)),
    )


def _write_line(fd: int, entry: AuditEntry, torn: bool) -> None:
    line = json.dumps(
        {**entry.body(), "hash": entry.hash},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    prefix = "\n" if torn else ""
    os.write(fd, (prefix + line + "\n").encode("utf-8"))


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
