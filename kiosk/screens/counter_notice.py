"""A counter-only item (18 of them): the full one-time notice, then 预约柜台办理.

The notice tells content, targets, conditions and materials, the time limit, the procedure and
what the item rests on (办事程序, 办事依据) and the counter's opening hours, so the resident comes
once with everything. 预约柜台办理 asks for identity if
needed and opens the work-order form; submitting it forwards a work order to the counter and
prints a receipt with the queue number. UI thread only.
"""

from __future__ import annotations

from pathlib import Path

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens.flow_base import FlowScreen

KV_FILE = Path(__file__).with_suffix(".kv")


class CounterNoticeScreen(FlowScreen):
    """``show(item_no)`` of a counter-only item."""

    voice_key = "counter_notice"

    item_no = NumericProperty(0)
    content = StringProperty("")
    targets = StringProperty("")
    conditions = StringProperty("")
    materials = StringProperty("")
    time_limit = StringProperty("")
    counter_hours = StringProperty("")
    procedure = StringProperty("")
    basis = StringProperty("")
    eligibility_applies = BooleanProperty(False)

    def show(self, argument) -> None:
        notice = self.controller.flows.counter_notice(int(argument))  # local data, no I/O
        self.item_no = notice.item_no
        self.heading = notice.name
        self.message = ""
        self.content = notice.content
        self.targets = notice.targets
        self.conditions = notice.conditions
        self.materials = notice.materials
        self.time_limit = notice.time_limit
        self.counter_hours = notice.counter_hours
        self.procedure = "\n".join(f"{n}. {step}" for n, step in enumerate(notice.procedure, 1))
        self.basis = "\n".join(notice.basis)
        self.eligibility_applies = notice.eligibility_applies
        self.ids.scroll.scroll_y = 1

    def book(self) -> None:
        self.controller.book_counter(int(self.item_no))

    def clear(self) -> None:
        super().clear()
        self.item_no = 0
        for name in ("content", "targets", "conditions", "materials", "time_limit"):
            setattr(self, name, "")
        self.counter_hours = ""
        self.procedure = ""
        self.basis = ""
        self.eligibility_applies = False
