"""Pure building of request bodies from validated form values, as the definitions say.

A picker sends its option's ``value`` (or merges the option's ``body``, e.g. a salary range),
a multi_picker a list of values, a date its ISO form, a whole amount an int; a field with
``into`` is written as "标签：选择" into another text key the API has (the platform's
registration takes education and certificates as part of its ``skills`` text). Pure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from kiosk.domain.items.model import FieldDef, ItemDefinition, PickerList
from kiosk.domain.person import Person


def request_body(
    fields: Iterable[FieldDef], clean: Mapping[str, Any], pickers: Mapping[str, PickerList]
) -> dict[str, Any]:
    """The request body for *clean* values (from :func:`kiosk.domain.validation.validate_all`);
    None values (empty optional fields) are left out."""
    body: dict[str, Any] = {}
    for item_field in fields:
        put_value(body, item_field, clean.get(item_field.key), pickers)
    return body


def put_value(
    body: dict[str, Any], item_field: FieldDef, value: Any, pickers: Mapping[str, PickerList]
) -> None:
    """Put one clean value into *body* the way *item_field* says (see the module docstring)."""
    if value is None:
        return
    if item_field.kind in ("picker", "multi_picker") and not item_field.api_source:
        picker = pickers[item_field.source]
        labels = value if isinstance(value, tuple) else (value,)
        options = [picker.option(label) for label in labels]
        if item_field.into:
            append_text(body, item_field.into, item_field.label, "、".join(labels))
            return
        if item_field.kind == "picker" and options[0] is not None and options[0].body:
            body.update(dict(options[0].body))
            return
        sent = [o.value if o is not None else lb for o, lb in zip(options, labels, strict=True)]
        body[item_field.request_key] = sent if item_field.kind == "multi_picker" else sent[0]
        return
    if isinstance(value, tuple):
        value = list(value)
    elif isinstance(value, dt.date):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if item_field.into:
        append_text(body, item_field.into, item_field.label, str(value))
        return
    body[item_field.request_key] = value


def append_text(body: dict[str, Any], key: str, label: str, text: str) -> None:
    """Add "label：text" to the text under *key*, joined by "；"."""
    part = f"{label}：{text}"
    body[key] = f"{body[key]}；{part}" if body.get(key) else part


def agent_body(agent: Person) -> dict[str, str]:
    """The ``agent`` object of a submission: the 代办人's ID number and name, read from their own
    card, so the platform records them beside the resident (every form and work order)."""
    return {"id_number": agent.id_number, "name": agent.name}


def phone_of(fields: Iterable[FieldDef], body: Mapping[str, Any]) -> str:
    """The phone number a body carries (the first phone field), or ""."""
    for item_field in fields:
        if item_field.kind == "phone" and isinstance(body.get(item_field.request_key), str):
            return body[item_field.request_key]
    return ""


def submission_item_no(
    path: str, payload: Mapping[str, Any], items: Iterable[ItemDefinition], prefix: str = ""
) -> int:
    """Which item a stored submission is, from its API path and body (0 if none matches).

    A work order names its item; items sharing a path (1 and 4) differ by their fixed values.
    """
    if isinstance(payload.get("item_no"), int):
        return payload["item_no"]
    for definition in items:
        if not definition.is_submission or prefix + definition.call.path != path:
            continue
        if all(payload.get(k) == v for k, v in definition.call.fixed):
            return definition.no
    return 0
