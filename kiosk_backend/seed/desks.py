"""The demo responder desks (county, city, province), so demo tickets and applications have a
holder, and the county's designated staff per business line (附件5 指定业务骨干: 就业 / 社保 /
社保卡). Ids, levels, regions and lines are documented in ``kiosk_backend/README.md``.

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
    business_line: str = ""  # "" = every line


DEMO_DESKS = (
    DemoDesk(
        "demo-county-140431",
        Level.COUNTY,
        REGION_CODE,
        "韩晓东",
        "沁源县人社局就业股",
        "employment",
    ),
    DemoDesk("demo-city-1404", Level.CITY, REGION_CODE[:4], "冯雪梅", "长治市人社局就业科"),
    DemoDesk("demo-province-14", Level.PROVINCE, REGION_CODE[:2], "郑建国", "省就近办工作专班"),
)
# The county's other designated staff (附件5: 县人社部门根据业务分类由指定业务骨干反馈).
DEMO_LINE_DESKS = (
    DemoDesk(
        "demo-county-140431-si",
        Level.COUNTY,
        REGION_CODE,
        "田丽娟",
        "沁源县社会保险中心待遇业务股",
        "social_insurance",
    ),
    DemoDesk(
        "demo-county-140431-card",
        Level.COUNTY,
        REGION_CODE,
        "秦志刚",
        "沁源县人社局社会保障卡服务窗口",
        "card",
    ),
)


def ensure_demo_desks(session: Session, keys: ServerKeys) -> list[str]:
    """Create the demo desks that are missing (existing ones keep their secret and settings),
    their secrets sealed with *keys*; return the accounts created. The caller commits."""
    created = []
    for desk in (*DEMO_DESKS, *DEMO_LINE_DESKS):
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
            business_line=desk.business_line,
        )
        created.append(desk.account)
    return created
