"""The shapes of a declarative item definition (what one self-service item asks, calls, shows).

An :class:`ItemDefinition` says, for one of the 22 self-service items: its *pattern* (which of
the five generic screens runs it), the backend *call* it makes, the *fields* it asks (with
kind, picker source, validation bounds and the card key that pre-fills it), and how the answer
is shown (*columns*, *totals*, a *year filter*). The 18 counter-only items share one
:class:`WorkOrderDefinition`. Instances are immutable; build them with
:func:`kiosk.domain.items.loader.load_definitions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kiosk.domain.validation import Rule

PATTERNS = ("form", "search_list", "match", "records", "certificate")
FORMATS = ("text", "date", "datetime", "money", "list", "yes_no", "count")
API_SOURCE_PREFIX = "api:"


@dataclass(frozen=True)
class Call:
    """One backend call: ``method`` GET/POST and ``path`` under /api/v1.

    ``path`` may hold ``{name}`` placeholders filled from the caller's values (e.g. the
    demand id of item 8). ``fixed`` are constant parameters (GET) or body values (POST).
    """

    method: str
    path: str
    fixed: tuple[tuple[str, Any], ...] = ()

    @property
    def placeholders(self) -> tuple[str, ...]:
        parts = self.path.split("{")[1:]
        return tuple(part.split("}", 1)[0] for part in parts)

    def fixed_dict(self) -> dict[str, Any]:
        return dict(self.fixed)


@dataclass(frozen=True)
class Option:
    """A picker choice: what the resident sees (*label*) and what is sent.

    ``value`` goes to the field's body key; ``body`` (when set) is merged into the request
    instead, e.g. a salary range ``{"salary_min": 3000, "salary_max": 5000}``.
    """

    label: str
    value: str
    body: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class PickerList:
    """A named list of options kept as kiosk data (``data/pickers.toml``)."""

    name: str
    label: str
    options: tuple[Option, ...]

    def labels(self) -> tuple[str, ...]:
        return tuple(option.label for option in self.options)

    def option(self, label: str) -> Option | None:
        return next((o for o in self.options if o.label == label), None)


@dataclass(frozen=True)
class FieldDef:
    """One input of a form or a search filter.

    ``source`` names the picker list: a local list name (``occupations``) or a server API
    (``api:/places#towns``, ``api:/places#villages``). ``prefill`` is the person key a card
    already knows (``name``, ``phone`` ...): when the person has it, the field is filled and not
    asked. ``body_key`` is the request key (default: ``key``); ``depends_on`` names the field
    whose value narrows this picker (a village list depends on the town).
    """

    key: str
    label: str
    kind: str
    required: bool = True
    source: str = ""
    prefill: str = ""
    body_key: str = ""
    hint: str = ""
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    earliest_days: int | None = None
    latest_days: int | None = None
    max_length: int = 40
    max_choices: int = 1
    depends_on: str = ""
    default: Any = None
    into: str = ""  # append "label：choice" to this text key of the request instead
    keep_text: bool = False  # keypad_number whose digits are an identifier (leading zeros)
    min_length: int = 0

    @property
    def request_key(self) -> str:
        return self.body_key or self.key

    @property
    def api_source(self) -> bool:
        return self.source.startswith(API_SOURCE_PREFIX)

    def rule(self, options: tuple[str, ...] = ()) -> Rule:
        """The validation rule of this field, with the picker *options* offered right now."""
        return Rule(
            key=self.key,
            label=self.label,
            kind=self.kind,
            required=self.required,
            min_value=self.min_value,
            max_value=self.max_value,
            earliest_days=self.earliest_days,
            latest_days=self.latest_days,
            max_length=self.max_length,
            min_length=self.min_length,
            options=options,
            max_choices=self.max_choices,
            keep_text=self.keep_text,
        )


@dataclass(frozen=True)
class Column:
    """One value shown per row (or per certificate): ``key`` may be dotted (``posting.town``)."""

    key: str
    label: str
    format: str = "text"
    emphasis: bool = False
    labels: tuple[tuple[str, str], ...] = ()  # raw value → Chinese label


@dataclass(frozen=True)
class Total:
    """A records total the platform computed over the whole selection (never summed on the
    kiosk from one page of rows): the value at ``key`` (dotted) of the answer, shown as a
    ``count`` or ``money`` with its ``unit``; left out when zero if ``hide_zero``."""

    label: str
    key: str
    format: str = "count"
    unit: str = ""
    hide_zero: bool = False


@dataclass(frozen=True)
class Breakdown:
    """Where a records answer carries the current month's benefit items (当前月待遇项目组成明细):
    an object at ``key`` with ``period``, ``amount``, ``status_label`` and ``components``
    (``[{"name", "amount"}]``), shown under ``label``."""

    key: str
    label: str


@dataclass(frozen=True)
class Chooser:
    """The values the item's first ``requires`` name may take, listed for the identified
    resident by ``call`` (item 8: their own open odd-job demands): rows at ``items_key``, the
    value at ``value_key``, each offered as ``label`` (a template of the row's keys, e.g.
    ``"{occupation} · {work_date}开工"``) under ``title``."""

    call: Call
    items_key: str
    value_key: str
    title: str
    label: str


@dataclass(frozen=True)
class ItemDefinition:
    """A self-service item as data. See the module docstring and ``data/items.toml``."""

    no: int
    name: str
    pattern: str
    call: Call
    needs_identity: bool
    summary: str = ""
    fields: tuple[FieldDef, ...] = ()
    identity_body: tuple[tuple[str, str], ...] = ()  # request key → person key
    submission_kind: str = ""
    eligibility: bool = False
    receipt_key: str = ""  # where the server's receipt sits in the answer ("" = top level)
    followup: tuple[tuple[str, str], ...] = ()  # answer key → follow-up value name
    next_item: int | None = None
    prior_item: int | None = None  # do this item first (a match needs a registration)
    items_key: str = "items"
    row_key: str = ""  # nested object of each row (match results: "posting" / "seeker")
    reasons_key: str = ""
    columns: tuple[Column, ...] = ()
    header: tuple[Column, ...] = ()
    title_key: str = ""
    query_param: str = ""
    paging: str = "server"  # server | client
    page_size: int = 10
    detail_call: Call | None = None
    detail_columns: tuple[Column, ...] = ()
    personal_call: Call | None = None
    personal_columns: tuple[Column, ...] = ()
    period_key: str = ""
    year_filter: bool = False
    totals: tuple[Total, ...] = ()
    breakdown: Breakdown | None = None
    status_key: str = ""
    failed_value: str = ""
    failure_key: str = ""
    message_key: str = ""
    empty_text: str = "没有查询到记录"
    requires: tuple[str, ...] = field(default=())  # values the call needs from earlier steps
    chooser: Chooser | None = None

    @property
    def is_submission(self) -> bool:
        return self.pattern == "form"

    def field(self, key: str) -> FieldDef:
        """The field named *key*; KeyError if the item has none."""
        for item_field in self.fields:
            if item_field.key == key:
                return item_field
        raise KeyError(key)


@dataclass(frozen=True)
class WorkOrderDefinition:
    """The form of the counter-only items (预约柜台办理): a call, the fields every item asks
    (a phone number), and per item the fields its choices need (``forms``: item no → fields,
    sent in the body's ``answers`` object)."""

    call: Call
    fields: tuple[FieldDef, ...]
    identity_body: tuple[tuple[str, str], ...]
    submission_kind: str
    receipt_key: str = ""
    forms: tuple[tuple[int, tuple[FieldDef, ...]], ...] = ()
    answers_key: str = "answers"

    def item_fields(self, item_no: int) -> tuple[FieldDef, ...]:
        """The fields counter item *item_no* asks beyond the common ones (() when none)."""
        return dict(self.forms).get(item_no, ())
