"""What every device driver offers: open/close, a health snapshot, typed events on a bus.

Drivers run their blocking I/O on their own thread and publish small typed events through a
``publish`` callable given to them (usually ``EventBus.publish``). They never touch Kivy.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass, field
from typing import Protocol


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
