"""The outbox: every submission is committed locally before the resident is told 已受理.

A submission (registration, application, work order, fault ticket, problem report) goes through
:meth:`Outbox.submit`, which encrypts the payload, commits it to SQLite (WAL, synchronous=FULL)
with a fresh Idempotency-Key and only then returns an :class:`OutboxEntry`. A worker thread
(:meth:`Outbox.start`) delivers pending entries oldest first through the *deliver* callable
(normally :meth:`kiosk.services.backend_client.BackendClient.post_submission`):

- delivered: the server's answer (reference number, due date) is stored and the row is marked
  delivered; delivered rows are purged after ``retention_days``;
- rejected with a 4xx other than 401/408/429: marked failed for good (shown in maintenance);
- anything else (offline, 5xx, 401, 408, 429): retried forever, with exponential backoff and
  full jitter: ``uniform(0, min(backoff_max, backoff_initial * 2**attempts))``.

Exactly once: a crash between sending and committing the acknowledgement makes the worker send
the same request again after restart; the server answers a repeated Idempotency-Key with its
first answer, so nothing is created twice.

Threads: submit/status/entries may be called from any thread; events are published from the
calling or the worker thread through *publish* (an ``EventBus.publish``). No personal data is
logged or put in events.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from kiosk.domain.clock import DEFAULT_ZONE
from kiosk.services.errors import BackendAuthError, BackendError, BackendRejected
from kiosk.services.store import KioskStore, PayloadCipher, PayloadDecryptError, outbox_entries

log = logging.getLogger(__name__)

RECEIPT_DELIVERED = "已受理"
RECEIPT_SAVED = "已保存，联网后自动提交"
RECEIPT_FAILED = "提交未被受理，请到柜台办理"

SECONDS_PER_DAY = 86_400
PURGE_INTERVAL_SECONDS = 3600.0
IDLE_WAKE_SECONDS = 60.0
# Kinds delivered strictly in the order they were saved (see Outbox.run_once).
ORDERED_KINDS = frozenset({"fault"})

Deliver = Callable[[str, dict[str, Any], str], dict[str, Any]]
Publish = Callable[[Any], None]
Checkpoint = Callable[[str], None]


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class SubmissionKind(enum.StrEnum):
    """What a submission is; free strings are accepted too, these are the known ones."""

    REGISTRATION = "registration"
    APPLICATION = "application"
    WORK_ORDER = "work_order"
    FAULT = "fault"
    PROBLEM_REPORT = "problem_report"


@dataclass(frozen=True)
class OutboxEntry:
    """One submission as the UI and maintenance see it (never the personal payload)."""

    local_ref: str
    idempotency_key: str
    kind: str
    path: str
    status: OutboxStatus
    created_at: float
    attempts: int = 0
    next_attempt_at: float = 0.0
    delivered_at: float | None = None
    http_status: int | None = None
    error_code: str = ""
    reference_no: str | None = None
    due_date: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is OutboxStatus.DELIVERED

    @property
    def receipt_text(self) -> str:
        """已受理 when the platform has it, 已保存，联网后自动提交 while it waits in the outbox."""
        if self.status is OutboxStatus.DELIVERED:
            return RECEIPT_DELIVERED
        if self.status is OutboxStatus.FAILED:
            return RECEIPT_FAILED
        return RECEIPT_SAVED


@dataclass(frozen=True)
class OutboxSummary:
    """Counts for ``kiosk outbox status`` and the maintenance screen."""

    pending: int
    delivered: int
    failed: int
    oldest_pending_age_seconds: float | None


@dataclass(frozen=True)
class SubmissionDelivered:
    local_ref: str
    kind: str
    reference_no: str | None
    due_date: str | None


@dataclass(frozen=True)
class SubmissionFailed:
    """The platform refused a submission for good; ``message`` is its Chinese explanation."""

    local_ref: str
    kind: str
    status: int
    code: str
    message: str


@dataclass(frozen=True)
class OutboxDepthChanged:
    pending: int
    failed: int


def backoff_delay(attempts: int, initial: float, cap: float, rng: random.Random) -> float:
    """Full-jitter exponential backoff: uniform(0, min(cap, initial * 2**attempts)) seconds."""
    ceiling = min(cap, initial * (2 ** min(attempts, 62)))
    return rng.uniform(0.0, ceiling)


class Outbox:
    """Durable submissions plus the worker that delivers them. See the module docstring.

    *deliver(path, payload, idempotency_key) -> answer dict* raises :class:`BackendError`
    subclasses. *clock* returns unix seconds (wall clock, since times are persisted).
    *checkpoint(name)* is called at named points (``submit_before_commit``,
    ``submit_after_commit``, ``before_send``, ``after_send``, ``after_ack``) so a crash test can
    stop the process exactly there; it is a no-op in production.
    """

    def __init__(
        self,
        store: KioskStore,
        cipher: PayloadCipher,
        deliver: Deliver,
        *,
        backoff_initial_seconds: float = 1.0,
        backoff_max_seconds: float = 300.0,
        retention_days: int = 30,
        publish: Publish | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        checkpoint: Checkpoint | None = None,
        zone: ZoneInfo | None = None,
    ) -> None:
        self._engine = store.engine
        self._zone = zone or ZoneInfo(DEFAULT_ZONE)  # the service point's: local_ref's date
        self._cipher = cipher
        self._deliver = deliver
        self._initial = backoff_initial_seconds
        self._cap = backoff_max_seconds
        self._retention_seconds = retention_days * SECONDS_PER_DAY
        self._publish = publish or (lambda _event: None)
        self._clock = clock
        self._rng = rng or random.Random()
        self._checkpoint = checkpoint or (lambda _name: None)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._last_purge = 0.0

    @classmethod
    def from_config(cls, store, cipher, deliver, section, **kwargs) -> Outbox:
        """Build with the backoff and retention of a config ``OutboxSection``."""
        return cls(
            store,
            cipher,
            deliver,
            backoff_initial_seconds=section.backoff_initial_seconds,
            backoff_max_seconds=section.backoff_max_seconds,
            retention_days=section.retention_days,
            **kwargs,
        )

    # -- submitting ---------------------------------------------------------------------------

    def submit(self, kind: str, path: str, payload: dict[str, Any]) -> OutboxEntry:
        """Commit a submission durably and return it; only now may the UI say it was taken.

        *path* is the API path it will be POSTed to (e.g. ``/api/v1/applications``). Raises
        TypeError/ValueError if *payload* is not JSON-serialisable, sqlalchemy errors if the
        disk is full or the database broken — in every such case nothing was acknowledged.
        """
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        draws_left = 3
        while True:
            try:
                return self._insert(kind, path, body)
            except sa.exc.IntegrityError:
                # Two random local references collided (a day's prefix + 32 random bits); the
                # transaction was rolled back, so draw a new key and reference and try again.
                draws_left -= 1
                if not draws_left:
                    raise

    def _insert(self, kind: str, path: str, body: bytes) -> OutboxEntry:
        key = str(uuid.uuid4())
        now = self._clock()
        day = dt.datetime.fromtimestamp(now, self._zone)
        local_ref = f"{day:%y%m%d}-{key[:8].upper()}"
        row = {
            "local_ref": local_ref,
            "idempotency_key": key,
            "kind": str(kind),
            "path": path,
            "payload": self._cipher.encrypt(body, key.encode("ascii")),
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "error_code": "",
        }
        with self._engine.begin() as conn:
            conn.execute(outbox_entries.insert().values(**row))
            self._checkpoint("submit_before_commit")
        self._checkpoint("submit_after_commit")
        log.info("submission saved", extra={"event": "outbox_saved", "item": str(kind)})
        self._wake.set()
        self._publish_depth()
        return self._entry_from_row({**row, "delivered_at": None, "http_status": None})

    def submit_and_wait(
        self, kind: str, path: str, payload: dict[str, Any], timeout: float = 5.0
    ) -> OutboxEntry:
        """:meth:`submit`, then wait up to *timeout* s for the worker to deliver it.

        Returns the entry as it then stands: delivered (show 已受理 and the reference number),
        still pending (show 已保存，联网后自动提交) or failed. Needs a running worker.
        """
        entry = self.submit(kind, path, payload)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                current = self.entry(entry.local_ref)
                if current is None or current.status is not OutboxStatus.PENDING:
                    return current or entry
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return current
                self._changed.wait(remaining)

    # -- reading ------------------------------------------------------------------------------

    def entry(self, local_ref: str) -> OutboxEntry | None:
        with self._engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(outbox_entries).where(outbox_entries.c.local_ref == local_ref)
                )
                .mappings()
                .first()
            )
        return None if row is None else self._entry_from_row(row)

    def entries(self, status: OutboxStatus | None = None, limit: int = 100) -> list[OutboxEntry]:
        """Newest first; metadata only (the payload stays encrypted)."""
        query = sa.select(outbox_entries).order_by(outbox_entries.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(outbox_entries.c.status == OutboxStatus(status).value)
        with self._engine.connect() as conn:
            return [self._entry_from_row(r) for r in conn.execute(query).mappings()]

    def payload(self, local_ref: str) -> dict[str, Any]:
        """Decrypt one entry's payload (for re-printing a receipt). Raises KeyError if unknown,
        :class:`PayloadDecryptError` if the key does not match."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(outbox_entries.c.payload, outbox_entries.c.idempotency_key).where(
                    outbox_entries.c.local_ref == local_ref
                )
            ).first()
        if row is None:
            raise KeyError(local_ref)
        return json.loads(self._cipher.decrypt(row.payload, row.idempotency_key.encode("ascii")))

    def answer(self, local_ref: str) -> dict[str, Any] | None:
        """The platform's decrypted answer to a delivered (or refused) entry, else None —
        e.g. ``queue_no`` and ``message`` of a work order's receipt."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(outbox_entries.c.response, outbox_entries.c.idempotency_key).where(
                    outbox_entries.c.local_ref == local_ref
                )
            ).first()
        if row is None or row.response is None:
            return None
        return json.loads(self._cipher.decrypt(row.response, row.idempotency_key.encode("ascii")))

    def summary(self) -> OutboxSummary:
        return summarize(self._engine, self._clock())

    # -- maintenance ----------------------------------------------------------------------------

    def requeue(self, local_ref: str) -> bool:
        """Put a failed entry back in the queue (after an operator fixed the cause)."""
        with self._engine.begin() as conn:
            result = conn.execute(
                outbox_entries.update()
                .where(outbox_entries.c.local_ref == local_ref)
                .where(outbox_entries.c.status == OutboxStatus.FAILED.value)
                .values(status=OutboxStatus.PENDING.value, next_attempt_at=self._clock())
            )
        if result.rowcount:
            self._wake.set()
            self._publish_depth()
        return bool(result.rowcount)

    def purge(self, now: float | None = None) -> int:
        """Delete delivered rows older than the retention period; return how many."""
        now = self._clock() if now is None else now
        with self._engine.begin() as conn:
            result = conn.execute(
                outbox_entries.delete()
                .where(outbox_entries.c.status == OutboxStatus.DELIVERED.value)
                .where(outbox_entries.c.delivered_at < now - self._retention_seconds)
            )
        if result.rowcount:
            log.info("purged delivered submissions", extra={"count": result.rowcount})
        return result.rowcount

    # -- the worker -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the delivery thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="outbox-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the worker to stop and wait for it (an in-flight request finishes first)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Retry now (e.g. the network came back); resets nothing else."""
        with self._engine.begin() as conn:
            conn.execute(
                outbox_entries.update()
                .where(outbox_entries.c.status == OutboxStatus.PENDING.value)
                .values(next_attempt_at=self._clock())
            )
        self._wake.set()

    def drain(self, timeout: float) -> bool:
        """Block until nothing is pending (True) or *timeout* s passed (False)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.summary().pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 1.0))
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                delay = self.run_once()
                if self._clock() - self._last_purge > PURGE_INTERVAL_SECONDS:
                    self.purge()
                    self._last_purge = self._clock()
            except Exception:
                # A broken disk or database must not kill the worker; try again shortly.
                log.exception("outbox worker round failed", extra={"event": "outbox_error"})
                delay = 5.0
            self._wake.wait(delay)

    def run_once(self) -> float:
        """Try every entry that is due, oldest first; return seconds until the next one is due.

        Stops the round at the first network failure (the rest would fail the same way).
        Entries of an ordered kind (fault tickets: an open, then its close, then the next
        open of the same fault) never overtake an older pending one of that kind that is
        waiting for its retry — the platform would merge a new fault into the old ticket.
        """
        now = self._clock()
        with self._engine.connect() as conn:
            pending = (
                conn.execute(
                    sa.select(outbox_entries)
                    .where(outbox_entries.c.status == OutboxStatus.PENDING.value)
                    .order_by(outbox_entries.c.id)
                )
                .mappings()
                .all()
            )
        held: set[str] = set()  # ordered kinds with an older entry still waiting
        for row in pending:
            if self._stop.is_set():
                break
            ordered = row["kind"] in ORDERED_KINDS
            if ordered and row["kind"] in held:
                continue
            # Due, or scheduled further ahead than any backoff: the wall clock was set back
            # since (times are persisted), so it is due as well.
            due = row["next_attempt_at"] <= now or row["next_attempt_at"] > now + self._cap
            if not due:
                if ordered:
                    held.add(row["kind"])
                continue
            reachable = self._attempt(row)
            if ordered and self.entry(row["local_ref"]).status is OutboxStatus.PENDING:
                held.add(row["kind"])
            if not reachable:
                break
        return self._seconds_until_next_due()

    def _attempt(self, row) -> bool:
        """Deliver one row; False if the platform is unreachable (end this round)."""
        key = row["idempotency_key"]
        try:
            payload = json.loads(self._cipher.decrypt(row["payload"], key.encode("ascii")))
        except (PayloadDecryptError, ValueError):
            self._mark_failed(row, 0, "undecryptable", "本机保存的数据无法解密，请到柜台办理", None)
            return True
        self._checkpoint("before_send")
        try:
            answer = self._deliver(row["path"], payload, key)
        except BackendRejected as exc:
            if exc.retryable:
                self._schedule_retry(row, exc)
                # a refused signature refuses the others too; a 408/429 concerns this one only
                return not isinstance(exc, BackendAuthError)
            body = {"code": exc.code, "message": exc.message, "field": exc.field}
            self._mark_failed(row, exc.status, exc.code or "rejected", exc.message, body)
            return True
        except BackendError as exc:
            self._schedule_retry(row, exc)
            return False
        self._checkpoint("after_send")
        self._mark_delivered(row, answer)
        self._checkpoint("after_ack")
        return True

    def _mark_delivered(self, row, answer: dict[str, Any]) -> None:
        key = row["idempotency_key"]
        reference_no, due_date = reference_of(answer)
        blob = self._cipher.encrypt(
            json.dumps(answer, ensure_ascii=False).encode("utf-8"), key.encode("ascii")
        )
        now = self._clock()
        with self._engine.begin() as conn:
            conn.execute(
                outbox_entries.update()
                .where(outbox_entries.c.id == row["id"])
                .where(outbox_entries.c.status == OutboxStatus.PENDING.value)
                .values(
                    status=OutboxStatus.DELIVERED.value,
                    attempts=row["attempts"] + 1,
                    last_attempt_at=now,
                    delivered_at=now,
                    http_status=200,
                    error_code="",
                    reference_no=reference_no,
                    due_date=due_date,
                    response=blob,
                )
            )
        log.info("submission delivered", extra={"event": "outbox_delivered", "item": row["kind"]})
        self._publish(SubmissionDelivered(row["local_ref"], row["kind"], reference_no, due_date))
        self._changed_notify()

    def _mark_failed(self, row, status: int, code: str, message: str, body) -> None:
        key = row["idempotency_key"]
        blob = None
        if body is not None:
            blob = self._cipher.encrypt(
                json.dumps(body, ensure_ascii=False).encode("utf-8"), key.encode("ascii")
            )
        with self._engine.begin() as conn:
            conn.execute(
                outbox_entries.update()
                .where(outbox_entries.c.id == row["id"])
                .values(
                    status=OutboxStatus.FAILED.value,
                    attempts=row["attempts"] + 1,
                    last_attempt_at=self._clock(),
                    http_status=status or None,
                    error_code=code[:64],
                    response=blob,
                )
            )
        log.warning(
            "submission rejected",
            extra={"event": "outbox_failed", "item": row["kind"], "code": code, "status": status},
        )
        self._publish(SubmissionFailed(row["local_ref"], row["kind"], status, code, message))
        self._changed_notify()

    def _schedule_retry(self, row, exc: BackendError) -> None:
        attempts = row["attempts"] + 1
        now = self._clock()
        delay = backoff_delay(attempts - 1, self._initial, self._cap, self._rng)
        with self._engine.begin() as conn:
            conn.execute(
                outbox_entries.update()
                .where(outbox_entries.c.id == row["id"])
                .values(
                    attempts=attempts,
                    last_attempt_at=now,
                    next_attempt_at=now + delay,
                    http_status=getattr(exc, "status", None),
                    error_code=(exc.code or type(exc).__name__)[:64],
                )
            )
        log.info(
            "submission delivery postponed",
            extra={"event": "outbox_retry", "item": row["kind"], "code": type(exc).__name__},
        )

    def _seconds_until_next_due(self) -> float:
        with self._engine.connect() as conn:
            next_due = conn.execute(
                sa.select(sa.func.min(outbox_entries.c.next_attempt_at)).where(
                    outbox_entries.c.status == OutboxStatus.PENDING.value
                )
            ).scalar()
        if next_due is None:
            return IDLE_WAKE_SECONDS
        return max(0.0, min(IDLE_WAKE_SECONDS, next_due - self._clock()))

    def _changed_notify(self) -> None:
        self._publish_depth()
        with self._changed:
            self._changed.notify_all()

    def _publish_depth(self) -> None:
        # Never raises: it runs after a commit, and a caller told "failed" after its submission
        # was in fact saved would submit it twice.
        try:
            summary = self.summary()
            self._publish(OutboxDepthChanged(summary.pending, summary.failed))
        except Exception:
            log.exception("could not publish the outbox depth", extra={"event": "outbox_depth"})

    @staticmethod
    def _entry_from_row(row) -> OutboxEntry:
        return OutboxEntry(
            local_ref=row["local_ref"],
            idempotency_key=row["idempotency_key"],
            kind=row["kind"],
            path=row["path"],
            status=OutboxStatus(row["status"]),
            created_at=row["created_at"],
            attempts=row["attempts"],
            next_attempt_at=row["next_attempt_at"],
            delivered_at=row["delivered_at"],
            http_status=row["http_status"],
            error_code=row["error_code"] or "",
            reference_no=row.get("reference_no"),
            due_date=row.get("due_date"),
        )


def summarize(engine: sa.Engine, now: float) -> OutboxSummary:
    """Counts by status and the age of the oldest pending entry (read-only; any process)."""
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                sa.select(outbox_entries.c.status, sa.func.count()).group_by(
                    outbox_entries.c.status
                )
            ).all()
        )
        oldest = conn.execute(
            sa.select(sa.func.min(outbox_entries.c.created_at)).where(
                outbox_entries.c.status == OutboxStatus.PENDING.value
            )
        ).scalar()
    return OutboxSummary(
        pending=counts.get(OutboxStatus.PENDING.value, 0),
        delivered=counts.get(OutboxStatus.DELIVERED.value, 0),
        failed=counts.get(OutboxStatus.FAILED.value, 0),
        oldest_pending_age_seconds=None if oldest is None else max(0.0, now - oldest),
    )


def reference_of(answer: Any) -> tuple[str | None, str | None]:
    """(办件编号, 办结期限) from a submission's answer: a Receipt, an object holding one under
    ``receipt`` (job-seeker and demand registrations), or a ticket (its id)."""
    if not isinstance(answer, dict):
        return None, None
    receipt = answer.get("receipt") if isinstance(answer.get("receipt"), dict) else answer
    number = _first_str(receipt, ("number", "reference_no")) or _first_str(answer, ("id",))
    return number, _first_str(receipt, ("due_date",))


def _first_str(answer: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = answer.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)[:64]
    return None
