"""Run one GUI scenario of the kiosk in its own process and report what it observed.

A Kivy App runs once per process, so each GUI test calls :func:`run_scenario`, which starts
``python tests/gui_driver.py <scenario> <orientation>`` under the current display. The child
starts the real app (real config, font, KV files, screens), drives it with real taps through
Kivy's input path (:mod:`kiosk.screens.driver`) and prints one ``RESULT {json}`` line with its
observations; the test asserts on them. A failing step, a timeout or a crash is reported with
the child's stderr and log tail, never as a hang (the parent has a timeout too).
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from gui_child import ROOT, SCENARIO_CLOCK, pass_idle, print_result, run_child

SCENARIOS = {}


def scenario(function):
    SCENARIOS[function.__name__] = function
    return function


def run_scenario(
    name: str,
    data_dir: Path,
    *,
    orientation: str = "portrait",
    env: dict[str, str] | None = None,
    timeout: float = 240,
) -> dict:
    """Run scenario *name* in a child process; returns its observations (raises on failure)."""
    return run_child(
        Path(__file__).resolve(), name, data_dir, orientation=orientation, env=env, timeout=timeout
    )


# --------------------------------------------------------------------------- helpers (child)
def _screen_ready(app, name):
    from kiosk.screens.driver import Until

    return Until(lambda: app.current_screen == name, 15, f"screen {name}")


def _row_ready(app, no):
    from kiosk.screens.driver import Until

    def visible():
        try:
            app.screens["category"].row(no)
        except KeyError:
            return False
        return True

    return Until(visible, 15, f"row of item {no}")


def _open_item_by_taps(app, category_name, item_no):
    from kiosk.screens.driver import tap

    yield _screen_ready(app, "home")
    yield from tap(app.screens["home"].tile(category_name))
    yield _screen_ready(app, "category")
    yield _row_ready(app, item_no)
    yield from tap(app.screens["category"].row(item_no))
    yield _screen_ready(app, "item")


def _visible_widgets(widget):
    from kivy.uix.screenmanager import ScreenManager

    if widget.opacity == 0 or widget.width <= 0 or widget.height <= 0:
        return
    yield widget
    if isinstance(widget, ScreenManager):
        children = [widget.current_screen] if widget.current_screen else []
    else:
        children = widget.children
    for child in children:
        yield from _visible_widgets(child)


def _measure_ui(app):
    """Smallest visible text size and smallest visible button height, in window pixels."""
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.label import Label

    fonts, buttons = [], []
    for widget in _visible_widgets(app.root_layout):
        if isinstance(widget, Label) and widget.text.strip():
            fonts.append(widget.font_size)
        if isinstance(widget, ButtonBehavior):
            buttons.append(min(widget.width, widget.height))
    return {"min_font_px": min(fonts), "min_button_px": min(buttons), "labels": len(fonts)}


# ------------------------------------------------------------------------------ scenarios
@scenario
def navigate(app, seen):
    from kiosk.screens.driver import find_bar_button, tap

    yield _screen_ready(app, "home")
    yield 0.5
    seen["home"] = _measure_ui(app)
    seen["home"]["window"] = list(app.root_layout.size)
    yield from _open_item_by_taps(app, "我要找工作", 1)
    yield 0.5
    seen["item"] = {
        "title": app.screens["item"].title,
        "kiosk_runs": app.screens["item"].kiosk_runs,
        "shown": app.screens["item"].shown_text(),
        **_measure_ui(app),
    }
    seen["session_open_on_item"] = app.services.session.current is not None
    yield from tap(find_bar_button(app.screens["item"], "back_button"))
    yield _screen_ready(app, "category")
    seen["category_after_back"] = {
        "name": app.screens["category"].category_name,
        "rows": len(app.screens["category"].rows),
        **_measure_ui(app),
    }
    yield from tap(find_bar_button(app.screens["category"], "back_button"))
    yield _screen_ready(app, "home")
    seen["session_open_at_home"] = app.services.session.current is not None
    seen["item_text_at_home"] = app.screens["item"].shown_text()
    # A counter-only item through its category; then 首页 straight from the item screen.
    yield from _open_item_by_taps(app, "我要办社保卡", 38)
    seen["counter_item"] = {
        "kiosk_runs": app.screens["item"].kiosk_runs,
        "hint": app.screens["item"].hint,
    }
    yield from tap(find_bar_button(app.screens["item"], "home_button"))
    yield _screen_ready(app, "home")
    seen["item_text_after_home_button"] = app.screens["item"].shown_text()


@scenario
def idle_prompt_dismissed(app, seen):
    from kiosk.screens.driver import Until, tap

    yield from _open_item_by_taps(app, "我要找工作", 1)
    yield from pass_idle(app.idle.idle_seconds)
    yield Until(lambda: app.idle_prompt_shown, 20, "idle prompt")
    seen["prompt_seconds_left"] = app.idle_prompt.seconds_left
    seen["countdown_text"] = app.idle_prompt.ids.countdown.text
    yield from tap(app.idle_prompt.ids.countdown)  # anywhere but 返回首页
    yield 0.3
    seen["prompt_after_tap"] = app.idle_prompt_shown
    seen["screen_after_tap"] = app.current_screen
    seen["title_after_tap"] = app.screens["item"].title


@scenario
def idle_expires_to_home(app, seen):
    import kivy.uix.textinput  # noqa: F401  (registers the TextInput text caches)
    from kivy.cache import Cache

    from kiosk.screens.driver import Until

    yield from _open_item_by_taps(app, "我要办社保", 23)
    seen["title_before"] = app.screens["item"].title
    Cache.append("textinput.label", "typed-by-resident", "a rendered text")
    yield from pass_idle(app.idle.idle_seconds)
    yield Until(lambda: app.idle_prompt_shown, 20, "idle prompt")
    seen["prompt_shown"] = True
    yield from pass_idle(app.idle.prompt_seconds)
    yield Until(lambda: app.current_screen == "home", 30, "return to home after the countdown")
    seen["prompt_after_expiry"] = app.idle_prompt_shown
    seen["item_text_after_expiry"] = app.screens["item"].shown_text()
    seen["category_rows_after_expiry"] = len(app.screens["category"].rows)
    seen["session_after_expiry"] = app.services.session.current is not None
    seen["text_cache_after_expiry"] = Cache.get("textinput.label", "typed-by-resident")


@scenario
def escape_and_close_refused(app, seen):
    from kivy.core.window import Window

    yield _screen_ready(app, "home")
    stops = []
    app.bind(on_stop=lambda *_: stops.append(True))
    seen["close_request_consumed"] = bool(Window.dispatch("on_request_close"))
    seen["escape_consumed"] = bool(Window.dispatch("on_keyboard", 27, 0, "", []))
    yield 1.0
    seen["stopped"] = bool(stops)
    seen["still_home"] = app.current_screen == "home"
    app.allow_exit = True  # maintenance mode: now a close request is let through
    seen["close_allowed_in_maintenance"] = not Window.dispatch("on_request_close")
    app.allow_exit = False


@scenario
def screens_are_reused(app, seen):
    """Ten round trips create no new screens and no growing number of labels."""
    from kivy.uix.label import Label

    from kiosk.screens.driver import find_bar_button, tap

    screen_ids = {name: id(screen) for name, screen in app.screens.items()}

    def label_count():
        gc.collect()
        return sum(isinstance(obj, Label) for obj in gc.get_objects())

    for round_no in range(12):
        if round_no == 2:
            seen["labels_after_warmup"] = label_count()
        yield from _open_item_by_taps(app, "我要找工作", 1 + round_no % 3)
        yield from tap(find_bar_button(app.screens["item"], "home_button"))
        yield _screen_ready(app, "home")
    seen["labels_at_end"] = label_count()
    seen["same_screens"] = screen_ids == {n: id(s) for n, s in app.screens.items()}


@scenario
def help_panel(app, seen):
    """The help button opens where to find staff; 知道了 closes it; a forgotten one times out."""
    from kiosk.screens.driver import Until, find_bar_button, tap

    yield _screen_ready(app, "home")
    yield from tap(find_bar_button(app.screens["home"], "help_button"))
    yield Until(lambda: app.help_shown, 10, "help panel")
    seen["help_texts"] = [w.text for w in app.help_panel.walk() if hasattr(w, "text")]
    yield from tap(app.help_panel.ids.close_button)
    yield 0.3
    seen["closed_by_button"] = not app.help_shown
    yield from tap(find_bar_button(app.screens["home"], "help_button"))
    yield Until(lambda: app.help_shown, 10, "help panel again")
    yield from pass_idle(app.idle.idle_seconds)
    yield Until(lambda: app.idle_prompt_shown, 10, "idle prompt over the help panel")
    yield from pass_idle(app.idle.prompt_seconds)
    yield Until(lambda: not app.help_shown, 30, "idle timeout closes the help panel")
    seen["screen_after_timeout"] = app.current_screen


@scenario
def bus_events_from_threads(app, seen):
    """Events published on worker threads reach subscribers on the UI thread, all, in order."""
    import threading
    from dataclasses import dataclass

    from kiosk.screens.driver import Until

    @dataclass(frozen=True)
    class Ping:
        worker: int
        n: int

    received = []
    ui_thread = threading.get_ident()
    app.services.bus.subscribe(Ping, lambda e: received.append((e, threading.get_ident())))

    def work(worker):
        for n in range(250):
            app.services.bus.publish(Ping(worker, n))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    yield Until(lambda: len(received) >= 1000, 20, "all 1000 events delivered")
    yield 0.3
    seen["count"] = len(received)
    seen["all_on_ui_thread"] = all(ident == ui_thread for _, ident in received)
    seen["in_order_per_worker"] = all(
        [e.n for e, _ in received if e.worker == w] == list(range(250)) for w in range(4)
    )


@scenario
def ui_error_recovers(app, seen):
    """A UI callback that raises does not stop the kiosk: it wipes, goes home, keeps working."""
    from kivy.clock import Clock

    from kiosk.screens.driver import Until, tap

    yield from _open_item_by_taps(app, "我要找工作", 1)

    def broken_callback(_dt):
        raise RuntimeError("a screen bug")

    Clock.schedule_once(broken_callback, 0)
    yield Until(lambda: app.current_screen == "home", 15, "recovery to home")
    seen["ui_errors"] = app.ui_errors
    seen["item_text"] = app.screens["item"].shown_text()
    yield from tap(app.screens["home"].tile("我要学技能"))
    yield _screen_ready(app, "category")
    seen["works_after"] = app.screens["category"].category_name


@scenario
def error_storm(app, seen):
    """A callback that fails every frame: the app must give up (and be restarted), not spin."""
    from kivy.clock import Clock

    def always_broken(_dt):
        Clock.schedule_once(always_broken, 0.05)  # Kivy drops an event whose callback raised
        raise RuntimeError("broken every frame")

    yield _screen_ready(app, "home")
    Clock.schedule_once(always_broken, 0.05)
    yield 30.0  # never reached: the app stops first


def reset_app(app):
    """Put a served child's app back as it was after start (a script): the session ended on
    the home screen with nothing open, counters at zero, the platform database restored."""
    from gui_child import restore_database

    from kiosk.screens.driver import Until

    app.go_home()
    app.allow_exit = False
    yield Until(lambda: app.current_screen == "home" and not app.help_shown, 30, "home")
    app.ui_errors = 0
    app.chime.played = 0
    for database, pristine in app.pristine_platforms.items():
        restore_database(pristine, database)


def main(name: str, orientation: str) -> int:
    from gui_child import ScenarioServer, child_runtime_options, snapshot_database

    from kiosk.config import load_config
    from kiosk.paths import data_dir as resolve_data_dir
    from kiosk.screens.bootstrap import GuiOptions, StartupError, start_gui
    from kiosk.services.embedded_backend import BACKEND_DB_FILE_NAME

    config = load_config()
    servers: list = []

    def on_start(app) -> None:
        database = resolve_data_dir(config.kiosk.data_dir) / BACKEND_DB_FILE_NAME
        runtime = getattr(app.services, "runtime", None)
        if runtime is not None and database.exists():
            runtime.backend.wait_ready(120)  # re-keyed with this kiosk's secret by then
            app.pristine_platforms = {database: snapshot_database(database)}
        else:
            app.pristine_platforms = {}
        server = ScenarioServer(
            app,
            name,
            lambda scenario_name, seen: SCENARIOS[scenario_name](app, seen),
            reset=lambda: reset_app(app),
        )
        servers.append(server)
        server.start(delay=0.5)

    options = GuiOptions(
        orientation=orientation,
        fullscreen=False,
        allow_short_timers=True,
        on_start=on_start,
        runtime=child_runtime_options(),
        idle_clock=SCENARIO_CLOCK,
    )
    error = None
    try:
        start_gui(config, options)
    except StartupError as exc:
        error = f"StartupError: {exc}"
    unfinished = error or (servers[0].stopped_with if servers else "the app did not start")
    if unfinished:  # the app ended without a scenario's RESULT line
        print_result(unfinished, {})
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
