"""The service-point acceptance standard (附件4, 沁源县服务点建设暨验收标准) as data.

Eleven lines in four parts of 25 points each, 100 in all. The seed numbers the lines 1–6 and
8–12; there is no line 7, and we keep the seed's numbering so the printout matches the paper
form the inspector holds. ``check`` names the kiosk's own evidence for a line (see
:mod:`kiosk.services.acceptance`); lines without one are scored by the inspector.

Also the verdicts and a pure receipt layout (lines at most :data:`RECEIPT_WIDTH` columns, a
CJK character counting two) for the receipt printer. Pure: no I/O.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

RECEIPT_WIDTH = 48  # columns = 24 Chinese characters on 80 mm paper
INSPECTOR_TEXT = "由验收人员评分"


class Check(enum.StrEnum):
    """The evidence the kiosk can gather itself."""

    EQUIPMENT_ONLINE = "equipment_online"  # line 2
    PUBLICITY = "publicity"  # line 3
    STAFF_ACCOUNT = "staff_account"  # line 5
    UNIFIED_PLATFORM = "unified_platform"  # line 9


class Verdict(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INSPECTOR = "inspector"

    @property
    def label(self) -> str:
        return {"pass": "达标", "fail": "未达标", "inspector": INSPECTOR_TEXT}[self.value]


@dataclass(frozen=True)
class StandardLine:
    part: str
    part_points: int
    no: int
    text: str
    points: int
    check: Check | None = None


PARTS = ("一、基础设施", "二、人员配备", "三、开展业务", "四、制度建设")

STANDARD: tuple[StandardLine, ...] = (
    StandardLine(PARTS[0], 25, 1, "有固定的办公场所和基本的办公家具。", 10),
    StandardLine(
        PARTS[0],
        25,
        2,
        "有电脑、自助设备，并接入互联网络。（自助设备仅要求行政村和社区配置）",
        10,
        Check.EQUIPMENT_ONLINE,
    ),
    StandardLine(PARTS[0], 25, 3, "有公示服务事项和办理流程的渠道和载体。", 5, Check.PUBLICITY),
    StandardLine(
        PARTS[1],
        25,
        4,
        "配备至少一名负责就业社保业务的专兼职工作人员，确保就业社保业务有人负责。",
        10,
    ),
    StandardLine(
        PARTS[1], 25, 5, "工作人员完成登录就业社保服务信息系统权限申请。", 5, Check.STAFF_ACCOUNT
    ),
    StandardLine(
        PARTS[1],
        25,
        6,
        "工作人员参加了培训，并能掌握就业社保服务信息系统基本操作，"
        "了解基层开展就业社保业务的基本内容。",
        10,
    ),
    StandardLine(PARTS[2], 25, 8, "按照省统一规定的业务内容和办理流程开展业务。", 10),
    StandardLine(PARTS[2], 25, 9, "使用省统一的公共服务平台办理业务。", 5, Check.UNIFIED_PLATFORM),
    StandardLine(
        PARTS[2],
        25,
        10,
        "通过微信工作群或张贴海报等形式对外宣传基层办理就业社保业务相关内容。",
        10,
    ),
    StandardLine(PARTS[3], 25, 11, "与县级人社部门签订《合作协议》。", 15),
    StandardLine(
        PARTS[3],
        25,
        12,
        "落实国家人社部规定，实行首问负责制、全程代理制、一次性告知制和责任追究制。"
        "做到办事程序公开、办事依据公开、办事时限公开、办事结果公开。",
        10,
    ),
)

TOTAL_POINTS = 100


@dataclass(frozen=True)
class LineResult:
    """One line of the standard with the kiosk's verdict and the evidence behind it."""

    line: StandardLine
    verdict: Verdict
    evidence: tuple[str, ...] = ()

    @property
    def auto_points(self) -> int:
        return self.line.points if self.verdict is Verdict.PASS else 0


@dataclass(frozen=True)
class AcceptanceReport:
    """All lines, in the standard's order, with a summary of what the kiosk could verify."""

    service_point: str
    device_id: str
    checked_at: str  # local time, "YYYY-MM-DD HH:MM"
    results: tuple[LineResult, ...]

    @property
    def auto_points(self) -> int:
        """Points the kiosk verified itself (passes)."""
        return sum(r.auto_points for r in self.results)

    @property
    def auto_possible(self) -> int:
        """Points of the lines the kiosk can check."""
        return sum(r.line.points for r in self.results if r.verdict is not Verdict.INSPECTOR)

    @property
    def inspector_points(self) -> int:
        """Points left to the inspector."""
        return sum(r.line.points for r in self.results if r.verdict is Verdict.INSPECTOR)


def display_width(text: str) -> int:
    """Columns on a receipt or terminal: East Asian wide/full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# Punctuation that must not begin a line (Chinese line-breaking rules, 禁则).
_NO_LINE_START = frozenset("，。、；：？！）》」』】〕,.;:?!)%")


def wrap(text: str, width: int = RECEIPT_WIDTH, indent: str = "") -> list[str]:
    """Break *text* into lines of at most *width* columns (CJK-aware; breaks between any two
    characters, but never puts a closing punctuation mark at the start of a line)."""
    lines: list[str] = []
    current = ""
    for ch in text:
        candidate = current + ch
        if display_width(candidate) <= width:
            current = candidate
            continue
        carried = ""
        body = current
        shortest = len(indent) + 1 if lines else 1
        if ch in _NO_LINE_START and len(body) > shortest:
            # move the last character down so the punctuation does not open the line
            body, carried = body[:-1], body[-1]
        lines.append(body)
        current = indent + carried + ch
    if current or not lines:  # a last line of only spaces or a CR is still part of the text
        lines.append(current)
    return lines


def receipt_lines(report: AcceptanceReport, width: int = RECEIPT_WIDTH) -> list[str]:
    """The report as printable lines, none wider than *width* columns (default 24 汉字)."""
    out: list[str] = []
    out += wrap("就业社保服务点验收自查单", width)
    out += wrap(report.service_point, width)
    out += wrap(f"设备编号：{report.device_id}", width)
    out += wrap(f"自查时间：{report.checked_at}", width)
    out.append("-" * width)
    part = ""
    for result in report.results:
        if result.line.part != part:
            part = result.line.part
            out += wrap(f"{part}（{result.line.part_points}分）", width)
        head = f"{result.line.no}. {result.line.text}"
        out += wrap(head, width, indent="   ")
        out += wrap(f"   {result.line.points}分：{result.verdict.label}", width, indent="   ")
        for item in result.evidence:
            out += wrap(f"   · {item}", width, indent="     ")
    out.append("-" * width)
    out += wrap(
        f"本机自查得分 {report.auto_points}/{report.auto_possible} 分，"
        f"其余 {report.inspector_points} 分{INSPECTOR_TEXT}",
        width,
    )
    out += wrap("验收人签字：", width)
    out += wrap("验收日期：", width)
    return out
