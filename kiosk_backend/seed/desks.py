"""The demo responder desks (county, city, province), so demo tickets and applications have a
holder. Ids, levels and regions are documented in ``kiosk_backend/README.md``.

Each desk gets a fresh random secret that nobody holds: the desks work through
``python -m kiosk_backend.ledger_admin`` (direct database access), and an operator who wants one
to sign HTTP requests re-keys it with ``ledger_admin add-responder --secret-file``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kiosk_backend.ledger import upsert_responder
from kiosk_backend.ledger_models import Responder
from kiosk_backend.provision import new_secret_hex
from kiosk_backend.seed.places import REGION_CODE
from kiosk_backend.server_keys import ServerKeys
from kiosk_backend.ticket_routing import Level


@dataclass(frozen=True)
class DemoDesk:
    account: str
    level: Level
    region_prefix: str
    name: str  # fictional
    role: str


DEMO_DESKS = (
    DemoDesk("demo-county-140431", Level.COUNTY, REGION_CODE, "韩晓东", "沁源县人社局就业股"),
    DemoDesk("demo-city-1404", Level.CITY, REGION_CODE[:4], "冯雪梅", "长治市人社局就业科"),
    DemoDesk("demo-province-14", Level.PROVINCE, REGION_CODE[:2], "郑建国", "省就近办工作专班"),
)


def ensure_demo_desks(session: Session, keys: ServerKeys) -> list[str]:
    """Create the demo desks that are missing (existing ones keep their secret and settings),
    their secrets sealed with *keys*; return the accounts created. The caller commits."""
    created = []
    for desk in DEMO_DESKS:
        if session.get(Responder, desk.account) is not None:
            continue
        upsert_responder(
            session,
            desk.account,
            name=desk.name,
            role=desk.role,
            level=desk.level,
            region_prefix=desk.region_prefix,
            secret_hex=new_secret_hex(),
            keys=keys,
        )
        created.append(desk.account)
    return created
