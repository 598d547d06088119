"""``kiosk run``: start the kiosk GUI (the default command)."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="start the kiosk (default)")
    parser.add_argument("--config", help="site config file (TOML), overlaid on the defaults")
    parser.add_argument(
        "--orientation",
        choices=("portrait", "landscape"),
        help="override display.orientation (portrait 1080×1920, landscape 1920×1080)",
    )
    parser.add_argument(
        "--windowed", action="store_true", help="override display.fullscreen: open a window"
    )
    parser.add_argument(
        "--exit-after-first-frame",
        action="store_true",
        help="print JSON timing of the first drawn home screen and of the completed start-up,"
        " then exit (benchmarks)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.screens.bootstrap import GuiOptions, StartupError, start_gui

    config = load_config(args.config)
    timing = StartupTiming() if args.exit_after_first_frame else None
    options = GuiOptions(
        orientation=args.orientation,
        fullscreen=False if args.windowed else None,
        on_first_frame=timing.first_frame if timing else None,
        on_start=timing.started if timing else None,
    )
    try:
        return start_gui(config, options)
    except StartupError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code


class StartupTiming:
    """``--exit-after-first-frame``: one JSON line, then exit. ``first_frame_s``,
    ``peak_rss_mb`` and ``pss_mb`` are taken when home is first drawn; ``ready_s`` and
    ``ready_pss_mb`` when the start-up that follows it has finished (every screen built, the
    components started), which is when the line is printed. Seconds from the process start."""

    def __init__(self) -> None:
        self.report: dict = {}
        self._ready: dict = {}

    def first_frame(self, app, seconds: float) -> None:
        import resource

        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.report = {"first_frame_s": round(seconds, 3), "peak_rss_mb": round(peak_kb / 1024, 1)}
        pss_kb = _pss_kb()
        if pss_kb is not None:
            self.report["pss_mb"] = round(pss_kb / 1024, 1)
        self._finish(app)

    def started(self, app) -> None:
        from kivy.clock import Clock

        from kiosk.app import seconds_since_process_start

        self._ready = {"ready_s": round(seconds_since_process_start(), 3)}
        pss_kb = _pss_kb()
        if pss_kb is not None:
            self._ready["ready_pss_mb"] = round(pss_kb / 1024, 1)
        # On the next frame: the start-up's last step (this call's) has its timing by then.
        Clock.schedule_once(lambda _dt: self._finish(app), 0)

    def _finish(self, app) -> None:
        if not (self.report and self._ready):
            return  # the other half comes later
        print(json.dumps(self.report | self._ready | {"startup_ms": app.startup.timings_ms}))
        sys.stdout.flush()
        app.allow_exit = True
        app.stop()


def _pss_kb() -> int | None:
    """Proportional set size now (shared libraries counted pro rata); None if unavailable."""
    try:
        with open("/proc/self/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None
