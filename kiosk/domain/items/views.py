"""Pure shaping of backend answers into what the generic result screens show.

The screens never read backend JSON: they get :class:`Row`, :class:`ListPage`,
:class:`RecordsView` and :class:`CertificateView` — text already formatted in Chinese — built
here from an :class:`~kiosk.domain.items.model.ItemDefinition`'s columns. Records views carry
the available years, a year filter and totals over the rows shown; failed payments carry their
reason. Functions here never raise on odd answers: a missing key shows as "—".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.domain.catalogue import MATERIALS_ALL, ServiceItem
from kiosk.domain.clock import DEFAULT_ZONE, ServiceClock, parse_instant
from kiosk.domain.deadlines import deadline_of
from kiosk.domain.items.model import Column, ItemDefinition, Total

MISSING = "—"
COUNTY_TZ = ZoneInfo(DEFAULT_ZONE)  # the default; callers pass the service point's zone


@dataclass(frozen=True)
class Cell:
    """One labelled value of a row, formatted for the screen."""

    label: str
    text: str
    emphasis: bool = False


@dataclass(frozen=True)
class Row:
    """One list/match/record row. ``reasons`` explain a match; ``failed`` marks a failed
    payment whose ``failure_reason`` must be shown; ``ref`` is the id a detail call needs."""

    title: str
    cells: tuple[Cell, ...]
    reasons: tuple[str, ...] = ()
    failed: bool = False
    failure_reason: str = ""
    ref: int | None = None


@dataclass(frozen=True)
class ListPage:
    """One page of a search list or the match results."""

    rows: tuple[Row, ...]
    page: int
    page_size: int
    total: int
    empty_text: str = ""
    note: str = ""  # e.g. 数据更新于 … when served from the offline cache
    personal: tuple[Cell, ...] = ()  # item 15: the identified resident's own archive

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size)) if self.page_size else 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


@dataclass(frozen=True)
class TotalLine:
    label: str
    text: str


@dataclass(frozen=True)
class RecordsView:
    """A person's records, filtered to ``year`` (None: all years), with totals and header."""

    header: tuple[Cell, ...]
    rows: tuple[Row, ...]
    years: tuple[int, ...]
    year: int | None
    totals: tuple[TotalLine, ...]
    failed_count: int
    message: str
    empty_text: str


@dataclass(frozen=True)
class CertificateView:
    header: tuple[Cell, ...]
    cells: tuple[Cell, ...]


def value_at(data: Any, dotted: str) -> Any:
    """``value_at({"a": {"b": 1}}, "a.b") == 1``; None when any step is missing."""
    current = data
    for part in dotted.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def to_decimal(value: Any) -> Decimal | None:
    """A JSON number or numeric string as Decimal; None when it is neither."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def money_text(amount: Decimal) -> str:
    """``1234.5`` → ``1,234.50``."""
    return f"{amount.quantize(Decimal('0.01')):,}"


def format_value(value: Any, column: Column, zone: ZoneInfo = COUNTY_TZ) -> str:
    """The text of *value* as *column* wants it (see FORMATS); "—" for missing values.
    Instants are shown on *zone*'s wall clock (the service point's)."""
    if value is None or value == "" or value == []:
        return MISSING
    labels = dict(column.labels)
    if labels and isinstance(value, str):
        return labels.get(value, value)
    kind = column.format
    if kind == "money":
        amount = to_decimal(value)
        return money_text(amount) if amount is not None else MISSING
    if kind == "date":
        return _date_text(value)
    if kind == "datetime":
        return _datetime_text(value, zone)
    if kind == "list":
        items = value if isinstance(value, list | tuple) else [value]
        return "、".join(str(labels.get(v, v)) for v in items) or MISSING
    if kind == "yes_no":
        return "是" if value is True else "否" if value is False else str(value)
    if kind == "count":
        return str(value)
    return str(value)


def _date_text(value: Any) -> str:
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日"


def _datetime_text(value: Any, zone: ZoneInfo) -> str:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def cells_of(data: Any, columns: Sequence[Column], zone: ZoneInfo = COUNTY_TZ) -> tuple[Cell, ...]:
    return tuple(
        Cell(c.label, format_value(value_at(data, c.key), c, zone), c.emphasis) for c in columns
    )


def row_of(definition: ItemDefinition, data: Any, zone: ZoneInfo = COUNTY_TZ) -> Row:
    """One row of a list, match or records answer."""
    title_key = definition.title_key or (definition.columns[0].key if definition.columns else "")
    title = value_at(data, title_key) if title_key else None
    reasons = value_at(data, definition.reasons_key) if definition.reasons_key else None
    failed = bool(
        definition.status_key
        and str(value_at(data, definition.status_key)) == definition.failed_value
    )
    reason = value_at(data, definition.failure_key) if definition.failure_key else None
    ref_source = value_at(data, definition.row_key) if definition.row_key else data
    ref = value_at(ref_source, "id")
    return Row(
        title=str(title) if title not in (None, "") else MISSING,
        cells=cells_of(data, definition.columns, zone),
        reasons=tuple(str(r) for r in reasons) if isinstance(reasons, list) else (),
        failed=failed,
        failure_reason=str(reason or "") if failed else "",
        ref=ref if isinstance(ref, int) and not isinstance(ref, bool) else None,
    )


def items_of(definition: ItemDefinition, answer: Any) -> list[Any]:
    """The list of row objects in *answer* (an empty list when the answer has none)."""
    items = value_at(answer, definition.items_key) if isinstance(answer, Mapping) else answer
    return list(items) if isinstance(items, list) else []


def list_page(
    definition: ItemDefinition,
    answer: Any,
    page: int,
    page_size: int,
    *,
    note: str = "",
    zone: ZoneInfo = COUNTY_TZ,
) -> ListPage:
    """A page from a paged server answer, or cut from a whole list (``paging = "client"``)."""
    items = items_of(definition, answer)
    if definition.paging == "client" or not isinstance(answer, Mapping) or "total" not in answer:
        total = len(items)
        start = (page - 1) * page_size
        items = items[start : start + page_size]
    else:
        total = int(answer.get("total") or 0)
    return ListPage(
        rows=tuple(row_of(definition, item, zone) for item in items),
        page=page,
        page_size=page_size,
        total=total,
        empty_text=definition.empty_text,
        note=note,
    )


def year_of(period: Any) -> int | None:
    """``"2025-03"`` / ``"2025"`` → 2025; None for anything else."""
    text = str(period or "")
    return int(text[:4]) if len(text) >= 4 and text[:4].isdigit() else None


def records_view(definition: ItemDefinition, answer: Any, year: int | None = None) -> RecordsView:
    """Rows of *answer* for *year* (None: all), with totals over exactly those rows.

    ``years`` lists every year present (newest first) so the screen can offer them; a *year*
    not present gives no rows (and zero totals), not an error.
    """
    items = items_of(definition, answer)
    years = sorted(
        {y for y in (year_of(value_at(i, definition.period_key)) for i in items) if y},
        reverse=True,
    )
    if year is not None:
        items = [i for i in items if year_of(value_at(i, definition.period_key)) == year]
    rows = tuple(row_of(definition, item) for item in items)
    message = value_at(answer, definition.message_key) if definition.message_key else None
    return RecordsView(
        header=cells_of(answer, definition.header),
        rows=rows,
        years=tuple(years),
        year=year,
        totals=tuple(_total_line(total, items) for total in definition.totals),
        failed_count=sum(1 for row in rows if row.failed),
        message=str(message or ""),
        empty_text=definition.empty_text,
    )


def _total_line(total: Total, items: Sequence[Any]) -> TotalLine:
    selected = [
        i
        for i in items
        if not total.when_key or str(value_at(i, total.when_key)) == total.when_value
    ]
    if not total.sum:
        return TotalLine(total.label, f"{len(selected)}{total.unit}")
    amounts = (to_decimal(value_at(i, total.sum)) for i in selected)
    amount = sum((a for a in amounts if a is not None), Decimal("0"))
    return TotalLine(total.label, f"{money_text(amount)}{total.unit}")


def certificate_view(definition: ItemDefinition, answer: Any) -> CertificateView:
    return CertificateView(
        header=cells_of(answer, definition.header), cells=cells_of(answer, definition.columns)
    )


@dataclass(frozen=True)
class ApplicationRow:
    """One line of 我的办件 (``pending_upload``: still in this kiosk's outbox)."""

    reference: str
    item_no: int
    item_name: str
    status_text: str
    submitted: str
    due_text: str
    queue_number: str
    result: str
    pending_upload: bool = False
    rejected: bool = False  # 不予受理: shown as a warning, with the reason in ``result``
    agent_text: str = ""  # the 代办人, masked, with the relation ("王*（子女）"); "" in person


def application_row(item: Mapping[str, Any], clock: ServiceClock | None = None) -> ApplicationRow:
    """A 我的办件 line from one item of the platform's ``/applications/mine`` answer; times on
    *clock*'s wall clock (default: the county's)."""
    clock = clock or ServiceClock()
    deadline = deadline_of(item)
    due_text = deadline.label_zh() if deadline is not None else ""
    submitted = str(item.get("submitted_at") or "")
    moment = parse_instant(submitted, clock)
    if moment is not None:
        submitted = f"{moment:%Y-%m-%d %H:%M}"
    number = item.get("item_no")
    return ApplicationRow(
        reference=str(item.get("number") or ""),
        item_no=number if isinstance(number, int) and not isinstance(number, bool) else 0,
        item_name=str(item.get("item_name") or ""),
        status_text=str(item.get("status_label") or item.get("status") or ""),
        submitted=submitted,
        due_text=due_text,
        queue_number=str(item.get("queue_no") or ""),
        result=str(item.get("result") or ""),
        rejected=item.get("status") == "rejected",
        agent_text=_agent_text(item.get("agent")),
    )


def _agent_text(agent: Any) -> str:
    """The platform's masked 代办人 as one short phrase; "" when none or malformed."""
    if not isinstance(agent, Mapping) or not isinstance(agent.get("name_masked"), str):
        return ""
    relation = agent.get("relation_label")
    return agent["name_masked"] + (
        f"（{relation}）" if isinstance(relation, str) and relation else ""
    )


def materials_text(item: ServiceItem) -> str:
    """ "本人身份证或社保卡" / "本人身份证和户口本" (the item's conditions when it names none)."""
    if not item.materials:
        return item.conditions
    joiner = "和" if item.materials_rule == MATERIALS_ALL else "或"
    return "本人" + joiner.join(item.materials)
