"""The end of every submission: reference number, due date, status, and the receipt.

已受理 when the platform has it; 已保存，联网后自动提交 when it is safely in the outbox; 提交未被受理
with the platform's reason. The receipt is printed; when the printer fails the screen says
打印机故障，请拍照或记下受理编号 and shows the receipt image (with its QR code) instead.
UI thread only.
"""

from __future__ import annotations

import io
from pathlib import Path

from kivy.core.image import Image as CoreImage
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty

from kiosk.domain.prompts import ScreenSpeech, item_title
from kiosk.screens.flow_base import FlowScreen
from kiosk.services.flows import SubmissionResult

KV_FILE = Path(__file__).with_suffix(".kv")
PRINTER_FAILED = "打印机故障，请拍照或记下受理编号"


def due_text(result: SubmissionResult) -> str:
    """ "2026年12月29日（5个工作日内办结）" or "" without a due date."""
    if result.due is None:
        return ""
    return result.due.label_zh()


def spoken_result(result: SubmissionResult) -> ScreenSpeech:
    """已受理 (or saved, or refused), then: take the receipt, or it is on the screen."""
    if not result.accepted:
        return ScreenSpeech(title=item_title(result.item_no), guidance=("not_accepted",))
    status = "accepted" if result.delivered else "saved_offline"
    receipt = "take_receipt" if result.printed else "printer_failed"
    return ScreenSpeech(title=item_title(result.item_no), guidance=(status, receipt))


class ConfirmScreen(FlowScreen):
    """``show(result)`` with a :class:`SubmissionResult`."""

    _speech = ScreenSpeech()

    accepted = BooleanProperty(False)
    status_text = StringProperty("")
    reference = StringProperty("")
    due = StringProperty("")
    queue_number = StringProperty("")
    detail = StringProperty("")
    print_text = StringProperty("")
    printed = BooleanProperty(False)
    has_preview = BooleanProperty(False)
    receipt_texture = ObjectProperty(None, allownone=True)
    next_item = NumericProperty(0)
    next_text = StringProperty("")

    def show(self, argument) -> None:
        result: SubmissionResult = argument
        self._speech = spoken_result(result)
        self.heading = result.item_name
        self.accepted = result.accepted
        self.status_text = result.status_text
        self.reference = result.reference
        self.due = due_text(result)
        self.queue_number = result.queue_number
        self.detail = result.message
        self.printed = result.printed
        if not result.accepted:
            self.print_text = ""
        elif result.printed:
            self.print_text = result.print_message or "凭证已打印，请取走"
        else:
            reason = result.print_message or ""
            self.print_text = PRINTER_FAILED + (f"（{reason}）" if reason else "")
        self._show_preview(result.preview_png)
        follow = self.controller.next_step(result) if self.controller else None
        self.next_item, self.next_text = follow or (0, "")

    def _show_preview(self, png: bytes | None) -> None:
        if png:
            image = CoreImage(io.BytesIO(png), ext="png", nocache=True)
            self.receipt_texture = image.texture
            self.has_preview = True
        else:
            self.receipt_texture = None
            self.has_preview = False

    def speech(self) -> ScreenSpeech:
        return self._speech

    def finish(self) -> None:
        self.controller.finish_transaction()

    def open_my_applications(self) -> None:
        self.controller.show_my_applications()

    def open_next(self) -> None:
        if self.next_item:
            self.controller.open_item(int(self.next_item))

    def clear(self) -> None:
        super().clear()
        self._speech = ScreenSpeech()
        self.accepted = False
        self.status_text = ""
        self.reference = ""
        self.due = ""
        self.queue_number = ""
        self.detail = ""
        self.print_text = ""
        self.printed = False
        self.receipt_texture = None
        self.has_preview = False
        self.next_item = 0
        self.next_text = ""
