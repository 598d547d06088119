"""The receipt printer: ESC/POS encoder, driver, preview renderer and simulator.

``open_printer(section, publish, data_dir)`` is the factory the composition root calls; with
``url = "sim://"`` it also runs a :class:`PrinterSimulator` on a pty and points the driver at it.
Heavy modules (Pillow, qrcode) are imported by the submodules, not here at package import.

Modules: ``commands`` (named byte constants and builders), ``profile`` (printer differences as
data), ``encoder`` (one job's bytes, pure), ``layout`` (the receipt and test page), ``parser`` +
``preview`` (bytes → PNG), ``status`` (reply parsing), ``driver`` (serial I/O, one ``_raw``
hook), ``simulator`` (a printer on a pty).

Why not python-escpos (3.1)? Its structure is the model here (one encoder, one ``_raw`` hook,
profiles as data), but for this kiosk it gets the three hard parts wrong: ``text()`` picks
GB18030 only when a string holds a character in U+4E00–U+9FA5 and otherwise goes through
single-byte code pages, so a line of only CJK punctuation or of characters outside that range
(e.g. 䶮 U+4DAE) prints as '?' (issue #678: no way to say "this printer is Chinese"); ``paper_status()`` treats an
empty reply as paper present, which is exactly the lie we must not tell; and it loads its
capability database at import time and has no notion of a printable character set, a raster
fallback for rare characters, or a "printed" confirmation. Wrapping it would mean overriding
text, status and QR — most of what we use — so the encoder is our own, byte-tested against
PROTOCOLS.md §4, and the parser/preview (which no library offers) shares its constants.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.devices.base import SIM_URL, SimulatedSerialRuntime

if TYPE_CHECKING:
    from kiosk.devices.printer.driver import EscPosPrinter
    from kiosk.devices.printer.profile import PrinterProfile
    from kiosk.devices.printer.simulator import PrinterSimulator

__all__ = ["SIM_OUTPUT_DIR", "SIM_URL", "PrinterRuntime", "open_printer"]

SIM_OUTPUT_DIR = "printer-sim"


@dataclass
class PrinterRuntime(SimulatedSerialRuntime):
    """What the composition root holds: the driver, its profile and the simulator (or None).

    ``start()`` starts the simulator (if any), then opens the driver and its status monitor.
    """

    driver: EscPosPrinter
    profile: PrinterProfile
    simulator: PrinterSimulator | None = None


def open_printer(
    section: Any,
    publish: Callable[[Any], None],
    data_dir: str | Path,
    poll_interval: float = 5.0,
) -> PrinterRuntime:
    """Build (not start) the printer for a ``PrinterSection``; raises ProfileError for bad config."""
    from kiosk.devices.printer.driver import EscPosPrinter
    from kiosk.devices.printer.profile import PrinterProfile

    profile = PrinterProfile.from_section(section)
    simulator = None
    if section.url == SIM_URL:
        from kiosk.devices.printer.simulator import PrinterSimulator

        simulator = PrinterSimulator(
            output_dir=Path(data_dir) / SIM_OUTPUT_DIR,
            paper_width_dots=profile.paper_width_dots,
        )
    driver = EscPosPrinter(
        "" if simulator else section.url,
        baudrate=section.baudrate,
        confirm_printed=section.confirm_printed,
        status_timeout=section.status_timeout_seconds,
        poll_interval=poll_interval,
        publish=publish,
    )
    return PrinterRuntime(driver=driver, profile=profile, simulator=simulator)
