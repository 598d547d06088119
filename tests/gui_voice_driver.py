"""Voice guidance GUI scenarios: the real app and flows, a mixer that records what was played.

Like tests/gui_flow_driver.py (whose rig and helpers it uses), but the app gets a
:class:`voice_fakes.RecordingMixer` (``GuiOptions.mixer``) instead of SDL's: every clip the audio
thread loads, starts and stops is recorded with its thread. Clip lengths are the WAVs' own times
``TIME_SCALE``, so a sequence ends quickly but still takes a little while (a screen change can
cut it). Each scenario notes per step which prompt keys were started. The child prints one
``RESULT {json}`` line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gui_child import ROOT, print_result, run_child
from gui_flow_driver import (
    RIG_DIR_NAME,
    FlowRig,
    give_seeded_platform,
    idle_calls,
    no_layer_open,
    scroll_into_view,
    type_digits,
    until_screen,
    widget_texts,
)
from voice_fakes import RecordingMixer

SCENARIOS: dict = {}
TIME_SCALE = 0.15
MIXER = RecordingMixer(time_scale=TIME_SCALE)
RESIDENT = "ESSC-DEMO-RESIDENT-07"


def scenario(function):
    SCENARIOS[function.__name__] = function
    return function


def run_voice_scenario(
    name: str,
    data_dir: Path,
    *,
    orientation: str = "portrait",
    env: dict[str, str] | None = None,
    timeout: float = 400,
) -> dict:
    """Run scenario *name* in a child process; returns its observations (raises on failure)."""
    give_seeded_platform(data_dir / RIG_DIR_NAME)
    return run_child(
        Path(__file__).resolve(),
        name,
        data_dir,
        orientation=orientation,
        # The app's own demo card reader would use the machine's one pcscd + vpcd, where other
        # test runs insert and pull cards: off. The rig's in-process reader is the resident's.
        env={"FLOW_SHOTS": "", "KIOSK__DEVICES__SSCARD__ENABLED": "false", **(env or {})},
        timeout=timeout,
    )


# --------------------------------------------------------------------------- helpers (child)
class Steps:
    """Notes, per step, the prompt keys started since the step began."""

    def __init__(self, seen: dict) -> None:
        self.seen = seen.setdefault("steps", {})
        self._mark = 0
        self._name = ""

    def begin(self, name: str) -> None:
        self.end()
        self._name, self._mark = name, len(MIXER.of_kind("play"))

    def end(self) -> None:
        if self._name:
            self.seen[self._name] = MIXER.played()[self._mark :]
        self._name = ""

    def played(self) -> list[str]:
        return MIXER.played()[self._mark :]


def heard(steps: Steps, *keys: str, timeout: float = 30):
    """Wait until *keys* were started, in this order, since the step began."""
    from kiosk.screens.driver import Until

    def done() -> bool:
        played = steps.played()
        return played[: len(keys)] == list(keys) or _contains_in_order(played, keys)

    return Until(done, timeout, lambda: f"heard {list(keys)}, played {steps.played()}")


def _contains_in_order(played: list[str], keys: tuple[str, ...]) -> bool:
    position = 0
    for key in played:
        if position < len(keys) and key == keys[position]:
            position += 1
    return position == len(keys)


def read_aloud_button(app):
    from kiosk.screens.driver import find_bar_button

    return find_bar_button(app.screens[app.current_screen], "read_aloud_button")


def personal_values(app) -> list[str]:
    """What of the identified resident the screens may show: name, ID number (full and masked),
    the ID's last four digits, address and phone."""
    person = app.services.session.resident
    if person is None:
        return []
    values = [person.name, person.masked_name, person.id_number, person.masked_id_number]
    values.append(person.id_number[-4:])
    return [value for value in [*values, person.address, person.phone] if value]


# ------------------------------------------------------------------------------ scenarios
@scenario
def voice_per_screen(app, rig, seen):
    """Home → category → item 1 → identify → card → form (keypad) → submit → confirm → 办理完成,
    by taps, with 朗读 on several screens; what each screen and event said, on which thread."""
    from kiosk.screens.driver import Until, export_png, tap

    steps = Steps(seen)
    yield until_screen(app, "home")
    steps.begin("home_entry")
    yield 1.0  # home is the idle screen: it says nothing by itself
    steps.begin("home_read_aloud")
    seen["read_aloud_visible"] = read_aloud_button(app).width > 0
    yield from tap(read_aloud_button(app))
    yield heard(steps, "home")

    steps.begin("category_entry")
    yield from tap(app.screens["home"].tile("我要找工作"))
    yield until_screen(app, "category")
    yield heard(steps, "category")
    steps.begin("category_read_aloud")
    yield from tap(read_aloud_button(app))
    yield heard(steps, "category_1", "category")

    steps.begin("item_entry")
    yield Until(lambda: _row_shown(app, 1), 15, "row 1")
    yield from tap(app.screens["category"].row(1))
    yield until_screen(app, "item")
    yield heard(steps, "item_notice")
    steps.begin("item_read_aloud")
    yield from tap(read_aloud_button(app))
    yield heard(steps, "item_1", "item_notice")

    steps.begin("identify_entry")
    yield from tap(app.screens["item"].ids.start_button)
    yield until_screen(app, "identify")
    yield heard(steps, "identify")
    steps.begin("identify_read_aloud")
    yield from tap(read_aloud_button(app))
    yield heard(steps, "identify", "identify_sscard")
    # The card goes in while the ways are still being read: the rest must never be heard.
    steps.begin("card_inserted")
    cut_at = len(MIXER.of_kind("play"))
    rig.sscard.virtual_card.insert("gen2")
    yield heard(steps, "card_inserted")
    yield until_screen(app, "form", 60)
    form = app.screens["form"]
    yield Until(lambda: form.mode != "loading", 60, "form loaded")
    steps.begin("form_entry")
    yield heard(steps, "form_eligibility" if form.mode == "eligibility" else "form")
    if form.mode == "eligibility":
        steps.begin("form_fields")
        yield from tap(form.ids.continue_button)
        yield 0.5
    steps.begin("form_hints")
    yield from fill_by_hand(app, rig, form)
    yield heard(steps, "keypad", "picker")
    seen["personal_on_form"] = personal_values(app)

    steps.begin("confirm_entry")
    yield from tap(form.ids.submit_button)
    yield until_screen(app, "confirm", 90)
    yield heard(steps, "accepted", "take_receipt", timeout=60)
    steps.begin("confirm_read_aloud")
    yield from tap(read_aloud_button(app))
    yield heard(steps, "item_1", "accepted", "take_receipt")
    seen["personal_on_confirm"] = personal_values(app)
    seen["texts_on_confirm"] = [t for t in widget_texts(app) if "1391234" in t][:3]

    steps.begin("finish")
    yield from tap(app.screens["confirm"].ids.finish_button)
    yield until_screen(app, "home")
    yield heard(steps, "take_card", "session_ended")
    steps.end()
    late = [e.key for e in MIXER.of_kind("play")[cut_at:]]
    seen["read_after_card_went_in"] = [k for k in late if k in ("identify_idcard", "identify_qr")]
    seen["threads"] = sorted({e.thread for e in MIXER.events if e.kind in ("load", "play")})
    seen["logo_path"] = app.logo_path
    logo = app.screens["home"].walk()
    seen["logo_width"] = max(
        (w.width for w in logo if getattr(w, "source", "") == app.logo_path and app.logo_path),
        default=0,
    )
    seen["home_file"] = next(e.path for e in MIXER.of_kind("play") if e.key == "home")
    out = os.environ.get("VOICE_SHOTS")
    if out:
        export_png(app.root_layout, Path(out) / "home-with-logo.png")


def fill_by_hand(app, rig, form):
    """Every required field: the phone typed on the keypad by taps; in each list the first
    option chosen (the option's own release event: the list's scrolling is not under test
    here, and a lagging ScrollView on a loaded machine made taps miss)."""
    from kiosk.screens.driver import Until, tap

    picker = rig.controller.picker
    for child in reversed(list(form.ids.fields.children)):
        if not child.required or child.kind == "yes_no":
            continue
        yield no_layer_open(rig)
        yield from scroll_into_view(form.ids.scroll, form.row(child.key), f"field {child.key}")
        yield from tap(form.row(child.key))
        if child.kind in ("picker", "multi_picker"):
            yield Until(lambda: picker.parent is not None, 15, "picker open")
            yield 0.2
            picker.ids.options.children[-1].dispatch("on_release")
            if picker.parent is not None:
                picker.confirm()
        else:
            yield from type_digits(rig, "13912345678" if child.kind == "phone" else "1")
        yield 0.2


def _row_shown(app, no: int) -> bool:
    try:
        app.screens["category"].row(no)
    except KeyError:
        return False
    return True


@scenario
def idle_and_help(app, rig, seen):
    """The idle warning, its last ten seconds and the session's end are said; 请工作人员帮忙 chimes
    beside the voice and says the operator was told."""
    from kiosk.screens.driver import Until, find_bar_button, tap

    steps = Steps(seen)
    yield until_screen(app, "home")
    steps.begin("help")
    yield from tap(app.screens["home"].tile("我要找工作"))
    yield until_screen(app, "category")
    yield heard(steps, "category")
    yield from tap(find_bar_button(app.screens["category"], "help_button"))
    yield heard(steps, "help-chime", "help_sent", timeout=60)
    yield from tap(app.help_panel.ids.close_button)
    yield Until(lambda: not app.help_shown, 10, "help closed")

    steps.begin("idle")
    yield Until(lambda: app.idle_prompt_shown, 60, "idle prompt")
    yield heard(steps, "idle_warning")
    yield heard(steps, "idle_warning", "idle_countdown", timeout=30)
    yield Until(lambda: app.current_screen == "home" and not app.idle_prompt_shown, 60, "ended")
    yield heard(steps, "idle_warning", "idle_countdown", "session_ended", timeout=30)
    steps.end()
    seen["chime_played"] = app.chime.played
    seen["threads"] = sorted({e.thread for e in MIXER.events if e.kind in ("load", "play")})


@scenario
def tour_read_aloud(app, rig, seen):
    """朗读 on every screen of the tour (kiosk/screens/flow_tour.py and the screens before it):
    the keys composed, their texts, and what personal values the screen showed then."""
    from kiosk.domain.prompts import compose
    from kiosk.screens.driver import Until, tap
    from kiosk.screens.flow_tour import flow_tour

    table = app.voice.table
    composed: dict[str, dict] = {}

    def note(label: str):
        yield 0.3
        keys = list(compose(app.current_speech(), read_aloud=True))
        composed[label] = {
            "screen": app.current_screen,
            "keys": keys,
            "texts": [table.text(k) for k in keys if k in table],
            "unknown": [k for k in keys if k not in table],
            "personal": personal_values(app),
            "shown": [t for t in widget_texts(app) if any(v in t for v in personal_values(app))][
                :5
            ],
        }
        if rig.controller.open_layer or app.idle_prompt_shown or app.help_shown:
            return  # an overlay covers the bar: the composer's answer is what 朗读 would say
        before = len(MIXER.of_kind("play"))
        yield from tap(read_aloud_button(app))
        if keys:  # the screen's own entry prompt may still come first: keys in order after it
            after = lambda: MIXER.played()[before:]  # noqa: E731
            yield Until(lambda: _contains_in_order(after(), keys), 30, f"{label} read aloud")
            composed[label]["read_aloud_heard"] = True

    yield until_screen(app, "home")
    yield from note("home")
    for category in ("我要找工作", "我要学技能", "我要办社保", "我要办社保卡"):
        app.show_category(category)
        yield until_screen(app, "category")
        yield from note(f"category-{category}")
    for item_no in (1, 23, 32):
        app.show_item(item_no)
        yield until_screen(app, "item")
        yield from note(f"item-{item_no}")
    yield from flow_tour(app, note, rig.scan_essc)
    yield idle_calls(rig)
    seen["composed"] = composed


def main(name: str, orientation: str) -> int:
    from kiosk.config import load_config
    from kiosk.paths import data_dir as resolve_data_dir
    from kiosk.screens.bootstrap import GuiOptions, StartupError, start_gui
    from kiosk.screens.driver import ScenarioRunner

    config = load_config()
    observations: dict = {}
    outcome: dict = {"error": "the app stopped before the scenario finished"}
    rigs: list = []

    def on_start(app) -> None:
        import dataclasses

        import kiosk.devices.sscard as sscard

        app_reader_off = sscard.open_reader

        def rig_reader(section, publish, **kwargs):
            return app_reader_off(dataclasses.replace(section, enabled=True), publish, **kwargs)

        sscard.open_reader = rig_reader  # for the rig only: the app built its reader already
        rig_dir = resolve_data_dir(config.kiosk.data_dir) / RIG_DIR_NAME
        rig_dir.mkdir(parents=True, exist_ok=True)
        rig = FlowRig(app, rig_dir)
        rigs.append(rig)
        rig.start()

        def on_finish(error):
            outcome["error"] = None if error is None else f"{type(error).__name__}: {error}"
            app.allow_exit = True
            app.stop()

        ScenarioRunner(SCENARIOS[name](app, rig, observations), on_finish).start(delay=0.5)

    options = GuiOptions(
        orientation=orientation,
        fullscreen=False,
        allow_short_timers=True,
        on_start=on_start,
        mixer=MIXER,
    )
    try:
        start_gui(config, options)
    except StartupError as exc:
        outcome["error"] = f"StartupError: {exc}"
    finally:
        for rig in rigs:
            rig.stop()
    observations["mixer_closed"] = bool(MIXER.of_kind("close"))
    print_result(outcome["error"], observations)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
