"""Maintenance mode in the running app: the hidden gesture, sign-in, pages, the idle exit.

:func:`install_maintenance` is the one call the composition root makes (``kiosk/app.py``): it
loads the maintenance KV files, adds the three maintenance screens to the app's ScreenManager,
feeds every window touch to the :class:`~kiosk.domain.gesture.GestureRecognizer`, listens for
``QrScanned`` on the bus (only while the unlock screen shows) and polls the maintenance session
every second. :class:`MaintenanceMode` owns the flow:

gesture → :meth:`open_unlock` (the resident session is ended first, which wipes every resident
screen) → PIN or e-SSC QR → :class:`~kiosk.services.maintenance_auth.MaintenanceAuth` on a worker
thread → maintenance home (the role's menu only) → a page (:class:`MaintenanceFacade` on a
worker thread) → back home after :meth:`exit_maintenance`, the idle timeout, or a restart.

Threads: sign-in, pages and actions block (argon2, HTTP, printing, diagnostics), so they run on
short-lived worker threads and come back with ``Clock.schedule_once``; everything else is UI
thread only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder

from kiosk.domain.gesture import DOWN, MOVE, UP, GestureRecognizer, GestureSpec
from kiosk.domain.roles import Permission
from kiosk.logsetup import failure_summary
from kiosk.services.maintenance import ActionResult, MaintenanceFacade, Panel
from kiosk.services.maintenance_auth import (
    MaintenanceAuth,
    MaintenanceAuthError,
    MaintenanceSession,
)

log = logging.getLogger(__name__)

SCREEN_UNLOCK, SCREEN_HOME, SCREEN_PANEL = "maint_unlock", "maint_home", "maint_panel"
MAINT_SCREENS = (SCREEN_UNLOCK, SCREEN_HOME, SCREEN_PANEL)
POLL_SECONDS = 1.0
UNLOCK_TIMEOUT_S = 90.0  # the unlock screen itself goes home if nobody signs in
BUSY_MESSAGES = {
    ("diagnostics", "run"): "正在自检：请按需放置身份证、插入社保卡、扫码（每项最多等30秒）",
    ("diagnostics", "bundle"): "正在导出诊断包……",
    ("acceptance", "print"): "正在打印……",
    ("print_queue", "reprint"): "正在补打……",
}


class MaintenanceMode:
    """The maintenance flow of one app; see the module docstring. UI thread only."""

    def __init__(
        self,
        app: Any,
        facade: MaintenanceFacade,
        auth: MaintenanceAuth,
        *,
        gesture_spec: GestureSpec | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_busy: Callable[[bool], None] | None = None,
    ) -> None:
        self.app = app
        self._on_busy = on_busy or (lambda _busy: None)
        self.facade = facade
        self.auth = auth
        self.session: MaintenanceSession | None = None
        self._clock = clock
        self._unlock_opened_at = 0.0
        self._page_key = ""
        self._busy = False
        self._stopping = False
        self.gesture: GestureRecognizer | None = None
        self._gesture_spec = gesture_spec
        self.screens: dict[str, Any] = {}

    # -- installation ----------------------------------------------------------------------

    def install(self) -> None:
        """Load KV, add the screens, bind touches and the bus, start the poll timer."""
        from kivy.core.window import Window

        from kiosk.screens import maint_home, maint_panel, maint_unlock, maint_widgets

        for module in (maint_widgets, maint_unlock, maint_home, maint_panel):
            Builder.load_file(str(module.KV_FILE))
        for cls, name in (
            (maint_unlock.MaintUnlockScreen, SCREEN_UNLOCK),
            (maint_home.MaintHomeScreen, SCREEN_HOME),
            (maint_panel.MaintPanelScreen, SCREEN_PANEL),
        ):
            screen = cls(services=self.app.services, maint=self, name=name)
            self.screens[name] = screen
            self.app.manager.add_widget(screen)
        self.gesture = GestureRecognizer(Window.width, Window.height, self._gesture_spec)
        Window.bind(size=self._on_window_size)
        Window.bind(on_touch_down=self._on_touch_down)
        Window.bind(on_touch_move=self._on_touch_move)
        Window.bind(on_touch_up=self._on_touch_up)
        from kiosk.devices.scanner.events import QrScanned

        self.app.services.bus.subscribe(QrScanned, self._on_qr)
        Clock.schedule_interval(self._poll, POLL_SECONDS)

    @property
    def active(self) -> bool:
        """True while a maintenance screen is showing."""
        return self.app.manager.current in MAINT_SCREENS

    # -- the gesture and touches -------------------------------------------------------------

    def _on_window_size(self, _window, size) -> None:
        if self.gesture is not None:
            self.gesture.resize(*size)

    def _feed(self, touch, kind: str) -> None:
        if self.active:
            if self.session is not None:
                self.session.touch()
            else:
                self._unlock_opened_at = self._clock()
            return
        if self.gesture is not None and self.gesture.feed(self._clock(), touch.x, touch.y, kind):
            log.info("maintenance gesture", extra={"event": "maintenance", "state": "gesture"})
            # after this touch has been dispatched (a corner button may react to it first)
            Clock.schedule_once(lambda _dt: self.open_unlock(), 0)

    def _on_touch_down(self, _window, touch) -> bool:
        self._feed(touch, DOWN)
        return False

    def _on_touch_move(self, _window, touch) -> bool:
        self._feed(touch, MOVE)
        return False

    def _on_touch_up(self, _window, touch) -> bool:
        self._feed(touch, UP)
        return False

    # -- unlock ------------------------------------------------------------------------------

    def open_unlock(self) -> None:
        """End any resident session (wiping its screens), then show the sign-in screen."""
        from kiosk.services.session import EndReason

        self.app.close_help()
        self.app.services.session.end(EndReason.RESIDENT_EXIT)
        self._unlock_opened_at = self._clock()
        unlock = self.screens[SCREEN_UNLOCK]
        unlock.reset()
        self.app.manager.current = SCREEN_UNLOCK
        # Not through _run: reading two small files must not hold off a QR scanned meanwhile.
        threading.Thread(
            target=self._offer_accounts, args=(unlock,), name="maintenance-accounts", daemon=True
        ).start()

    def _offer_accounts(self, unlock) -> None:
        """(worker) The PIN accounts from the roster and the PIN file, onto the screen."""
        try:
            accounts = self.auth.pin_accounts()
        except Exception:  # a damaged file must not keep the e-SSC sign-in from working
            log.exception("PIN accounts unavailable", extra={"event": "maintenance"})
            accounts = []
        Clock.schedule_once(lambda _dt: unlock.set_accounts(accounts), 0)

    def sign_in_with_pin(self, account: str, pin: str) -> None:
        self._sign_in(lambda: self.auth.sign_in_with_pin(account, pin))

    def _on_qr(self, event) -> None:
        if self.app.manager.current == SCREEN_UNLOCK and self.session is None:
            code = event.code
            self._sign_in(lambda: self.auth.sign_in_with_qr(code))

    def _sign_in(self, attempt: Callable[[], MaintenanceSession]) -> None:
        if self._busy:
            return
        unlock = self.screens[SCREEN_UNLOCK]
        unlock.busy = True
        unlock.message = "正在验证……"
        unlock.tone = "info"

        def done(session: MaintenanceSession | None, error: str) -> None:
            unlock.busy = False
            if session is None:
                unlock.message = error
                unlock.tone = "bad"
                unlock.clear_pin()
                return
            self.session = session
            # Closing the window is leaving to the desktop: only for who may exit to desktop.
            self.app.allow_exit = session.can(Permission.EXIT_TO_DESKTOP)
            self._on_busy(True)  # e.g. ActivityStamp.touch(busy=True): no idle restart now
            log.info("maintenance signed in", extra={"event": "maintenance", "state": "signed_in"})
            self.open_home()

        def work() -> None:
            try:
                session = attempt()
            except MaintenanceAuthError as exc:
                message = exc.message  # `exc` is unbound once the except block ends
                Clock.schedule_once(lambda _dt: done(None, message), 0)
                return
            except Exception as exc:  # never leave the screen spinning
                log.error(
                    "maintenance sign-in failed: %s",
                    failure_summary(exc),
                    extra={"event": "maintenance"},
                )
                Clock.schedule_once(lambda _dt: done(None, "验证出错，请稍后再试"), 0)
                return
            Clock.schedule_once(lambda _dt: done(session, ""), 0)

        self._run(work)

    # -- pages and actions ---------------------------------------------------------------------

    def open_home(self) -> None:
        session = self.session
        if session is None:
            return
        self.screens[SCREEN_HOME].show(session, self.facade.menu(session))
        self.app.manager.current = SCREEN_HOME

    def open_page(self, key: str) -> None:
        """Build page *key* on a worker thread and show it (errors come back as a message)."""
        session = self.session
        if session is None or self._busy:
            return
        self._page_key = key
        home = self.screens[SCREEN_HOME]
        home.busy = True

        def done(panel: Panel | None, error: str) -> None:
            home.busy = False
            if panel is None:
                home.message = error
                return
            self.screens[SCREEN_PANEL].show(panel)
            self.app.manager.current = SCREEN_PANEL

        self._run(lambda: self._call(lambda: self.facade.panel(session, key), done))

    def act(self, action: str) -> None:
        """Run *action* of the current page, show its result and refresh the page."""
        session = self.session
        if session is None or self._busy:
            return
        page = self._page_key
        panel_screen = self.screens[SCREEN_PANEL]
        panel_screen.busy = True
        panel_screen.set_message(BUSY_MESSAGES.get((page, action), "正在处理……"), "info")

        def work() -> None:
            try:
                result = self.facade.act(session, page, action)
                panel = None if result.shutdown else self.facade.panel(session, page)
            except Exception as exc:
                message = getattr(exc, "message", "") or "操作失败，请查看运行日志"
                if not getattr(exc, "message", ""):
                    log.error(
                        "maintenance action failed: %s",
                        failure_summary(exc),
                        extra={"event": "maintenance"},
                    )
                result, panel = ActionResult(message, "bad"), None
            Clock.schedule_once(lambda _dt: self._action_done(result, panel), 0)

        self._run(work)

    def _action_done(self, result: ActionResult, panel: Panel | None) -> None:
        panel_screen = self.screens[SCREEN_PANEL]
        panel_screen.busy = False
        if panel is not None:
            panel_screen.show(panel)
        panel_screen.set_message(result.message, result.tone)
        if result.shutdown is not None:
            self._shutdown(result.shutdown)
        elif self.session is None or self.session.ended:
            self.exit_maintenance("expired")

    def _shutdown(self, request) -> None:
        log.warning(
            "maintenance shutdown",
            extra={"event": "maintenance", "state": request.reason, "code": request.exit_code},
        )
        self._stopping = True
        self._end_session("shutdown")
        self.app.exit_code = request.exit_code
        self.app.allow_exit = True
        Clock.schedule_once(lambda _dt: self.app.stop(), 1.0)

    def _call(self, fn, done) -> None:
        """Run *fn* (on this worker thread) and hand ``(value, error message)`` to *done*."""
        try:
            value = fn()
        except Exception as exc:
            message = getattr(exc, "message", "") or "出错了，请查看运行日志"
            if not getattr(exc, "message", ""):
                log.error(
                    "maintenance page failed: %s",
                    failure_summary(exc),
                    extra={"event": "maintenance"},
                )
            Clock.schedule_once(lambda _dt: done(None, message), 0)
            return
        Clock.schedule_once(lambda _dt: done(value, ""), 0)

    def _run(self, work: Callable[[], None]) -> None:
        self._busy = True

        def wrapper() -> None:
            try:
                work()
            finally:
                Clock.schedule_once(lambda _dt: self._set_idle(), 0)

        threading.Thread(target=wrapper, name="maintenance-worker", daemon=True).start()

    def _set_idle(self) -> None:
        self._busy = False

    # -- leaving -------------------------------------------------------------------------------

    def exit_maintenance(self, reason: str = "exit") -> None:
        """End the maintenance session (audited), forget every page, go to the home screen."""
        self._end_session(reason)
        for screen in self.screens.values():
            screen.clear()
        self.facade.last_diagnostics = None
        self.facade.last_acceptance = None
        self.app.manager.current = "home"
        log.info("maintenance left", extra={"event": "maintenance", "state": reason})

    def _end_session(self, reason: str) -> None:
        if self.session is not None:
            self.session.end(reason)
            self.session = None
            self.app.allow_exit = False
            self._on_busy(False)

    def _poll(self, _dt: float) -> None:
        if self._stopping:
            return
        if not self.active:
            if self.session is not None:
                # something else took the screen (e.g. a resident flow): maintenance is over
                self._end_session("left_screen")
                for screen in self.screens.values():
                    screen.clear()
            return
        if self.session is None:
            if self._clock() - self._unlock_opened_at > UNLOCK_TIMEOUT_S and not self._busy:
                self.exit_maintenance("unlock_timeout")
            return
        if self._busy:
            self.session.touch()  # a running self-test or print counts as activity
        if not self.session.poll():
            self.exit_maintenance("idle_timeout")
            return
        seconds = int(self.session.seconds_left())
        for screen in self.screens.values():
            screen.seconds_left = seconds


def install_maintenance(
    app: Any,
    *,
    data_dir: Path,
    backend: Any = None,
    parts: Any = None,
    gesture_spec: GestureSpec | None = None,
    on_busy: Callable[[bool], None] | None = None,
) -> MaintenanceMode:
    """Build the facade and auth from the app's config and install maintenance mode.

    *backend* is the kiosk's BackendClient (None: no e-SSC sign-in, PIN only); *parts* a
    :class:`~kiosk.services.maintenance.MaintenanceParts` with the live drivers and services
    (None: pages say "未接入"); *on_busy(bool)* is told when a maintenance session opens and
    closes (for ``ActivityStamp.touch(busy=…)``). Diagnostics and the bundle come from :mod:`kiosk.diag` (the
    composition layer), imported lazily.
    """
    import kiosk
    from kiosk.services.audit import AuditLog
    from kiosk.services.maintenance import MaintenanceParts
    from kiosk.services.maintenance_auth import BackendOperatorVerifier, PinStore
    from kiosk.services.operator_roster import OperatorRoster

    config = app.services.config
    section = config.maintenance
    parts = parts or MaintenanceParts()
    if parts.backend is None:
        parts.backend = backend
    if parts.diagnostics is None:
        from kiosk.diag.all import collect

        parts.diagnostics = lambda: collect(config, card_timeout=30.0, in_app=True)
    if parts.export_bundle is None:
        from kiosk.diag.bundle import write_bundle

        parts.export_bundle = lambda out: write_bundle(config, data_dir, out)
    facade = MaintenanceFacade(config, data_dir, parts, version=kiosk.__version__)
    auth = MaintenanceAuth(
        verifier=BackendOperatorVerifier(backend) if backend is not None else None,
        pin_store=PinStore(
            data_dir, max_tries=section.pin_max_tries, lock_minutes=section.pin_lock_minutes
        ),
        audit=AuditLog(data_dir),
        roster=OperatorRoster(data_dir, max_age_days=section.roster_max_age_days),
        idle_seconds=section.idle_seconds,
    )
    mode = MaintenanceMode(app, facade, auth, gesture_spec=gesture_spec, on_busy=on_busy)
    mode.install()
    return mode
