"""The resident-flow part of ``kiosk tour``: every flow screen once, reached by taps.

``yield from flow_tour(app, shoot, scan)`` inside a tour script (the
:class:`~kiosk.screens.driver.ScenarioRunner` protocol): *shoot(label)* is the tour's own
screenshot step, *scan(label)* shows a fresh e-SSC code of the demo resident *label* to the
scanner (demo mode's ``DemoControls.scan_essc``). The app must run with its flows controller (``item_flows``)
and the demo backend. Ends at home with the session ended.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from kiosk.screens.driver import Until, find_bar_button, tap, tap_at
from kiosk.services.session import EndReason

# Labels of demo residents of the reference backend (kiosk_backend seed): a pensioner with
# failed payments, and an insured employee with a 就业创业证.
DEMO_RETIREE = "ESSC-DEMO-RESIDENT-04"
DEMO_EMPLOYEE = "ESSC-DEMO-RESIDENT-07"
WAIT = 60.0


def flow_tour(
    app: Any, shoot: Callable[[str], Generator], scan: Callable[[str], Any]
) -> Generator[Any, None, None]:
    """Shoot identify, form (eligibility, fields, keypad, picker), confirm, match, search
    list (and a detail), records, certificate, counter notice, 我的办件 and the pinyin
    keyboard."""
    flows = app.services.item_flows
    screens = app.screens

    def at(name: str) -> Until:
        return Until(lambda: app.current_screen == name, WAIT, f"screen {name}")

    def settled() -> Until:
        return Until(lambda: not flows.calls.busy, WAIT, "calls finished")

    def restart() -> Generator:
        app.services.session.end(EndReason.RESIDENT_HOME)
        yield at("home")
        app.show_item(1)  # any item: starts a browsing session as a resident's tap would
        yield at("item")

    yield from restart()
    flows.open_item(1)
    yield at("identify")
    yield from shoot("flow-identify")
    scan(DEMO_EMPLOYEE)
    yield at("form")
    form = screens["form"]
    yield Until(lambda: form.mode != "loading", WAIT, "form")
    yield from shoot("flow-form-eligibility")
    if form.mode == "eligibility":
        yield from tap(form.ids.continue_button)
    yield from shoot("flow-form")
    yield from tap(form.row("phone"))
    yield Until(lambda: flows.keypad.parent is not None, WAIT, "keypad")
    for key in "13912345678":
        flows.keypad.press(key)
    yield from shoot("flow-keypad")
    yield from tap(flows.keypad.ids.ok_button)
    yield from tap(form.row("occupations"))
    yield Until(lambda: flows.picker.parent is not None, WAIT, "picker")
    yield from tap(flows.picker.option(flows.picker.ids.options.children[-1].label))
    yield from shoot("flow-picker")
    yield from tap(flows.picker.ids.ok_button)
    yield from tap(form.ids.submit_button)
    yield at("confirm")
    yield from shoot("flow-confirm")
    if screens["confirm"].next_item:
        yield from tap(screens["confirm"].ids.next_button)
        yield at("match")
        yield settled()
        yield from shoot("flow-match")
    flows.show_my_applications()
    yield at("my_applications")
    yield settled()
    yield from shoot("flow-my-applications")

    yield from restart()
    flows.open_item(3)
    yield at("search_list")
    yield settled()
    yield from shoot("flow-search-list")
    rows = list(screens["search_list"].ids.rv.layout_manager.children)
    if rows:
        top = max(rows, key=lambda view: view.y)
        yield from tap_at(*top.to_window(top.center_x, top.top - 60 * app.scale))
        yield Until(lambda: flows.detail.parent is not None, WAIT, "detail")
        yield from shoot("flow-search-detail")
        yield from tap(flows.detail.ids.close_button)

    yield from restart()
    flows.open_item(26)
    yield at("identify")
    scan(DEMO_RETIREE)
    yield at("records")
    yield settled()
    yield from shoot("flow-records")

    yield from restart()
    flows.open_item(13)
    yield at("identify")
    scan(DEMO_EMPLOYEE)
    yield at("certificate")
    yield settled()
    yield from shoot("flow-certificate")

    flows.open_item(20)
    yield at("counter_notice")
    yield from shoot("flow-counter-notice")
    yield from tap(screens["counter_notice"].ids.book_button)
    yield at("form")
    yield Until(lambda: form.mode != "loading", WAIT, "work order form")
    yield from shoot("flow-work-order")
    yield from tap(find_bar_button(form, "home_button"))
    yield at("home")

    yield from restart()
    flows.open_item(7)
    yield at("identify")
    scan(DEMO_EMPLOYEE)
    yield at("form")
    yield Until(lambda: form.mode != "loading", WAIT, "odd-job demand form")
    if form.mode == "eligibility":
        yield from tap(form.ids.continue_button)
    yield from tap(form.row("employer_name"))
    yield Until(lambda: flows.text_entry.parent is not None, WAIT, "pinyin keyboard")
    for letter in "wangjia":
        flows.text_entry.press(letter)
    yield from shoot("flow-pinyin")
    yield from tap(flows.text_entry.ids.cancel_button)
