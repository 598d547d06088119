"""What the flows facade hands the screens: plain, immutable results (no JSON, no services).

Built by :class:`kiosk.services.flows.FlowsService`; the generic screens render them. Values
that identify a person appear only masked (receipts, agent text). Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.domain.deadlines import Deadline
from kiosk.domain.items.model import FieldDef
from kiosk.domain.items.views import ApplicationRow
from kiosk.domain.receipt import Receipt
from kiosk.domain.workdays import DueDate


@dataclass(frozen=True)
class FormField:
    """One field as the form screen shows it: picker ``options`` (labels), the pre-filled or
    default ``value``, and ``asked`` False when the card already knows it."""

    definition: FieldDef
    options: tuple[str, ...]
    value: Any
    asked: bool


@dataclass(frozen=True)
class FormSpec:
    item_no: int
    title: str
    summary: str
    fields: tuple[FormField, ...]
    agent: str = ""  # masked agent, when someone acts for the resident

    @property
    def asked(self) -> tuple[FormField, ...]:
        return tuple(f for f in self.fields if f.asked)


@dataclass(frozen=True)
class CounterNotice:
    """一次性告知 of a counter-only item: everything to bring and know, and the counter hours."""

    item_no: int
    name: str
    content: str
    targets: str
    conditions: str
    materials: str
    time_limit: str
    counter_hours: str
    eligibility_applies: bool


@dataclass(frozen=True)
class SubmissionResult:
    """What the confirmation screen shows after a submission or a work order.

    ``accepted``: the platform has it or it is safely saved (``delivered`` tells which);
    False only when the platform refused it (``message`` says why; no receipt then).
    ``preview_png``: the receipt as printed (or, with ``printed`` False, instead of paper).
    """

    item_no: int
    item_name: str
    accepted: bool
    delivered: bool
    status_text: str
    reference: str
    local_ref: str
    due: DueDate | None
    queue_number: str
    message: str
    followup: dict[str, Any] = field(default_factory=dict)
    deadline: Deadline | None = None  # 办结时限 as the catalogue says it (None: no promise)
    receipt: Receipt | None = None
    printed: bool = False
    print_message: str = ""
    preview_png: bytes | None = field(default=None, repr=False)
    preview_qr: tuple[int, int] | None = None  # the QR's rows (top, bottom) in the picture


@dataclass(frozen=True)
class MyApplications:
    rows: tuple[ApplicationRow, ...]
    note: str = ""
    focus_found: bool | None = None  # a scanned receipt's row: first (True), not theirs (False)


@dataclass(frozen=True)
class HelpResult:
    sent: bool
    message: str
