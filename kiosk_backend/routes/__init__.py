"""The API's routers, one module per area; ``ROUTERS`` is what the app mounts under /api/v1."""

from __future__ import annotations

from kiosk_backend.routes import (
    applications,
    catalogue,
    essc,
    info,
    jobs,
    kiosks,
    ledger,
    records,
    seekers,
    system,
    tickets,
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
    tickets.router,
    ledger.router,
    essc.router,
]
