"""办事程序 (附件4 line 12: procedures made public) of the 22 kiosk items, generated from their
definitions, so what the 一次性告知 page says is exactly what the kiosk then does.

Counter-only items have their steps written in the catalogue (``catalogue.toml``); this module
writes the kiosk items' steps from the pattern, the identity needed, the eligibility check, the
fields asked, the earlier item needed and the time limit. Pure; thread-safe.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kiosk.domain.catalogue import Catalogue, ServiceItem, load_catalogue
from kiosk.domain.items.loader import Definitions, load_definitions
from kiosk.domain.items.model import ItemDefinition

IDENTIFY = "在本机刷社保卡、放身份证或扫电子社保卡码，核验本人身份"
ANONYMOUS = "无需刷卡，直接在本机查询"


def _finish(item: ServiceItem) -> str:
    if item.is_instant:
        return "即时办结，结果当场显示"
    return f"办结时限{item.time_limit_text}，可在本机“我的办件”查看办理进度"


def _asks(definition: ItemDefinition) -> str:
    labels = "、".join(f.label for f in definition.fields)
    known = any(f.prefill for f in definition.fields)
    return f"填写{labels}" + ("（卡上已有的信息自动带出）" if known else "")


def kiosk_procedure(
    item: ServiceItem, definition: ItemDefinition, catalogue: Catalogue
) -> tuple[str, ...]:
    """The steps of self-service item *item* as its *definition* runs it."""
    steps = [IDENTIFY if definition.needs_identity else ANONYMOUS]
    if definition.prior_item is not None:
        prior = catalogue.item(definition.prior_item).name
        steps.append(f"须先办理“{prior}”（可在本机办理）")
    pattern = definition.pattern
    if pattern == "form":
        if definition.eligibility:
            steps.append("逐条查看办理条件，符合的继续办理")
        steps.append(_asks(definition))
        steps.append("核对后提交，取得办件编号并打印凭证")
        steps.append(_finish(item))
        if definition.next_item is not None:
            steps.append(f"办理后可接着办理“{catalogue.item(definition.next_item).name}”")
    elif pattern == "search_list":
        filters = "、".join(f.label for f in definition.fields)
        if definition.query_param:
            steps.append("按关键词" + (f"或{filters}" if filters else "") + "查询，结果分页显示")
        elif filters:
            steps.append(f"按{filters}查询，结果分页显示")
        else:
            steps.append("查看列表，结果分页显示")
        if definition.detail_call is not None:
            steps.append("点一条查看详细内容")
        if definition.personal_call is not None:
            steps.append("刷卡或扫码后，还可查看本人的信息")
        steps.append(_finish(item))
    elif pattern == "match":
        if definition.chooser is not None:
            steps.append(definition.chooser.title + "（有多条时）")
        steps.append("查看推荐结果和每条的推荐理由")
        steps.append(_finish(item))
    elif pattern == "records":
        steps.append("查看记录：新的在前，记录多时分页显示；可按年份查看，合计为全部记录的合计")
        if definition.breakdown is not None:
            steps.append(f"查看{definition.breakdown.label}")
        if definition.failure_key:
            steps.append("发放失败的，写明失败原因")
        steps.append(_finish(item))
    else:  # certificate
        steps.append("查看证书信息")
        steps.append(_finish(item))
    return tuple(step for step in steps if step)


def with_procedures(catalogue: Catalogue, definitions: Definitions) -> Catalogue:
    """*catalogue* with every kiosk item's procedure generated from *definitions*."""
    items = tuple(
        dataclasses.replace(
            item, procedure=kiosk_procedure(item, definitions.item(item.no), catalogue)
        )
        if item.kiosk_runs
        else item
        for item in catalogue.items
    )
    return Catalogue(items)


def load_published_catalogue(path: str | Path | None = None) -> Catalogue:
    """The catalogue (default: the packaged one) with every item's procedure, as the
    一次性告知 pages, ``kiosk catalog`` and the platform publish it. Raises CatalogueError or
    ItemDataError (both name the file, item and key)."""
    catalogue = load_catalogue(path)
    return with_procedures(catalogue, load_definitions(catalogue=catalogue))
