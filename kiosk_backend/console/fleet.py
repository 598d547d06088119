"""自助机 (the fleet) for vendor / IT staff: every kiosk of the region with its last heartbeat,
device health, paper, outbox backlog, version and open tickets; a kiosk that missed
:data:`~.charts.MISSED_BEATS` heartbeats (or never sent one) stands out. A kiosk's page draws
its heartbeat history (:func:`~.charts.heartbeat_svg`). No personal data on these pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Path, Request
from markupsafe import Markup
from sqlalchemy import func, select

from kiosk.domain.roles import Permission
from kiosk_backend.console import scope
from kiosk_backend.console.auth import User, Viewer, now_utc
from kiosk_backend.console.charts import MISSED_BEATS, Beat, heartbeat_svg
from kiosk_backend.console.web import render
from kiosk_backend.errors import not_found
from kiosk_backend.ledger_models import LedgerTicket
from kiosk_backend.models import Kiosk
from kiosk_backend.staff_models import KioskHeartbeat
from kiosk_backend.ticket_routing import OPEN_STATES

router = APIRouter()

PAPER_LABELS = {"ok": "正常", "low": "纸将用完", "out": "缺纸", "unknown": "未知"}
DEVICE_LABELS = {
    "ok": "正常",
    "fault": "故障",
    "offline": "离线",
    "unknown": "未知",
    "disabled": "未启用",
}
KioskId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


@dataclass(frozen=True)
class KioskRow:
    kiosk: Kiosk
    stale: bool
    silent_minutes: int | None
    faults: list[str]
    open_tickets: int


def stale_after(request: Request) -> dt.timedelta:
    interval = request.app.state.settings.heartbeat_interval_seconds
    return dt.timedelta(seconds=interval * MISSED_BEATS)


def is_stale(kiosk: Kiosk, now: dt.datetime, limit: dt.timedelta) -> bool:
    return kiosk.last_heartbeat_at is None or now - kiosk.last_heartbeat_at > limit


def _rows(user: Viewer, request: Request) -> list[KioskRow]:
    now, limit = now_utc(), stale_after(request)
    kiosks = user.db.scalars(scope.kiosks(user.region_code).order_by(Kiosk.id)).all()
    open_counts = dict(
        user.db.execute(
            select(LedgerTicket.kiosk_id, func.count())
            .where(
                LedgerTicket.kiosk_id.in_([k.id for k in kiosks]),
                LedgerTicket.state.in_([s.value for s in OPEN_STATES]),
            )
            .group_by(LedgerTicket.kiosk_id)
        ).all()
    )
    rows = []
    for kiosk in kiosks:
        silent = (
            int((now - kiosk.last_heartbeat_at).total_seconds() // 60)
            if kiosk.last_heartbeat_at
            else None
        )
        faults = [
            f"{d.get('name', '?')}：{DEVICE_LABELS.get(d.get('state', ''), d.get('state', ''))}"
            for d in kiosk.last_devices or []
            if d.get("state") not in ("ok", "disabled")
        ]
        rows.append(
            KioskRow(
                kiosk, is_stale(kiosk, now, limit), silent, faults, open_counts.get(kiosk.id, 0)
            )
        )
    # Stale ones first: they are what the page is for.
    return sorted(rows, key=lambda r: (not r.stale, r.kiosk.id))


def stale_count(user: Viewer, request: Request) -> int:
    return sum(1 for r in _rows(user, request) if r.stale)


@router.get("/fleet")
def fleet(request: Request, user: User):
    user.require(Permission.VIEW_FLEET)
    rows = _rows(user, request)
    return render(
        request,
        "fleet.html",
        user,
        active="fleet",
        title="自助机运行情况",
        rows=rows,
        stale=sum(r.stale for r in rows),
        paper_labels=PAPER_LABELS,
        missed=MISSED_BEATS,
        interval=request.app.state.settings.heartbeat_interval_seconds,
    )


@router.get("/fleet/{kiosk_id}")
def kiosk_page(request: Request, kiosk_id: KioskId, user: User):
    user.require(Permission.VIEW_FLEET)
    kiosk = user.db.scalar(scope.kiosks(user.region_code).where(Kiosk.id == kiosk_id))
    if kiosk is None:
        raise not_found("本辖区没有这台自助机")
    now = now_utc()
    beats = [
        Beat(h.at, h.outbox_depth, h.paper_level, h.device_faults)
        for h in user.db.scalars(
            select(KioskHeartbeat)
            .where(
                KioskHeartbeat.kiosk_id == kiosk.id,
                KioskHeartbeat.at >= now - dt.timedelta(hours=24),
            )
            .order_by(KioskHeartbeat.at)
        )
    ]
    interval = request.app.state.settings.heartbeat_interval_seconds
    chart = heartbeat_svg(beats, now=now, interval_s=interval)
    open_tickets = user.db.scalars(
        select(LedgerTicket)
        .where(
            LedgerTicket.kiosk_id == kiosk.id,
            LedgerTicket.state.in_([s.value for s in OPEN_STATES]),
        )
        .order_by(LedgerTicket.id.desc())
        .limit(50)
    ).all()
    return render(
        request,
        "kiosk.html",
        user,
        active="fleet",
        title=f"自助机 {kiosk.id}",
        kiosk=kiosk,
        stale=is_stale(kiosk, now, stale_after(request)),
        chart=Markup(chart),
        paper_labels=PAPER_LABELS,
        device_labels=DEVICE_LABELS,
        tickets=open_tickets,
        may_tickets=user.may(Permission.ANSWER_TICKETS),
    )
