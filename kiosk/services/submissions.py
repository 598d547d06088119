"""Submitting for the resident: form items and work orders through the outbox, the receipt,
its printing, and the submissions still waiting in this kiosk's outbox (我的办件).

Used by :class:`kiosk.services.flows.FlowsService`, which passes in its collaborators and its
own resident, form-validation and counter-item lookups. Threads: every method may block on the
outbox (at most ``submit_timeout`` seconds for delivery) or the printer — worker pool only.

Submissions are committed to the outbox before anything says 已受理. The platform's answer is
taken from :class:`~kiosk.services.submission_answers.SubmissionAnswers` by Idempotency-Key.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from kiosk.domain.catalogue import Catalogue, ServiceItem
from kiosk.domain.clock import ServiceClock
from kiosk.domain.deadlines import Deadline, deadline_of, offline_deadline
from kiosk.domain.items import Definitions, FieldDef, WorkOrderDefinition
from kiosk.domain.items.requests import agent_body, phone_of, submission_item_no
from kiosk.domain.items.results import SubmissionResult
from kiosk.domain.items.views import ApplicationRow, materials_text
from kiosk.domain.person import Person
from kiosk.domain.receipt import STATUS_ACCEPTED, STATUS_SAVED_OFFLINE, Receipt, ReceiptLine
from kiosk.domain.workdays import WorkingCalendar
from kiosk.services.errors import BackendRejected
from kiosk.services.flow_errors import NotSaved
from kiosk.services.outbox import Outbox, OutboxEntry, OutboxStatus
from kiosk.services.session import SessionManager
from kiosk.services.submission_answers import SubmissionAnswers

if TYPE_CHECKING:
    from kiosk.services.printing import PrintingService

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
REJECTED_STATUS = "提交未被受理"
NO_PRINTER_MESSAGE = "本机打印机暂不可用，请拍照保存屏幕上的凭证"
PRINTED_MESSAGE = "凭证已打印，请取走"
SAVED_MESSAGE = "网络恢复后本机自动提交，可在“我的办件”查看进度"
SAVED_WORK_ORDER_MESSAGE = "网络恢复后本机自动提交，请到柜台凭本凭证取号办理"

FormBody = Callable[[tuple[FieldDef, ...], Mapping[str, Any], Person], dict[str, Any]]
# (reference, check code) → (what the receipt's QR holds, the caption printed under it)
ReceiptCode = Callable[[str, str], tuple[str, str]]


class Submissions:
    """Submit, receipt, print; and the outbox's pending rows. Built by the flows facade.

    *resident* returns the session's resident or raises ``IdentityRequired``; *form_body*
    validates entered values into a request body or raises ``FormInvalid``; *counter_item*
    returns a counter-only item or raises ValueError; *receipt_code* makes the receipt's QR
    content and caption. *clock* is the service point's (aware times, local dates).
    """

    def __init__(
        self,
        *,
        outbox: Outbox,
        answers: SubmissionAnswers,
        session: SessionManager,
        definitions: Definitions,
        catalogue: Catalogue,
        service_point: str,
        counter_hours: str,
        printing: PrintingService | None,
        calendar: WorkingCalendar,
        submit_timeout: float,
        clock: ServiceClock,
        today: Callable[[], dt.date],
        now: Callable[[], dt.datetime],
        resident: Callable[[int], Person],
        form_body: FormBody,
        counter_item: Callable[[int], ServiceItem],
        receipt_code: ReceiptCode,
    ) -> None:
        self._clock = clock
        self._receipt_code = receipt_code
        self._outbox = outbox
        self._answers = answers
        self._session = session
        self._definitions = definitions
        self._catalogue = catalogue
        self._service_point = service_point
        self._counter_hours = counter_hours
        self._printing = printing
        self._calendar = calendar
        self._submit_timeout = submit_timeout
        self._today = today
        self._now = now
        self._resident = resident
        self._form_body = form_body
        self._counter_item = counter_item

    def submit(self, item_no: int, values: Mapping[str, Any]) -> SubmissionResult:
        """See :meth:`kiosk.services.flows.FlowsService.submit`."""
        definition = self._definitions.item(item_no)
        if not definition.is_submission:
            raise ValueError(f"item {item_no} is not a form")
        person = self._resident(item_no)
        body = self._form_body(definition.fields, values, person)
        body.update(definition.call.fixed_dict())
        for request_key, person_key in definition.identity_body:
            body[request_key] = person.prefill(person_key)
        agent = self._session.agent
        if agent is not None:  # recorded beside the resident on the platform (代办)
            body["agent"] = agent_body(agent)
        return self._submit(
            item=self._catalogue.item(item_no),
            kind=definition.submission_kind,
            path=definition.call.path,
            body=body,
            person=person,
            followup_keys=definition.followup,
            receipt_key=definition.receipt_key,
            phone=phone_of(definition.fields, body),
        )

    def work_order(self, item_no: int, values: Mapping[str, Any]) -> SubmissionResult:
        """See :meth:`kiosk.services.flows.FlowsService.work_order`."""
        item = self._counter_item(item_no)
        person = self._resident(item_no)
        order: WorkOrderDefinition = self._definitions.work_order
        body = self._form_body(order.fields, values, person)
        for request_key, person_key in order.identity_body:
            body[request_key] = person.prefill(person_key)
        body["item_no"] = item_no
        agent = self._session.agent
        if agent is not None:  # the counter must know who came on the resident's behalf
            body["agent"] = agent_body(agent)
        return self._submit(
            item=item,
            kind=order.submission_kind,
            path=order.call.path,
            body=body,
            person=person,
            followup_keys=(),
            receipt_key=order.receipt_key,
            phone=phone_of(order.fields, body),
        )

    def _submit(
        self,
        *,
        item: ServiceItem,
        kind: str,
        path: str,
        body: dict[str, Any],
        person: Person,
        followup_keys: tuple[tuple[str, str], ...],
        receipt_key: str,
        phone: str,
    ) -> SubmissionResult:
        try:
            entry = self._outbox.submit_and_wait(
                kind, API_PREFIX + path, body, timeout=self._submit_timeout
            )
        except sa.exc.SQLAlchemyError as exc:  # a full disk or broken storage: nothing saved
            log.error(
                "submission not saved: %s",
                type(exc).__name__,
                extra={"event": "flows_not_saved", "item": item.no},
            )
            raise NotSaved() from None
        answer = self._answers.take(entry.idempotency_key)
        log.info(
            "submission",
            extra={"event": "flows_submit", "item": item.no, "state": entry.status.value},
        )
        if isinstance(answer, BackendRejected) or entry.status is OutboxStatus.FAILED:
            message = answer.message if isinstance(answer, BackendRejected) else ""
            return SubmissionResult(
                item_no=item.no,
                item_name=item.name,
                accepted=False,
                delivered=False,
                status_text=REJECTED_STATUS,
                reference="",
                local_ref=entry.local_ref,
                due=None,
                queue_number="",
                message=message or "提交未被受理，请到柜台办理",
            )
        if phone:
            self._remember_phone(phone)
        if entry.delivered:
            outcome = _delivered_outcome(entry, answer, receipt_key, followup_keys, item)
        else:
            outcome = self._saved_outcome(entry, item, kind)
        receipt = self._receipt(item, outcome, person)
        printed, print_message = self._print(receipt)
        preview, qr_span = self._preview(receipt)
        return SubmissionResult(
            item_no=item.no,
            item_name=item.name,
            accepted=True,
            delivered=entry.delivered,
            status_text=outcome.status_text,
            reference=outcome.reference,
            local_ref=entry.local_ref,
            due=outcome.deadline.due if outcome.deadline else None,
            queue_number=outcome.queue,
            message=outcome.message,
            followup=outcome.followup,
            deadline=outcome.deadline,
            receipt=receipt,
            printed=printed,
            print_message=print_message,
            preview_png=preview,
            preview_qr=qr_span,
        )

    def _saved_outcome(self, entry: OutboxEntry, item: ServiceItem, kind: str) -> _Outcome:
        """Saved in the outbox, not yet on the platform: local reference; a date only where the
        clock has started (an estimate), else what the catalogue promises."""
        deadline = offline_deadline(
            item.time_limit_days,
            counter=kind == "work_order",
            today=self._today(),
            calendar=self._calendar,
        )
        return _Outcome(
            status_text=STATUS_SAVED_OFFLINE,
            reference=entry.local_ref,
            deadline=deadline,
            check_code="",
            queue="",
            message=SAVED_WORK_ORDER_MESSAGE if kind == "work_order" else SAVED_MESSAGE,
            followup={},
        )

    def _remember_phone(self, phone: str) -> None:
        session = self._session.current
        if session is not None:
            session.identity.remember_phone(phone)

    def _receipt(self, item: ServiceItem, outcome: _Outcome, person: Person) -> Receipt:
        deadline = outcome.deadline
        due = deadline.due if deadline is not None else None
        agent = self._session.agent
        qr_payload, qr_caption = self._receipt_code(outcome.reference, outcome.check_code)
        lines = [ReceiptLine("办理渠道", "自助服务终端")]
        if not item.kiosk_runs:
            lines.append(ReceiptLine("请携带", materials_text(item)))
            if self._counter_hours:
                lines.append(ReceiptLine("柜台时间", self._counter_hours))
        if outcome.message:
            lines.append(ReceiptLine("说明", outcome.message))
        return Receipt(
            service_point=self._service_point,
            item_no=str(item.no),
            item_name=item.name,
            reference=outcome.reference,
            submitted_at=self._now().replace(microsecond=0),
            status_text=outcome.status_text,
            person=person.masked,
            agent=agent.masked if agent is not None else "",
            due_date=due.date if due is not None else None,
            due_estimated=bool(due and due.estimated),
            deadline_text=deadline.label_zh() if deadline is not None else "",
            lines=tuple(lines),
            qr_payload=qr_payload,
            qr_caption=qr_caption,
            queue_number=outcome.queue,
            footer="可在本机“我的办件”查询办理进度",
        )

    def _print(self, receipt: Receipt) -> tuple[bool, str]:
        """Print *receipt*: (printed, what to tell the resident)."""
        if self._printing is None:
            return False, NO_PRINTER_MESSAGE
        try:
            outcome = self._printing.print_receipt(receipt)
        except Exception:  # the receipt data is safe in the outbox; never lose the result
            log.exception("printing failed", extra={"event": "flows_print_error"})
            return False, NO_PRINTER_MESSAGE
        if outcome.printed:
            return True, PRINTED_MESSAGE
        return False, outcome.message or NO_PRINTER_MESSAGE

    def _preview(self, receipt: Receipt) -> tuple[bytes | None, tuple[int, int] | None]:
        """The receipt's picture from the printer's own renderer (the confirmation screen
        always shows it, printed or not) and where its QR code lies in it."""
        if self._printing is None:
            return None, None
        try:
            picture = self._printing.preview(receipt)
        except Exception:  # a picture that cannot be drawn must not cost the result
            log.exception("receipt preview failed", extra={"event": "flows_preview_error"})
            return None, None
        return picture.png(), (picture.qr_spans[0] if picture.qr_spans else None)

    def resolve(self, reference: str | None) -> str | None:
        """The platform number an outbox reference was delivered as (else *reference*)."""
        if not reference:
            return reference
        entry = self._outbox.entry(reference)
        if entry is not None and entry.delivered and entry.reference_no:
            return entry.reference_no
        return reference

    def pending_rows(self, person: Person) -> list[ApplicationRow]:
        """*person*'s submissions still waiting in this kiosk's outbox (待联网提交)."""
        rows = []
        for entry in self._outbox.entries(status="pending", limit=100):
            try:
                payload = self._outbox.payload(entry.local_ref)
            except Exception:  # an unreadable entry is maintenance's business, not this list's
                continue
            if payload.get("id_number") != person.id_number:
                continue
            no = submission_item_no(
                entry.path, payload, self._definitions.items.values(), API_PREFIX
            )
            name = self._catalogue.item(no).name if no else "办件"
            created = self._clock.from_timestamp(entry.created_at)
            rows.append(
                ApplicationRow(
                    reference=entry.local_ref,
                    item_no=no,
                    item_name=name,
                    status_text=STATUS_SAVED_OFFLINE,
                    submitted=f"{created:%Y-%m-%d %H:%M}",
                    due_text="",
                    queue_number="",
                    result="",
                    pending_upload=True,
                )
            )
        return rows


@dataclass(frozen=True)
class _Outcome:
    """What a receipt says about a submission that was taken (delivered or saved)."""

    status_text: str
    reference: str
    deadline: Deadline | None
    check_code: str  # the platform's, for the progress URL ("" while saved offline)
    queue: str
    message: str
    followup: dict[str, Any]


def _code(value: Any) -> str:
    """A check code as the platform sent it; "" for anything that is not one."""
    return value if isinstance(value, str) and value.isalnum() and len(value) <= 64 else ""


def _delivered_outcome(
    entry: OutboxEntry,
    answer: dict[str, Any] | BackendRejected | None,
    receipt_key: str,
    followup_keys: tuple[tuple[str, str], ...],
    item: ServiceItem,
) -> _Outcome:
    """The platform's receipt (number, 办结时限, check code, queue number) from its answer."""
    if not isinstance(answer, dict):  # delivered, but the answer was not kept here
        answer = {"number": entry.reference_no, "due_date": entry.due_date}
    receipt = answer.get(receipt_key, answer) if receipt_key else answer
    receipt = receipt if isinstance(receipt, dict) else {}
    return _Outcome(
        status_text=STATUS_ACCEPTED,
        reference=str(receipt.get("number") or entry.reference_no or entry.local_ref),
        deadline=deadline_of(receipt, item.time_limit_days),
        check_code=_code(receipt.get("check_code")),
        queue=str(receipt.get("queue_no") or ""),
        message=str(receipt.get("message") or ""),
        followup={name: answer.get(key) for key, name in followup_keys if key in answer},
    )


__all__ = ["Submissions"]
