"""Reading and checking the item definitions (``data/items.toml``) and picker lists.

:func:`load_definitions` validates everything hard against the catalogue: every self-service
item (channel 自助机) has exactly one definition and no counter-only item has one; patterns,
field kinds, formats and picker sources are known; the anonymous items are exactly the
catalogue's; calls look like ``"GET /path"``. A mistake raises :class:`ItemDataError` naming
the file, the item and the key, so a site that edits the data sees what to fix.

Pure apart from reading the files; call once at start-up; thread-safe afterwards.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from kiosk.domain.catalogue import Catalogue, ServiceItem, load_catalogue
from kiosk.domain.items.model import (
    API_SOURCE_PREFIX,
    FORMATS,
    PATTERNS,
    Breakdown,
    Call,
    Chooser,
    Column,
    FieldDef,
    ItemDefinition,
    Option,
    PickerList,
    Total,
    WorkOrderDefinition,
)
from kiosk.domain.tomlfile import TomlFileError, load_toml_file
from kiosk.domain.validation import KINDS

API_SOURCES = ("api:/places#towns", "api:/places#villages")
_METHODS = ("GET", "POST")
_ITEM_KEYS = {
    "no", "pattern", "summary", "call", "fixed", "identity", "submission_kind", "eligibility",
    "receipt_key", "followup", "next_item", "prior_item", "items_key", "row_key", "reasons_key", "title_key",
    "query_param", "paging", "page_size", "detail_call", "personal_call", "period_key",
    "year_filter", "status_key", "failed_value", "failure_key", "message_key", "empty_text",
    "requires", "field", "column", "header", "personal_column", "total", "detail_column",
    "breakdown", "chooser",
}  # fmt: skip
_FIELD_KEYS = {
    "key", "label", "kind", "required", "source", "prefill", "body_key", "hint", "min", "max",
    "earliest_days", "latest_days", "max_length", "min_length", "max_choices", "depends_on",
    "default", "into", "keep_text",
}  # fmt: skip
_COLUMN_KEYS = {"key", "label", "format", "emphasis", "labels"}
_TOTAL_KEYS = {"label", "key", "format", "unit", "hide_zero"}
_TOTAL_FORMATS = ("count", "money")
_BREAKDOWN_KEYS = {"key", "label"}
_COUNTER_KEYS = {"no", "field"}
_CHOOSER_KEYS = {"call", "items_key", "value_key", "title", "label"}
PERSON_KEYS = ("id_number", "name", "sex", "birth_date", "phone", "address", "nation")


class ItemDataError(ValueError):
    """The item or picker data is malformed; the message names file, item and key."""

    def __init__(self, path: str | Path, message: str, *, no: int | None = None, key: str = ""):
        where = str(path)
        if no is not None:
            where += f": item {no}"
        if key:
            where += f": {key}"
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.no = no
        self.key = key


@dataclass(frozen=True)
class Definitions:
    """All item definitions, the counter work-order form, and the picker lists."""

    items: dict[int, ItemDefinition]
    work_order: WorkOrderDefinition
    pickers: dict[str, PickerList]

    def item(self, no: int) -> ItemDefinition:
        """The definition of self-service item *no*; KeyError for others."""
        return self.items[no]

    def by_pattern(self, pattern: str) -> tuple[ItemDefinition, ...]:
        return tuple(
            d for d in sorted(self.items.values(), key=lambda d: d.no) if d.pattern == pattern
        )

    def picker(self, name: str) -> PickerList:
        """A local picker list; KeyError if unknown (API sources are resolved by services)."""
        return self.pickers[name]


def _data_path(name: str) -> Path:
    return Path(str(resources.files("kiosk.domain.items") / "data" / name))


def default_items_path() -> Path:
    return _data_path("items.toml")


def default_pickers_path() -> Path:
    return _data_path("pickers.toml")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return load_toml_file(path)
    except TomlFileError as exc:
        raise ItemDataError(path, str(exc)) from None


def load_pickers(path: str | Path | None = None) -> dict[str, PickerList]:
    """Read the picker lists; raises :class:`ItemDataError`."""
    path = Path(path) if path is not None else default_pickers_path()
    data = _read_toml(path)
    lists: dict[str, PickerList] = {}
    for table in data.get("list", []):
        name = table.get("name")
        if not isinstance(name, str) or not name:
            raise ItemDataError(path, "a [[list]] has no name")
        if name in lists:
            raise ItemDataError(path, "duplicate list", key=name)
        options: list[Option] = []
        for plain in table.get("options", []):
            if not isinstance(plain, str) or not plain.strip():
                raise ItemDataError(path, "options must be non-empty strings", key=name)
            options.append(Option(plain, plain))
        for rich in table.get("option", []):
            label, value = rich.get("label"), rich.get("value")
            if not isinstance(label, str) or not label or not isinstance(value, str):
                raise ItemDataError(path, "an option needs a label and a value", key=name)
            body = rich.get("body", {})
            if not isinstance(body, dict):
                raise ItemDataError(path, "option body must be a table", key=name)
            options.append(Option(label, value, tuple(sorted(body.items()))))
        if not options:
            raise ItemDataError(path, "list has no options", key=name)
        labels = [o.label for o in options]
        if len(set(labels)) != len(labels):
            raise ItemDataError(path, "duplicate option label", key=name)
        lists[name] = PickerList(name, str(table.get("label", name)), tuple(options))
    return lists


def parse_call(text: Any, path: Path, no: int | None, key: str, fixed: Any = None) -> Call:
    """``"GET /jobs"`` → :class:`Call`; raises :class:`ItemDataError`."""
    if not isinstance(text, str) or " " not in text.strip():
        raise ItemDataError(path, 'expected "METHOD /path"', no=no, key=key)
    method, api_path = text.strip().split(None, 1)
    if method not in _METHODS or not api_path.startswith("/") or " " in api_path:
        raise ItemDataError(path, 'expected "GET /path" or "POST /path"', no=no, key=key)
    fixed = fixed or {}
    if not isinstance(fixed, dict):
        raise ItemDataError(path, "fixed must be a table", no=no, key="fixed")
    return Call(method, api_path, tuple(sorted(fixed.items())))


def _refuse_identity_in_query(
    call: Call, identity: tuple[tuple[str, str], ...], path: Path, no: int | None, key: str
) -> None:
    """A GET would put the resident's ID number in the URL, and URLs end up in access logs."""
    if identity and call.method != "POST":
        raise ItemDataError(path, "identity is sent only in a POST body", no=no, key=key)


def load_definitions(
    path: str | Path | None = None,
    pickers_path: str | Path | None = None,
    catalogue: Catalogue | None = None,
) -> Definitions:
    """Read, validate and return every definition (see the module docstring)."""
    path = Path(path) if path is not None else default_items_path()
    pickers = load_pickers(pickers_path)
    catalogue = catalogue or load_catalogue()
    data = _read_toml(path)
    items: dict[int, ItemDefinition] = {}
    for table in data.get("item", []):
        definition = _item(table, path, pickers, catalogue)
        if definition.no in items:
            raise ItemDataError(path, "duplicate item", no=definition.no)
        items[definition.no] = definition
    expected = {item.no for item in catalogue.kiosk_items()}
    missing = sorted(expected - set(items))
    if missing:
        raise ItemDataError(path, f"self-service items without a definition: {missing}")
    for no in items:
        if no not in expected:
            raise ItemDataError(path, "not a self-service item of the catalogue", no=no)
    for definition in items.values():
        for key in ("next_item", "prior_item"):
            linked = getattr(definition, key)
            if linked is not None and linked not in items:
                raise ItemDataError(path, "is not a defined item", no=definition.no, key=key)
    work_order = _work_order(data.get("work_order"), path, pickers)
    forms = _counter_forms(data.get("counter", []), path, pickers, catalogue, work_order)
    work_order = dataclasses.replace(work_order, forms=forms)
    return Definitions(items, work_order, pickers)


def _catalogue_item(
    table: Any, path: Path, catalogue: Catalogue, section: str, keys: set[str]
) -> tuple[int, ServiceItem]:
    """The ``no`` of a ``[[item]]`` / ``[[counter]]`` table and its catalogue item, after
    checking the table's keys."""
    no = table.get("no") if isinstance(table, dict) else None
    if not isinstance(no, int) or isinstance(no, bool):
        raise ItemDataError(path, f"every [[{section}]] needs an integer no")
    unknown = set(table) - keys
    if unknown:
        raise ItemDataError(path, f"unknown keys {sorted(unknown)}", no=no)
    try:
        return no, catalogue.item(no)
    except KeyError:
        raise ItemDataError(path, "no such item in the catalogue", no=no) from None


def _item(table: dict[str, Any], path: Path, pickers, catalogue: Catalogue) -> ItemDefinition:
    no, service_item = _catalogue_item(table, path, catalogue, "item", _ITEM_KEYS)
    pattern = table.get("pattern")
    if pattern not in PATTERNS:
        raise ItemDataError(path, f"pattern must be one of {PATTERNS}", no=no, key="pattern")
    call = parse_call(table.get("call"), path, no, "call", table.get("fixed"))
    identity = _pairs(table.get("identity", {}), path, no, "identity")
    for _request_key, person_key in identity:
        if person_key not in PERSON_KEYS:
            raise ItemDataError(path, f"unknown person key {person_key!r}", no=no, key="identity")
    _refuse_identity_in_query(call, identity, path, no, "identity")
    needs_identity = not service_item.anonymous
    if identity and not needs_identity:
        raise ItemDataError(
            path, "an anonymous item (catalogue) cannot send identity", no=no, key="identity"
        )
    if needs_identity and not identity and not table.get("requires"):
        raise ItemDataError(path, "an item that needs identity must send it", no=no)
    fields = tuple(_field(f, path, no, pickers) for f in table.get("field", []))
    keys = [f.key for f in fields]
    if len(set(keys)) != len(keys):
        raise ItemDataError(path, "duplicate field key", no=no, key="field")
    for item_field in fields:
        if item_field.depends_on and item_field.depends_on not in keys:
            raise ItemDataError(path, "depends_on names no field", no=no, key=item_field.key)
    if pattern == "form" and not fields:
        raise ItemDataError(path, "a form needs fields", no=no, key="field")
    if pattern == "form" and not table.get("submission_kind"):
        raise ItemDataError(path, "a form needs submission_kind", no=no, key="submission_kind")
    columns = tuple(_column(c, path, no) for c in table.get("column", []))
    if pattern != "form" and not columns:
        raise ItemDataError(path, "needs at least one [[item.column]]", no=no, key="column")
    paging = table.get("paging", "server")
    if paging not in ("server", "client"):
        raise ItemDataError(path, "paging must be server or client", no=no, key="paging")
    year_filter = bool(table.get("year_filter", False))
    if year_filter and not table.get("period_key"):
        raise ItemDataError(path, "year_filter needs period_key", no=no, key="period_key")
    if table.get("detail_call") and not table.get("detail_column"):
        raise ItemDataError(path, "detail_call needs [[item.detail_column]]", no=no)
    requires = tuple(table.get("requires", ()))
    if set(call.placeholders) - set(requires):
        raise ItemDataError(path, "call placeholders must be listed in requires", no=no)
    chooser = _chooser(table.get("chooser"), path, no, identity)
    if chooser is not None and not requires:
        raise ItemDataError(path, "a chooser chooses a value the call requires", no=no)
    return ItemDefinition(
        no=no,
        name=service_item.name,
        pattern=pattern,
        call=call,
        needs_identity=needs_identity,
        summary=str(table.get("summary", "")),
        fields=fields,
        identity_body=identity,
        submission_kind=str(table.get("submission_kind", "")),
        eligibility=bool(table.get("eligibility", False)),
        receipt_key=str(table.get("receipt_key", "")),
        followup=_pairs(table.get("followup", {}), path, no, "followup"),
        next_item=table.get("next_item"),
        prior_item=table.get("prior_item"),
        items_key=str(table.get("items_key", "items")),
        row_key=str(table.get("row_key", "")),
        reasons_key=str(table.get("reasons_key", "")),
        columns=columns,
        header=tuple(_column(c, path, no) for c in table.get("header", [])),
        title_key=str(table.get("title_key", "")),
        query_param=str(table.get("query_param", "")),
        paging=paging,
        page_size=int(table.get("page_size", 10)),
        detail_call=_optional_call(table.get("detail_call"), path, no, "detail_call"),
        detail_columns=tuple(_column(c, path, no) for c in table.get("detail_column", [])),
        personal_call=_optional_call(table.get("personal_call"), path, no, "personal_call"),
        personal_columns=tuple(_column(c, path, no) for c in table.get("personal_column", [])),
        period_key=str(table.get("period_key", "")),
        year_filter=year_filter,
        totals=tuple(_total(t, path, no) for t in table.get("total", [])),
        breakdown=_breakdown(table.get("breakdown"), path, no),
        status_key=str(table.get("status_key", "")),
        failed_value=str(table.get("failed_value", "")),
        failure_key=str(table.get("failure_key", "")),
        message_key=str(table.get("message_key", "")),
        empty_text=str(table.get("empty_text", "没有查询到记录")),
        requires=requires,
        chooser=chooser,
    )


def _optional_call(text: Any, path: Path, no: int, key: str) -> Call | None:
    return None if text is None else parse_call(text, path, no, key)


def _pairs(value: Any, path: Path, no: int | None, key: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ItemDataError(path, "must be a table of strings", no=no, key=key)
    return tuple(value.items())


def _decimal(value: Any, path: Path, no: int | None, key: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ItemDataError(path, "must be a number", no=no, key=key)
    return Decimal(str(value))


def _field(table: dict[str, Any], path: Path, no: int | None, pickers) -> FieldDef:
    key = table.get("key")
    if not isinstance(key, str) or not key.isidentifier():
        raise ItemDataError(path, "a field needs a key (identifier)", no=no, key="field")
    unknown = set(table) - _FIELD_KEYS
    if unknown:
        raise ItemDataError(path, f"unknown keys {sorted(unknown)}", no=no, key=key)
    label = table.get("label")
    if not isinstance(label, str) or not label:
        raise ItemDataError(path, "needs a label", no=no, key=key)
    kind = table.get("kind")
    if kind not in KINDS:
        raise ItemDataError(path, f"kind must be one of {KINDS}", no=no, key=key)
    source = str(table.get("source", ""))
    if kind in ("picker", "multi_picker"):
        if source.startswith(API_SOURCE_PREFIX):
            if source not in API_SOURCES:
                raise ItemDataError(path, f"unknown API source {source!r}", no=no, key=key)
        elif source not in pickers:
            raise ItemDataError(path, f"unknown picker list {source!r}", no=no, key=key)
    elif source:
        raise ItemDataError(path, "only pickers have a source", no=no, key=key)
    prefill = str(table.get("prefill", ""))
    if prefill and prefill not in PERSON_KEYS:
        raise ItemDataError(path, f"unknown prefill key {prefill!r}", no=no, key=key)
    return FieldDef(
        key=key,
        label=label,
        kind=kind,
        required=bool(table.get("required", True)),
        source=source,
        prefill=prefill,
        body_key=str(table.get("body_key", "")),
        hint=str(table.get("hint", "")),
        min_value=_decimal(table.get("min"), path, no, key),
        max_value=_decimal(table.get("max"), path, no, key),
        earliest_days=table.get("earliest_days"),
        latest_days=table.get("latest_days"),
        max_length=int(table.get("max_length", 40)),
        min_length=int(table.get("min_length", 0)),
        max_choices=int(table.get("max_choices", 1)),
        depends_on=str(table.get("depends_on", "")),
        default=table.get("default"),
        into=str(table.get("into", "")),
        keep_text=bool(table.get("keep_text", False)),
    )


def _column(table: dict[str, Any], path: Path, no: int) -> Column:
    unknown = set(table) - _COLUMN_KEYS
    if unknown:
        raise ItemDataError(path, f"unknown column keys {sorted(unknown)}", no=no)
    key, label = table.get("key"), table.get("label")
    if not isinstance(key, str) or not key or not isinstance(label, str) or not label:
        raise ItemDataError(path, "a column needs key and label", no=no)
    column_format = table.get("format", "text")
    if column_format not in FORMATS:
        raise ItemDataError(path, f"format must be one of {FORMATS}", no=no, key=key)
    labels = _pairs(table.get("labels", {}), path, no, key)
    return Column(key, label, column_format, bool(table.get("emphasis", False)), labels)


def _total(table: dict[str, Any], path: Path, no: int) -> Total:
    unknown = set(table) - _TOTAL_KEYS
    label, key = table.get("label"), table.get("key")
    if unknown or not isinstance(label, str) or not isinstance(key, str) or not key:
        raise ItemDataError(path, "a total needs a label and a key (and only known keys)", no=no)
    total_format = table.get("format", "count")
    if total_format not in _TOTAL_FORMATS:
        raise ItemDataError(path, f"format must be one of {_TOTAL_FORMATS}", no=no, key=key)
    return Total(
        label=label,
        key=key,
        format=total_format,
        unit=str(table.get("unit", "")),
        hide_zero=bool(table.get("hide_zero", False)),
    )


def _chooser(
    table: Any, path: Path, no: int, identity: tuple[tuple[str, str], ...]
) -> Chooser | None:
    if table is None:
        return None
    if not isinstance(table, dict) or set(table) - _CHOOSER_KEYS:
        raise ItemDataError(path, f"chooser takes {sorted(_CHOOSER_KEYS)}", no=no, key="chooser")
    texts = {k: table.get(k) for k in ("items_key", "value_key", "title", "label")}
    if not all(isinstance(v, str) and v for v in texts.values()):
        raise ItemDataError(path, "chooser needs every key", no=no, key="chooser")
    call = parse_call(table.get("call"), path, no, "chooser.call")
    _refuse_identity_in_query(call, identity, path, no, "chooser.call")
    return Chooser(call=call, **texts)


def _breakdown(table: Any, path: Path, no: int) -> Breakdown | None:
    if table is None:
        return None
    if not isinstance(table, dict) or set(table) - _BREAKDOWN_KEYS:
        raise ItemDataError(path, "breakdown takes key and label", no=no, key="breakdown")
    key, label = table.get("key"), table.get("label")
    if not isinstance(key, str) or not key or not isinstance(label, str) or not label:
        raise ItemDataError(path, "breakdown needs key and label", no=no, key="breakdown")
    return Breakdown(key, label)


def _work_order(table: Any, path: Path, pickers) -> WorkOrderDefinition:
    if not isinstance(table, dict):
        raise ItemDataError(path, "missing [work_order]")
    call = parse_call(table.get("call"), path, None, "work_order.call")
    identity = _pairs(table.get("identity", {}), path, None, "work_order.identity")
    _refuse_identity_in_query(call, identity, path, None, "work_order.identity")
    return WorkOrderDefinition(
        call=call,
        fields=tuple(_field(f, path, None, pickers) for f in table.get("field", [])),
        identity_body=identity,
        submission_kind=str(table.get("submission_kind", "work_order")),
        receipt_key=str(table.get("receipt_key", "")),
    )


def _counter_forms(
    tables: Any, path: Path, pickers, catalogue: Catalogue, work_order: WorkOrderDefinition
) -> tuple[tuple[int, tuple[FieldDef, ...]], ...]:
    """The ``[[counter]]`` forms: only counter-only items, once each, with fields whose keys
    the common work-order fields do not use."""
    if not isinstance(tables, list):
        raise ItemDataError(path, "[[counter]] must be tables")
    common = {f.key for f in work_order.fields}
    forms: dict[int, tuple[FieldDef, ...]] = {}
    for table in tables:
        no, service_item = _catalogue_item(table, path, catalogue, "counter", _COUNTER_KEYS)
        if service_item.kiosk_runs:
            raise ItemDataError(path, "a [[counter]] form is for counter-only items", no=no)
        if no in forms:
            raise ItemDataError(path, "duplicate [[counter]]", no=no)
        fields = tuple(_field(f, path, no, pickers) for f in table.get("field", []))
        keys = [f.key for f in fields]
        if not fields or len(set(keys)) != len(keys) or common & set(keys):
            raise ItemDataError(path, "needs fields with keys of their own", no=no, key="field")
        for item_field in fields:
            if item_field.api_source or item_field.into or item_field.depends_on:
                raise ItemDataError(
                    path, "counter fields are local pickers or values", no=no, key=item_field.key
                )
        forms[no] = fields
    return tuple(sorted(forms.items()))
