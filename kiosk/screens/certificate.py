"""《就业创业证》查询 (item 13): the resident's certificate as one card of labelled values."""

from __future__ import annotations

from pathlib import Path

from kivy.properties import StringProperty

from kiosk.domain.items.views import CertificateView
from kiosk.screens.flow_base import FlowScreen

KV_FILE = Path(__file__).with_suffix(".kv")


class CertificateScreen(FlowScreen):
    """``show(item_no)``; the platform's 404 (no certificate) shows as the message."""

    voice_key = "certificate"

    header_text = StringProperty("")
    body_text = StringProperty("")

    def show(self, argument) -> None:
        definition = self.controller.flows.definition(int(argument))
        self.clear()
        self.heading = definition.name
        self.controller.load_certificate(self, definition.no)

    def fill(self, view: CertificateView) -> None:
        self.header_text = "\n".join(f"{c.label}：{c.text}" for c in view.header)
        self.body_text = "\n".join(f"{c.label}：{c.text}" for c in view.cells)

    def clear(self) -> None:
        super().clear()
        self.header_text = ""
        self.body_text = ""
