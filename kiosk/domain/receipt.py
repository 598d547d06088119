"""A receipt (办理凭证) as data: what the kiosk prints or shows after a transaction.

A receipt carries *masked* personal data only (mask with ``kiosk.domain.identity`` before
building one): it outlives the session in the print queue and on paper. Construction rejects
anything that still looks like a full ID number or mobile number, so a caller's slip cannot
put one on paper. Serialises to and from a plain dict for the durable print queue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kiosk.domain.identity import mask_id_number, mask_name

STATUS_ACCEPTED = "已受理"
STATUS_SAVED_OFFLINE = "已保存，联网后自动提交"

_ID_NUMBERS = (
    re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"),  # ID number
    re.compile(r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])"),  # legacy ID number
)
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")  # mainland mobile number
# Machine-made numbers may contain any digit run; only an ID-number shape is refused there.
_CODE_FIELDS = ("reference", "qr_payload", "queue_number")


def masked_person(name: str, id_number: str = "") -> str:
    """The person as a receipt shows them: ``李*英  1404**********1234`` (either part optional)."""
    parts = [mask_name(name) if name else "", mask_id_number(id_number) if id_number else ""]
    return "  ".join(part for part in parts if part)


class ReceiptError(ValueError):
    """A receipt field is missing, too long, or holds unmasked personal data (names the field)."""


@dataclass(frozen=True)
class ReceiptLine:
    """One "label: value" line, e.g. ("申领人数", "1人")."""

    label: str
    value: str


@dataclass(frozen=True)
class Receipt:
    """Everything printed on one receipt. ``submitted_at`` is printed as its own wall clock:
    give it aware, on the service point's clock (``kiosk.domain.clock``), never the OS's.
    ``deadline_text`` is the 办结时限 as the catalogue says it (``kiosk.domain.deadlines``);
    without it the due date is printed. ``qr_caption`` says what the QR code is for."""

    service_point: str
    item_no: str
    item_name: str
    reference: str
    submitted_at: datetime
    status_text: str = STATUS_ACCEPTED
    person: str = ""  # masked, e.g. "张*明  1404**********1234"
    agent: str = ""  # masked 代办人, when someone acts for the resident
    due_date: date | None = None
    due_estimated: bool = False  # True when offline: the date was computed locally
    deadline_text: str = ""  # e.g. 即时办结（已办结）, 受理后2个工作日内办结
    lines: tuple[ReceiptLine, ...] = field(default_factory=tuple)
    qr_payload: str = ""  # progress URL or reference; empty = no QR code
    qr_caption: str = ""  # what the code is for (kiosk.domain.progress_link)
    queue_number: str = ""  # counter work orders: the number to wait for
    title: str = "办理凭证"
    footer: str = ""  # e.g. counter hours / operator phone

    def __post_init__(self) -> None:
        for name in ("service_point", "item_no", "item_name", "reference", "status_text"):
            if not getattr(self, name).strip():
                raise ReceiptError(f"receipt.{name} must not be empty")
        if not isinstance(self.submitted_at, datetime):
            raise ReceiptError("receipt.submitted_at must be a datetime")
        if len(self.qr_payload.encode("utf-8")) > 1000:
            raise ReceiptError("receipt.qr_payload is longer than 1000 bytes")
        if len(self.lines) > 40:
            raise ReceiptError("receipt.lines has more than 40 lines")
        object.__setattr__(self, "lines", tuple(self.lines))
        for name, text in self._texts():
            patterns = _ID_NUMBERS if name in _CODE_FIELDS else (*_ID_NUMBERS, _PHONE)
            if any(pattern.search(text) for pattern in patterns):
                raise ReceiptError(f"receipt.{name} holds an unmasked ID or phone number")

    def _texts(self) -> list[tuple[str, str]]:
        texts = [
            (name, getattr(self, name))
            for name in (
                "service_point",
                "item_no",
                "item_name",
                "reference",
                "status_text",
                "deadline_text",
                "qr_caption",
                "person",
                "agent",
                "qr_payload",
                "queue_number",
                "title",
                "footer",
            )
        ]
        for index, line in enumerate(self.lines):
            texts.append((f"lines[{index}]", f"{line.label} {line.value}"))
        return texts

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings)."""
        return {
            "service_point": self.service_point,
            "item_no": self.item_no,
            "item_name": self.item_name,
            "reference": self.reference,
            "submitted_at": self.submitted_at.isoformat(),
            "status_text": self.status_text,
            "person": self.person,
            "agent": self.agent,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "due_estimated": self.due_estimated,
            "deadline_text": self.deadline_text,
            "qr_caption": self.qr_caption,
            "lines": [[line.label, line.value] for line in self.lines],
            "qr_payload": self.qr_payload,
            "queue_number": self.queue_number,
            "title": self.title,
            "footer": self.footer,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        """Inverse of :meth:`to_dict`; raises :class:`ReceiptError` for a malformed dict."""
        try:
            values = dict(data)
            values["submitted_at"] = datetime.fromisoformat(values["submitted_at"])
            due = values.get("due_date")
            values["due_date"] = date.fromisoformat(due) if due else None
            values["lines"] = tuple(ReceiptLine(str(a), str(b)) for a, b in values["lines"])
            return cls(**values)
        except ReceiptError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise ReceiptError(f"malformed stored receipt: {exc}") from None
