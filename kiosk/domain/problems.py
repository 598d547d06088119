"""Problem categories of 附件5 (故障排除上下联动工作流程) and the common problems a resident can pick.

附件5 calls every problem met at a service point a "fault": 系统性问题, 功能性问题 and 业务指导性问题.
Device faults raised by the kiosk itself (printer, readers, network) are a fourth kind that 附件5
does not name; they are kept apart so that hardware never lands in the province task force's queue.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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
