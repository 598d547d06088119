"""The 40 service items of 附件2, read from the kiosk's own catalogue data (kiosk.domain).

The server and the kiosk share one source (``kiosk/domain/data``) so names, channels and time
limits cannot drift apart; the domain layer is pure, so importing it here is safe. The file is
read once per process on first use.
"""

from __future__ import annotations

import functools

from kiosk.domain.catalogue import Catalogue, ServiceItem
from kiosk.domain.items.procedure import load_published_catalogue

QUEUE_LETTERS = {"我要找工作": "A", "我要学技能": "A", "我要办社保": "B", "我要办社保卡": "C"}


@functools.lru_cache(maxsize=1)
def platform_catalogue() -> Catalogue:
    """The packaged catalogue with every item's procedure (CatalogueError / ItemDataError if
    a data file is broken)."""
    return load_published_catalogue()


def item(no: int) -> ServiceItem:
    """Item *no* (KeyError if there is none)."""
    return platform_catalogue().item(no)


def is_counter_only(no: int) -> bool:
    return not item(no).kiosk_runs


def materials_label(service_item: ServiceItem) -> str:
    """ "本人身份证或社保卡" / "本人身份证和户口本"."""
    joiner = "或" if service_item.materials_rule == "any" else "和"
    return "本人" + joiner.join(service_item.materials) if service_item.materials else "本人身份证"
