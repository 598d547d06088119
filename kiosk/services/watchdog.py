"""Living under systemd: sd_notify (READY, WATCHDOG, STATUS) and the idle-restart decision.

**Notify.** :class:`SystemdNotifier` sends datagrams to ``$NOTIFY_SOCKET`` over a plain AF_UNIX
socket (no dependency; abstract sockets ``@name`` too). Outside systemd (no ``NOTIFY_SOCKET``)
every call is a no-op returning False. The unit has ``Type=notify`` and ``WatchdogSec=30``: the
app sends ``READY=1`` once the first screen is drawn and then ``WATCHDOG=1`` from the **Kivy
clock** — so a frozen UI thread stops the pings and systemd restarts the kiosk. Wiring (in the
app, task B)::

    notifier = SystemdNotifier.from_environ()
    Clock.schedule_once(lambda dt: notifier.ready("首页已显示"), 0)
    Clock.schedule_interval(lambda dt: notifier.ping(), notifier.ping_interval() or 10)
    # on stop: notifier.stopping()

Never ping from a background thread: the point is to prove the UI thread is alive.

**Idle restart.** The app records activity in ``<data_dir>/activity.json`` through
:class:`ActivityStamp` (on every touch — throttled — and whenever a resident or maintenance
session starts or ends). ``kiosk maintenance restart-if-idle`` (run by a systemd timer at night)
reads it with :func:`idle_decision` and restarts the service only if nobody is being served and
the screen has been untouched for long enough. Thread-safe: one lock per object.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

ACTIVITY_FILE_NAME = "activity.json"


class SystemdNotifier:
    """Send sd_notify messages to *address* (a path, or ``@name`` for an abstract socket).

    Methods return True when the datagram was sent, False when there is no socket or the send
    failed (the kiosk keeps running; systemd will notice missing pings).
    """

    def __init__(self, address: str | None, *, watchdog_usec: int | None = None) -> None:
        self.address = address or None
        self._watchdog_usec = watchdog_usec
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> SystemdNotifier:
        """Build from ``NOTIFY_SOCKET`` / ``WATCHDOG_USEC`` / ``WATCHDOG_PID`` (as systemd sets)."""
        env = os.environ if environ is None else environ
        usec = None
        raw = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        if raw.isdigit() and (not pid or pid == str(os.getpid())):
            usec = int(raw)
        return cls(env.get("NOTIFY_SOCKET"), watchdog_usec=usec)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def ping_interval(self) -> float | None:
        """Seconds between watchdog pings (half of WatchdogSec), or None if no watchdog."""
        if not self._watchdog_usec:
            return None
        return self._watchdog_usec / 2_000_000

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", status=status)

    def ping(self) -> bool:
        return self.notify("WATCHDOG=1")

    def status(self, text: str) -> bool:
        return self.notify(status=text)

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def notify(self, *assignments: str, status: str = "") -> bool:
        """Send ``KEY=value`` lines (plus ``STATUS=`` if given) in one datagram."""
        if self.address is None:
            return False
        lines = list(assignments)
        if status:
            lines.append("STATUS=" + status.replace("\n", " "))
        payload = "\n".join(lines).encode("utf-8")
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        with self._lock:
            try:
                if self._socket is None:
                    self._socket = socket.socket(
                        socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                    )
                self._socket.sendto(payload, target)
            except OSError:
                self._close()
                return False
        return True

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


# -- activity and the idle restart ------------------------------------------------------------


class ActivityStamp:
    """Records, in ``<data_dir>/activity.json``, when the kiosk was last used and whether a
    resident or maintenance session is open. Writes are atomic; touches are throttled to one
    write per *min_interval* seconds unless ``busy`` changes. *clock* is Unix seconds."""

    def __init__(
        self,
        data_dir: Path,
        *,
        clock: Callable[[], float] = time.time,
        min_interval: float = 10.0,
    ) -> None:
        self.path = Path(data_dir) / ACTIVITY_FILE_NAME
        self._clock = clock
        self._min_interval = min_interval
        self._lock = threading.Lock()
        self._written_at: float | None = None
        self._busy = False
        self._started_at = clock()  # the app's start: the idle restart skips a fresh app

    def touch(self, *, busy: bool | None = None) -> bool:
        """Note activity now; *busy* (if given) says whether a session is open.
        Returns True when the file was written."""
        with self._lock:
            now = self._clock()
            changed = busy is not None and busy != self._busy
            if busy is not None:
                self._busy = busy
            recent = self._written_at is not None and now - self._written_at < self._min_interval
            if recent and not changed:
                return False
            data = json.dumps(
                {
                    "last_activity": now,
                    "busy": self._busy,
                    "started_at": self._started_at,
                    "pid": os.getpid(),
                }
            )
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(data, encoding="ascii")
            os.replace(tmp, self.path)
            self._written_at = now
            return True


@dataclass(frozen=True)
class IdleDecision:
    restart: bool
    reason: str


def idle_decision(
    data_dir: Path,
    *,
    min_idle_seconds: float,
    min_uptime_seconds: float = 4 * 3600,
    now: float | None = None,
) -> IdleDecision:
    """Decide whether restarting now would disturb nobody (and is worth doing).

    Restart when the activity file is missing (the app never started or lost it: nothing to
    disturb), or when no session is open, the last activity is at least *min_idle_seconds* old
    and the app has run for at least *min_uptime_seconds* (so a night's repeated timer runs
    restart it once). A damaged file means "do not restart" (be conservative), as does a
    session in progress. Times are Unix seconds.
    """
    now = time.time() if now is None else now
    path = Path(data_dir) / ACTIVITY_FILE_NAME
    try:
        state = json.loads(path.read_text(encoding="ascii"))
        last = float(state["last_activity"])
        busy = bool(state["busy"])
        started_at = float(state.get("started_at", 0.0))
    except FileNotFoundError:
        return IdleDecision(True, "no activity recorded")
    except (OSError, ValueError, KeyError, TypeError):
        return IdleDecision(False, f"activity file {path} is unreadable")
    idle_for = now - last
    if busy:
        return IdleDecision(False, "a session is in progress")
    if idle_for < 0:
        return IdleDecision(False, "last activity is in the future (clock changed)")
    if idle_for < min_idle_seconds:
        return IdleDecision(False, f"used {int(idle_for)} s ago (need {int(min_idle_seconds)} s)")
    if 0 <= now - started_at < min_uptime_seconds:
        return IdleDecision(False, f"started {int(now - started_at)} s ago (restarted recently)")
    return IdleDecision(True, f"idle for {int(idle_for)} s")
