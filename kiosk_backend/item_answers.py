"""What a resident answered on a form, checked and shown by the item definitions the kiosk runs.

The kiosk asks its questions from ``kiosk/domain/items/data`` (items.toml, pickers.toml): one
source for both sides, so a counter item's choices (31 暂停/恢复, 40 挂失/解挂 …) are checked here
against exactly the options the resident was offered, and the desk reads every stored answer
under the label the resident saw (``answers_of``). Pure apart from reading those files once.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from kiosk.domain.items import Definitions, FieldDef, load_definitions
from kiosk_backend.errors import ApiError

# Stored keys that are no form field of the item (kept by the routes themselves).
OTHER_LABELS = {
    "note": "补充说明",
    "description": "补充说明",
    "skills": "技能、证书等",
    "demand_id": "招聘登记编号",
    "posting_id": "发布的岗位编号",
    "occupations": "工种",
    "towns": "乡镇",
}
ANSWERS_KEY = "answers"


class AnswerOut(BaseModel):
    """One stored answer as the desk reads it."""

    key: str
    label: str
    text: str


@functools.lru_cache(maxsize=1)
def definitions() -> Definitions:
    """The packaged item definitions (ItemDataError if the data files are broken)."""
    return load_definitions()


def _option_values(item_field: FieldDef) -> dict[str, str]:
    """value → label of a local picker field ({} for other kinds)."""
    if item_field.kind not in ("picker", "multi_picker") or item_field.api_source:
        return {}
    return {o.value: o.label for o in definitions().picker(item_field.source).options}


def check_counter_answers(item_no: int, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers of counter item *item_no*'s own form, checked against its definition.

    Raises ApiError 422 ``invalid_field`` naming ``answers.<key>`` for an unknown key, a missing
    required choice, or a value that is not one of the options offered.
    """
    fields = {f.request_key: f for f in definitions().work_order.item_fields(item_no)}
    for key in answers:
        if key not in fields:
            raise ApiError(422, "invalid_field", "该事项没有这个填写项", f"{ANSWERS_KEY}.{key}")
    clean: dict[str, Any] = {}
    for key, item_field in fields.items():
        field_name = f"{ANSWERS_KEY}.{key}"
        value = answers.get(key)
        if value in (None, "", []):
            if item_field.required:
                raise ApiError(422, "invalid_field", f"请选择{item_field.label}", field_name)
            continue
        allowed = _option_values(item_field)
        chosen = value if isinstance(value, list) else [value]
        many = item_field.kind == "multi_picker"
        if (
            not all(isinstance(v, str) for v in chosen)
            or (isinstance(value, list) and not many)
            or len(chosen) > item_field.max_choices
            or len(set(chosen)) != len(chosen)
            or (allowed and not set(chosen) <= set(allowed))
        ):
            raise ApiError(422, "invalid_field", f"{item_field.label}的选择不正确", field_name)
        clean[key] = list(chosen) if many else chosen[0]
    return clean


def _fields_of(item_no: int) -> dict[str, FieldDef]:
    """Every field a resident may have answered for *item_no*, by request key."""
    defs = definitions()
    if item_no in defs.items:
        return {f.request_key: f for f in defs.items[item_no].fields if not f.into}
    order = defs.work_order
    return {f.request_key: f for f in order.fields + order.item_fields(item_no)}


def _text(value: Any, item_field: FieldDef | None) -> str:
    labels = _option_values(item_field) if item_field is not None else {}
    values = value if isinstance(value, list) else [value]
    parts = []
    for part in values:
        if isinstance(part, bool):
            parts.append("是" if part else "否")
        elif isinstance(part, dt.date):
            parts.append(part.isoformat())
        else:
            parts.append(labels.get(str(part), str(part)))
    return "、".join(parts)


def answers_of(item_no: int, details: Mapping[str, Any]) -> list[AnswerOut]:
    """The stored answers of an application, labelled as the form asked them (form order
    first, then the item's own choices, then anything else the route kept)."""
    fields = _fields_of(item_no)
    flat = {k: v for k, v in details.items() if k != ANSWERS_KEY}
    nested = details.get(ANSWERS_KEY)
    if isinstance(nested, Mapping):
        flat.update(nested)
    out = [
        AnswerOut(key=key, label=f.label, text=_text(flat[key], f))
        for key, f in fields.items()
        if flat.get(key) not in (None, "", [])
    ]
    out += [
        AnswerOut(key=key, label=OTHER_LABELS.get(key, key), text=_text(value, None))
        for key, value in flat.items()
        if key not in fields and value not in (None, "", [])
    ]
    return out
