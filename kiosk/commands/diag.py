"""``kiosk diag <device>``: hardware diagnostics, one subcommand per module in kiosk.diag."""

from __future__ import annotations

import argparse
import importlib
import pkgutil

import kiosk.diag


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("diag", help="hardware diagnostics (printer, scanner, ...)")
    parser.add_argument("--config", help="site config file (TOML), overlaid on the defaults")
    devices = parser.add_subparsers(dest="device", metavar="DEVICE", required=True)
    for module_info in sorted(pkgutil.iter_modules(kiosk.diag.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"kiosk.diag.{module_info.name}")
        module.register(devices)
