"""The kiosk's side of identity sessions: get the token at identification, send it with every
personal call, revoke it when the resident's session ends.

- Identification (:meth:`IdentityTokens.identify_card`, :meth:`IdentityTokens.verify_essc`)
  costs one round trip: the platform checks (e-SSC) or records (a card the kiosk read and
  checked) the evidence and answers with a token; the :class:`~kiosk.domain.person.Person`
  comes back carrying it (``person.proof``), and the session holds it once the UI installs the
  person. A second person of the same kiosk session — the 代办 agent, or the principal after
  the agent — joins the open platform session, so one token covers both.
- A card read while the platform is unreachable still identifies the resident; the token is
  asked for at the first personal call (:meth:`IdentityTokens.token`), by presenting the card
  claims again. A token the platform no longer accepts (403 ``identity_required``: expired)
  is renewed the same way, once; an e-SSC identification cannot be presented again, so then
  :class:`IdentityExpired` asks the resident to identify anew.
- Submissions carry :meth:`IdentityTokens.envelope` in their (encrypted) outbox payload, so the
  outbox can deliver after the session ended (see :mod:`kiosk.services.backend_client`).
- When a session ends (card out, 退出, idle, done) its token is revoked on a background thread
  (the UI thread never waits for the network); offline, it expires by itself within 15 min.

Threads: identification, :meth:`token`, :meth:`query` and :meth:`envelope` block on the
network — worker threads only. The session-end listener runs on the UI thread and returns at
once. Logs carry outcomes and evidence kinds, never a person, a token or a session reference.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kiosk.domain.person import (
    Evidence,
    IdentityError,
    IdentityProof,
    IdentitySource,
    Person,
    person_from_essc,
)
from kiosk.services.backend_client import IDENTITY_ENVELOPE_KEY, is_identity_required
from kiosk.services.errors import BackendError, BackendRejected, BackendUnavailable
from kiosk.services.flow_errors import FlowError, IdentityRequired
from kiosk.services.session import EndReason, Session, SessionManager

if TYPE_CHECKING:
    from kiosk.services.backend_client import BackendClient

log = logging.getLogger(__name__)

ROLE_RESIDENT = "resident"
ROLE_AGENT = "agent"
_EVIDENCE_OF_SOURCE = {
    IdentitySource.SSCARD: Evidence.SSCARD_PSAM,
    IdentitySource.IDCARD: Evidence.IDCARD_SAM,
    IdentitySource.ESSC: Evidence.ESSC,
}


class IdentityExpired(FlowError):
    """The platform no longer accepts this session's identity and it cannot be renewed here
    (an e-SSC code verifies once): the resident identifies again."""

    def __init__(self) -> None:
        super().__init__("身份确认已过期，请点“退出”后重新刷卡、放置身份证或扫码")


def evidence_of(person: Person) -> Evidence:
    """The evidence kind of *person*'s identification (by source when no proof was kept)."""
    if person.proof is not None:
        return person.proof.evidence
    return _EVIDENCE_OF_SOURCE[person.source]


def sscard_evidence(event: Any) -> Evidence:
    """The evidence a social security card read gives, as the card reader reports it.

    The reader's authenticator says how the card was checked: ``authentication`` on the read
    event or on its card, whose ``evidence`` is ``"sscard_psam"`` when the PSAM verified the
    card and ``""`` otherwise (a plain ``"psam"`` / ``"none"`` string is read the same way).
    A reader that reports nothing is taken to have authenticated the card with its PSAM: the
    kiosk's claim, which the platform records.
    """
    report = getattr(event, "authentication", None)
    if report is None:
        report = getattr(getattr(event, "card", None), "authentication", None)
    if report is None:
        return Evidence.SSCARD_PSAM
    verified = getattr(report, "evidence", report)
    if verified in (Evidence.SSCARD_PSAM.value, "psam"):
        return Evidence.SSCARD_PSAM
    return Evidence.SSCARD_UNAUTHENTICATED


class IdentityTokens:
    """See the module docstring. Registers its session-end listener on *session*."""

    def __init__(
        self,
        client: BackendClient,
        session: SessionManager,
        *,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._client = client
        self._session = session
        self._now = now
        self._lock = threading.Lock()
        self._revoking: list[threading.Thread] = []
        session.on_end(self._session_ended)

    # -- identification (worker threads) --------------------------------------------------------

    def identify_card(self, person: Person, evidence: Evidence, *, as_agent: bool) -> Person:
        """*person* read from a card, with the platform's token when it can be reached.

        Raises IdentityError with the platform's Chinese message when it refuses the
        evidence or the kiosk is over its person limit; offline, returns the person without a
        token (asked for at the first personal call)."""
        proof = IdentityProof(evidence, self._now())
        person = person.with_proof(proof)
        role = ROLE_AGENT if as_agent else ROLE_RESIDENT
        joined = self._joinable(person.id_number, as_agent)

        def present(join: IdentityProof | None):
            return self._client.open_identity(
                evidence.value,
                person.id_number,
                role=role,
                identity_token=join.token if join else None,
            )

        try:
            grant, joined = self._joining(present, joined)
        except BackendUnavailable:
            log.info("identity token deferred: offline", extra={"event": "identity_offline"})
            return person
        except BackendRejected as exc:
            raise _refusal(exc) from None
        covers = (joined.covers if joined else frozenset()) | {person.id_number}
        return person.with_proof(proof.granted(grant.token, grant.session_ref, covers))

    def verify_essc(self, qr: str, *, as_agent: bool, today: dt.date | None = None) -> Person:
        """The resident (or agent) an e-SSC code names, with its token (the platform verifies
        the code and opens or joins the identity session in one round trip).

        Raises IdentityError (code not recognised, expired, used, refused) or BackendError."""
        role = ROLE_AGENT if as_agent else ROLE_RESIDENT
        observed = self._now()

        def present(join: IdentityProof | None):
            return self._client.verify_essc(
                qr, role=role, identity_token=join.token if join else None
            )

        try:
            answer, joined = self._joining(present, self._joinable_any(as_agent))
        except BackendRejected as exc:
            if exc.status in (404, 422):
                raise IdentityError("qr_not_recognised", exc.message) from None
            raise _refusal(exc) from None
        person = person_from_essc(
            {
                "id_number": answer.id_number,
                "name": answer.name,
                "gender": answer.gender,
            },
            today=today,
        )
        covers = (joined.covers if joined else frozenset()) | {person.id_number}
        grant = answer.identity
        proof = IdentityProof(Evidence.ESSC, observed).granted(
            grant.token, grant.session_ref, covers
        )
        return person.with_proof(proof)

    def _joining(self, present, joined: IdentityProof | None):
        """Present with the session's token to join it; if the platform no longer knows that
        token, present alone (a fresh platform session). Returns (answer, what was joined)."""
        try:
            return present(joined), joined
        except BackendRejected as exc:
            if joined is None or not is_identity_required(exc):
                raise
        return present(None), None

    def _joinable(self, id_number: str, as_agent: bool) -> IdentityProof | None:
        """The open session's token when this identification belongs to it (the agent, the
        principal after the agent, or the same resident again); None for someone new."""
        session = self._session.current
        if session is None:
            return None
        grant = session.identity.grant
        resident = session.identity.resident
        if grant is None:
            return None
        if as_agent or resident is None or resident.id_number == id_number:
            return grant
        return None

    def _joinable_any(self, as_agent: bool) -> IdentityProof | None:
        # Before verifying an e-SSC code the kiosk does not know whose it is: join only where
        # anyone identifying belongs to the open session (an agent, or the principal after one).
        session = self._session.current
        if session is None or session.identity.grant is None:
            return None
        if as_agent or session.identity.resident is None:
            return session.identity.grant
        return None

    # -- personal calls (worker threads) ---------------------------------------------------------

    def token(self, item_no: int = 0) -> str:
        """The session's token, covering the resident and the agent; asked for once if the
        session has none that does (identified offline, or an agent joined later).

        Raises IdentityRequired (nobody identified), IdentityExpired, IdentityError (refused),
        BackendError (offline)."""
        session = self._session.current
        resident = session.identity.resident if session is not None else None
        if session is None or resident is None:
            raise IdentityRequired(item_no)
        grant = session.identity.grant
        members = _members(session)
        if grant is not None and all(p.id_number in grant.covers for p, _role in members):
            return grant.token
        return self._renew(session, item_no)

    def query(self, path: str, body: Mapping[str, Any], *, item_no: int = 0) -> Any:
        """A personal lookup with the session's token; renewed once if the platform refuses it."""
        token = self.token(item_no)
        try:
            return self._client.post_query(path, body, identity_token=token)
        except BackendRejected as exc:
            if not is_identity_required(exc):
                raise
        session = self._session.current
        if session is None or session.identity.resident is None:
            raise IdentityRequired(item_no)
        token = self._renew(session, item_no, grant_alive=False)
        return self._client.post_query(path, body, identity_token=token)

    def envelope(self, item_no: int = 0) -> dict[str, Any]:
        """The proof a submission carries in its outbox payload: the session's token (asked
        for now if needed and possible), its session reference and the card claims that can
        be presented again. Offline, the claims alone."""
        session = self._session.current
        if session is None or session.identity.resident is None:
            raise IdentityRequired(item_no)
        with contextlib.suppress(BackendUnavailable, IdentityExpired):
            self.token(item_no)  # else the outbox asks later: by session reference or claims
        grant = session.identity.grant
        claims = [
            {
                "evidence": evidence_of(person).value,
                "id_number": person.id_number,
                "role": role,
                "observed_at": _observed(person, self._now()).isoformat(),
            }
            for person, role in _members(session)
            if evidence_of(person).is_card
        ]
        return {
            "token": grant.token if grant else "",
            "session_ref": grant.session_ref if grant else "",
            "claims": claims,
        }

    def _renew(self, session: Session, item_no: int, *, grant_alive: bool = True) -> str:
        """A token covering every member: the uncovered card claims join the session's live
        token, else every member's card claim opens a new platform session (once)."""
        members = _members(session)
        grant = session.identity.grant if grant_alive else None
        token, ref = (grant.token, grant.session_ref) if grant else ("", "")
        covers = grant.covers if grant else frozenset()
        missing = [(p, role) for p, role in members if p.id_number not in covers]
        if grant is not None:
            try:
                token, ref, covers = self._present(missing, token, ref, covers)
            except BackendRejected as exc:
                if not is_identity_required(exc):
                    raise _refusal(exc) from None
                grant, missing = None, members
        if grant is None:
            try:
                token, ref, covers = self._present(members, "", "", frozenset())
            except BackendRejected as exc:
                raise _refusal(exc) from None
        first = members[0][0]
        proof = IdentityProof(evidence_of(first), _observed(first, self._now()))
        if not session.identity.set_grant(proof.granted(token, ref, covers)):
            self._revoke_later(token)  # the session ended meanwhile
            raise IdentityRequired(item_no)
        log.info("identity token renewed", extra={"event": "identity_renew"})
        return token

    def _present(
        self, members: list[tuple[Person, str]], token: str, ref: str, covers: frozenset[str]
    ) -> tuple[str, str, frozenset[str]]:
        """Present the card claims of *members*, joining *token* when given."""
        if not all(evidence_of(person).is_card for person, _role in members):
            raise IdentityExpired()
        for person, role in members:
            grant = self._client.open_identity(
                evidence_of(person).value,
                person.id_number,
                role=role,
                identity_token=token or None,
            )
            token, ref = grant.token, grant.session_ref
            covers = covers | {person.id_number}
        return token, ref, covers

    # -- the end of a session --------------------------------------------------------------------

    def _session_ended(self, session: Session, _reason: EndReason) -> None:
        grant = session.identity.grant
        if grant is not None and grant.token:
            self._revoke_later(grant.token)

    def _revoke_later(self, token: str) -> None:
        thread = threading.Thread(
            target=self._revoke, args=(token,), name="identity-revoke", daemon=True
        )
        with self._lock:
            self._revoking = [t for t in self._revoking if t.is_alive()]
            self._revoking.append(thread)
        thread.start()

    def _revoke(self, token: str) -> None:
        try:
            self._client.revoke_identity(token)
        except BackendError as exc:  # it expires by itself within the token lifetime
            log.info(
                "identity token not revoked",
                extra={"event": "identity_revoke", "state": exc.code or type(exc).__name__},
            )
            return
        log.info("identity token revoked", extra={"event": "identity_revoke", "state": "ok"})

    def wait_revoked(self, timeout: float = 10.0) -> bool:
        """Wait for the revocations under way (tests, shut-down); True if all finished."""
        with self._lock:
            threads = list(self._revoking)
        for thread in threads:
            thread.join(timeout)
        return not any(t.is_alive() for t in threads)


def _members(session: Session) -> list[tuple[Person, str]]:
    resident, agent = session.identity.resident, session.identity.agent
    members = [(resident, ROLE_RESIDENT)] if resident is not None else []
    if agent is not None:
        members.append((agent, ROLE_AGENT))
    return members


def _observed(person: Person, now: dt.datetime) -> dt.datetime:
    return person.proof.observed_at if person.proof is not None else now


def _refusal(exc: BackendRejected) -> Exception:
    """The platform's refusal of an identification, for the 确认身份 screen."""
    if exc.status in (403, 429):
        return IdentityError(exc.code or "identity_refused", exc.message)
    return exc


__all__ = [
    "IDENTITY_ENVELOPE_KEY",
    "IdentityExpired",
    "IdentityTokens",
    "evidence_of",
    "sscard_evidence",
]
