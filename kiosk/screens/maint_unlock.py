"""Maintenance sign-in: scan the operator's e-SSC QR, or choose your account and type its PIN.

Shown after the hidden gesture. The QR arrives as a ``QrScanned`` event (the controller,
:class:`kiosk.screens.maint_mode.MaintenanceMode`, forwards it). The offline PIN belongs to a
named account: the accounts that may use one here (on the synced roster, active, with a PIN set)
are offered as buttons (masked name, role), one is chosen (preselected when there is only one),
and the PIN is typed on a large on-screen keypad, shown only as dots. Errors (wrong PIN with
tries left, locked until …, account locked or cancelled, attempts not countable, offline) come
back as ``message``. UI thread only.
"""

from __future__ import annotations

from pathlib import Path

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens.base import KioskScreen
from kiosk.screens.theme import SIZES
from kiosk.screens.widgets import KioskButton

KV_FILE = Path(__file__).with_suffix(".kv")
PIN_MAX = 12
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "删除", "0", "确定")
MAX_ACCOUNTS_SHOWN = 4  # a village kiosk has one or two operators with a PIN
NO_ACCOUNTS = "本机暂无可用维护密码的账号（需联网同步工作人员名单，并由管理员设置维护密码）"
CHOOSE_ACCOUNT = "请先点选您的账号"


class MaintUnlockScreen(KioskScreen):
    """The sign-in screen; ``keys[label]`` are the keypad buttons (tests tap them)."""

    message = StringProperty("")
    tone = StringProperty("info")
    pin_dots = StringProperty("")
    busy = BooleanProperty(False)
    seconds_left = NumericProperty(0)
    account = StringProperty("")  # the chosen account's login ("" until one is chosen)
    accounts_note = StringProperty("")
    account_buttons_shown = BooleanProperty(False)

    def __init__(self, *, maint, **kwargs) -> None:
        super().__init__(**kwargs)
        self.maint = maint
        self._pin = ""
        self.account_buttons: dict[str, KioskButton] = {}
        self.keys: dict[str, KioskButton] = {}
        for label in KEYS:
            button = KioskButton(text=label, primary=label == "确定")
            button.bind(on_release=lambda _b, key=label: self.press(key))
            self.keys[label] = button
            self.ids.keypad.add_widget(button)

    def press(self, key: str) -> None:
        """One keypad press: a digit, 删除 (delete the last digit) or 确定 (sign in)."""
        if self.busy:
            return
        if key == "删除":
            self._pin = self._pin[:-1]
        elif key == "确定":
            if not self.account:
                self.message, self.tone = CHOOSE_ACCOUNT, "bad"
            elif self._pin:
                self.maint.sign_in_with_pin(self.account, self._pin)
            return
        elif len(self._pin) < PIN_MAX:
            self._pin += key
        self.pin_dots = "●" * len(self._pin)

    def clear_pin(self) -> None:
        self._pin = ""
        self.pin_dots = ""

    def set_accounts(self, accounts) -> None:
        """Offer *accounts* (:class:`~kiosk.domain.roles.OperatorAccount`) as buttons."""
        from kivy.app import App

        app = App.get_running_app()
        box = self.ids.accounts
        box.clear_widgets()
        self.account_buttons.clear()
        for operator in accounts[:MAX_ACCOUNTS_SHOWN]:
            button = KioskButton(text=f"{operator.name_masked} {operator.role.label}")
            button.primary = False
            # body size: "周* 设备厂商工程师" must fit half a landscape panel
            button.ids.label.font_size = SIZES.text_body * (app.scale if app else 1)
            button.bind(on_release=lambda _b, login=operator.account: self.choose(login))
            self.account_buttons[operator.account] = button
            box.add_widget(button)
        self.accounts_note = "" if accounts else NO_ACCOUNTS
        self.account_buttons_shown = bool(accounts)
        self.choose(accounts[0].account if len(accounts) == 1 else "")

    def choose(self, login: str) -> None:
        """Make *login* the account the PIN is for (its button drawn as chosen)."""
        self.account = login
        for account, button in self.account_buttons.items():
            button.primary = account == login
        if self.message == CHOOSE_ACCOUNT:
            self.message = ""

    def reset(self) -> None:
        """Fresh screen for a new sign-in (keys at the touch-target floor, so the keypad fits
        a landscape panel too)."""
        from kivy.app import App

        app = App.get_running_app()
        for button in self.keys.values():
            button.height = SIZES.touch_min * app.scale
        self._place_account_choice(app.portrait)
        self.set_accounts([])
        self.accounts_note = ""
        self.clear_pin()
        self.message = ""
        self.tone = "info"
        self.busy = False

    def _place_account_choice(self, portrait: bool) -> None:
        """The heading and account buttons head the PIN panel in portrait; in landscape they
        sit under 方式一 (that panel has room; the keypad's panel has none)."""
        choice = self.ids.pin_choice
        if portrait:
            target, index = self.ids.pin_panel, len(self.ids.pin_panel.children)
        else:
            target, index = self.ids.qr_panel, 1  # above the panel's bottom filler
        if choice.parent is not target:
            choice.parent.remove_widget(choice)
            target.add_widget(choice, index=min(index, len(target.children)))

    def cancel(self) -> None:
        self.maint.exit_maintenance("unlock_cancelled")

    def clear(self) -> None:
        self.reset()
