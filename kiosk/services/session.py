"""The resident session: who is at the kiosk now, and the one place that ends it.

A session starts when a resident begins (browsing, or identifying — the resident-flows work adds
identity) and ends on idle timeout, the resident's "首页"/"退出", card removal or the end of a
transaction. Ending calls every ``on_end`` listener so that screens and services wipe what the
session showed; a listener that fails is logged and the others still run, because a wipe must
never be skipped. Call from one thread (the UI thread in the app); not thread-safe.
Logs carry the session's ordinal and the reason only, never personal data.

Identity (resident flows): :meth:`SessionManager.identify` puts the resident's
:class:`~kiosk.domain.person.Person` (and :meth:`SessionManager.set_agent` a 代办 helper's) into
the open session's :class:`SessionIdentity`; it is the only place the kiosk keeps who is there.
Ending a session runs the listeners and then wipes that holder, so nothing that kept the
:class:`Session` can still reach the person. A different resident identifying while a session
is open ends the old session first (``NEW_RESIDENT``). :meth:`SessionManager.card_removed`
ends the session when the card that was taken out is the resident's (an agent's card may be
removed to insert the resident's). The holder is lock-protected so a worker thread may read
the resident; the manager's other methods belong to the UI thread as said above.

The holder also keeps the platform's identity token of the session (:attr:`SessionIdentity.grant`,
an :class:`~kiosk.domain.person.IdentityProof` with the token): installed with the person who
brought it, replaced by a worker that had to ask for a new one, dropped by the wipe. A holder
that was wiped refuses a late grant (:meth:`SessionIdentity.set_grant` returns False), so the
caller revokes it instead of leaving a live token behind (:mod:`kiosk.services.identity_tokens`
revokes the session's token when it ends).
"""

from __future__ import annotations

import enum
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.domain.person import IdentityProof, IdentitySource, Person
from kiosk.logsetup import failure_summary

log = logging.getLogger(__name__)


class EndReason(enum.Enum):
    """Why a session ended (logged, and shown to listeners)."""

    IDLE_TIMEOUT = "idle_timeout"
    RESIDENT_HOME = "resident_home"
    RESIDENT_EXIT = "resident_exit"
    CARD_REMOVED = "card_removed"
    TRANSACTION_DONE = "transaction_done"
    SHUTDOWN = "shutdown"
    UI_ERROR = "ui_error"  # a screen raised; the app wipes and starts over rather than crash
    NEW_RESIDENT = "new_resident"  # another resident identified while a session was open
    LOGOUT = "resident_exit"  # alias of RESIDENT_EXIT: the resident's 退出


class SessionIdentity:
    """Who the open session is for: the resident and an optional agent (代办人).

    Thread-safe. :meth:`wipe` drops both references; the manager calls it when the session
    ends. ``repr`` shows masked values only.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._resident: Person | None = None
        self._agent: Person | None = None
        self._card_role = ""  # "resident" / "agent": whose social security card is inserted
        self._grant: IdentityProof | None = None
        self._wiped = False

    @property
    def resident(self) -> Person | None:
        with self._lock:
            return self._resident

    @property
    def agent(self) -> Person | None:
        with self._lock:
            return self._agent

    @property
    def card_role(self) -> str:
        with self._lock:
            return self._card_role

    @property
    def grant(self) -> IdentityProof | None:
        """The platform identity token this session holds (None: none yet, or wiped)."""
        with self._lock:
            return self._grant

    def set_grant(self, grant: IdentityProof) -> bool:
        """Hold *grant* from now on; False (nothing kept) once the session was wiped."""
        with self._lock:
            if self._wiped:
                return False
            self._grant = grant
            return True

    def set_resident(self, person: Person) -> None:
        with self._lock:
            self._resident = person
            self._take_grant(person)
            if person.source is IdentitySource.SSCARD:
                self._card_role = "resident"

    def set_agent(self, person: Person | None) -> None:
        with self._lock:
            self._agent = person
            if person is not None:
                self._take_grant(person)
            if person is not None and person.source is IdentitySource.SSCARD:
                self._card_role = "agent"
            elif person is None and self._card_role == "agent":
                self._card_role = ""

    def card_taken_out(self) -> str:
        """Forget the inserted card; return whose it was ("" if none of theirs)."""
        with self._lock:
            role, self._card_role = self._card_role, ""
            return role

    def remember_phone(self, phone: str) -> None:
        """Keep the phone the resident typed, so later forms of this session do not ask again."""
        with self._lock:
            if self._resident is not None and phone:
                self._resident = self._resident.with_phone(phone)

    def _take_grant(self, person: Person) -> None:
        # The newest identification's token is the session's: it joined the session's
        # platform identity session when it could, so it covers at least as much.
        if person.proof is not None and person.proof.token:
            self._grant = person.proof

    def wipe(self) -> None:
        with self._lock:
            self._resident = None
            self._agent = None
            self._card_role = ""
            self._grant = None
            self._wiped = True

    def __repr__(self) -> str:
        return f"SessionIdentity(resident={self._resident!r}, agent={self._agent!r})"


@dataclass(frozen=True)
class Session:
    """One resident session; ``ordinal`` counts sessions since start-up (no personal data)."""

    ordinal: int
    started_at: float
    identity: SessionIdentity = field(default_factory=SessionIdentity, compare=False, repr=False)


@dataclass(frozen=True)
class ResidentIdentified:
    """Published when a resident (or agent) identified: the source only, no personal data."""

    ordinal: int
    source: str
    as_agent: bool = False


@dataclass(frozen=True)
class SessionEnded:
    """Published on the event bus (when one is given) after every listener has run."""

    ordinal: int
    reason: EndReason


EndListener = Callable[[Session, EndReason], None]


class SessionManager:
    """Starts and ends resident sessions; see the module docstring.

    *clock* gives seconds (monotonic) for ``Session.started_at``; *publish* (e.g.
    ``EventBus.publish``) receives a :class:`SessionEnded` after each end.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        publish: Callable[[object], None] | None = None,
    ) -> None:
        self._clock = clock
        self._publish = publish
        self._ordinals = itertools.count(1)
        self._current: Session | None = None
        self._listeners: list[EndListener] = []

    @property
    def current(self) -> Session | None:
        """The open session, or None between residents."""
        return self._current

    def on_end(self, listener: EndListener) -> Callable[[], None]:
        """Call *listener(session, reason)* whenever a session ends; returns an unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def ensure_started(self) -> Session:
        """Return the open session, starting one if there is none."""
        if self._current is None:
            self._current = Session(next(self._ordinals), self._clock())
            log.info(
                "session started", extra={"event": "session_start", "count": self._current.ordinal}
            )
        return self._current

    def end(self, reason: EndReason) -> bool:
        """End the open session and run the wipe listeners; False if none was open.

        Listeners run in registration order even if one raises (the error is logged).
        """
        session = self._current
        if session is None:
            return False
        self._current = None
        try:
            for listener in list(self._listeners):
                try:
                    listener(session, reason)
                except Exception as exc:  # its message may quote what was being wiped
                    log.error(
                        "session end listener failed: %s",
                        failure_summary(exc),
                        extra={"event": "session_end"},
                    )
        finally:
            session.identity.wipe()
        log.info(
            "session ended",
            extra={"event": "session_end", "state": reason.value, "count": session.ordinal},
        )
        if self._publish is not None:
            self._publish(SessionEnded(session.ordinal, reason))
        return True

    # -- identity (resident flows) ----------------------------------------------------------

    @property
    def resident(self) -> Person | None:
        """The identified resident of the open session, or None (any thread)."""
        session = self._current
        return session.identity.resident if session is not None else None

    @property
    def agent(self) -> Person | None:
        """The 代办 agent acting for the resident, or None (any thread)."""
        session = self._current
        return session.identity.agent if session is not None else None

    def identify(self, person: Person) -> Session:
        """Make *person* the session's resident, starting a session if none is open.

        If another resident is already identified, that session ends first (``NEW_RESIDENT``)
        and a fresh one starts, so one person's data never shows in another's session. If
        *person* is the agent already recorded, the agent is cleared (they identified as
        themselves after all).
        """
        session = self._current
        if session is not None:
            current = session.identity.resident
            if current is not None and not current.same_person(person):
                self.end(EndReason.NEW_RESIDENT)
        session = self.ensure_started()
        if person.same_person(session.identity.agent):
            session.identity.set_agent(None)
        session.identity.set_resident(person)
        self._announce(session, person, as_agent=False)
        return session

    def set_agent(self, person: Person | None) -> Session:
        """Record *person* as the 代办 agent of the session (None clears it).

        Raises ValueError if the agent is the resident themself.
        """
        session = self.ensure_started()
        if person is not None and person.same_person(session.identity.resident):
            raise ValueError("代办人不能是办事人本人")
        session.identity.set_agent(person)
        if person is not None:
            self._announce(session, person, as_agent=True)
        return session

    def card_removed(self) -> bool:
        """A social security card left the reader: end the session if it was the resident's.

        Returns True when the session ended. An agent's card being taken out only forgets that
        the card is inserted (the agent stays recorded).
        """
        session = self._current
        if session is None:
            return False
        if session.identity.card_taken_out() == "resident":
            return self.end(EndReason.CARD_REMOVED)
        return False

    def _announce(self, session: Session, person: Person, *, as_agent: bool) -> None:
        log.info(
            "resident identified",
            extra={
                "event": "session_identify",
                "state": person.source.value,
                "count": session.ordinal,
            },
        )
        if self._publish is not None:
            self._publish(ResidentIdentified(session.ordinal, person.source.value, as_agent))
