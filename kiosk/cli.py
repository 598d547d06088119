"""The ``kiosk`` command: ``kiosk run`` (default), ``tour``, ``catalog``, ``diag``, ``backend`` ...

Subcommands are discovered from :mod:`kiosk.commands`; see that package's docstring.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import kiosk.commands
from kiosk.config import ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk", description="就近办 self-service kiosk (demo mode by default)"
    )
    parser.add_argument("--version", action="version", version=f"kiosk {kiosk.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(kiosk.commands.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"kiosk.commands.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["run", *argv]
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"配置错误 / config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
