"""问题反映 from residents and operators, and the kiosk's view of its 问题台账 for maintenance.

- :meth:`ProblemReports.submit_resident`: a resident picked a category, one of its common
  problems (:data:`kiosk.domain.problems.COMMON_PROBLEMS`) and maybe a phone number.
- :meth:`ProblemReports.submit_operator`: the operators' full form in maintenance mode
  (category incl. 设备故障, description, suggested solution, optional phone).

Both are validated first (``kiosk.domain.validation.FieldInvalid``: field + Chinese message)
and then committed to the outbox (kind ``problem_report``), so a report made offline is kept,
encrypted, and delivered when the platform is back; the caller may wait a few seconds to show
the ticket number at once.

:meth:`ProblemReports.tickets` lists the kiosk's tickets with the answers (result, 反馈时限),
who holds them and the overdue flags, as the platform computes them; :meth:`unsent` lists
fault tickets and reports still waiting in the outbox. Both block (network / disk): call them
from a worker thread, never the UI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.domain.problems import ProblemReport, operator_report, resident_report
from kiosk.services.api_models import parse
from kiosk.services.fault_reporter import PATH_LEDGER_TICKETS, SUBMISSION_KIND
from kiosk.services.outbox import OutboxEntry, OutboxStatus, SubmissionKind

REPORT_KIND = SubmissionKind.PROBLEM_REPORT.value
LEDGER_KINDS = frozenset({REPORT_KIND, SUBMISSION_KIND})


@dataclass(frozen=True)
class TicketHolder:
    level: str
    level_label: str
    account: str  # "" when that level has no responder configured yet
    name: str
    role: str


@dataclass(frozen=True)
class TicketAnswer:
    result: str
    feedback_deadline: dt.date | None
    answered_at: dt.datetime | None
    answered_by: str


@dataclass(frozen=True)
class LedgerTicket:
    """One ticket as maintenance mode shows it (the phone, if any, arrives masked)."""

    id: int
    number: str
    kind: str
    category: str
    category_label: str
    fault_key: str
    description: str
    suggestion: str
    reporter: str
    state: str
    state_label: str
    holder: TicketHolder
    assigned_on: dt.date
    answer_due: dt.date
    answer: TicketAnswer | None
    overdue: bool
    answer_overdue: bool
    feedback_overdue: bool
    created_at: dt.datetime
    closed_at: dt.datetime | None
    resolution: str
    item_no: int | None = None
    business_line_label: str = ""  # 就业 / 社保 / 社保卡: whose designated staff answers


@dataclass(frozen=True)
class _TicketList:
    items: list[LedgerTicket]
    today: dt.date


class ProblemReports:
    """Report problems through *outbox*; read the ledger through *client* (a callable giving a
    :class:`kiosk.services.backend_client.BackendClient`, e.g. ``BackendRuntime.client``)."""

    def __init__(self, outbox, client: Callable[[], object] | None = None) -> None:
        self._outbox = outbox
        self._client = client

    def submit_resident(
        self,
        category: str,
        problem_code: str,
        phone: str | None = None,
        *,
        item_no: int | None = None,
        wait_seconds: float = 0.0,
    ) -> OutboxEntry:
        """Validate and save a resident's report (*item_no*: the item it is about, so the
        county's designated staff of that business line answer it). Raises ``FieldInvalid``."""
        report = resident_report(category, problem_code, phone, item_no)
        return self._submit(report, wait_seconds)

    def submit_operator(
        self,
        category: str,
        description: str,
        suggestion: str = "",
        phone: str | None = None,
        problem_code: str = "",
        *,
        wait_seconds: float = 0.0,
    ) -> OutboxEntry:
        """Validate and save an operator's report. Raises ``FieldInvalid``."""
        report = operator_report(category, description, suggestion, phone, problem_code)
        return self._submit(report, wait_seconds)

    def _submit(self, report: ProblemReport, wait_seconds: float) -> OutboxEntry:
        payload = report_payload(report, uuid.uuid4().hex)
        if wait_seconds > 0:
            return self._outbox.submit_and_wait(
                REPORT_KIND, PATH_LEDGER_TICKETS, payload, timeout=wait_seconds
            )
        return self._outbox.submit(REPORT_KIND, PATH_LEDGER_TICKETS, payload)

    # -- maintenance ----------------------------------------------------------------------------

    def tickets(self, state: str = "all") -> list[LedgerTicket]:
        """This kiosk's tickets, newest first, with answers and overdue flags.

        *state*: "open", "closed" or "all". Raises ``kiosk.services.errors.BackendError``
        (offline: show :meth:`unsent` and say the list needs the network).
        """
        if state not in ("open", "closed", "all"):
            raise ValueError(f"unknown state filter {state!r}")
        if self._client is None:
            raise RuntimeError("no platform client configured")
        answer = self._client().get("/ledger/tickets", params={"state": state})
        return parse(_TicketList, answer).items

    def unsent(self) -> list[OutboxEntry]:
        """Fault tickets and reports not yet accepted by the platform (pending or refused)."""
        waiting = self._outbox.entries(OutboxStatus.PENDING) + self._outbox.entries(
            OutboxStatus.FAILED
        )
        return [e for e in waiting if e.kind in LEDGER_KINDS]


def report_payload(report: ProblemReport, client_ref: str) -> dict[str, object]:
    """The body of POST /api/v1/ledger/tickets for a problem report."""
    payload: dict[str, object] = {
        "client_ref": client_ref,
        "kind": "problem_report",
        "category": report.category.value,
        "reporter": report.reporter,
        "problem_code": report.problem_code,
        "description": report.description,
        "suggestion": report.suggestion,
    }
    if report.phone:
        payload["contact_phone"] = report.phone
    if report.item_no is not None:
        payload["item_no"] = report.item_no
    return payload
