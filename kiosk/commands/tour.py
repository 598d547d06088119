"""``kiosk tour --out DIR``: drive the app through its screens and write one PNG per screen.

Each orientation runs in its own process (Kivy fixes the window size at import) under the
current display; the Makefile wraps the command in ``xvfb-run``. File names are stable:
``<orientation>-<NN>-<screen>.png``, e.g. ``portrait-01-home.png``. Exit code 0 when every
PNG was written, 3 without a display, 1 when a step of the tour failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

CHILD_TIMEOUT_SECONDS = 300


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("tour", help="write a PNG of every screen (needs a display)")
    parser.add_argument("--out", required=True, type=Path, help="directory for the PNG files")
    parser.add_argument("--orientation", choices=("portrait", "landscape", "both"), default="both")
    parser.add_argument("--config", help="site config file (TOML), overlaid on the defaults")
    parser.add_argument("--child", choices=("portrait", "landscape"), help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.child:
        return _run_child(args)
    from kiosk.screens.bootstrap import display_problem

    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 3
    orientations = ("portrait", "landscape") if args.orientation == "both" else (args.orientation,)
    args.out.mkdir(parents=True, exist_ok=True)
    status = 0
    for orientation in orientations:
        command = [sys.executable, "-m", "kiosk", "tour", "--out", str(args.out)]
        command += ["--child", orientation]
        if args.config:
            command += ["--config", args.config]
        started = time.monotonic()
        try:
            done = subprocess.run(command, timeout=CHILD_TIMEOUT_SECONDS, env=os.environ.copy())
        except subprocess.TimeoutExpired:
            print(f"tour {orientation}: timed out after {CHILD_TIMEOUT_SECONDS} s", file=sys.stderr)
            status = 1
            continue
        if done.returncode != 0:
            status = done.returncode
        print(f"tour {orientation}: exit {done.returncode} in {time.monotonic() - started:.1f} s")
    return status


class OffsetClock:
    """``time.monotonic()`` plus an offset the tour advances to reach the idle prompt at once."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def _run_child(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.screens.bootstrap import GuiOptions, StartupError, start_gui

    config = load_config(args.config)
    clock = OffsetClock()
    outcome: dict[str, BaseException | None] = {}

    def on_start(app) -> None:
        from kiosk.screens.driver import ScenarioRunner

        def on_finish(error: BaseException | None) -> None:
            outcome["error"] = error
            app.allow_exit = True
            app.stop()

        script = tour_script(app, clock, args.out, args.child)
        ScenarioRunner(script, on_finish).start(delay=1.0)

    options = GuiOptions(
        orientation=args.child, fullscreen=False, idle_clock=clock, on_start=on_start
    )
    try:
        start_gui(config, options)
    except StartupError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    error = outcome.get("error", RuntimeError("the app stopped before the tour finished"))
    if error is not None:
        print(f"tour {args.child} failed: {error}", file=sys.stderr)
        return 1
    return 0


def tour_script(app, clock: OffsetClock, out: Path, orientation: str):
    """The tour: every screen once, tapping like a resident where a tap reaches it."""
    from kiosk.screens.driver import Until, export_png, find_bar_button, settled, tap

    screens = app.screens
    categories = [c.name for c in app.services.catalogue.categories()]
    counter = 0

    def settle(name: str):
        return Until(lambda: app.current_screen == name, 10, f"screen {name}")

    def shoot(label: str):
        nonlocal counter
        counter += 1
        yield from settled(app.root_layout)  # labels laid out, lists filled
        path = export_png(app.root_layout, out / f"{orientation}-{counter:02d}-{label}.png")
        print(f"wrote {path}", flush=True)

    yield settle("home")
    yield from shoot("home")

    yield from tap(screens["home"].tile(categories[0]))
    yield settle("category")
    yield from shoot("category-1")

    yield Until(lambda: _has_row(screens["category"], 1), 10, "row of item 1")
    yield from tap(screens["category"].row(1))
    yield settle("item")
    yield from shoot("item-1")

    clock.advance(app.idle.idle_seconds)
    yield Until(lambda: app.idle_prompt_shown, 10, "idle prompt")
    yield from shoot("idle-prompt")
    yield from tap(app.idle_prompt.ids.continue_button)
    yield Until(lambda: not app.idle_prompt_shown, 10, "prompt dismissed")

    for index in (2, 3, 4):
        yield from tap(find_bar_button(screens[app.current_screen], "home_button"))
        yield settle("home")
        yield from tap(screens["home"].tile(categories[index - 1]))
        yield settle("category")
        yield from shoot(f"category-{index}")

    for item_no in (23, 32):
        app.show_item(item_no)
        yield settle("item")
        yield from shoot(f"item-{item_no}")

    yield from tap(find_bar_button(screens["item"], "help_button"))
    yield Until(lambda: app.help_shown, 10, "help panel")
    yield from shoot("help")
    yield from tap(app.help_panel.ids.close_button)
    yield Until(lambda: not app.help_shown, 10, "help closed")

    demo = app.services.demo
    if demo is not None and app.services.item_flows is not None:
        from kiosk.screens.flow_tour import flow_tour

        yield from flow_tour(app, shoot, demo.scan_essc)


def _has_row(category_screen, no: int) -> bool:
    try:
        category_screen.row(no)
    except KeyError:
        return False
    return True
