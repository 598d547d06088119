"""The end of every submission: reference number, 办结时限, status, and the receipt.

已受理 when the platform has it; 已保存，联网后自动提交 when it is safely in the outbox; 提交未被受理
with the platform's reason. The receipt is printed and shown beside the result (below it in
portrait): the picture the printer's own renderer draws, QR code included, large enough for a
phone to scan from the glass. When the printer fails the screen says 打印机故障，请拍照或记下受理编号.
UI thread only.
"""

from __future__ import annotations

import io
from pathlib import Path

from kivy.clock import Clock
from kivy.core.image import Image as CoreImage
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty

from kiosk.domain.prompts import ScreenSpeech, item_title
from kiosk.screens.flow_base import FlowScreen
from kiosk.services.flows import SubmissionResult

KV_FILE = Path(__file__).with_suffix(".kv")
PRINTER_FAILED = "打印机故障，请拍照或记下受理编号"
PREVIEW_CAPTION = "↑ 您的凭证（与打印的相同，可上下滑动）"
PREVIEW_INSTEAD = "↑ 您的凭证，请拍照保存（可上下滑动）"
QR_ON_GLASS_PX = 300  # the QR code's side on screen at scale 1: a phone reads it from ~30 cm


def due_text(result: SubmissionResult) -> str:
    """The 办结时限 as the catalogue says it ("即时办结（已办结）", "2026年12月29日",
    "受理后2个工作日内办结"), or "" when there is none to promise."""
    if result.deadline is not None:
        return result.deadline.label_zh()
    return result.due.label_zh() if result.due is not None else ""


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

    def __init__(self, **kwargs) -> None:
        self._center_trigger = Clock.create_trigger(self._center_qr_now)
        super().__init__(**kwargs)

    accepted = BooleanProperty(False)
    status_text = StringProperty("")
    reference = StringProperty("")
    due = StringProperty("")
    queue_number = StringProperty("")
    detail = StringProperty("")
    print_text = StringProperty("")
    printed = BooleanProperty(False)
    has_preview = BooleanProperty(False)
    preview_caption = StringProperty("")
    preview_aspect = NumericProperty(0.6)  # the receipt picture's width / height
    preview_qr = ObjectProperty(None, allownone=True)  # (top, bottom) rows of its QR code
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
        self.preview_qr = result.preview_qr
        self._show_preview(result.preview_png)
        self.preview_caption = PREVIEW_CAPTION if result.printed else PREVIEW_INSTEAD
        follow = self.controller.next_step(result) if self.controller else None
        self.next_item, self.next_text = follow or (0, "")

    def _show_preview(self, png: bytes | None) -> None:
        if png:
            image = CoreImage(io.BytesIO(png), ext="png", nocache=True)
            self.receipt_texture = image.texture
            self.preview_aspect = image.texture.width / max(1, image.texture.height)
            self.has_preview = True
        else:
            self.receipt_texture = None
            self.has_preview = False

    @staticmethod
    def preview_width(room: tuple[float, float], scale: float, texture, qr) -> float:
        """The receipt picture's width on screen in *room* (width, height): the whole receipt
        if its QR code (*qr*: its rows) is then big enough, else zoomed until the code is
        ``QR_ON_GLASS_PX`` (never wider than the room; the picture then scrolls)."""
        room_width, room_height = room
        if texture is None or room_width <= 0:
            return 0
        whole = max(0, min(room_width, room_height * texture.width / max(1, texture.height)))
        if qr is None:
            return whole
        top, bottom = qr
        zoom_for_qr = QR_ON_GLASS_PX * scale / max(1, bottom - top)
        return min(room_width, max(whole, texture.width * zoom_for_qr))

    def center_qr(self) -> None:
        """Scroll the receipt so its QR code is in the middle of the view (next frame, once
        the zoomed picture has its size)."""
        self._center_trigger()

    def _center_qr_now(self, *_args) -> None:
        scroll = self.ids.receipt_scroll
        texture = self.receipt_texture
        content = scroll.children[0] if scroll.children else None
        if texture is None or content is None or self.preview_qr is None:
            return
        spare = content.height - scroll.height
        if spare <= 0:
            return
        zoom = self.ids.receipt.height / max(1, texture.height)
        top, bottom = self.preview_qr
        middle = (top + bottom) / 2 * zoom + (content.height - self.ids.receipt.height) / 2
        offset = min(max(middle - scroll.height / 2, 0), spare)
        scroll.scroll_y = 1 - offset / spare

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
        self.preview_caption = ""
        self.preview_qr = None
        self.next_item = 0
        self.next_text = ""
