"""Problem categories of 附件5 (故障排除上下联动工作流程) and the common problems a resident can pick.

附件5 calls every problem met at a service point a "fault": 系统性问题, 功能性问题 and 业务指导性问题.
Device faults raised by the kiosk itself (printer, readers, network) are a fourth kind that 附件5
does not name; they are kept apart so that hardware never lands in the province task force's queue.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kiosk.domain.validation import FieldInvalid, validate_phone, validate_text


class ProblemCategory(enum.StrEnum):
    SYSTEM = "system"  # 系统性问题
    FUNCTIONAL = "functional"  # 功能性问题
    GUIDANCE = "guidance"  # 业务指导性问题
    DEVICE = "device"  # 设备故障 (raised automatically by the kiosk)


CATEGORY_LABELS: dict[ProblemCategory, str] = {
    ProblemCategory.SYSTEM: "系统性问题",
    ProblemCategory.FUNCTIONAL: "功能性问题",
    ProblemCategory.GUIDANCE: "业务指导性问题",
    ProblemCategory.DEVICE: "设备故障",
}

CATEGORY_HINTS: dict[ProblemCategory, str] = {
    ProblemCategory.SYSTEM: "流程不符合逻辑、操作不便捷、界面不美观",
    ProblemCategory.FUNCTIONAL: "缺少与实际工作对应的操作模块",
    ProblemCategory.GUIDANCE: "操作错误、不懂操作",
    ProblemCategory.DEVICE: "打印机、读卡器、扫码器、网络等设备问题",
}


@dataclass(frozen=True)
class CommonProblem:
    code: str
    category: ProblemCategory
    text: str


# What a resident can pick with one tap on the 问题反映 screen (no free text needed).
COMMON_PROBLEMS: tuple[CommonProblem, ...] = (
    CommonProblem("sys-flow", ProblemCategory.SYSTEM, "办理步骤不合理，来回跳转"),
    CommonProblem("sys-slow", ProblemCategory.SYSTEM, "操作太繁琐，步骤太多"),
    CommonProblem("sys-ui", ProblemCategory.SYSTEM, "字太小或看不清"),
    CommonProblem("fn-missing", ProblemCategory.FUNCTIONAL, "想办的事项在机器上找不到"),
    CommonProblem("fn-result", ProblemCategory.FUNCTIONAL, "查不到自己的记录"),
    CommonProblem("guide-how", ProblemCategory.GUIDANCE, "不知道怎么操作"),
    CommonProblem("guide-error", ProblemCategory.GUIDANCE, "操作时提示错误，不知道怎么办"),
    CommonProblem("guide-material", ProblemCategory.GUIDANCE, "不清楚需要准备什么材料"),
)


def common_problem(code: str) -> CommonProblem:
    for problem in COMMON_PROBLEMS:
        if problem.code == code:
            return problem
    raise KeyError(code)


def problems_in(category: ProblemCategory) -> tuple[CommonProblem, ...]:
    return tuple(p for p in COMMON_PROBLEMS if p.category is category)


# --- device faults the kiosk reports by itself ----------------------------------------------------

# fault_key → what the ledger shows. Keys are "<device>.<condition>"; an unknown condition of a
# known device falls back to the device's generic label.
FAULT_LABELS: dict[str, str] = {
    "printer.paper_end": "打印机缺纸",
    "printer.cover_open": "打印机纸仓盖未关",
    "printer.offline": "打印机离线或无应答",
    "printer.error": "打印机故障",
    "idcard.offline": "身份证阅读器离线或无应答",
    "idcard.sam_fault": "身份证阅读器安全模块(SAM)故障",
    "idcard.read_failed": "身份证连续读取失败",
    "sscard.offline": "社保卡读卡器离线或读卡服务未运行",
    "sscard.read_failed": "社保卡连续读取失败",
    "sscard.sam_fault": "社保卡认证模块(PSAM)故障或未配置",
    "backend.unreachable": "服务平台长时间无法连接",
    "storage.full": "本机存储空间不足，无法保存新的办件",
    "clock.skew": "本机时钟与服务平台相差过大",
}
_DEVICE_LABELS = {
    "printer": "打印机故障",
    "idcard": "身份证阅读器故障",
    "sscard": "社保卡读卡器故障",
    "scanner": "扫码器故障",
    "backend": "网络或服务平台故障",
    "storage": "本机存储故障",
    "clock": "本机时钟故障",
}


def fault_label(fault_key: str) -> str:
    """The Chinese label of a device fault key (a generic one for unknown keys)."""
    if fault_key in FAULT_LABELS:
        return FAULT_LABELS[fault_key]
    return _DEVICE_LABELS.get(fault_key.split(".", 1)[0], "设备故障")


# --- validated problem reports (问题反映) -----------------------------------------------------------

RESIDENT_CATEGORIES = (ProblemCategory.SYSTEM, ProblemCategory.FUNCTIONAL, ProblemCategory.GUIDANCE)
DESCRIPTION_MAX = 500
SUGGESTION_MAX = 500


@dataclass(frozen=True)
class ProblemReport:
    """A checked 问题反映, ready to send. ``reporter`` is "resident" or "operator".

    ``phone`` is personal data: it travels only in the encrypted outbox payload, never in logs.
    """

    reporter: str
    category: ProblemCategory
    description: str
    problem_code: str = ""
    suggestion: str = ""
    phone: str = ""

    def __repr__(self) -> str:  # keep the phone out of tracebacks and logs
        masked = "***" if self.phone else ""
        return (
            f"ProblemReport(reporter={self.reporter!r}, category={self.category.value!r}, "
            f"problem_code={self.problem_code!r}, phone={masked!r})"
        )


def _category(value: str | ProblemCategory, allowed: tuple[ProblemCategory, ...]):
    try:
        category = ProblemCategory(value)
    except ValueError:
        raise FieldInvalid("category", "请选择问题类别") from None
    if category not in allowed:
        raise FieldInvalid("category", "请选择问题类别")
    return category


def _problem_in(category: ProblemCategory, code: str) -> CommonProblem:
    """The common problem *code*, which must belong to *category*; raises FieldInvalid."""
    try:
        problem = common_problem(code)
    except KeyError:
        raise FieldInvalid("problem_code", "请选择遇到的问题") from None
    if problem.category is not category:
        raise FieldInvalid("problem_code", "所选问题不属于该类别，请重新选择")
    return problem


def _optional_phone(phone: str | None) -> str:
    if phone is None or not str(phone).strip():
        return ""
    return validate_phone(str(phone), "phone", "联系电话")


def resident_report(
    category: str | ProblemCategory, problem_code: str, phone: str | None = None
) -> ProblemReport:
    """What a resident picked on the 问题反映 screen: a category, one of its common problems and
    an optional phone. Raises :class:`kiosk.domain.validation.FieldInvalid` (field + Chinese
    message, never echoing the phone) for a device category, an unknown problem, a problem of
    another category or a malformed phone."""
    chosen = _category(category, RESIDENT_CATEGORIES)
    problem = _problem_in(chosen, problem_code)
    return ProblemReport(
        reporter="resident",
        category=chosen,
        description=problem.text,
        problem_code=problem.code,
        phone=_optional_phone(phone),
    )


def operator_report(
    category: str | ProblemCategory,
    description: str,
    suggestion: str = "",
    phone: str | None = None,
    problem_code: str = "",
) -> ProblemReport:
    """The operators' full form (maintenance mode): any category including 设备故障, a required
    description (问题描述) and an optional suggestion (建议解决办法). Raises ``FieldInvalid``."""
    chosen = _category(category, tuple(ProblemCategory))
    text = validate_text(description or "", "description", "问题描述", DESCRIPTION_MAX)
    if len(text) < 4:
        raise FieldInvalid("description", "请把“问题描述”写清楚（至少4个字）")
    advice = validate_text(suggestion or "", "suggestion", "建议解决办法", SUGGESTION_MAX)
    if problem_code:
        _problem_in(chosen, problem_code)
    return ProblemReport(
        reporter="operator",
        category=chosen,
        description=text,
        problem_code=problem_code,
        suggestion=advice,
        phone=_optional_phone(phone),
    )
