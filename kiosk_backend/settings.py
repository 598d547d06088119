"""Settings of one reference-server instance (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

# The kiosk id and secret demo mode provisions (the demo kiosk writes the same secret to its
# data directory; a real deployment provisions each kiosk with ``kiosk backend add-kiosk``).
DEMO_KIOSK_ID = "demo-kiosk-0001"
DEMO_SERVICE_POINT = "沁源县沁河镇城关社区就业社保服务点"

# How long a stored answer waits for a retry with the same Idempotency-Key (kiosk_backend/
# README.md): the kiosk's outbox retries a pending submission until the platform has answered
# it, every ≤ 300 s while it can reach the platform, so a late retry means a kiosk switched off
# or cut off since; 14 days covers the longest closure of a service point, the 8–9-day Spring
# Festival break, with a weekend on each side. Every other POST is answered while the caller
# waits, and a client repeats it within seconds (503 request_in_progress, a lost answer), if at
# all: one hour is ample.
OUTBOX_ANSWER_TTL_SECONDS = 14 * 86_400
DIRECT_ANSWER_TTL_SECONDS = 3600


@dataclass(frozen=True)
class ServerSettings:
    """How to run the server.

    db_url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``); migrations are
    applied when the app is created. seed_demo: fill an empty database with the deterministic
    沁源县 demo data. demo_kiosk_secret_hex: when set, the demo kiosk is provisioned with it.
    clock_skew_seconds / nonce_ttl_seconds: replay-protection windows of the signing contract.
    seed_postings: how many job postings the demo seed creates.
    key_file: the server key ring (kiosk_backend.server_keys); "" = $KIOSK_BACKEND_KEY_FILE or
    ``<database file>.key`` beside an SQLite database (required for PostgreSQL).
    outbox_answer_ttl_seconds / direct_answer_ttl_seconds: how long the answer to a POST the
    kiosk sends through its outbox (``x-outbox``) / to any other stored POST is kept for a retry
    with the same Idempotency-Key (see OUTBOX_ANSWER_TTL_SECONDS).
    heartbeat_interval_seconds: how often kiosks send heartbeats (the console flags a kiosk
    that missed 3); staff_lock_check_seconds: how often the idle-lock job runs (0: never).

    Identity (:mod:`kiosk_backend.identity_sessions`): identity_token_seconds (at most 900) is
    how long a token lives after its last use, identity_session_max_seconds its absolute
    lifetime; identity_evidence the evidence kinds this platform accepts; identity_deferred_hours
    how late an outbox may still file a submission; person_limit distinct persons a kiosk may
    identify per person_limit_window_seconds. e-SSC (:mod:`kiosk_backend.essc_codes`): after
    essc_failure_limit failed verifications in essc_failure_window_seconds a kiosk gets 429.
    answer_working_days: the local rule of 附件5 answer deadlines,
    ``"county=3,city=5,province=10"`` (today's values when empty; see
    kiosk_backend.ticket_routing.answer_days_from).
    db_pool_size: most database connections one worker holds (0: the engine's default);
    db_pool_timeout_seconds: how long a request waits for one before it is answered 503
    ``server_busy`` with Retry-After (0: SQLAlchemy's 30 s).
    """

    db_url: str = "sqlite:///kiosk-backend.sqlite3"
    seed_demo: bool = False
    demo_kiosk_id: str = DEMO_KIOSK_ID
    demo_kiosk_secret_hex: str = ""
    clock_skew_seconds: int = 300
    nonce_ttl_seconds: int = 600
    max_body_bytes: int = 1_000_000
    key_file: str = ""
    outbox_answer_ttl_seconds: int = OUTBOX_ANSWER_TTL_SECONDS
    direct_answer_ttl_seconds: int = DIRECT_ANSWER_TTL_SECONDS
    seed_postings: int = 3000
    seed_persons: int = 400
    timezone: str = "Asia/Shanghai"
    heartbeat_interval_seconds: int = 60
    staff_lock_check_seconds: int = 3600
    identity_token_seconds: int = 900
    identity_session_max_seconds: int = 3600
    identity_evidence: tuple[str, ...] = ("essc", "sscard_psam", "idcard_sam")
    identity_deferred_hours: int = 72
    person_limit: int = 30
    person_limit_window_seconds: int = 3600
    essc_failure_limit: int = 10
    essc_failure_window_seconds: int = 600
    answer_working_days: str = ""
    db_pool_size: int = 0
    db_pool_timeout_seconds: float = 0.0
