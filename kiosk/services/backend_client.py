"""The kiosk's HTTP client for the platform API (``/api/v1``), signed per the backend contract.

- The caller passes a ``requests.Session``; the client mounts its own adapter on the base URL of
  that session (and nothing else) and never creates sessions itself.
- Every call has a (connect, read) timeout from config; TLS is verified unless config says
  otherwise (``ca_bundle`` names a private CA file).
- Every request carries X-Kiosk-Id/-Timestamp/-Nonce/-Signature; every POST an Idempotency-Key.
- Retries happen only for idempotent calls (GETs and read-only POST queries): a urllib3 ``Retry``
  on the mounted adapter retries connect-phase failures (the request never left the kiosk, so
  resending the identical signed bytes is safe), and the client itself retries 502/503/504 with a
  *freshly signed* request — resending the same bytes would be refused as a replayed nonce.
  Read timeouts are not retried (the resident would wait twice as long for a slow server).
  Submissions are never retried here: they go through the outbox, which has its own backoff.
- Errors come out as the tree in :mod:`kiosk.services.errors`; requests' own exceptions never
  escape. Methods block: call them from a worker thread, never the Kivy main thread.
- Identity: person-scoped calls carry ``X-Identity-Token`` (``identity_token=``). A submission
  made for a resident carries its proof in the outbox payload under
  :data:`IDENTITY_ENVELOPE_KEY` (``token``, ``session_ref``, card ``claims``): the client sends
  the token as the header, and when the platform answers 403 ``identity_required`` (the session
  ended before the outbox delivered) it asks once for a token that files only this submission
  — from the session reference, else by presenting the card claims again — and sends once more.

Typed methods return small frozen dataclasses, each next to its parser; a new endpoint is one
line over :meth:`get` / :meth:`post_query`.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3.util.retry import Retry

from kiosk.services import api_models as m
from kiosk.services import signing
from kiosk.services.errors import (
    OFFLINE_RECORDS_MESSAGE,
    BackendAuthError,
    BackendError,
    BackendProtocolError,
    BackendRejected,
    BackendServerError,
    BackendUnavailable,
)

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
RETRYABLE_STATUSES = frozenset({502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 5.0
# A Retry-After in seconds: ASCII digits only (str.isdigit also accepts "²", which float() refuses).
RETRY_AFTER_SECONDS_RE = re.compile(r"[0-9]{1,12}")
CLOCK_SKEW_RESYNC_SECONDS = 60.0


class _IdempotencyAwareAdapter(BaseAdapter):
    """Send idempotent requests through a retrying adapter and everything else through one
    that never retries. The client marks a PreparedRequest with ``kiosk_idempotent = True``."""

    def __init__(self, retrying: HTTPAdapter, single: HTTPAdapter) -> None:
        super().__init__()
        self.retrying = retrying
        self.single = single

    def send(self, request, **kwargs):
        adapter = self.retrying if getattr(request, "kiosk_idempotent", False) else self.single
        return adapter.send(request, **kwargs)

    def close(self) -> None:
        self.retrying.close()
        self.single.close()


class BackendClient:
    """Signed, time-bounded calls to the platform. Thread-safe as far as requests.Session is.

    *base_url* like ``https://platform.example/`` or ``http://127.0.0.1:8123`` (no /api/v1).
    *secret* is the raw HMAC key (see :func:`kiosk.services.signing.load_secret`).
    """

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        kiosk_id: str,
        secret: bytes,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        verify_tls: bool = True,
        ca_bundle: str = "",
        connect_retries: int = 2,
        status_retries: int = 2,
        retry_backoff_seconds: float = 0.3,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        if self._base.endswith(API_PREFIX):  # "https://host/api/v1" given for "https://host"
            self._base = self._base[: -len(API_PREFIX)]
        self._kiosk_id = kiosk_id
        self._secret = secret
        self._timeout = (connect_timeout, read_timeout)
        self._verify: bool | str = ca_bundle if ca_bundle else verify_tls
        self._status_retries = status_retries
        self._retry_backoff = retry_backoff_seconds
        self._clock = clock
        self._sleep = sleep
        self._clock_offset = 0.0
        retry = Retry(
            total=connect_retries,
            connect=connect_retries,
            read=False,  # re-raise read errors as they are: the request may have been handled
            status=0,
            other=0,
            redirect=0,
            backoff_factor=0.2,
            raise_on_status=False,
            raise_on_redirect=False,
        )
        self.adapter = _IdempotencyAwareAdapter(
            HTTPAdapter(max_retries=retry), HTTPAdapter(max_retries=Retry(0, read=False))
        )
        session.mount(self._base + "/", self.adapter)

    @classmethod
    def from_config(
        cls, session: requests.Session, section, base_url: str, kiosk_id: str, secret: bytes
    ) -> BackendClient:
        """Build from a config ``BackendSection`` (timeouts, TLS settings)."""
        return cls(
            session,
            base_url,
            kiosk_id,
            secret,
            connect_timeout=section.connect_timeout,
            read_timeout=section.read_timeout,
            verify_tls=section.verify_tls,
            ca_bundle=section.ca_bundle,
        )

    @property
    def base_url(self) -> str:
        return self._base

    def close(self) -> None:
        """Close the pooled connections of the underlying session (the client is done)."""
        self._session.close()

    # -- the generic core -----------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """Signed GET of *path* (relative to /api/v1 or absolute); retried; returns JSON."""
        return self._call("GET", path, params=params, idempotent=True)

    def post_query(
        self, path: str, body: Mapping[str, Any], *, identity_token: str | None = None
    ) -> Any:
        """A read-only POST (x-idempotent in the OpenAPI: person lookups, which need the
        resident's *identity_token*); retried."""
        return self._call("POST", path, body=body, idempotent=True, identity_token=identity_token)

    def post_submission(
        self, path: str, body: Mapping[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        """POST a submission once, with the outbox's Idempotency-Key; never retried here (but
        see the module docstring for the one resend after a late identity token).

        Returns the server's JSON object. Raises the errors of :mod:`kiosk.services.errors`.
        """
        body = dict(body)
        envelope = body.pop(IDENTITY_ENVELOPE_KEY, None)
        envelope = envelope if isinstance(envelope, dict) else None
        token = str(envelope.get("token") or "") if envelope else ""
        if envelope and not token:  # identified offline: no token was ever issued
            token = self._late_identity(envelope, idempotency_key)
        try:
            answer = self._submit_once(path, body, idempotency_key, token)
        except BackendRejected as exc:
            if not (envelope and token and is_identity_required(exc)):
                raise
            token = self._late_identity(envelope, idempotency_key)
            answer = self._submit_once(path, body, idempotency_key, token)
        if not isinstance(answer, dict):
            raise BackendProtocolError(code="not_an_object")
        return answer

    def _submit_once(self, path: str, body: dict, key: str, token: str) -> Any:
        return self._call(
            "POST",
            path,
            body=body,
            idempotency_key=key,
            idempotent=False,
            identity_token=token or None,
        )

    def _late_identity(self, envelope: Mapping[str, Any], submission_key: str) -> str:
        """A token that files only *submission_key*: from the session it was made in, else
        from the card claims recorded with it. Re-raises the platform's refusal."""
        session_ref = str(envelope.get("session_ref") or "")
        claims = [c for c in envelope.get("claims") or () if isinstance(c, dict)]
        refusal: BackendRejected | None = None
        if session_ref:
            try:
                return self.resume_identity(session_ref, submission_key).token
            except BackendRejected as exc:
                if not is_identity_required(exc) or not claims:
                    raise
                refusal = exc
        token = ""
        for claim in claims:
            token = self.open_identity(
                str(claim.get("evidence")),
                str(claim.get("id_number")),
                role=str(claim.get("role") or "resident"),
                observed_at=str(claim.get("observed_at") or "") or None,
                submission_key=submission_key,
                identity_token=token or None,
            ).token
        if not token:
            raise refusal or BackendRejected(
                IDENTITY_REQUIRED_MESSAGE, status=403, code="identity_required"
            )
        return token

    def post_command(
        self, path: str, body: Mapping[str, Any], *, identity_token: str | None = None
    ) -> Any:
        """A POST that is not a resident's submission and may be lost (heartbeat, sign-in):
        sent once, with a fresh Idempotency-Key, not retried."""
        return self._call("POST", path, body=body, idempotent=False, identity_token=identity_token)

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        idempotent: bool,
        identity_token: str | None = None,
    ) -> Any:
        url = self._url(path)
        data = b""
        headers = {"Accept": "application/json"}
        if identity_token:
            headers[IDENTITY_HEADER] = identity_token
        if body is not None:
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if method == "POST":
            headers[signing.HEADER_IDEMPOTENCY_KEY] = idempotency_key or str(uuid.uuid4())
        attempts = 1 + (self._status_retries if idempotent else 0)
        resynced = False
        attempt = 0
        while True:
            response = self._send_once(method, url, params, data, headers, idempotent)
            attempt += 1
            if response.status_code == 401 and not resynced and self._resync_clock(response):
                resynced = True
                continue
            if response.status_code in RETRYABLE_STATUSES and attempt < attempts:
                self._sleep(self._retry_delay(response, attempt))
                continue
            return _decode(response)

    def _send_once(self, method, url, params, data, headers, idempotent) -> requests.Response:
        request = requests.Request(method, url, params=params, data=data or None, headers=headers)
        prepared = self._session.prepare_request(request)
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        prepared.headers.update(
            signing.signed_headers(
                self._kiosk_id,
                self._secret,
                method,
                prepared.path_url,
                body,
                timestamp=int(self._clock() + self._clock_offset),
            )
        )
        prepared.kiosk_idempotent = idempotent
        settings = self._session.merge_environment_settings(
            prepared.url, {}, False, self._verify, None
        )
        try:
            return self._session.send(
                prepared, timeout=self._timeout, allow_redirects=False, **settings
            )
        except requests.exceptions.SSLError:
            raise BackendUnavailable(code="tls_error") from None
        except requests.exceptions.Timeout:
            raise BackendUnavailable(code="timeout") from None
        except requests.exceptions.ConnectionError:
            raise BackendUnavailable(code="connection_failed") from None
        except requests.exceptions.RequestException as exc:
            raise BackendUnavailable(code=type(exc).__name__) from None

    def _url(self, path: str) -> str:
        if not path.startswith("/"):
            path = "/" + path
        if not path.startswith(API_PREFIX + "/") and path != API_PREFIX:
            path = API_PREFIX + path
        return self._base + path

    def _retry_delay(self, response: requests.Response, attempt: int) -> float:
        retry_after = response.headers.get("Retry-After", "")
        if RETRY_AFTER_SECONDS_RE.fullmatch(retry_after):
            return min(float(retry_after), MAX_RETRY_AFTER_SECONDS)
        return min(self._retry_backoff * (2 ** (attempt - 1)), MAX_RETRY_AFTER_SECONDS)

    def _resync_clock(self, response: requests.Response) -> bool:
        """After a 401, adopt the server's clock if ours is far off (a village PC without NTP);
        True if that changed anything and the request is worth signing again."""
        date = response.headers.get("Date")
        if not date:
            return False
        try:
            server_now = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, OverflowError):
            return False
        skew = server_now - self._clock()
        if abs(skew - self._clock_offset) < CLOCK_SKEW_RESYNC_SECONDS:
            return False
        log.warning("kiosk clock differs from the platform's", extra={"ms": int(skew * 1000)})
        self._clock_offset = skew
        return True

    # -- typed endpoints: the kiosk itself ------------------------------------------------------

    def health(self) -> m.Health:
        """GET /health (unsigned on the server, signed anyway): is the platform up?"""
        return m.parse(m.Health, self.get("/health"))

    def register(
        self, version: str, service_point: str, region_code: str, capabilities: list[str]
    ) -> m.KioskRegistration:
        """Announce this kiosk (at start-up): version, service point, device capabilities."""
        body = {
            "version": version,
            "service_point": service_point,
            "region_code": region_code,
            "capabilities": list(capabilities),
        }
        return m.parse(m.KioskRegistration, self.post_command("/kiosks/register", body))

    def heartbeat(
        self,
        version: str,
        devices: list[Mapping[str, Any]],
        paper_level: str = "unknown",
        outbox_depth: int = 0,
        audit_head: tuple[int, str] | None = None,
    ) -> m.HeartbeatAck:
        """Report device health (``DeviceHealth`` as dicts), paper level, outbox depth and the
        audit log's head (seq, hash) for the platform to keep."""
        body: dict[str, Any] = {
            "version": version,
            "devices": [dict(d) for d in devices],
            "paper_level": paper_level,
            "outbox_depth": outbox_depth,
        }
        if audit_head is not None:
            body["audit_head"] = {"seq": audit_head[0], "hash": audit_head[1]}
        return m.parse(m.HeartbeatAck, self.post_command("/kiosks/heartbeat", body))

    def audit_heads(self) -> m.AuditHeads:
        """The heads of this kiosk's audit log the platform holds, newest first."""
        return m.parse(m.AuditHeads, self.get("/kiosks/audit-heads"))

    def operator_roster(self) -> m.OperatorRoster:
        """The staff accounts of this kiosk's region with their status (maintenance PIN)."""
        return m.parse(m.OperatorRoster, self.get("/kiosks/operators"))

    def operator_signin(self, qr: str) -> m.OperatorSignin:
        """Operator sign-in with an e-SSC QR code (account, role, status). 404 → rejected.

        Sent once: a code verifies only once, so a resend could only be refused."""
        return m.parse(m.OperatorSignin, self.post_command(PATH_OPERATOR_SIGNIN, {"qr": qr}))

    # -- identity (one round trip at identification; revoked when the session ends) -----------

    def verify_essc(
        self, qr: str, *, role: str = "resident", identity_token: str | None = None
    ) -> m.ResidentIdentity:
        """Identify a resident by e-SSC QR code; the answer carries the identity token (with
        *identity_token*: joins that session, 代办). Sent once. Personal data: keep for the
        session only."""
        body = {"qr": qr, "role": role}
        try:
            answer = self.post_command(PATH_ESSC_VERIFY, body, identity_token=identity_token)
        except BackendUnavailable as exc:
            raise BackendUnavailable(OFFLINE_RECORDS_MESSAGE, code=exc.code) from None
        return m.parse(m.ResidentIdentity, answer)

    def open_identity(
        self,
        evidence: str,
        id_number: str,
        *,
        role: str = "resident",
        observed_at: str | None = None,
        submission_key: str | None = None,
        identity_token: str | None = None,
    ) -> m.IdentityGrant:
        """Present a card the kiosk read (*evidence* kind) and get an identity token; with
        *identity_token*, join that session (代办). *observed_at* (ISO, aware) and
        *submission_key* ask for a token that files only that late submission."""
        body: dict[str, Any] = {"evidence": evidence, "id_number": id_number, "role": role}
        if observed_at:
            body["observed_at"] = observed_at
        if submission_key:
            body["submission_key"] = submission_key
        answer = self.post_command(PATH_IDENTITY_SESSIONS, body, identity_token=identity_token)
        return m.parse(m.IdentityGrant, answer)

    def resume_identity(self, session_ref: str, submission_key: str) -> m.IdentityGrant:
        """A token that files only *submission_key*, for the persons of an earlier session."""
        body = {"session_ref": session_ref, "submission_key": submission_key}
        return m.parse(m.IdentityGrant, self.post_command(PATH_IDENTITY_RESUME, body))

    def revoke_identity(self, token: str) -> None:
        """End the identity session of *token* (the resident's session ended). Sent once."""
        self._call("DELETE", PATH_IDENTITY_CURRENT, idempotent=False, identity_token=token)

    def help_request(self, screen: str, item_no: int | None = None) -> m.HelpAck:
        """Call a member of staff now (sent once; pointless to deliver later)."""
        body = {"screen": screen, "item_no": item_no}
        return m.parse(m.HelpAck, self.post_command("/help-requests", body))

    def tickets(self, state: str = "all") -> list[m.Ticket]:
        """This kiosk's fault tickets and problem reports in the 问题台账, newest first.

        *state*: ``open``, ``closed`` or ``all``."""
        answer = self.get("/ledger/tickets", params={"state": state})
        return m.parse(list[m.Ticket], (answer or {}).get("items"))

    # -- public information (cacheable: see kiosk.services.cache.PublicInfo) ---------------------

    def catalogue(self) -> m.Catalogue:
        return m.parse(m.Catalogue, self.get(PATH_CATALOGUE))

    def places(self) -> m.Places:
        return m.parse(m.Places, self.get(PATH_PLACES))

    def search_jobs(
        self,
        q: str = "",
        *,
        kind: str | None = None,
        town: str | None = None,
        occupation: str | None = None,
        salary_min: int | None = None,
        salary_max: int | None = None,
        posted_since: str | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> m.PostingPage:
        """Job postings (items 3 and 6); *q* matches Chinese substrings such as 司机 or 电工."""
        params = locals_of(
            q=q or None,
            kind=kind,
            town=town,
            occupation=occupation,
            salary_min=salary_min,
            salary_max=salary_max,
            posted_since=posted_since,
            page=page,
            page_size=page_size,
        )
        return m.parse(m.PostingPage, self.get(PATH_JOBS, params=params))

    def posting(self, posting_id: int) -> m.Posting:
        return m.parse(m.Posting, self.get(f"/jobs/{int(posting_id)}"))

    def odd_job_seekers(
        self,
        id_number: str,
        token: str,
        occupation: str | None = None,
        town: str | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> m.SeekerPage:
        """Odd-job seekers with masked contacts (item 9), for the identified *id_number*."""
        body = locals_of(occupation=occupation, town=town, page=page, page_size=page_size)
        body["id_number"] = id_number
        return self._person(m.SeekerPage, "/odd-job-seekers/search", body, token)

    def seeker_matches(self, id_number: str, demand_id: int, token: str) -> m.SeekerMatches:
        """Seekers recommended for one of *id_number*'s own odd-job demands (item 8)."""
        body = {"id_number": id_number, "demand_id": int(demand_id)}
        return self._person(m.SeekerMatches, "/odd-job-demands/matches", body, token)

    def policies(
        self, q: str = "", category: str | None = None, page: int = 1, page_size: int = 20
    ) -> m.PolicyPage:
        params = locals_of(q=q, category=category, page=page, page_size=page_size)
        return m.parse(m.PolicyPage, self.get(PATH_POLICIES, params=params))

    def policy(self, policy_id: int) -> m.Policy:
        return m.parse(m.Policy, self.get(f"{PATH_POLICIES}/{int(policy_id)}"))

    def job_fairs(self, include_past: bool = False) -> m.JobFairs:
        params = {"include_past": "true"} if include_past else None
        return m.parse(m.JobFairs, self.get(PATH_JOB_FAIRS, params=params))

    def archive_agencies(self) -> m.ArchiveAgencies:
        return m.parse(m.ArchiveAgencies, self.get(PATH_ARCHIVE_AGENCIES))

    # -- personal lookups (POST with the ID number in the body and the resident's identity
    # token in the header; never cached) --------------------------------------------------------

    def posting_matches(self, id_number: str, kind: str, token: str) -> m.PostingMatches:
        """Postings recommended for a registered seeker, with reasons (items 2 and 5)."""
        body = {"id_number": id_number, "kind": kind}
        return self._person(m.PostingMatches, "/job-seekers/matches", body, token)

    def eligibility(self, id_number: str, item_no: int, token: str) -> m.Eligibility:
        body = {"id_number": id_number, "item_no": item_no}
        return self._person(m.Eligibility, "/eligibility", body, token)

    def my_applications(self, id_number: str, token: str) -> m.MyApplications:
        body = {"id_number": id_number}
        return self._person(m.MyApplications, "/applications/mine", body, token)

    def enterprise_pension_status(self, id_number: str, token: str) -> m.EnterprisePensionStatus:
        path = "/persons/enterprise-pension/status"
        return self._person(m.EnterprisePensionStatus, path, _id(id_number), token)

    def enterprise_pension_payments(self, id_number: str, token: str) -> m.PaymentRecords:
        path = "/persons/enterprise-pension/payments"
        return self._person(m.PaymentRecords, path, _id(id_number), token)

    def unemployment_insurance_payments(self, id_number: str, token: str) -> m.PaymentRecords:
        path = "/persons/unemployment-insurance/payments"
        return self._person(m.PaymentRecords, path, _id(id_number), token)

    def resident_pension_contributions(self, id_number: str, token: str) -> m.ResidentContributions:
        path = "/persons/resident-pension/contributions"
        return self._person(m.ResidentContributions, path, _id(id_number), token)

    def resident_pension_payments(self, id_number: str, token: str) -> m.PaymentRecords:
        path = "/persons/resident-pension/payments"
        return self._person(m.PaymentRecords, path, _id(id_number), token)

    def employment_certificate(self, id_number: str, token: str) -> m.Certificate:
        path = "/persons/employment-certificate"
        return self._person(m.Certificate, path, _id(id_number), token)

    def archive_location(self, id_number: str, token: str) -> m.ArchiveLocation:
        return self._person(m.ArchiveLocation, "/persons/archive", _id(id_number), token)

    def _person(self, cls, path: str, body: Mapping[str, Any], token: str):
        """A personal lookup: offline says so plainly (OFFLINE_RECORDS_MESSAGE)."""
        try:
            return m.parse(cls, self.post_query(path, body, identity_token=token))
        except BackendUnavailable as exc:
            raise BackendUnavailable(OFFLINE_RECORDS_MESSAGE, code=exc.code) from None


def is_identity_required(error: BackendRejected) -> bool:
    """The platform refused for want of a (live, covering) identity token."""
    return error.status == 403 and error.code == "identity_required"


IDENTITY_HEADER = "X-Identity-Token"
IDENTITY_ENVELOPE_KEY = "_identity"
IDENTITY_REQUIRED_MESSAGE = "请先刷社保卡、放置身份证或扫电子社保卡码确认身份"
PATH_OPERATOR_SIGNIN = "/operators/essc-signin"
PATH_ESSC_VERIFY = "/essc/verify"
PATH_IDENTITY_SESSIONS = "/identity/sessions"
PATH_IDENTITY_RESUME = "/identity/sessions/resume"
PATH_IDENTITY_CURRENT = "/identity/sessions/current"
PATH_CATALOGUE = "/catalogue"
PATH_PLACES = "/places"
PATH_JOBS = "/jobs"
PATH_POLICIES = "/policies"
PATH_JOB_FAIRS = "/job-fairs"
PATH_ARCHIVE_AGENCIES = "/archive-agencies"


def locals_of(**params: Any) -> dict[str, Any]:
    """Query parameters without the ones left at None (the server's defaults apply)."""
    return {k: v for k, v in params.items() if v is not None}


def _id(id_number: str) -> dict[str, str]:
    return {"id_number": id_number}


def _decode(response: requests.Response) -> Any:
    """Turn a response into JSON or the matching :class:`BackendError`."""
    status = response.status_code
    if 200 <= status < 300:
        if status == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise BackendProtocolError(code="not_json") from None
    if 300 <= status < 400:
        raise BackendProtocolError(code="unexpected_redirect")
    error = _error_body(response)
    code = str(error.get("code") or f"http_{status}")[:64]
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    field = error.get("field") if isinstance(error.get("field"), str) else ""
    if status == 401:
        raise BackendAuthError(message, status=status, code=code, field=field)
    if 400 <= status < 500:
        raise BackendRejected(message, status=status, code=code, field=field)
    raise BackendServerError(message, status=status, code=code)


def _error_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


__all__ = ["API_PREFIX", "BackendClient", "BackendError"]
