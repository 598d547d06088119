"""The platform connection as one runtime component: client, outbox worker, offline cache.

:class:`BackendRuntime` is what the composition root adds to the app's runtime components
(``name``, ``start()``, ``stop()``). It opens the kiosk store and the outbox at once, so
submissions are accepted (and durably saved) from the first second, even before the platform
is reachable. ``start()`` returns immediately; a background thread then starts the embedded
reference server when config says so (demo mode, ``backend.url`` empty), loads the secret and
builds the signed client. Until that is done, calls raise BackendUnavailable and the outbox
keeps what it is given.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

import kiosk
from kiosk.domain.clock import zone_of
from kiosk.services.audit import AuditError
from kiosk.services.backend_client import BackendClient
from kiosk.services.cache import OfflineCache, PublicInfo
from kiosk.services.errors import BackendError, BackendUnavailable
from kiosk.services.flows import SubmissionAnswers
from kiosk.services.operator_roster import OperatorRoster
from kiosk.services.outbox import Outbox
from kiosk.services.signing import SecretFileError, load_secret
from kiosk.services.store import KEY_FILE_NAME, PayloadCipher, open_store

log = logging.getLogger(__name__)

NOT_READY_MESSAGE = "正在连接服务平台，请稍候"
ROSTER_SYNC_SECONDS = 300.0  # the operator roster (maintenance PIN accounts) is re-read this often

# (devices as DeviceHealth-shaped dicts, paper level "ok" / "low" / "out" / "unknown")
HeartbeatSource = Callable[[], tuple[list[dict[str, Any]], str]]
# The audit log's head now: (seq, hash); raises AuditError when the log's end is unreadable.
AuditHeadSource = Callable[[], tuple[int, str]]


@dataclass(frozen=True)
class PlatformClockChecked:
    """A heartbeat's answer carried the platform's time: ``skew_seconds`` = platform − kiosk
    (positive when the kiosk's clock is behind)."""

    skew_seconds: float


@dataclass(frozen=True)
class BackendReachabilityChanged:
    """The platform became reachable or unreachable (judged by heartbeats); ``code`` is the
    machine reason of the last failure ("" when reachable)."""

    reachable: bool
    code: str = ""


class BackendRuntime:
    """Owns the store, the outbox worker, the client and (in demo mode) the embedded server.

    Thread-safe. ``outbox`` and ``public_info`` are usable right after construction;
    ``client()`` raises BackendUnavailable until the connection is set up (or if it failed:
    ``setup_error`` then says why, without secrets).
    """

    name = "backend"

    def __init__(
        self,
        config,
        data_dir: Path,
        *,
        publish: Callable[[Any], None] | None = None,
        session_factory: Callable[[], requests.Session] = requests.Session,
        heartbeat_source: HeartbeatSource | None = None,
        audit_head: AuditHeadSource | None = None,
        roster: OperatorRoster | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._publish = publish or (lambda _event: None)
        self._heartbeat_source = heartbeat_source
        self._audit_head = audit_head
        self._roster = roster
        self._monotonic = monotonic
        self._roster_synced_at: float | None = None
        self._outbox_client: BackendClient | None = None
        self._stop = threading.Event()
        self._registered = False
        self._reachable: bool | None = None
        self._data_dir = Path(data_dir)
        self._session_factory = session_factory
        self._client: BackendClient | None = None
        self._handle = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self.setup_error = ""
        self.store = open_store(self._data_dir)
        # The flows read the platform's answers (reference number, queue number) from here.
        self.answers = SubmissionAnswers(self._deliver)
        self.outbox = Outbox.from_config(
            self.store,
            PayloadCipher.from_key_file(self._data_dir / KEY_FILE_NAME),
            self.answers.deliver,
            config.outbox,
            publish=publish,
            zone=zone_of(config.kiosk.timezone),
        )
        self.public_info = PublicInfo(_LateClient(self.client), OfflineCache(self.store))

    def start(self) -> None:
        """Start the outbox worker and, on a thread, the platform connection. Non-blocking."""
        self.outbox.start()
        self._thread = threading.Thread(target=self._connect, name="backend-setup", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker and the heartbeat; close the connections, the platform (demo) and
        the store."""
        self._stop.set()
        self.outbox.stop()
        if self._thread is not None:
            self._thread.join(timeout=60)
        for client in (self._client, self._outbox_client):
            if client is not None:
                client.close()
        if self._handle is not None:
            self._handle.stop()
        self.store.close()

    @property
    def embedded_handle(self) -> Any:
        """The embedded reference server's handle (demo mode, once ready), else None."""
        return self._handle

    def wait_ready(self, timeout: float) -> bool:
        """Block until the client is set up (True) or *timeout* s passed / setup failed."""
        return self._ready.wait(timeout) and self._client is not None

    def client(self) -> BackendClient:
        client = self._client
        if client is None:
            raise BackendUnavailable(NOT_READY_MESSAGE, code="not_ready")
        return client

    def _deliver(self, path: str, payload: dict[str, Any], key: str) -> dict[str, Any]:
        # The worker has its own client (and requests.Session): sessions are not shared
        # between the worker thread and the UI's call threads.
        client = self._outbox_client
        if client is None:
            raise BackendUnavailable(NOT_READY_MESSAGE, code="not_ready")
        return client.post_submission(path, payload, key)

    def _connect(self) -> None:
        section = self._config.backend
        kiosk_id = self._config.kiosk.device_id
        secret_file = Path(section.secret_file) if section.secret_file else None
        try:
            if section.url:
                secret = load_secret(secret_file or self._data_dir / "device.secret")
                url = section.url
            elif self._config.is_demo:
                from kiosk.services.embedded_backend import start_embedded_backend

                url, secret, self._handle = start_embedded_backend(
                    self._data_dir, kiosk_id, secret_file=secret_file
                )
            else:
                raise SecretFileError("backend.url is empty outside demo mode")
            self._client = BackendClient.from_config(
                self._session_factory(), section, url, kiosk_id, secret
            )
            self._outbox_client = BackendClient.from_config(
                self._session_factory(), section, url, kiosk_id, secret
            )
            log.info("platform connection ready", extra={"event": "backend_ready"})
            self.outbox.wake()
        except Exception as exc:  # the kiosk keeps running offline; maintenance shows why
            self.setup_error = f"{type(exc).__name__}: {exc}"
            log.error("platform connection setup failed", extra={"event": "backend_setup"})
            return
        finally:
            self._ready.set()
        self._heartbeat_loop()

    def _heartbeat_loop(self) -> None:
        """Announce the kiosk, then report health every ``backend.heartbeat_seconds``."""
        interval = max(1, self._config.backend.heartbeat_seconds)
        while not self._stop.is_set():
            self.beat()
            self._stop.wait(interval)

    def beat(self) -> bool:
        """One heartbeat (registering first if not yet done); True if the platform answered."""
        try:
            client = self.client()
            if not self._registered:
                kiosk_section = self._config.kiosk
                client.register(
                    kiosk.__version__,
                    kiosk_section.service_point,
                    kiosk_section.region_code,
                    _capabilities(self._config),
                )
                self._registered = True
            devices, paper = self._heartbeat_source() if self._heartbeat_source else ([], "unknown")
            ack = client.heartbeat(
                kiosk.__version__,
                devices,
                paper,
                self.outbox.summary().pending,
                audit_head=self._current_audit_head(),
            )
            self._publish(PlatformClockChecked(ack.server_time.timestamp() - time.time()))
            self._sync_roster(client)
        except BackendError as exc:
            self._set_reachable(False, exc.code or type(exc).__name__)
            return False
        except Exception:  # a broken heartbeat source must not stop the loop
            log.exception("heartbeat failed", extra={"event": "heartbeat"})
            return False
        self._set_reachable(True, "")
        return True

    def _sync_roster(self, client: BackendClient) -> None:
        """Re-read the operator roster when due (at once after start, then every
        ROSTER_SYNC_SECONDS); a refused or broken answer keeps the old copy."""
        if self._roster is None:
            return
        now = self._monotonic()
        if (
            self._roster_synced_at is not None
            and now - self._roster_synced_at < ROSTER_SYNC_SECONDS
        ):
            return
        try:
            count = self._roster.sync(client)
        except OSError:
            log.error("operator roster not saved", extra={"event": "roster_sync"})
            return
        self._roster_synced_at = now
        log.info("operator roster synced", extra={"event": "roster_sync", "count": count})

    def _current_audit_head(self) -> tuple[int, str] | None:
        """The audit head for this heartbeat; None (not sent) when the log's end is unreadable,
        which ``kiosk audit verify`` then reports."""
        if self._audit_head is None:
            return None
        try:
            return self._audit_head()
        except AuditError:
            log.warning("audit head unreadable", extra={"event": "audit_head"})
            return None

    def _set_reachable(self, reachable: bool, code: str) -> None:
        if reachable != self._reachable:
            self._reachable = reachable
            self._publish(BackendReachabilityChanged(reachable, code))


class _LateClient:
    """Forwards attribute access to the client once it exists (BackendUnavailable before)."""

    def __init__(self, get_client: Callable[[], BackendClient]) -> None:
        self._get_client = get_client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get_client(), name)


def _capabilities(config) -> list[str]:
    devices = config.devices
    named = {
        "idcard": devices.idcard.enabled,
        "sscard": devices.sscard.enabled,
        "printer": devices.printer.enabled,
        "scanner": devices.scanner.enabled,
    }
    return [name for name, enabled in named.items() if enabled]
