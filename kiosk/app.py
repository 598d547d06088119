"""The GUI's composition root: config → services → runtime components → screens → KioskApp.

Imported only by :func:`kiosk.screens.bootstrap.start_gui`, after Kivy's environment and window
size are set (this module imports Kivy). :func:`build_app` wires what the first frame needs
(catalogue, session, the home screen); the rest — runtime, voice, flow screens, maintenance,
the components — is built right after home is first drawn (:mod:`kiosk.startup_steps`), so
this module imports none of it at the top. The app itself only navigates, runs the idle timer
and owns the overlays. Screens receive one services facade (:class:`KioskServices`,
keyword-only) and never reach for globals.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kivy.app import App
from kivy.base import ExceptionHandler, ExceptionManager
from kivy.cache import Cache
from kivy.clock import Clock
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.config import KioskConfig
from kiosk.domain.catalogue import Catalogue, CatalogueError, ServiceItem
from kiosk.domain.clock import ServiceClock
from kiosk.domain.idle import IdleState, IdleTimer
from kiosk.domain.items import ItemDataError
from kiosk.domain.items.procedure import load_published_catalogue
from kiosk.domain.prompts import PromptTableError, ScreenSpeech
from kiosk.logsetup import failure_summary
from kiosk.paths import ShippedFilesMissing
from kiosk.paths import data_dir as resolve_data_dir
from kiosk.screens import home, widgets
from kiosk.screens.base import KioskScreen
from kiosk.screens.bootstrap import EXIT_CONFIG, EXIT_NO_DISPLAY, GuiOptions, StartupError
from kiosk.screens.chime import Chime
from kiosk.screens.dispatch import UiDispatcher
from kiosk.screens.voice_guide import VoiceGuide
from kiosk.services.bus import EventBus
from kiosk.services.session import EndReason, Session, SessionManager
from kiosk.services.voice import VoiceService, VoiceSettings, load_overrides, voice_library
from kiosk.services.watchdog import ActivityStamp, SystemdNotifier
from kiosk.startup_steps import DeferredStartup

if TYPE_CHECKING:
    from kiosk.services.runtime import KioskRuntime

log = logging.getLogger(__name__)

# Kivy caches rendered TextInput text for a minute; a wipe must not leave a resident's typing.
TEXT_CACHES = ("textinput.label", "textinput.width")
# What the first frame draws; the other screens' KV is loaded after it (_build_screens).
FIRST_FRAME_KV_FILES = (widgets.KV_FILE, home.KV_FILE)
# Start the deferred start-up even if the first home frame was not recognised by then.
FIRST_FRAME_WAIT_SECONDS = 5.0
# At exit, wait this long for the start-up thread (an import cut in half at exit can crash).
STARTUP_THREAD_JOIN_SECONDS = 30.0
WEEKDAYS = "一二三四五六日"
IDLE_POLL_SECONDS = 0.25


class ItemFlows(Protocol):
    """Runs an item's self-service flow (the resident-flows work provides it)."""

    def start(self, item: ServiceItem) -> None: ...


class RuntimeComponent(Protocol):
    """Something that runs beside the UI for the app's lifetime (simulators, backend, outbox).

    ``start()`` is called on the UI thread in :meth:`KioskApp.on_start` and must not block
    (start your own thread); ``stop()`` is called once at exit, in reverse order, even after
    a crash, and must be safe to call when ``start()`` failed half-way.
    """

    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True, kw_only=True)
class KioskServices:
    """The one object screens talk to. Extend it here; screens must not import services."""

    config: KioskConfig
    catalogue: Catalogue
    session: SessionManager
    bus: EventBus
    # None until the resident-flows work provides one: item screens then say the flow is not
    # yet available on this kiosk and send residents to the counter, rather than pretend.
    item_flows: ItemFlows | None = None
    # Devices, simulators and the platform connection (kiosk.services.runtime); None when
    # the app is built without them. printing/backend/demo are handles into it; demo is
    # set in demo mode only.
    runtime: KioskRuntime | None = None
    printing: object | None = None
    backend: object | None = None
    demo: object | None = None
    # The voice guidance (kiosk.services.voice); None when the prompts could not be loaded.
    voice: VoiceService | None = None
    # The service point's clock: every time and date on screen (kiosk.domain.clock).
    clock: ServiceClock = field(default_factory=ServiceClock)


class RecoverFromUiErrors(ExceptionHandler):
    """Keeps the kiosk running when a UI callback raises: log it, wipe, go home.

    A public kiosk must not drop to a desktop because one screen had a bug. The session is
    ended (the error may have left a screen half-filled with a resident's data) on the next
    frame. KeyboardInterrupt and SystemExit still stop the app, and so does an error storm
    (:data:`ERROR_STORM` errors within :data:`ERROR_STORM_SECONDS`): a UI that fails every
    frame cannot recover by itself; exiting lets the service manager restart it cleanly.
    """

    ERROR_STORM = 5
    ERROR_STORM_SECONDS = 10.0

    def __init__(self, app: KioskApp, clock=time.monotonic) -> None:
        super().__init__()
        self._app = app
        self._clock = clock
        self._recent: list[float] = []

    def handle_exception(self, inst):
        if isinstance(inst, KeyboardInterrupt | SystemExit):
            return ExceptionManager.RAISE
        now = self._clock()
        self._recent = [t for t in self._recent if now - t < self.ERROR_STORM_SECONDS] + [now]
        if len(self._recent) >= self.ERROR_STORM:
            log.critical("UI errors keep repeating; stopping", extra={"event": "ui_error"})
            return ExceptionManager.RAISE
        # A screen's error may quote a resident's name or address: type and place only.
        log.error("unhandled UI error: %s", failure_summary(inst), extra={"event": "ui_error"})
        Clock.schedule_once(lambda _dt: self._app.recover_from_error(), 0)
        return ExceptionManager.PASS


def build_runtime_components(config: KioskConfig, services: KioskServices) -> list:
    """The components to run beside the UI, in start order (see kiosk.services.runtime):
    session wiring, backend, printer, ID card reader, card reader, scanner, health recorder."""
    return list(services.runtime.components) if services.runtime is not None else []


def build_app(
    config: KioskConfig,
    *,
    font: Path,
    options: GuiOptions,
    allow_short_timers: bool = False,
) -> KioskApp:
    """Wire what the first frame needs and the app; the rest is built after that frame
    (:attr:`KioskApp.startup`). Raises StartupError for a bad catalogue/window."""
    from kivy.core.window import Window

    if Window is None:
        raise StartupError(
            "no display: the window could not be opened (see the log under the data directory)",
            EXIT_NO_DISPLAY,
        )
    LabelBase.register(DEFAULT_FONT, str(font))
    try:
        catalogue = load_published_catalogue()  # with each item's 办事程序
    except (CatalogueError, ItemDataError) as exc:
        raise StartupError(f"事项目录错误 / catalogue error: {exc}", EXIT_CONFIG) from None
    bus = EventBus(dispatcher=UiDispatcher())
    session = SessionManager(publish=bus.publish)
    services = KioskServices(
        clock=ServiceClock(config.kiosk.timezone),
        config=config,
        catalogue=catalogue,
        session=session,
        bus=bus,
    )
    idle = IdleTimer(
        idle_seconds=config.session.idle_seconds,
        prompt_seconds=config.session.prompt_seconds,
        clock=options.idle_clock,
        allow_short=allow_short_timers,
    )
    app = KioskApp(
        services=services,
        idle=idle,
        data_dir=resolve_data_dir(config.kiosk.data_dir),
        options=options,
    )
    ExceptionManager.add_handler(RecoverFromUiErrors(app))
    return app


def build_runtime_and_voice(
    services: KioskServices, data_dir: Path, options: GuiOptions
) -> tuple[KioskRuntime, VoiceService | None]:
    """The runtime (built, not started) and the voice (its audio thread started): the part of
    the start-up that runs on a background thread, so nothing here may touch Kivy. Also
    imports the flows facade, which the next, UI-thread step needs. Raises what
    :func:`~kiosk.services.runtime.build_runtime` raises (an outbox store that cannot open)."""
    import kiosk.services.flows  # noqa: F401  (pure Python: warmed here, used on the UI thread)
    from kiosk.devices.sound import SdlMixer
    from kiosk.services.runtime import build_runtime
    from kiosk.services.voice import open_voice

    config = services.config
    runtime = build_runtime(
        config, data_dir, services.bus, session=services.session, options=options.runtime
    )
    try:
        voice = open_voice(
            config,
            data_dir=data_dir,
            catalogue=services.catalogue,
            mixer=options.mixer or SdlMixer(),
        )
    except (PromptTableError, ShippedFilesMissing) as exc:
        log.error("voice guidance unavailable: %s", exc, extra={"event": "voice"})
        voice = None
    return runtime, voice


def voice_expected(config: KioskConfig, data_dir: Path) -> bool:
    """Whether 朗读 will be offered once the voice is open (configured and not muted by
    maintenance): the first frame shows the button so that it does not pop in later."""
    return not load_overrides(VoiceSettings.from_config(config.voice), data_dir).muted


class KioskApp(App):
    """The kiosk's Kivy app: one ScreenManager, screens built once, overlays, idle handling.

    UI state lives in Kivy properties the KV files bind to. ``allow_exit`` stays False outside
    maintenance mode: Escape and window-close requests are then refused.

    ``build()`` makes the home screen only; once it is drawn, :attr:`startup` builds the rest
    (runtime and voice on a thread, then the other screens, flows, maintenance, components)
    and finally calls ``options.on_start``. A touch before then completes it first.
    """

    title = "就近办 自助服务"
    scale = NumericProperty(1.0)
    portrait = BooleanProperty(True)
    service_point = StringProperty("")
    counter_hours = StringProperty("")
    operator_phone = StringProperty("")
    clock_text = StringProperty("")
    allow_exit = BooleanProperty(False)
    flows_ready = BooleanProperty(False)
    idle_prompt_shown = BooleanProperty(False)
    help_shown = BooleanProperty(False)
    read_aloud_available = BooleanProperty(False)  # the 朗读 button: voice present, not muted
    logo_path = StringProperty("")  # the county's logo in the top bar ("" = none)

    def __init__(
        self,
        *,
        services: KioskServices,
        idle: IdleTimer,
        data_dir: Path,
        options: GuiOptions,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.idle = idle
        self.data_dir = data_dir
        self.components: list = []  # the runtime's, once the deferred start-up built it
        self.options = options
        self.exit_code = 0
        self.startup_error: BaseException | None = None
        self.ui_errors = 0
        self.screens: dict[str, KioskScreen] = {}
        self._history: list[tuple[str, object]] = []
        self._started: list = []
        self._first_frame_seen = False
        self.notifier = SystemdNotifier.from_environ()
        self.activity = ActivityStamp(data_dir)
        self.demo_keys = None
        self.maintenance = None
        kiosk = services.config.kiosk
        self.service_point = kiosk.service_point
        self.counter_hours = kiosk.counter_hours
        self.operator_phone = kiosk.operator_phone
        self.voice = services.voice
        self.chime = Chime(services.config.display.chime_volume, self.voice)
        self.voice_guide = VoiceGuide(self, self.voice)
        try:
            logo = voice_library(services.config).logo()
        except ShippedFilesMissing:
            logo = None
        self.logo_path = str(logo) if logo else ""
        self.startup = DeferredStartup(
            lambda: build_runtime_and_voice(services, data_dir, options),
            (
                ("services", self._complete_services),
                ("screens", self._build_screens),
                ("flows", self._attach_flows),
                ("maintenance", self._install_maintenance),
                ("components", self._start_components),
            ),
            on_failure=self._startup_failed,
        )

    # ----------------------------------------------------------------- building
    def build(self):
        from kivy.core.window import Window

        for kv_file in FIRST_FRAME_KV_FILES:
            Builder.load_file(str(kv_file))
        self._on_window_size(Window, Window.size)
        Window.bind(size=self._on_window_size)
        Window.bind(on_request_close=self._on_request_close)
        Window.bind(on_keyboard=self._on_keyboard)
        Window.bind(on_touch_down=self._on_window_touch)
        Window.clearcolor = widgets.WINDOW_CLEAR_COLOR  # the page background (widgets.kv)

        self.manager = ScreenManager(transition=NoTransition())
        self.manager.bind(current=self._on_screen_changed)
        self._add_screen(home.HomeScreen, "home")
        self.root_layout = FloatLayout()
        self.root_layout.add_widget(self.manager)
        self.services.session.on_end(self._on_session_end)
        # Shown from the first frame: the deferred start-up provides both (a tap before it
        # has finished completes it first), so neither button pops in afterwards.
        self.flows_ready = True
        self.read_aloud_available = voice_expected(self.services.config, self.data_dir)
        # From the Kivy clock on purpose: a frozen UI thread stops the pings.
        Clock.schedule_interval(
            lambda _dt: self.notifier.ping(), self.notifier.ping_interval() or 10
        )
        self._tick_clock(0)
        Clock.schedule_interval(self._tick_clock, 1.0)
        Clock.schedule_interval(self._poll_idle, IDLE_POLL_SECONDS)
        return self.root_layout

    def _add_screen(self, screen_class: type, name: str) -> None:
        screen = screen_class(services=self.services, name=name)
        self.screens[name] = screen
        self.manager.add_widget(screen)

    def on_start(self) -> None:
        from kivy.core.window import Window

        Window.bind(on_flip=self._on_flip)
        Clock.schedule_once(lambda _dt: self.startup.begin(), FIRST_FRAME_WAIT_SECONDS)

    # ------------------------------------------------ the start-up after the first frame
    # DeferredStartup's steps, in this order, on the UI thread (see kiosk.startup_steps).
    def _complete_services(self, built: tuple[KioskRuntime, VoiceService | None]) -> None:
        """The runtime and voice built on the start-up thread, and the flows over them."""
        from kiosk.screens.flow_controller import build_flow_controller

        runtime, voice = built
        services = self.services
        self.services = dataclasses.replace(
            services,
            runtime=runtime,
            printing=runtime.printing,
            backend=runtime.backend,
            demo=runtime.demo,
            voice=voice,
            item_flows=build_flow_controller(
                services.config,
                catalogue=services.catalogue,
                session=services.session,
                runtime=runtime,
                clock=services.clock,
            ),
        )
        for screen in self.screens.values():
            screen.services = self.services
        self.components = build_runtime_components(services.config, self.services)
        self.voice = voice
        self.chime = Chime(services.config.display.chime_volume, voice)
        self.voice_guide.voice = voice
        self.read_aloud_available = self.voice_guide.available

    def _build_screens(self, _built) -> None:
        from kiosk.screens import category, item, overlays

        for kv_file in (overlays.KV_FILE, category.KV_FILE, item.KV_FILE):
            Builder.load_file(str(kv_file))
        self._add_screen(category.CategoryScreen, "category")
        self._add_screen(item.ItemScreen, "item")
        self.idle_prompt = overlays.IdlePrompt()
        self.help_panel = overlays.HelpPanel()

    def _attach_flows(self, _built) -> None:
        if hasattr(self.services.item_flows, "attach"):  # the resident-flow screens
            self.services.item_flows.attach(self)
        self.flows_ready = self.services.item_flows is not None

    def _install_maintenance(self, _built) -> None:
        """Maintenance mode: hidden gesture → e-SSC/PIN sign-in → the role's pages."""
        from kiosk.screens.maint_mode import install_maintenance
        from kiosk.services.maintenance import parts_from_runtime

        parts, client = parts_from_runtime(self.services.runtime)
        parts.voice = self.voice  # the 声音和语音 page
        self.maintenance = install_maintenance(
            self,
            data_dir=self.data_dir,
            backend=client,
            parts=parts,
            on_busy=lambda busy: self._touch_activity(busy=busy),
        )

    def _start_components(self, _built) -> None:
        from kivy.core.window import Window

        if self.services.demo is not None:
            from kiosk.screens.demo_keys import install_demo_keys

            self.demo_keys = install_demo_keys(
                self.root_layout, self.services.demo, lambda: self.scale
            )
            self.demo_keys.bind(Window)  # after App.run bound Kivy's F1: ours run first
        for component in self.components:
            log.info(
                "starting component", extra={"event": "component_start", "device": component.name}
            )
            self._started.append(component)
            component.start()
        if self.options.on_start is not None:
            self.options.on_start(self)

    def _startup_failed(self, exc: BaseException) -> None:
        """A deferred start-up part raised: stop; ``start_gui`` raises it after the loop."""
        self.startup_error = exc
        self.allow_exit = True
        self.stop()

    def shutdown_components(self) -> None:
        """Stop started components in reverse order; errors are logged, never raised."""
        while self._started:
            component = self._started.pop()
            try:
                component.stop()
            except Exception:
                log.exception("component stop failed", extra={"device": component.name})

    def on_stop(self) -> None:
        self.notifier.stopping()
        self.services.session.end(EndReason.SHUTDOWN)
        self.shutdown_components()
        # Stopped during the start-up (a benchmark at the first frame): let its thread end,
        # then close the voice it may have opened.
        built = self.startup.join_background(STARTUP_THREAD_JOIN_SECONDS)
        voice = self.voice if built is None else built[1]
        if voice is not None:
            voice.close()

    def open_settings(self, *_args) -> bool:
        """Kivy opens its settings panel on F1; a public kiosk never shows it."""
        return False

    # --------------------------------------------------------------- navigation
    @property
    def current_screen(self) -> str:
        return self.manager.current

    def show_category(self, category_name: str) -> None:
        """Open the list of *category_name* (starts a session if none is open)."""
        self._begin_interaction()
        self.screens["category"].show(category_name)
        self._navigate("category", category_name)

    def show_item(self, item_no: int) -> None:
        """Open item *item_no*'s 一次性告知 screen."""
        self._begin_interaction()
        self.screens["item"].show(item_no)
        self._navigate("item", item_no)

    def go_back(self) -> None:
        """Return to the previous screen; home when there is none."""
        if self._history:
            self._history.pop()
        if not self._history:
            self.go_home()
            return
        name, argument = self._history[-1]
        self.screens[name].show(argument)
        self.manager.current = name
        log.info("back", extra={"event": "navigate", "screen": name})

    def go_home(self) -> None:
        """Home, ending the session (which wipes every screen) — a fresh start for the next."""
        if not self.services.session.end(EndReason.RESIDENT_HOME):
            self._reset_to_home()

    def _navigate(self, name: str, argument: object) -> None:
        self._history.append((name, argument))
        self.manager.current = name
        extra = {"event": "navigate", "screen": name}
        if name == "item":
            extra["item"] = argument
        log.info("navigate", extra=extra)

    def _begin_interaction(self) -> None:
        if self.services.session.current is None:
            self.services.session.ensure_started()
            self.idle.restart()
            self._touch_activity(busy=True)

    def show_my_applications(self) -> None:
        """我的办件 from the home screen: identity first, then the person's applications."""
        if hasattr(self.services.item_flows, "show_my_applications"):
            self._begin_interaction()
            self.services.item_flows.show_my_applications()

    def _on_session_end(self, session: Session, reason: EndReason) -> None:
        self._touch_activity(busy=False)
        for screen in self.screens.values():
            screen.clear()
        for category_name in TEXT_CACHES:
            Cache.remove(category_name)
        self._reset_to_home()
        log.info("screens wiped", extra={"event": "wipe", "state": reason.value})
        self.voice_guide.session_ended(session, reason)

    def recover_from_error(self) -> None:
        """After an unhandled UI error: end the session (wiping every screen) and go home."""
        self.ui_errors += 1
        if not self.services.session.end(EndReason.UI_ERROR):
            for screen in self.screens.values():
                screen.clear()
            self._reset_to_home()

    def _reset_to_home(self) -> None:
        self._history.clear()
        self._hide_idle_prompt()
        self.close_help()
        self.manager.current = "home"

    # ---------------------------------------------------------------- overlays
    def open_help(self) -> None:
        """Chime, show where to find staff, and tell the operator on duty which screen (and
        item) needs help."""
        if not self.help_shown:
            self._begin_interaction()  # so the idle timeout also closes a forgotten panel
            self.help_panel.status = ""
            self.root_layout.add_widget(self.help_panel)
            self.help_shown = True
            self.voice_stop()
            chimed = self.chime.play()
            log.info(
                "help opened", extra={"event": "help", "state": "chime" if chimed else "silent"}
            )
            if hasattr(self.services.item_flows, "request_help"):
                self.help_panel.status = "正在通知工作人员……"
                self.services.item_flows.request_help(self.manager.current, self.current_item_no())

    def show_help_status(self, text: str) -> None:
        """What became of the help request (sent, or offline: go to the counter)."""
        self.help_panel.status = text

    def current_item_no(self) -> int | None:
        """The catalogue number of the item the current screen is about, if any."""
        if not self._history or self._history[-1][0] != self.manager.current:
            return None
        argument = self._history[-1][1]
        if isinstance(argument, tuple) and len(argument) == 2:
            argument = argument[1]  # the form's ("item" | "work_order", item_no)
        return argument if isinstance(argument, int) and not isinstance(argument, bool) else None

    def close_help(self) -> None:
        if self.help_shown:
            self.root_layout.remove_widget(self.help_panel)
            self.help_shown = False
            self.voice_stop()

    def continue_session(self) -> None:
        """The resident tapped during the prompt: keep everything, restart the idle period."""
        self.idle.activity()
        self._hide_idle_prompt()
        log.info("idle prompt dismissed", extra={"event": "idle", "state": "continue"})

    def end_session_from_prompt(self) -> None:
        self.services.session.end(EndReason.RESIDENT_EXIT)

    def _show_idle_prompt(self, seconds_left: int) -> None:
        self.idle_prompt.seconds_left = seconds_left
        if not self.idle_prompt_shown:
            self.root_layout.add_widget(self.idle_prompt)
            self.idle_prompt_shown = True
            self.voice_guide.idle_prompt(seconds_left, first=True)
            log.info("idle prompt shown", extra={"event": "idle", "state": "prompt"})
        else:
            self.voice_guide.idle_prompt(seconds_left, first=False)

    def _hide_idle_prompt(self) -> None:
        if self.idle_prompt_shown:
            self.root_layout.remove_widget(self.idle_prompt)
            self.idle_prompt_shown = False
            self.voice_stop()

    # -------------------------------------------------------------------- voice
    # The screens, the flow controller and the KV files speak through these (VoiceGuide).
    def read_aloud(self) -> None:
        self.voice_guide.read_aloud()

    def current_speech(self) -> ScreenSpeech:
        return self.voice_guide.current_speech()

    def voice_cue(self, *keys: str) -> None:
        self.voice_guide.cue(*keys)

    def voice_hint(self, key: str) -> None:
        self.voice_guide.hint(key)

    def voice_stop(self) -> None:
        self.voice_guide.stop()

    def _on_screen_changed(self, _manager, name: str) -> None:
        self.read_aloud_available = self.voice_guide.available  # maintenance may have muted
        self.voice_guide.screen_changed(name)

    # ------------------------------------------------------------- idle timing
    def _poll_idle(self, _dt: float) -> None:
        if self.services.session.current is None:
            return
        status = self.idle.poll()
        if status.state is IdleState.PROMPT:
            self._show_idle_prompt(status.seconds_left)
        elif status.state is IdleState.EXPIRED:
            log.info("idle timeout", extra={"event": "idle", "state": "expired"})
            self.services.session.end(EndReason.IDLE_TIMEOUT)
        elif self.idle_prompt_shown:
            self._hide_idle_prompt()

    def _on_window_touch(self, _window, _touch) -> bool:
        # Bound before any widget sees the touch: a tap in the seconds after the first frame
        # waits for the rest of the start-up rather than reach a half-built app.
        self.startup.finish_now()
        # The prompt decides itself what a touch on it means (continue, or 返回首页).
        if not self.idle_prompt_shown:
            self.idle.activity()
        self._touch_activity()
        return False

    def _touch_activity(self, busy: bool | None = None) -> None:
        # For the nightly restart-if-idle decision; throttled by ActivityStamp itself.
        if self.activity is not None:
            try:
                self.activity.touch(busy=busy)
            except OSError:
                log.warning("activity stamp not written", extra={"event": "activity"})

    def _on_keyboard(self, _window, key, *_args) -> bool:
        if not self.idle_prompt_shown:
            self.idle.activity()
        # Consuming Escape means it never quits (nor pauses) outside maintenance mode.
        return key == 27 and not self.allow_exit

    def _on_request_close(self, *_args, **kwargs) -> bool:
        if self.allow_exit:
            return False
        log.warning(
            "close request refused", extra={"event": "close", "state": kwargs.get("source", "")}
        )
        return True

    # -------------------------------------------------------------- the rest
    def _on_window_size(self, _window, size) -> None:
        width, height = size
        self.scale = max(min(width, height) / 1080.0, 0.1)
        self.portrait = height >= width

    def _tick_clock(self, _dt: float) -> None:
        now = self.services.clock.now()
        self.clock_text = f"{now.month}月{now.day}日 星期{WEEKDAYS[now.weekday()]}\n{now:%H:%M}"

    def _on_flip(self, *_args) -> None:
        if self._first_frame_seen or self.manager.current != "home":
            return
        greeting = self.screens["home"].ids.greeting
        if not greeting.texture_size[0]:
            return  # text not laid out yet: this frame is not the drawn home screen
        self._first_frame_seen = True
        self.notifier.ready("首页已显示")
        from kivy.core.window import Window

        Window.unbind(on_flip=self._on_flip)
        elapsed = seconds_since_process_start()
        log.info("first home frame", extra={"event": "first_frame", "ms": round(elapsed * 1000)})
        self.startup.begin()
        if self.options.on_first_frame is not None:
            self.options.on_first_frame(self, elapsed)


def seconds_since_process_start() -> float:
    """Seconds since this process was created (Linux /proc; 10 ms resolution)."""
    import os

    with open("/proc/self/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    start_ticks = int(fields[19])  # field 22 of stat(5); fields[0] is field 3
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / ticks_per_second
