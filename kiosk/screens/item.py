"""One item told in full at once (一次性告知): content, targets, conditions and materials,
channel and time limit, the procedure (办事程序) and what the item rests on (办事依据) — the
四公开 of 附件4 line 12 — with a clear 自助办理 / 柜台办理 badge and what to do next."""

from __future__ import annotations

from pathlib import Path

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.domain.catalogue import MATERIALS_ALL, ServiceItem
from kiosk.domain.prompts import ScreenSpeech
from kiosk.screens.base import KioskScreen

KV_FILE = Path(__file__).with_suffix(".kv")

CHANNEL_TEXT = {"柜面": "服务点柜台", "自助机": "本机（自助服务终端）"}


def materials_text(item: ServiceItem) -> str:
    """The conditions line plus the documents to bring, stated unambiguously (和 / 任选其一)."""
    if not item.materials:
        return item.conditions
    if item.materials_rule == MATERIALS_ALL or len(item.materials) == 1:
        docs = "、".join(item.materials) + ("（都需要）" if len(item.materials) > 1 else "")
    else:
        docs = "、".join(item.materials) + "（任选其一）"
    return f"{item.conditions}\n请准备：{docs}"


def time_limit_text(item: ServiceItem) -> str:
    """ "即时办结（当场办好）" or "N个工作日（不含法定节假日和周末）"."""
    if item.is_instant:
        return f"{item.time_limit_text}（当场办好）"
    return f"{item.time_limit_text}（按工作日计算，不含周末和法定节假日）"


def procedure_text(item: ServiceItem) -> str:
    """The steps, numbered ("1. …\n2. …")."""
    return "\n".join(f"{n}. {step}" for n, step in enumerate(item.procedure, 1))


def basis_text(item: ServiceItem) -> str:
    """One document a line."""
    return "\n".join(item.basis)


def action_hint(item: ServiceItem, can_start: bool) -> str:
    """What the resident does next, truthfully for this kiosk's current capabilities."""
    if not item.kiosk_runs:
        if can_start:
            return "本事项需到柜台办理：点击“预约柜台办理”取号，再带齐上述材料到柜台。"
        return "本事项需到服务点柜台办理：请带齐上述材料，工作人员为您办理。"
    if can_start:
        return "点击“开始办理”，按屏幕提示操作。"
    return "本机的自助办理流程尚未开通，请到服务点柜台办理。"


class ItemScreen(KioskScreen):
    """Shows one item; :meth:`show` fills every field, :meth:`clear` empties every field."""

    item_no = NumericProperty(0)
    title = StringProperty("")
    category_name = StringProperty("")
    kiosk_runs = BooleanProperty(False)
    content = StringProperty("")
    targets = StringProperty("")
    conditions = StringProperty("")
    channels = StringProperty("")
    time_limit = StringProperty("")
    procedure = StringProperty("")
    basis = StringProperty("")
    hint = StringProperty("")
    can_start = BooleanProperty(False)

    def show(self, item_no: int) -> None:
        """Fill the screen with item *item_no*; KeyError for an unknown number."""
        item = self.services.catalogue.item(item_no)
        # Counter-only items can be started too: the flows forward a pre-application (预约).
        self.can_start = self.services.item_flows is not None
        self.item_no = item.no
        self.title = item.name
        self.category_name = item.category
        self.kiosk_runs = item.kiosk_runs
        self.content = item.content
        self.targets = item.targets
        self.conditions = materials_text(item)
        self.channels = "、".join(CHANNEL_TEXT.get(c, c) for c in item.channels)
        self.time_limit = time_limit_text(item)
        self.procedure = procedure_text(item)
        self.basis = basis_text(item)
        self.hint = action_hint(item, self.can_start)
        self.ids.scroll.scroll_y = 1

    def speech(self) -> ScreenSpeech:
        return ScreenSpeech(guidance=("item_notice" if self.kiosk_runs else "item_notice_counter",))

    def start(self) -> None:
        """Hand the item to the resident-flows service (only reachable when ``can_start``)."""
        if self.can_start:
            self.services.item_flows.start(self.services.catalogue.item(int(self.item_no)))

    def shown_text(self) -> str:
        """Everything the screen shows as text (tests use it to prove a wipe)."""
        return "".join(
            str(getattr(self, name))
            for name in ("title", "category_name", "content", "targets", "conditions")
            + ("channels", "time_limit", "procedure", "basis", "hint")
        )

    def clear(self) -> None:
        self.item_no = 0
        self.can_start = False
        for name in ("title", "category_name", "content", "targets", "conditions"):
            setattr(self, name, "")
        for name in ("channels", "time_limit", "procedure", "basis", "hint"):
            setattr(self, name, "")
        self.ids.scroll.scroll_y = 1
