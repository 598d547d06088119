"""The API's routers, one module per area; ``ROUTERS`` is what the app mounts under /api/v1."""

from __future__ import annotations

from kiosk_backend.routes import (
    applications,
    catalogue,
    desk,
    essc,
    help_requests,
    identity,
    info,
    jobs,
    kiosk_audit,
    kiosks,
    ledger,
    operator_roster,
    records,
    seekers,
    system,
)

ROUTERS = [
    system.router,
    kiosks.router,
    catalogue.router,
    jobs.router,
    seekers.router,
    applications.router,
    records.router,
    info.router,
    help_requests.router,
    ledger.router,
    desk.router,
    essc.router,
    identity.router,
    kiosk_audit.router,
    operator_roster.router,
]
