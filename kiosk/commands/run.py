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
        help="print JSON timing once the home screen is first drawn, then exit (benchmarks)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.screens.bootstrap import GuiOptions, StartupError, start_gui

    config = load_config(args.config)
    options = GuiOptions(
        orientation=args.orientation,
        fullscreen=False if args.windowed else None,
        on_first_frame=_print_and_stop if args.exit_after_first_frame else None,
    )
    try:
        return start_gui(config, options)
    except StartupError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code


def _print_and_stop(app, seconds: float) -> None:
    import resource

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = {"first_frame_s": round(seconds, 3), "peak_rss_mb": round(peak_kb / 1024, 1)}
    pss_kb = _pss_kb()
    if pss_kb is not None:
        report["pss_mb"] = round(pss_kb / 1024, 1)
    print(json.dumps(report))
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
