"""Turn a stream of device health observations into at most one open ticket per fault.

A fault is identified by a stable key such as ``printer.paper_end`` or ``idcard.offline``. The
tracker opens a ticket only after ``threshold`` consecutive failing observations (or, for faults
judged by time, once the fault has lasted ``min_duration`` seconds), never opens a second one while
the first is open, and closes it on the first healthy observation after that. It is pure: the
caller feeds observations with their time and carries out the returned decisions (through the
outbox), then reports them back with :meth:`FaultTracker.confirm_open` /
:meth:`FaultTracker.confirm_closed`. Until confirmed, a decision is not repeated.

State survives restarts through :meth:`snapshot` / :meth:`restore`, so a kiosk rebooted while the
printer is still out of paper does not open a second ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OpenTicket:
    fault_key: str
    detail: str
    since: float


@dataclass(frozen=True)
class CloseTicket:
    fault_key: str
    ticket_ref: str


Decision = OpenTicket | CloseTicket


@dataclass
class _FaultState:
    consecutive_failures: int = 0
    failing_since: float | None = None
    pending_open: bool = False
    ticket_ref: str | None = None  # set once the open ticket is confirmed
    pending_close: bool = False
    last_detail: str = ""


@dataclass(frozen=True)
class FaultRule:
    """When a failing fault becomes a ticket: after N failures in a row and/or after S seconds."""

    threshold: int = 3
    min_duration: float = 0.0


@dataclass
class FaultTracker:
    default_rule: FaultRule = field(default_factory=FaultRule)
    rules: dict[str, FaultRule] = field(default_factory=dict)
    _states: dict[str, _FaultState] = field(default_factory=dict)

    def rule_for(self, fault_key: str) -> FaultRule:
        if fault_key in self.rules:
            return self.rules[fault_key]
        prefix = fault_key.split(".", 1)[0]
        return self.rules.get(prefix, self.default_rule)

    def observe(
        self, fault_key: str, failing: bool, now: float, detail: str = ""
    ) -> Decision | None:
        """Record one observation; return what to do now, if anything."""
        state = self._states.setdefault(fault_key, _FaultState())
        if failing:
            state.consecutive_failures += 1
            if state.failing_since is None:
                state.failing_since = now
            state.last_detail = detail or state.last_detail
            if state.ticket_ref is not None or state.pending_open:
                return None
            rule = self.rule_for(fault_key)
            lasted = now - state.failing_since
            if state.consecutive_failures >= rule.threshold and lasted >= rule.min_duration:
                state.pending_open = True
                return OpenTicket(fault_key, state.last_detail, state.failing_since)
            return None
        state.consecutive_failures = 0
        state.failing_since = None
        if state.pending_open and state.ticket_ref is None:
            # Recovered before the open was confirmed: the caller still owns that request and
            # will confirm it; the next healthy observation then closes it.
            return None
        if state.ticket_ref is not None and not state.pending_close:
            state.pending_close = True
            return CloseTicket(fault_key, state.ticket_ref)
        return None

    def confirm_open(self, fault_key: str, ticket_ref: str) -> None:
        state = self._states.setdefault(fault_key, _FaultState())
        state.pending_open = False
        state.ticket_ref = ticket_ref

    def abandon_open(self, fault_key: str) -> None:
        """The open request could not be stored: allow the next failure to try again."""
        state = self._states.setdefault(fault_key, _FaultState())
        state.pending_open = False

    def abandon_close(self, fault_key: str) -> None:
        """The close request could not be stored: the next healthy observation tries again."""
        state = self._states.get(fault_key)
        if state is not None:
            state.pending_close = False

    def confirm_closed(self, fault_key: str) -> None:
        self._states.pop(fault_key, None)

    def open_faults(self) -> dict[str, str]:
        """fault_key → ticket reference of every ticket this kiosk holds open."""
        return {k: s.ticket_ref for k, s in self._states.items() if s.ticket_ref is not None}

    def snapshot(self) -> dict[str, str]:
        return self.open_faults()

    def restore(self, open_faults: dict[str, str]) -> None:
        for fault_key, ticket_ref in open_faults.items():
            self._states[fault_key] = _FaultState(ticket_ref=ticket_ref)
