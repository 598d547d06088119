"""Resident-flow GUI scenarios, run in a child app wired to the real parts.

Like tests/gui_driver.py, on the app's own demo runtime: the reference backend embedded on
127.0.0.1 (demo data), the signed client, the outbox, the printer simulator on a pty behind
the real ESC/POS driver and printing service, the QR scanner simulator on a pty, the ID card
reader simulator on a pty, and the virtual social security card behind the real PC/SC-style
driver (in-process port without pcscd). :class:`FlowRig` names those parts for the scenarios.
Taps go through Kivy's input path. One child serves many scenarios (tests/gui_child.py), reset
between them by :func:`reset_flow_app`; it prints one ``RESULT {json}`` line per scenario.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from gui_child import (  # give_seeded_platform: other drivers import it from here
    ROOT,
    SCENARIO_CLOCK,
    child_runtime_options,
    give_seeded_platform,  # noqa: F401
    pass_idle,
    print_result,
    run_child,
)

SCENARIOS: dict = {}
RIG_DIR_NAME = "flow-rig"  # where the rig's second platform was; drivers still seed it
# Demo resident labels: the rig mints a fresh e-SSC code for each scan (rig.scan_essc).
RESIDENT_ENTERPRISE_RETIREE = "ESSC-DEMO-RESIDENT-04"  # enterprise pension, two failed
RESIDENT_EMPLOYED = "ESSC-DEMO-RESIDENT-07"  # 35, insured, 就业创业证


def scenario(function):
    SCENARIOS[function.__name__] = function
    return function


def run_flow_scenario(
    name: str,
    data_dir: Path,
    *,
    orientation: str = "portrait",
    shots: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 400,
) -> dict:
    """Run scenario *name* in a (shared) child process; its observations (raises on failure)."""
    return run_child(
        Path(__file__).resolve(),
        name,
        data_dir,
        orientation=orientation,
        env={"FLOW_SHOTS": str(shots or ""), **(env or {})},
        timeout=timeout,
    )


# ------------------------------------------------------------------------------ the rig (child)
class FlowRig:
    """The real parts beneath the flow screens: the app's own demo runtime (the reference
    platform on 127.0.0.1, the outbox, the simulators on ptys and the in-process card) and its
    flow controller, named for the scenarios. *data_dir* is where the platform's database is.
    """

    def __init__(self, app, data_dir: Path) -> None:
        self.app = app
        self.data_dir = data_dir
        self._stops: list = []

    def start(self) -> None:
        runtime = self.app.services.runtime
        if not runtime.backend.wait_ready(120):
            raise RuntimeError(f"the demo platform did not start: {runtime.backend.setup_error}")
        self.data_dir = runtime.data_dir
        self.backend_handle = runtime.backend.embedded_handle
        self.outbox = runtime.outbox
        self.printer = runtime.devices["printer"].runtime
        self.scanner = runtime.devices["scanner"].runtime
        self.idcard = runtime.devices["idcard"].runtime
        self.sscard = runtime.devices["sscard"].runtime
        if self.sscard is None:  # the app's reader is off (settings): one for the scenarios
            from kiosk.devices.sscard import open_reader as open_sscard

            config = self.app.services.config
            self.sscard = open_sscard(
                config.devices.sscard, self.app.services.bus.publish, pcsc_available=lambda: None
            )
            self.sscard.start()
            self._stops.append(self.sscard.stop)
        self.controller = self.app.services.item_flows
        self.flows = self.controller.flows

    def essc_code(self, label: str) -> str:
        """A fresh e-SSC code of the demo resident *label*, minted by this rig's platform."""
        from kiosk.services.embedded_backend import demo_essc_code

        return demo_essc_code(self.data_dir, label)

    def scan_essc(self, label: str) -> None:
        """Show a fresh e-SSC code of the demo resident *label* to the scanner."""
        self.scanner.simulator.scan(self.essc_code(label))

    def stop(self) -> None:
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception as exc:  # report, keep stopping the rest
                print(f"stop failed: {exc!r}", file=sys.stderr)


# --------------------------------------------------------------------------- helpers (child)
def until_screen(app, name, timeout=30):
    from kiosk.screens.driver import Until

    return Until(lambda: app.current_screen == name, timeout, f"screen {name}")


def idle_calls(rig, timeout=60):
    from kiosk.screens.driver import Until

    return Until(lambda: not rig.controller.calls.busy, timeout, "background calls finished")


SIZES: dict = {}


def _visible(widget):
    from kivy.uix.screenmanager import ScreenManager

    if widget.opacity == 0 or widget.width <= 0 or widget.height <= 0:
        return
    yield widget
    if isinstance(widget, ScreenManager):
        children = [widget.current_screen] if widget.current_screen else []
    else:
        children = widget.children
    for child in children:
        yield from _visible(child)


def measure(app):
    """Smallest visible text and smallest visible tap target on the glass, in pixels."""
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.label import Label

    fonts, targets = [], []
    for widget in _visible(app.root_layout):
        if isinstance(widget, Label) and widget.text.strip():
            fonts.append(widget.font_size)
        if isinstance(widget, ButtonBehavior) and not widget.disabled:
            targets.append(min(widget.width, widget.height))
    return {"min_font_px": min(fonts), "min_target_px": min(targets) if targets else None}


def shoot(app, label):
    """Let the frame settle, note the sizes on the glass, and write a PNG if asked."""
    from kiosk.screens.driver import export_png, settled

    out = os.environ.get("FLOW_SHOTS")
    yield from settled(app.root_layout)
    SIZES[label] = measure(app)
    if out:
        orientation = "portrait" if app.portrait else "landscape"
        export_png(app.root_layout, Path(out) / f"{orientation}-{label}.png", compress_level=1)


def open_item(app, rig, category_name, item_no):
    """Home → category tile → item row → 开始办理, all by taps."""
    from kiosk.screens.driver import Until, tap

    yield until_screen(app, "home")
    yield from tap(app.screens["home"].tile(category_name))
    yield until_screen(app, "category")

    def row_visible():
        try:
            app.screens["category"].row(item_no)
        except KeyError:
            return False
        return True

    category = app.screens["category"]
    numbers = [int(r["no"]) for r in category.rows]
    if item_no in numbers and len(numbers) > 1:  # scroll the list like a finger would
        category.ids.rv.scroll_y = 1 - numbers.index(item_no) / (len(numbers) - 1)
    yield Until(row_visible, 15, f"row {item_no}")
    yield from tap(category.row(item_no))
    yield until_screen(app, "item")
    yield from tap(app.screens["item"].ids.start_button)


def type_digits(rig, text):
    from kiosk.screens.driver import Until, tap

    keypad = rig.controller.keypad
    yield Until(lambda: keypad.parent is not None, 10, lambda: f"keypad open ({layers(rig)})")
    keys = {child.text: child for child in keypad.ids.key_grid.children}
    for ch in text:
        yield from tap(keys[ch])
    yield from tap(keypad.ids.ok_button)


def layers(rig) -> str:
    """What lies above the screens now, for a timeout's message."""
    layer = rig.controller.open_layer or "no layer"
    return f"{layer} open, screen {rig.controller.app.manager.current}"


def no_layer_open(rig):
    from kiosk.screens.driver import Until

    return Until(
        lambda: not rig.controller.open_layer, 15, lambda: f"layers closed ({layers(rig)})"
    )


def scroll_into_view(scroll, widget, what, timeout=10.0):
    """Scroll *widget* into *scroll*'s viewport as a finger would, and wait until it is seen
    there with the layout at rest: scrolling aims at where the widget is now, so a layout
    still moving (a list just filled, a row just grown) is waited out and the aim taken
    again."""
    import time

    from kiosk.screens.driver import ScenarioTimeout, settled

    def scroll_there() -> None:
        # Only a list taller than its view can scroll: ScrollView.scroll_to on a shorter one
        # divides by a negative height and flings the content out of sight.
        content = scroll.children[0] if scroll.children else None
        if content is not None and content.height > scroll.height:
            scroll.scroll_to(widget, animate=False)

    def in_view() -> bool:
        centre = scroll.parent.to_widget(*widget.to_window(*widget.center))
        return scroll.collide_point(*centre)

    deadline = time.monotonic() + timeout
    while True:
        yield from settled(scroll)
        if widget.parent is None:
            raise AssertionError(f"{what} is no longer on its list")
        if in_view():
            return
        if time.monotonic() > deadline:
            raise ScenarioTimeout(f"timed out after {timeout:g} s: {what} in view")
        scroll_there()


def pick(rig, labels, *, confirm=True):
    from kiosk.screens.driver import Until, settled, tap

    picker = rig.controller.picker
    yield Until(lambda: picker.parent is not None, 15, lambda: f"picker open ({layers(rig)})")
    yield from settled(picker)
    for label in labels:
        option = picker.option(label) if label else picker.ids.options.children[-1]
        yield from scroll_into_view(picker.ids.scroll, option, f"option {label!r}")
        yield from tap(option)
    if confirm and picker.parent is not None:
        yield from tap(picker.ids.ok_button)


def type_pinyin(rig, pieces):
    """Type Chinese on the on-screen pinyin keyboard by taps: *pieces* is a list of
    (letters, word) pairs — press the letters, then the candidate *word* (paging ›)."""
    from kiosk.screens.driver import Until, settled, tap

    entry = rig.controller.text_entry
    yield Until(
        lambda: entry.parent is not None, 10, lambda: f"pinyin keyboard open ({layers(rig)})"
    )
    yield from settled(entry)
    for letters, word in pieces:
        for letter in letters:
            yield from tap(entry.key(letter))
        for _page in range(10):
            row = {b.text: b for b in entry.ids.candidate_row.children if hasattr(b, "position")}
            if word in row:
                yield from tap(row[word])
                break
            yield from tap(entry.ids.next_button)
        else:
            raise AssertionError(f"{word} not offered for {letters}")
    yield from tap(entry.ids.ok_button)
    yield Until(lambda: entry.parent is None or entry.error, 10, "keyboard closed or refusing")
    if entry.parent is not None:
        raise AssertionError(f"keyboard still open: {entry.error!r}, text {entry.text!r}")


def fill_required(app, rig, answers):
    """Give every asked field of the form its answer from *answers* (key → value) by taps.

    Values: a digits string for keypad kinds, a list of labels for pickers ([""] = the first
    option), True/False for yes_no, (letters, word) pairs for text (typed on the pinyin
    keyboard).
    """
    from kiosk.screens.driver import tap

    form = app.screens["form"]
    for key, value in answers.items():
        yield no_layer_open(rig)
        row = form.row(key)
        yield from scroll_into_view(form.ids.scroll, row, f"field {key}")
        if row.kind == "yes_no":
            yield from tap(row.ids.yes_button if value else row.ids.no_button)
            continue
        yield from tap(row)
        if row.kind in ("picker", "multi_picker"):
            yield from pick(rig, value, confirm=row.kind == "multi_picker")
        elif row.kind == "text":
            yield from type_pinyin(rig, value)
        else:
            yield from type_digits(rig, value)


def work_order_answers(form) -> dict:
    """Answers for a work-order form: a phone number, the first option of required pickers."""
    answers = {}
    for child in reversed(form.ids.fields.children):
        if child.kind == "phone":
            answers[child.key] = "13712345678"
        elif child.required and child.kind in ("picker", "multi_picker"):
            answers[child.key] = [""]
    return answers


def widget_texts(app):
    """Every string any widget of the app holds (all screens, overlays, RecycleView data)."""
    texts = []
    widgets = list(app.root_layout.walk())
    for screen in app.screens.values():
        widgets.extend(screen.walk())
    controller = app.services.item_flows
    if controller is not None:
        for overlay in (
            controller.keypad,
            controller.picker,
            controller.text_entry,
            controller.detail,
            controller.spinner,
        ):
            widgets.extend(overlay.walk())
    for widget in widgets:
        for name in (
            "text",
            "body",
            "title",
            "lines",
            "extra",
            "value",
            "resident_text",
            "agent_text",
            "status",
            "heading",
            "message",
            "header_text",
            "totals_text",
            "body_text",
            "reference",
            "digits",
            "shown",
        ):
            value = getattr(widget, name, None)
            if isinstance(value, str) and value:
                texts.append(value)
        data = getattr(widget, "data", None)
        if isinstance(data, list):
            texts.extend(json.dumps(entry, ensure_ascii=False, default=str) for entry in data)
    return texts


# ------------------------------------------------------------------------------ scenarios
@scenario
def form_then_match(app, rig, seen):
    """社保卡 → 固定工求职登记 (1) → eligibility → form by taps → 已受理 + printed receipt →
    查看推荐岗位 (2) with reasons → 办理完成 wipes everything."""
    from kiosk.screens.driver import Until, settled, tap

    yield from open_item(app, rig, "我要找工作", 1)
    yield until_screen(app, "identify")
    yield from shoot(app, "identify")
    card = rig.sscard.virtual_card.insert("gen2")
    person_name, person_id = card.profile.name, card.profile.ssn
    yield until_screen(app, "form")
    form = app.screens["form"]
    yield Until(lambda: form.mode != "loading", 60, "form loaded")
    seen["form_mode"] = form.mode
    seen["eligibility_text"] = form.eligibility_text
    yield from shoot(app, "form-eligibility")
    if form.mode == "eligibility":
        yield from tap(form.ids.continue_button)
    seen["asked"] = [child.key for child in reversed(form.ids.fields.children)]
    seen["known_note"] = form.known_note
    # A wrong phone first: the keypad keeps it and says why.
    yield from tap(form.row("phone"))
    yield from type_digits(rig, "1234")
    seen["keypad_error"] = rig.controller.keypad.error
    yield from shoot(app, "keypad")
    yield from tap(rig.controller.keypad.ids.cancel_button)
    yield from fill_required(
        app,
        rig,
        {
            "phone": "13912345678",
            "occupations": ["电工", "司机"],
            "salary": [""],
            "education": [""],
        },
    )
    yield from shoot(app, "form-filled")
    yield from scroll_into_view(form.ids.scroll, form.row("occupations"), "field occupations")
    yield from tap(form.row("occupations"))
    picker = rig.controller.picker
    yield Until(lambda: picker.parent is not None, 15, lambda: f"picker open ({layers(rig)})")
    yield from shoot(app, "picker")
    yield from tap(picker.ids.cancel_button)
    seen["values"] = {k: v for k, v in form.values().items() if k != "phone"}
    yield from tap(form.ids.submit_button)
    yield until_screen(app, "confirm", 90)
    confirm = app.screens["confirm"]
    seen["confirm"] = {
        "status": confirm.status_text,
        "reference": confirm.reference,
        "due": confirm.due,
        "print_text": confirm.print_text,
        "printed": confirm.printed,
        "next_text": confirm.next_text,
    }
    seen["receipts_printed"] = rig.printer.simulator.wait_for_receipts(1, timeout=30)
    yield from shoot(app, "confirm")
    yield from tap(confirm.ids.next_button)
    yield until_screen(app, "match")
    yield idle_calls(rig)
    match = app.screens["match"]
    yield Until(lambda: match.rows or match.message, 30, "matches")
    seen["match_rows"] = len(match.rows)
    seen["match_reasons"] = [row["extra"] for row in match.rows[:3]]
    seen["match_message"] = match.message
    yield from shoot(app, "match")
    resident = app.services.session.resident
    masked_name, masked_id = resident.masked_name, resident.masked_id_number
    before = widget_texts(app)
    seen["masked_shown_before_end"] = any(masked_name in t for t in before)
    seen["full_name_ever_shown"] = any(person_name in t for t in before)
    # The resident takes the card out: the session ends.
    rig.sscard.virtual_card.remove()
    yield until_screen(app, "home")
    yield from settled(app.root_layout)
    texts = widget_texts(app)
    seen["name_left"] = any(person_name in t or masked_name in t for t in texts)
    seen["id_left"] = any(person_id in t or masked_id in t or person_id[-4:] in t for t in texts)
    seen["session_after_removal"] = app.services.session.current is not None


@scenario
def session_wipe_on_idle(app, rig, seen):
    """e-SSC → records with personal payments; the idle timeout ends the session; then no
    widget anywhere (any screen, overlay or list data) holds the name, ID number or records."""
    from kiosk.screens.driver import Until, settled

    yield from open_item(app, rig, "我要办社保", 26)
    yield until_screen(app, "identify")
    rig.scan_essc(RESIDENT_ENTERPRISE_RETIREE)
    yield until_screen(app, "records", 60)
    screen = app.screens["records"]
    yield Until(lambda: screen.rows, 60, "records")
    resident = app.services.session.resident
    secrets = {
        "name": resident.name,
        "masked_name": resident.masked_name,
        "id_number": resident.id_number,
        "masked_id": resident.masked_id_number,
        "totals": screen.totals_text,
        "record": screen.rows[0]["lines"],
    }
    before = widget_texts(app)
    seen["shown_before"] = sorted(k for k, v in secrets.items() if any(v in t for t in before))
    yield from pass_idle(app.idle.idle_seconds)
    yield Until(lambda: app.idle_prompt_shown, 60, "idle prompt")
    yield from pass_idle(app.idle.prompt_seconds)
    yield Until(lambda: app.current_screen == "home", 60, "idle timeout ends the session")
    yield from settled(app.root_layout)
    after = widget_texts(app)
    seen["left_after"] = sorted(k for k, v in secrets.items() if any(v in t for t in after))
    seen["session_after"] = app.services.session.current is not None
    seen["records_rows_after"] = len(screen.rows)


@scenario
def search_list_item_3(app, rig, seen):
    """固定工岗位信息查询 (3): anonymous, chips, paging, a detail."""
    from kiosk.screens.driver import Until, settled, tap, tap_at

    yield from open_item(app, rig, "我要找工作", 3)
    yield until_screen(app, "search_list")
    screen = app.screens["search_list"]
    yield Until(lambda: screen.rows or screen.message, 60, "first page")
    seen["identified"] = app.services.session.resident is not None
    seen["first_page"] = {"rows": len(screen.rows), "page": screen.page_text}
    seen["chips"] = list(screen.chips)
    yield from shoot(app, "search-list")
    if screen.has_next:
        yield from tap(screen.ids.next_button)
        yield idle_calls(rig)
        seen["second_page"] = screen.page_text
    chip = next(c for c in screen.ids.chips.children if getattr(c, "text", "") == "司机")
    yield from tap(chip)
    yield idle_calls(rig)
    yield from settled(screen)
    seen["query"] = screen.query
    seen["query_rows"] = [row["title"] + row["lines"] for row in screen.rows]
    yield from shoot(app, "search-list-query")
    views = [v for v in screen.ids.rv.layout_manager.children]
    if views:
        top = max(views, key=lambda v: v.y)
        x, y = top.to_window(top.center_x, top.top - 60 * app.scale)  # its title line
        yield from tap_at(x, y)
        yield Until(lambda: rig.controller.detail.parent is not None, 30, "detail")
        seen["detail"] = rig.controller.detail.body
        yield from shoot(app, "search-detail")
        yield from tap(rig.controller.detail.ids.close_button)


@scenario
def records_item_26(app, rig, seen):
    """企业职工养老待遇发放记录 (26) by e-SSC QR: totals, year filter, failed payments' reasons."""
    from kiosk.screens.driver import Until, tap

    yield from open_item(app, rig, "我要办社保", 26)
    yield until_screen(app, "identify")
    rig.scan_essc(RESIDENT_ENTERPRISE_RETIREE)
    yield until_screen(app, "records", 60)
    screen = app.screens["records"]
    yield Until(lambda: screen.rows or screen.message, 60, "records")
    seen["all"] = {
        "rows": len(screen.rows),
        "totals": screen.totals_text,
        "failed": screen.failed_text,
        "years": list(screen.years),
        "failed_rows": [r["extra"] for r in screen.rows if r["warn"]],
    }
    yield from shoot(app, "records")
    if screen.years:
        year = screen.years[-1]
        yield from tap(screen.year_button(year))
        yield idle_calls(rig)
        yield Until(lambda: screen.year == year, 30, "year filter")
        seen["year"] = {
            "year": screen.year,
            "rows": len(screen.rows),
            "totals": screen.totals_text,
            "titles": [r["title"] for r in screen.rows],
        }
        yield from shoot(app, "records-year")


@scenario
def certificate_item_13(app, rig, seen):
    """《就业创业证》查询 (13) by e-SSC QR."""
    from kiosk.screens.driver import Until

    yield from open_item(app, rig, "我要找工作", 13)
    yield until_screen(app, "identify")
    rig.scan_essc(RESIDENT_EMPLOYED)
    yield until_screen(app, "certificate", 60)
    screen = app.screens["certificate"]
    yield Until(lambda: screen.body_text or screen.message, 60, "certificate")
    seen["header"] = screen.header_text
    seen["body"] = screen.body_text
    seen["message"] = screen.message
    yield from shoot(app, "certificate")


@scenario
def my_applications_from_home(app, rig, seen):
    """我的办件 straight from the home screen: identity by e-SSC, then the person's list."""
    from kiosk.screens.driver import Until, tap

    yield until_screen(app, "home")
    yield from tap(app.screens["home"].ids.my_applications_button)
    yield until_screen(app, "identify")
    seen["identify_for"] = app.screens["identify"].item_name
    rig.scan_essc(RESIDENT_EMPLOYED)
    yield until_screen(app, "my_applications", 60)
    screen = app.screens["my_applications"]
    yield Until(lambda: screen.rows or screen.note, 60, "applications listed")
    seen["rows"] = [{k: r[k] for k in ("title", "extra", "warn")} for r in screen.rows]
    yield from shoot(app, "my-applications")


@scenario
def help_chimes_and_reaches_the_operator(app, rig, seen):
    """请工作人员帮忙 on an item's screen: the chime plays, the operator on duty is told the
    screen and the item (nothing personal), and the panel says so; with the platform down the
    panel sends the resident to the counter instead."""
    import sqlite3

    from kiosk.screens.driver import Until, find_bar_button, tap
    from kiosk.services.embedded_backend import BACKEND_DB_FILE_NAME

    panel = app.help_panel
    yield from open_item(app, rig, "我要找工作", 12)
    yield until_screen(app, "search_list", 60)
    yield idle_calls(rig)
    yield from tap(find_bar_button(app.screens["search_list"], "help_button"))
    yield Until(lambda: panel.status and "正在" not in panel.status, 60, "help answered")
    seen["status_online"] = panel.status
    seen["chimes"] = app.chime.played
    yield from shoot(app, "help")
    with sqlite3.connect(rig.data_dir / BACKEND_DB_FILE_NAME) as conn:
        seen["server_rows"] = conn.execute("select screen, item_no from help_requests").fetchall()
    yield from tap(panel.ids.close_button)
    rig.backend_handle.stop()
    yield from tap(find_bar_button(app.screens["search_list"], "help_button"))
    yield Until(lambda: panel.status and "正在" not in panel.status, 90, "help offline")
    seen["status_offline"] = panel.status
    seen["chimes_after_second"] = app.chime.played


@scenario
def counter_item_work_order(app, rig, seen):
    """A counter-only item (20): notice → 预约柜台办理 → 代办: helper by QR, resident by ID
    card → work-order form → queue number; the printer is out of paper: receipt on screen."""
    from kiosk.screens.driver import Until, tap

    yield until_screen(app, "home")
    app._begin_interaction()
    rig.controller.open_item(20)
    yield until_screen(app, "counter_notice")
    notice = app.screens["counter_notice"]
    seen["notice"] = {
        "heading": notice.heading,
        "materials": notice.materials,
        "hours": notice.counter_hours,
    }
    yield from shoot(app, "counter-notice")
    yield from tap(notice.ids.book_button)
    yield until_screen(app, "identify")
    identify_screen = app.screens["identify"]
    yield from tap(identify_screen.ids.agent_button)
    seen["agent_prompt"] = identify_screen.status
    rig.scan_essc(RESIDENT_EMPLOYED)
    yield Until(lambda: identify_screen.agent_text, 60, "agent identified")
    seen["agent_text"] = identify_screen.agent_text
    yield from shoot(app, "identify-agent")
    rig.idcard.simulator.place("resident")
    yield until_screen(app, "form", 60)
    form = app.screens["form"]
    yield Until(lambda: form.mode != "loading", 60, "work order form")
    if form.mode == "eligibility":
        yield from tap(form.ids.continue_button)
    seen["asked"] = [child.key for child in reversed(form.ids.fields.children)]
    seen["agent_on_form"] = form.agent_text
    yield from fill_required(app, rig, work_order_answers(form))
    rig.printer.simulator.set_paper("end")
    yield 1.0
    yield from tap(form.ids.submit_button)
    yield until_screen(app, "confirm", 90)
    confirm = app.screens["confirm"]
    result = confirm
    seen["confirm"] = {
        "status": result.status_text,
        "reference": result.reference,
        "queue": result.queue_number,
        "print_text": result.print_text,
        "printed": result.printed,
        "has_preview": result.has_preview,
        "texture": list(result.receipt_texture.size) if result.receipt_texture else None,
    }
    yield from shoot(app, "confirm-printer-failed")
    yield from tap(confirm.ids.mine_button)
    yield until_screen(app, "my_applications")
    mine = app.screens["my_applications"]
    yield Until(lambda: mine.rows or mine.note, 60, "my applications")
    seen["mine"] = [row["title"] + row["lines"] + row["extra"] for row in mine.rows]
    yield from shoot(app, "my-applications")
    yield from tap(confirm.ids.finish_button) if app.current_screen == "confirm" else iter(())
    app.services.item_flows.finish_transaction()
    yield until_screen(app, "home")
    texts = widget_texts(app)
    seen["name_left"] = any("王建军" in t for t in texts)


def pictures_outside_tiles(screen):
    """Shapes of the identify screen's pictures drawn outside their tile: [(way, shape), …]."""
    from kiosk.screens.identify import IdentifyPicture

    outside = []
    for key in ("way_sscard", "way_idcard", "way_qr"):
        way = screen.ids[key]
        [picture] = [w for w in way.walk(restrict=True) if isinstance(w, IdentifyPicture)]
        for shape in picture.canvas.children:
            if not (hasattr(shape, "pos") and hasattr(shape, "size")):
                continue
            (x, y), (w, h) = shape.pos, shape.size
            if x < way.x or y < way.y or x + w > way.right or y + h > way.top:
                outside.append((key, type(shape).__name__))
    return outside


@scenario
def identify_errors(app, rig, seen):
    """Each way's failure says what to do: an unreadable card, an invalid ID number on a card,
    an unknown e-SSC code, the ID reader unplugged; then a good code still works."""
    import dataclasses

    from kiosk.screens.driver import Until, settled

    screen = app.screens["identify"]
    yield from open_item(app, rig, "我要找工作", 1)
    yield until_screen(app, "identify")
    yield from settled(app.root_layout)
    seen["pictures_outside_tiles"] = pictures_outside_tiles(screen)

    def status_changes(before):
        return Until(lambda: screen.status_is_error and screen.status != before, 60, "an error")

    before = screen.status
    rig.sscard.virtual_card.insert("wrong_application")
    yield status_changes(before)
    seen["unreadable_card"] = screen.status
    rig.sscard.virtual_card.remove()
    yield 1.0
    control = rig.sscard.virtual_card
    bad_number = dataclasses.replace(control.profiles["gen2"], ssn="140431197205200310")
    before = screen.status
    control.insert(bad_number)
    yield status_changes(before)
    seen["invalid_id_number"] = screen.status
    control.remove()
    yield 1.0
    before = screen.status
    rig.scanner.simulator.scan("ESSC-NOT-A-RESIDENT")
    yield status_changes(before)
    seen["unknown_qr"] = screen.status
    before = screen.status
    rig.idcard.simulator.unplug()
    yield Until(lambda: not screen.idcard_ok, 60, "ID reader offline")
    seen["reader_offline"] = screen.status
    yield from shoot(app, "identify-reader-offline")
    seen["session_identified"] = app.services.session.resident is not None
    rig.scan_essc(RESIDENT_EMPLOYED)
    yield until_screen(app, "form", 60)
    seen["recovered_to"] = app.current_screen


@scenario
def offline_submission(app, rig, seen):
    """The platform is down: 灵活就业登记 (10) by social security card is saved, the screen
    says 已保存，联网后自动提交, and the receipt still prints."""
    from kiosk.screens.driver import Until, tap
    from kiosk.services.outbox import OutboxStatus

    rig.backend_handle.stop()
    yield from open_item(app, rig, "我要找工作", 10)
    yield until_screen(app, "identify")
    rig.sscard.virtual_card.insert("gen2")
    yield until_screen(app, "form", 60)
    form = app.screens["form"]
    yield Until(lambda: form.mode != "loading", 90, "form loaded offline")
    seen["eligibility"] = form.eligibility_text
    if form.mode == "eligibility":
        yield from tap(form.ids.continue_button)
    today = __import__("datetime").date.today().strftime("%Y%m%d")
    answers = {}
    for child in reversed(form.ids.fields.children):
        if not child.required:
            continue
        if child.kind == "phone":
            answers[child.key] = "13512345678"
        elif child.kind == "date":
            answers[child.key] = today
        elif child.kind in ("picker", "multi_picker"):
            answers[child.key] = [""]
    yield from fill_required(app, rig, answers)
    yield from tap(form.ids.submit_button)
    yield from tap(form.ids.submit_button)  # an impatient second tap sends nothing more
    spinner = rig.controller.spinner
    yield Until(lambda: spinner.parent is not None, 30, "spinner while waiting")
    seen["spinner_text"] = spinner.text
    yield from shoot(app, "spinner")
    yield until_screen(app, "confirm", 120)
    confirm = app.screens["confirm"]
    seen["confirm"] = {
        "status": confirm.status_text,
        "reference": confirm.reference,
        "due": confirm.due,
        "detail": confirm.detail,
        "printed": confirm.printed,
        "next_text": confirm.next_text,
    }
    seen["pending"] = rig.outbox.summary().pending
    seen["outbox_entries"] = len(rig.outbox.entries())
    seen["pending_kinds"] = sorted(e.kind for e in rig.outbox.entries(OutboxStatus.PENDING))
    yield from shoot(app, "confirm-offline")


@scenario
def demand_then_match(app, rig, seen):
    """招聘零工登记 (7) by ID card: a text box, a town then its villages, keypad numbers and a
    date; then 查看推荐的求职者 (8) uses the new demand and shows reasons."""
    import datetime as dt

    from kiosk.screens.driver import Until, tap

    yield from open_item(app, rig, "我要找工作", 7)
    yield until_screen(app, "identify")
    rig.idcard.simulator.place("resident")
    yield until_screen(app, "form", 60)
    form = app.screens["form"]
    yield Until(lambda: form.mode != "loading", 60, "form")
    if form.mode == "eligibility":
        yield from tap(form.ids.continue_button)
    # The village list waits for a town.
    yield from tap(form.row("village"))
    seen["village_before_town"] = form.message
    start = (dt.date.today() + dt.timedelta(days=3)).strftime("%Y%m%d")
    yield from fill_required(
        app,
        rig,
        {
            "employer_name": [("wangjia", "王家"), ("xiao", "小"), ("yuan", "院")],
            "occupation": ["搬运工"],
            "town": ["沁河镇"],
            "village": [""],
            "workers_needed": "3",
            "pay_per_day": "180",
            "work_date": start,
            "contact_phone": "13612345678",
        },
    )
    seen["values"] = {k: v for k, v in form.values().items() if "phone" not in k}
    yield from shoot(app, "form-odd-job")
    yield from tap(form.ids.submit_button)
    yield until_screen(app, "confirm", 90)
    confirm = app.screens["confirm"]
    seen["status"] = confirm.status_text
    seen["next_text"] = confirm.next_text
    yield from tap(confirm.ids.next_button)
    yield until_screen(app, "match")
    match = app.screens["match"]
    yield Until(lambda: match.rows or match.message, 60, "matches")
    seen["match_rows"] = len(match.rows)
    seen["match_reasons"] = [row["extra"] for row in match.rows[:3]]
    seen["match_message"] = match.message
    yield from shoot(app, "match-seekers")


@scenario
def match_needs_registration(app, rig, seen):
    """固定工岗位信息推荐 (2) before 求职登记: the screen says so and one tap opens item 1."""
    from kiosk.screens.driver import Until, tap

    yield from open_item(app, rig, "我要找工作", 2)
    yield until_screen(app, "identify")
    rig.scan_essc(RESIDENT_ENTERPRISE_RETIREE)
    yield until_screen(app, "match", 60)
    match = app.screens["match"]
    yield Until(lambda: match.message, 60, "a message")
    seen["message"] = match.message
    seen["prior_text"] = match.prior_text
    yield from shoot(app, "match-missing-step")
    if match.prior_item:
        yield from tap(match.ids.prior_button)
        yield until_screen(app, "form", 60)
        seen["then"] = app.screens["form"].heading or "form"


@scenario
def flow_tour(app, rig, seen):
    """The tour extension (kiosk/screens/flow_tour.py) walks every flow screen."""
    from kiosk.screens.flow_tour import flow_tour as tour

    shots = []

    def shoot_and_note(label):
        shots.append(label)
        yield from shoot(app, label)

    yield until_screen(app, "home")
    yield from tour(app, shoot_and_note, rig.scan_essc)
    seen["shots"] = shots


def reset_flow_app(app, rig):
    """Put a served child's app and rig back as they were after start (a script): background
    calls finished, cards out, paper in, the session ended and every layer closed on the home
    screen, counters at zero, the outbox drained and the databases (platform, store, print
    queue) restored from the copies taken after start. Raises (retiring the child) when a part was stopped by the
    scenario.

    A device a scenario broke (the ID reader's cable pulled, paper out) is mended and the fault
    reporter's tickets closed before the outbox drains: else the next scenario would find a
    fault ticket of this one in its outbox."""
    from gui_child import restore_database

    from kiosk.devices.base import DeviceState
    from kiosk.screens.driver import Until

    if not rig.backend_handle.running:
        raise RuntimeError("the scenario stopped the rig's platform")
    yield idle_calls(rig)
    rig.sscard.virtual_card.remove()
    if rig.idcard.health().state is DeviceState.OFFLINE:  # the scenario pulled its cable
        rig.idcard.simulator.replug()
    rig.idcard.simulator.lift()
    rig.printer.simulator.set_paper("ok")
    yield Until(lambda: rig.idcard.health().state is DeviceState.OK, 30, "the ID reader back")
    faults = app.services.runtime.faults
    yield Until(lambda: not faults.open_faults(), 30, "the scenario's fault tickets closed")
    app.go_home()
    app.allow_exit = False
    yield Until(
        lambda: app.current_screen == "home" and not rig.controller.open_layer,
        30,
        lambda: f"home with no layer ({layers(rig)})",
    )
    yield Until(lambda: rig.outbox.summary().pending == 0, 15, "the outbox drained")
    with rig.printer.simulator._job_done:
        rig.printer.simulator.jobs.clear()
    app.chime.played = 0
    app.ui_errors = 0
    SIZES.clear()
    for database, pristine in rig.pristine.items():
        restore_database(pristine, database)


def pristine_databases(rig) -> dict:
    """Copies of the app's SQLite databases as they are after start — the platform (the kiosk
    re-keyed with its own secret), the kiosk's store (outbox, offline cache) and its print
    queue: what :func:`reset_flow_app` restores."""
    from gui_child import snapshot_database

    return {db: snapshot_database(db) for db in sorted(rig.data_dir.glob("*.sqlite3"))}


def main(name: str, orientation: str) -> int:
    from gui_child import ScenarioServer

    from kiosk.config import load_config
    from kiosk.paths import data_dir as resolve_data_dir
    from kiosk.screens.bootstrap import GuiOptions, StartupError, start_gui

    config = load_config()
    outcome: dict = {"error": None}
    rigs: list = []
    servers: list = []

    def on_start(app) -> None:
        rig = FlowRig(app, resolve_data_dir(config.kiosk.data_dir))
        rigs.append(rig)
        try:
            rig.start()
        except Exception as exc:
            import traceback

            from kivy.clock import Clock

            traceback.print_exc()
            outcome["error"] = f"rig failed: {type(exc).__name__}: {exc}"
            app.allow_exit = True
            Clock.schedule_once(lambda _dt: app.stop(), 0)  # not from inside on_start
            return
        rig.pristine = pristine_databases(rig)

        def finish(observations: dict) -> None:
            observations["sizes"] = dict(SIZES)

        server = ScenarioServer(
            app,
            name,
            lambda scenario_name, seen: SCENARIOS[scenario_name](app, rig, seen),
            finish=finish,
            reset=lambda: reset_flow_app(app, rig),
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
    try:
        start_gui(config, options)
    except StartupError as exc:
        outcome["error"] = f"StartupError: {exc}"
    finally:
        for rig in rigs:
            rig.stop()
    unfinished = outcome["error"] or (servers[0].stopped_with if servers else None)
    if unfinished:  # the app ended without a scenario's RESULT line
        print_result(unfinished, {"sizes": SIZES})
    return 0


# ------------------------------------------------------------------------------ benchmark
def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# Steps that wait on the embedded platform over HTTP (the others only navigate).
BACKEND_BOUND = frozenset({"item→search list with results", "search list next page",
                           "records year filter"})  # fmt: skip


def timed_tap(app, widget, ready, samples, label, timeout=60.0):
    """Tap *widget*; record, from the finger lifting: ``total`` ms until the first frame drawn
    after ``ready()`` holds (the next screen, with its results for backend-bound steps, on the
    glass: that frame's flip returned) and ``python`` ms until that frame's draw calls were
    submitted, less the time spent in the flips of frames drawn in between (GL work)."""
    import time

    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kiosk.screens.driver import SETTLE_SECONDS, ScriptTouch, Until

    yield SETTLE_SECONDS
    x, y = widget.to_window(*widget.center)
    touch = ScriptTouch(x, y)
    EventLoop.post_dispatch_input("begin", touch)
    yield 0.05
    state = {"t0": time.perf_counter(), "submitted": None, "drawn": None, "ready_seen": False}
    flips: list = []  # (start, end) of every flip since the finger lifted
    real_flip = Window.flip

    def timed_flip(*args, **kwargs):
        started = time.perf_counter()
        try:
            return real_flip(*args, **kwargs)
        finally:
            flips.append((started, time.perf_counter()))
            if state["submitted"] is not None and state["drawn"] is None:
                state["drawn"] = flips[-1][1]

    def on_flip(*_args):  # bound handlers run before the window's own flip
        if state["ready_seen"] and state["submitted"] is None:
            state["submitted"] = time.perf_counter()
        elif ready():
            # Drawn on the next frame (layouts deferred by a trigger land there); ask for it,
            # as an unchanged window would otherwise not flip again.
            state["ready_seen"] = True
            Window.canvas.ask_update()

    Window.flip = timed_flip
    Window.bind(on_flip=on_flip)
    EventLoop.post_dispatch_input("end", touch)
    try:
        yield Until(lambda: state["drawn"] is not None, timeout, f"{label} drawn")
    finally:
        Window.unbind(on_flip=on_flip)
        del Window.flip  # the class's own again
    gl_between = sum(end - start for start, end in flips if end <= state["submitted"])
    step = samples.setdefault(label, {"total": [], "python": []})
    step["total"].append((state["drawn"] - state["t0"]) * 1000)
    step["python"].append((state["submitted"] - state["t0"] - gl_between) * 1000)


def render_costs(app, screens_filled, frames):
    """Full-frame render cost of each main screen (benchmarks/hello.py's measure), with the
    screen current and laid out: {screen: {frame_ms_median, frame_ms_p95}}."""
    from kivy.core.window import Window

    from kiosk.screens.driver import settled

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from hello import render_cost

    costs = {}
    for name in screens_filled:
        app.manager.current = name
        yield from settled(app.root_layout)
        costs[name] = render_cost(Window, frames)
    return costs


def sample_answers(spec) -> dict:
    """A valid answer for every required asked field of a FormSpec (first option, today...)."""
    import datetime as dt

    answers: dict = {}
    for item_field in spec.asked:
        definition = item_field.definition
        if not definition.required:
            continue
        kind = definition.kind
        if kind == "phone":
            answers[definition.key] = "13612345678"
        elif kind == "picker":
            answers[definition.key] = item_field.options[0]
        elif kind == "multi_picker":
            answers[definition.key] = [item_field.options[0]]
        elif kind == "date":
            answers[definition.key] = dt.date.today().strftime("%Y%m%d")
        elif kind in ("keypad_number", "amount"):
            answers[definition.key] = str(int(definition.min_value or 1))
        elif kind == "yes_no":
            answers[definition.key] = True
        else:
            answers[definition.key] = "测试"
    return answers


@scenario
def benchmark(app, rig, seen):
    """Tap-to-drawn latency over the main flows, then RSS over many simulated sessions."""
    import dataclasses
    import gc

    from kivy.uix.widget import Widget

    from kiosk.screens.driver import Until, find_bar_button, tap
    from kiosk.services.session import EndReason

    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    sessions = int(os.environ.get("BENCH_SESSIONS", "1000"))
    samples: dict = {}
    screens = app.screens
    calls = rig.controller.calls
    yield until_screen(app, "home")
    for _ in range(rounds):
        yield from timed_tap(
            app,
            screens["home"].tile("我要找工作"),
            lambda: app.current_screen == "category",
            samples,
            "home→category",
        )
        yield 0.3
        yield from timed_tap(
            app,
            screens["category"].row(3),
            lambda: app.current_screen == "item",
            samples,
            "category→item",
        )
        yield from timed_tap(
            app,
            screens["item"].ids.start_button,
            lambda: (
                app.current_screen == "search_list"
                and bool(screens["search_list"].rows)
                and not calls.busy
            ),
            samples,
            "item→search list with results",
        )
        yield from timed_tap(
            app,
            screens["search_list"].ids.next_button,
            lambda: screens["search_list"].page_text.startswith("第 2") and not calls.busy,
            samples,
            "search list next page",
        )
        yield from timed_tap(
            app,
            find_bar_button(screens["search_list"], "home_button"),
            lambda: app.current_screen == "home",
            samples,
            "home button",
        )
        yield from open_item(app, rig, "我要办社保", 26)
        yield until_screen(app, "identify")
        yield 0.5
        rig.scan_essc(RESIDENT_ENTERPRISE_RETIREE)
        yield until_screen(app, "records", 60)
        yield Until(lambda: bool(screens["records"].rows) and not calls.busy, 60, "records")
        year = screens["records"].years[-1]
        yield from timed_tap(
            app,
            screens["records"].year_button(year),
            lambda year=year: screens["records"].year == year and not calls.busy,
            samples,
            "records year filter",
        )
        yield from tap(find_bar_button(screens["records"], "home_button"))
        yield until_screen(app, "home")
    # The data one session shows, fetched once for real, then replayed without I/O.
    flows = rig.flows
    person = flows.identify(
        __import__("kiosk.devices.scanner.events", fromlist=["QrScanned"]).QrScanned(
            rig.essc_code(RESIDENT_ENTERPRISE_RETIREE)
        )
    )
    app._begin_interaction()
    flows.begin_session(person)
    spec, assessment = flows.form(10), flows.eligibility(10)
    records_view = flows.records(26)
    page = flows.search(3)
    mine = flows.my_applications()
    result = flows.submit(10, sample_answers(spec))
    if result.receipt is not None:
        result = dataclasses.replace(
            result, printed=False, preview_png=rig.flows._printing.preview_png(result.receipt)
        )
    flows.end_session(EndReason.TRANSACTION_DONE)
    yield until_screen(app, "home")

    def one_session():
        app._begin_interaction()
        app.services.session.identify(person)
        for name, fill in (
            ("form", lambda s: s.fill(spec, assessment)),
            ("records", lambda s: s.fill(records_view)),
            ("search_list", lambda s: s.fill(page)),
            ("confirm", lambda s: s.show(result)),
            ("my_applications", lambda s: s.fill(mine)),
        ):
            fill(screens[name])
            app.manager.current = name
        app.services.session.end(EndReason.TRANSACTION_DONE)

    # Each main screen's full-frame render cost, filled as a resident would see it.
    frames = int(os.environ.get("BENCH_RENDER_FRAMES", "34"))
    app.show_category("我要找工作")
    app.show_item(1)
    app._begin_interaction()
    app.services.session.identify(person)
    screens["form"].fill(spec, assessment)
    screens["records"].fill(records_view)
    screens["search_list"].fill(page)
    screens["confirm"].show(result)
    screens["my_applications"].fill(mine)
    main_screens = ("home", "category", "item", "search_list", "records", "form", "confirm",
                    "my_applications")  # fmt: skip
    seen["render_ms"] = yield from render_costs(app, main_screens, frames)
    app.services.session.end(EndReason.TRANSACTION_DONE)
    yield until_screen(app, "home")

    def measure():
        gc.collect()
        return _rss_kib(), sum(isinstance(o, Widget) for o in gc.get_objects())

    for done in range(1, sessions + 1):
        one_session()
        yield 0  # let the frame draw (textures are created and released as on the kiosk)
        if done == 10:
            rss_10, widgets_10 = measure()
    rss_end, widgets_end = measure()
    import statistics

    def pct(values, q):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]

    def summary(values):
        return {
            "p50": round(statistics.median(values), 1),
            "p95": round(pct(values, 95), 1),
            "p99": round(pct(values, 99), 1),
            "max": round(max(values), 1),
        }

    seen["latency_ms"] = {
        half: {
            "all": summary([v for step in samples.values() for v in step[half]]),
            **{
                kind: summary(
                    [
                        v
                        for k, step in samples.items()
                        if (k in BACKEND_BOUND) == bound
                        for v in step[half]
                    ]
                )  # fmt: skip
                for kind, bound in (("navigation", False), ("backend_bound", True))
            },
            "by_step": {k: summary(step[half]) for k, step in samples.items()},
        }
        for half in ("total", "python")
    }
    seen["samples"] = sum(len(step["total"]) for step in samples.values())
    seen["memory"] = {
        "sessions": sessions,
        "rss_kib_after_10": rss_10,
        "rss_kib_after_all": rss_end,
        "growth_kib": rss_end - rss_10,
        "widgets_after_10": widgets_10,
        "widgets_after_all": widgets_end,
    }


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
