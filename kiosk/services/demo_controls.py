"""Demo mode's hands: insert cards, scan codes and make printer faults on the simulators.

:class:`DemoControls` is what a presenter (keyboard shortcuts, a demo panel, the screenshot tour)
uses to play the resident and the hardware. Every action goes to a simulator that speaks the
real protocol over its real transport, so the kiosk sees exactly what it would see from real
hardware: the virtual social security card (pcscd + vpcd or in-process), the ID card reader
on its pty, the QR scanner on its pty and the printer on its pty.

Each action is a method returning a short Chinese result line for the screen; :meth:`actions`
lists them with their labels and keyboard shortcuts for a panel. An action whose simulator is
not running (device disabled in config, or a real device configured) raises
:class:`DemoUnavailable` with a Chinese message. Methods return at once (the simulators work
on their own threads); call them from any one thread (the UI thread in the app).
Result lines and logs never name the demo person on the card.

e-SSC codes are signed, valid 120 s and verify once, so a demo cannot replay fixed strings:
``essc_minter`` (the embedded platform's issuer, :func:`kiosk.services.embedded_backend.
demo_essc_code`) mints a fresh code for a demo account label each time F5 (a resident, in
turn) or F9 (an operator for the maintenance sign-in, in turn) is pressed. Minting touches the
platform's database, so it runs on a short-lived thread and the code reaches the scanner a
moment later.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.devices.idcard.demo_cards import demo_cards

log = logging.getLogger(__name__)

# Labels of the reference backend's demo accounts (kiosk_backend/seed/demo.py); each scan mints
# a fresh code for one. Kept here as data: the kiosk never imports the backend's seed.
DEMO_RESIDENTS = tuple(f"ESSC-DEMO-RESIDENT-{n:02d}" for n in range(1, 11))
# operator (active), vendor's engineer, 系统管理员, 业务管理员
DEMO_OPERATORS = tuple(f"ESSC-DEMO-OPERATOR-{n:02d}" for n in (1, 3, 4, 5))
NO_MINTER_MESSAGE = "演示平台未运行，无法生成电子社保卡码"
DEFAULT_SSCARD = "gen2"
DEFAULT_IDCARD = "resident"


class DemoUnavailable(RuntimeError):
    """The simulator an action needs is not running; ``str()`` is a Chinese line for the screen."""


@dataclass(frozen=True)
class DemoAction:
    """One button of a demo panel: ``key`` names the method, ``shortcut`` the keyboard key."""

    key: str
    label: str
    shortcut: str


ACTIONS = (
    DemoAction("insert_sscard", "插入社保卡", "F1"),
    DemoAction("remove_sscard", "拔出社保卡", "F2"),
    DemoAction("place_idcard", "放置身份证", "F3"),
    DemoAction("lift_idcard", "取走身份证", "F4"),
    DemoAction("scan_essc", "扫描电子社保卡码", "F5"),
    DemoAction("toggle_paper", "打印机缺纸/装纸", "F6"),
    DemoAction("toggle_cover", "打开/合上纸仓盖", "F7"),
    DemoAction("scan_operator_essc", "扫描工作人员电子社保卡码", "F9"),
)


class DemoControls:
    """See the module docstring. Any simulator may be None (that device is not simulated).

    *sscard* is a ``VirtualCardControl``, *idcard* an ``IdCardSimulator``, *scanner* a
    ``ScannerSimulator``, *printer* a ``PrinterSimulator``; *refresh_printer* asks the printer
    driver to re-read the printer's status now (so the status screen follows a fault at once
    instead of at the next poll); *essc_minter* mints a fresh e-SSC code for a demo account
    label (None: no demo platform, the e-SSC actions are unavailable).
    """

    def __init__(
        self,
        *,
        sscard: Any = None,
        idcard: Any = None,
        scanner: Any = None,
        printer: Any = None,
        refresh_printer: Callable[[], None] = lambda: None,
        essc_minter: Callable[[str], str] | None = None,
        residents: tuple[str, ...] = DEMO_RESIDENTS,
        operators: tuple[str, ...] = DEMO_OPERATORS,
    ) -> None:
        if not residents or not operators:
            raise ValueError("residents and operators must not be empty")
        self._sscard = sscard
        self._idcard = idcard
        self._scanner = scanner
        self._printer = printer
        self._refresh_printer = refresh_printer
        self._minter = essc_minter
        self._residents = itertools.cycle(residents)
        self._operators = itertools.cycle(operators)
        self._minting: threading.Thread | None = None
        self.paper_out = False
        self.cover_open = False

    # -- the panel ---------------------------------------------------------------------------
    @staticmethod
    def actions() -> tuple[DemoAction, ...]:
        """Every action in panel order, with label and shortcut."""
        return ACTIONS

    def available(self, key: str) -> bool:
        """True when the simulator behind action *key* is running."""
        device = {
            "insert_sscard": self._sscard,
            "remove_sscard": self._sscard,
            "place_idcard": self._idcard,
            "lift_idcard": self._idcard,
            "scan_essc": self._scanner if self._minter else None,
            "scan_operator_essc": self._scanner if self._minter else None,
            "toggle_paper": self._printer,
            "toggle_cover": self._printer,
        }
        if key not in device:
            raise KeyError(key)
        return device[key] is not None

    def run(self, key: str) -> str:
        """Run action *key* with its defaults; returns the result line. KeyError if unknown."""
        if key not in {action.key for action in ACTIONS}:
            raise KeyError(key)
        return getattr(self, key)()

    # -- social security card ----------------------------------------------------------------
    def insert_sscard(self, profile: str = DEFAULT_SSCARD) -> str:
        """Insert the demo card *profile* (``gen1``/``gen2``/``gen3``/``expired``/...)."""
        control = self._need(self._sscard, "社保卡读卡器")
        if profile not in control.profiles:
            raise DemoUnavailable(f"没有名为 {profile} 的演示社保卡")
        control.insert(profile)
        log.info("demo: sscard inserted", extra={"event": "demo", "state": profile})
        return "已插入演示社保卡"

    def remove_sscard(self) -> str:
        control = self._need(self._sscard, "社保卡读卡器")
        control.remove()
        log.info("demo: sscard removed", extra={"event": "demo"})
        return "已拔出社保卡"

    # -- ID card -----------------------------------------------------------------------------
    def place_idcard(self, card: str = DEFAULT_IDCARD) -> str:
        """Lay the demo ID card *card* (``resident``/``long_term``/``appended``/...) down."""
        simulator = self._need(self._idcard, "身份证阅读器")
        if card not in demo_cards():
            raise DemoUnavailable(f"没有名为 {card} 的演示身份证")
        simulator.place(card)
        log.info("demo: idcard placed", extra={"event": "demo", "state": card})
        return "已放置演示身份证"

    def lift_idcard(self) -> str:
        simulator = self._need(self._idcard, "身份证阅读器")
        simulator.lift()
        log.info("demo: idcard lifted", extra={"event": "demo"})
        return "已取走身份证"

    # -- QR scanner --------------------------------------------------------------------------
    def scan_essc(self, label: str | None = None) -> str:
        """Show a fresh e-SSC code of the demo resident *label* (default: the next one in
        turn) to the scanner."""
        self._scan_fresh(label or next(self._residents))
        return "已扫描电子社保卡码"

    def scan_operator_essc(self, label: str | None = None) -> str:
        """Show a fresh e-SSC code of the demo operator *label* (default: the next one in
        turn: operator, vendor, 系统管理员, 业务管理员) to the scanner (maintenance sign-in)."""
        self._scan_fresh(label or next(self._operators))
        return "已扫描工作人员电子社保卡码"

    def _scan_fresh(self, label: str) -> None:
        simulator = self._need(self._scanner, "扫码器")
        minter = self._minter
        if minter is None:
            raise DemoUnavailable(NO_MINTER_MESSAGE)

        def mint_and_scan() -> None:
            try:
                code = minter(label)
            except Exception as exc:  # an unknown label or a platform not yet seeded
                log.warning(
                    "demo: e-SSC code not minted",
                    extra={"event": "demo", "state": type(exc).__name__},
                )
                return
            simulator.scan(code)
            log.info("demo: code scanned", extra={"event": "demo"})  # the code is personal

        self._minting = threading.Thread(target=mint_and_scan, name="demo-essc", daemon=True)
        self._minting.start()

    def wait_scanned(self, timeout: float = 10.0) -> bool:
        """Wait until the last e-SSC code was minted and handed to the scanner (tests)."""
        if self._minting is not None:
            self._minting.join(timeout)
            return not self._minting.is_alive()
        return True

    # -- printer -----------------------------------------------------------------------------
    def set_paper_out(self, out: bool) -> str:
        simulator = self._need(self._printer, "打印机")
        simulator.set_paper("end" if out else "ok")
        self.paper_out = out
        self._refresh_printer()
        log.info("demo: paper", extra={"event": "demo", "state": "end" if out else "ok"})
        return "打印机已缺纸" if out else "打印机已装纸"

    def toggle_paper(self) -> str:
        return self.set_paper_out(not self.paper_out)

    def set_cover_open(self, is_open: bool) -> str:
        simulator = self._need(self._printer, "打印机")
        simulator.set_cover_open(is_open)
        self.cover_open = is_open
        self._refresh_printer()
        log.info("demo: cover", extra={"event": "demo", "state": "open" if is_open else "closed"})
        return "纸仓盖已打开" if is_open else "纸仓盖已合上"

    def toggle_cover(self) -> str:
        return self.set_cover_open(not self.cover_open)

    @staticmethod
    def _need(simulator: Any, what: str) -> Any:
        if simulator is None:
            raise DemoUnavailable(f"{what}不是演示模拟设备（已停用或接的是真实设备）")
        return simulator
