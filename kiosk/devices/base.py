"""What every device driver offers: open/close, a health snapshot, typed events on a bus.

Drivers run their blocking I/O on their own thread and publish small typed events through a
``publish`` callable given to them (usually ``EventBus.publish``). They never touch Kivy.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

# A device url that means "run the simulator on a pty and point the driver at it" (demo mode).
SIM_URL = "sim://"


class DeviceState(enum.StrEnum):
    OK = "ok"  # answered its last health check
    FAULT = "fault"  # answered with an error (paper out, SAM error, ...)
    OFFLINE = "offline"  # no answer / port gone
    UNKNOWN = "unknown"  # not asked yet
    DISABLED = "disabled"  # switched off in config


@dataclass(frozen=True)
class DeviceHealth:
    """A snapshot for the status screen and heartbeat. Never carries personal data."""

    name: str
    state: DeviceState
    detail: str = ""
    last_error: str = ""
    counters: dict[str, int] = field(default_factory=dict)
    transport: str = ""


class Device(Protocol):
    name: str

    def open(self) -> None: ...

    def close(self) -> None: ...

    def health(self) -> DeviceHealth: ...


class Counters:
    """Thread-safe named counters for health(): reads, errors, reopens, ..."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, int] = {}

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._values[name] = self._values.get(name, 0) + amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)


class SimulatedSerialRuntime:
    """Start/stop for a serial driver and, in demo mode, the simulator it talks to.

    A mixin for the dataclasses the ``open_*`` factories return; they define ``driver`` (with
    ``url``, ``open()``, ``close()``) and ``simulator`` (None, or with ``start() -> port``
    and ``stop()``). Neither call leaves a simulator's pty open behind a failed driver.
    """

    driver: Any
    simulator: Any

    def start(self) -> None:
        """Start the simulator (if any) and point the driver at its pty, then open the driver."""
        if self.simulator is None:
            self.driver.open()
            return
        self.driver.url = self.simulator.start()
        try:
            self.driver.open()
        except BaseException:
            self.simulator.stop()
            raise

    def stop(self) -> None:
        """Close the driver, then stop the simulator (even if closing the driver failed)."""
        try:
            self.driver.close()
        finally:
            if self.simulator is not None:
                self.simulator.stop()
