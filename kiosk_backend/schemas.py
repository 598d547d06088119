"""Pydantic types shared by the routers: validated ID numbers and phones, paging, receipts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from kiosk_backend.identity import InvalidIdNumber, is_valid_phone, normalize_id_number

# Query-string texts: no control characters (PostgreSQL cannot store NUL; none belong in text).
NO_CONTROL_CHARS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
_CONTROL = {c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)} | {0x7F}


def _has_control(value: Any) -> bool:
    if isinstance(value, str):
        return any(ord(ch) in _CONTROL for ch in value)
    if isinstance(value, dict):
        return any(_has_control(k) or _has_control(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_control(v) for v in value)
    return False


def _id_number(value: str) -> str:
    try:
        return normalize_id_number(value)
    except InvalidIdNumber as exc:
        raise ValueError(str(exc)) from None


def _phone(value: str) -> str:
    if not is_valid_phone(value):
        raise ValueError("应为11位手机号码或带区号的固定电话")
    return value


IdNumber = Annotated[
    str,
    StringConstraints(min_length=1, max_length=30, strip_whitespace=True),
    AfterValidator(_id_number),
]
Phone = Annotated[
    str,
    StringConstraints(min_length=7, max_length=13, strip_whitespace=True),
    AfterValidator(_phone),
]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]
Occupation = Annotated[str, StringConstraints(min_length=1, max_length=20, strip_whitespace=True)]


class Strict(BaseModel):
    """Request bodies reject unknown fields (a typo must not silently drop data) and control
    characters anywhere in their text (tab and newlines allowed)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data: Any) -> Any:
        if _has_control(data):
            raise ValueError("不能包含控制字符")
        return data


AgentRelation = Literal[
    "spouse", "child", "parent", "sibling", "relative", "village_cadre", "other"
]
RELATION_LABELS = {
    "spouse": "配偶",
    "child": "子女",
    "parent": "父母",
    "sibling": "兄弟姐妹",
    "relative": "其他亲属",
    "village_cadre": "村（社区）干部",
    "other": "其他",
}
PersonName = Annotated[str, StringConstraints(min_length=1, max_length=30, strip_whitespace=True)]


class Agent(Strict):
    """代办人: who submits on the resident's behalf (identified by their own ID card).

    Recorded beside the resident on the application; never the resident themself."""

    id_number: IdNumber
    name: PersonName
    relation: AgentRelation | None = Field(None, description="与本人关系")


class AgentOut(BaseModel):
    """The 代办人 of an application as kiosks see it: masked, never the full values."""

    name_masked: str
    id_number_masked: str
    relation: AgentRelation | None
    relation_label: str


AgentField = Annotated[Agent | None, Field(description="代办人；本人办理时省略")]


class PersonQuery(Strict):
    """Body of read-only person lookups (ID number kept out of URLs and access logs)."""

    id_number: IdNumber


class Page(BaseModel):
    page: int
    page_size: int
    total: int


DueBasis = Annotated[
    Literal["immediate", "filed", "on_acceptance", "accepted", "none"],
    Field(
        description="办结时限的起算：immediate 即时办结；filed 自提交日起算；on_acceptance "
        "柜台受理后起算（尚未受理，无日期）；accepted 自柜台受理日起算；none 无（不予受理/撤销）"
    ),
]


class Receipt(BaseModel):
    """What the kiosk prints/shows after a submission (no full personal data)."""

    number: str = Field(description="办件编号")
    item_no: int
    item_name: str
    status: str
    status_label: str
    submitted_at: dt.datetime
    due_date: dt.date | None = Field(None, description="办结期限（工作日推算）")
    due_estimated: bool = Field(False, description="节假日安排未公布，按周末推算")
    due_note: str = ""
    queue_no: str | None = None
    message: str = ""
    agent: AgentOut | None = Field(None, description="代办人（脱敏）；本人办理时为空")
    due_basis: DueBasis = "filed"
    time_limit_days: int = Field(0, description="附件2 办结时限的工作日数；0 为即时办结")
    accepted_on: dt.date | None = Field(None, description="柜台受理日（预约柜台办理）")
    check_code: str = Field(
        "",
        description="进度查询校验码：凭证二维码的进度链接带上它才能打开（平台生成，防止遍历编号）",
    )
