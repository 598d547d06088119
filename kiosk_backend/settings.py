"""Settings of one reference-server instance (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

# The kiosk id and secret demo mode provisions (the demo kiosk writes the same secret to its
# data directory; a real deployment provisions each kiosk with ``kiosk backend add-kiosk``).
DEMO_KIOSK_ID = "demo-kiosk-0001"
DEMO_SERVICE_POINT = "沁源县沁河镇城关社区就业社保服务点"


@dataclass(frozen=True)
class ServerSettings:
    """How to run the server.

    db_url: SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``); migrations are
    applied when the app is created. seed_demo: fill an empty database with the deterministic
    沁源县 demo data. demo_kiosk_secret_hex: when set, the demo kiosk is provisioned with it.
    clock_skew_seconds / nonce_ttl_seconds: replay-protection windows of the signing contract.
    seed_postings: how many job postings the demo seed creates.
    heartbeat_interval_seconds: how often kiosks send heartbeats (the console flags a kiosk
    that missed 3); staff_lock_check_seconds: how often the idle-lock job runs (0: never).
    """

    db_url: str = "sqlite:///kiosk-backend.sqlite3"
    seed_demo: bool = False
    demo_kiosk_id: str = DEMO_KIOSK_ID
    demo_kiosk_secret_hex: str = ""
    clock_skew_seconds: int = 300
    nonce_ttl_seconds: int = 600
    max_body_bytes: int = 1_000_000
    seed_postings: int = 3000
    seed_persons: int = 400
    timezone: str = "Asia/Shanghai"
    heartbeat_interval_seconds: int = 60
    staff_lock_check_seconds: int = 3600
