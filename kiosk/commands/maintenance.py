"""``kiosk maintenance set-pin | pin-status | restart-if-idle``: local maintenance chores.

``set-pin`` sets the offline maintenance PIN (6–12 digits): asks twice on a terminal, or reads
one line from stdin with ``--pin-stdin`` (for provisioning scripts). Only the argon2 hash is
written, to ``<data_dir>/maintenance-pin.argon2`` (0600); any PIN lockout is cleared and the
change is recorded in the audit log as the console user.

``restart-if-idle`` is what the nightly systemd timer runs: it restarts the kiosk service
(``systemctl restart UNIT``) only when no resident or maintenance session is open and nobody has
touched the screen for ``maintenance.restart_idle_minutes``; otherwise it prints why not and
exits 0. ``--dry-run`` only prints the decision; ``--check`` exits 0 when idle and 1 when not,
for the timer unit's ``ExecCondition=`` (so the check runs unprivileged as the kiosk user and
only ``systemctl restart`` runs as root). Never imports Kivy.
"""

from __future__ import annotations

import argparse
import getpass
import subprocess
import sys

DEFAULT_UNIT = "jinjinban-kiosk.service"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "maintenance", help="maintenance PIN and idle restart", description=__doc__
    )
    parser.add_argument("--config", help="site config file (default: $KIOSK_CONFIG or demo)")
    actions = parser.add_subparsers(dest="maintenance_command", metavar="ACTION", required=True)
    set_pin = actions.add_parser("set-pin", help="set the offline maintenance PIN")
    set_pin.add_argument("--pin-stdin", action="store_true", help="read the PIN from stdin")
    set_pin.set_defaults(func=run_set_pin)
    status = actions.add_parser("pin-status", help="is a PIN set, is it locked")
    status.set_defaults(func=run_pin_status)
    restart = actions.add_parser("restart-if-idle", help="restart the kiosk if nobody uses it")
    restart.add_argument(
        "--unit", default=DEFAULT_UNIT, help=f"systemd unit (default {DEFAULT_UNIT})"
    )
    mode = restart.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the decision only")
    mode.add_argument(
        "--check",
        action="store_true",
        help="exit 0 if idle, 1 if not, restart nothing (for systemd ExecCondition=)",
    )
    restart.add_argument(
        "--min-idle-minutes", type=float, default=None, help="override the configured minutes"
    )
    restart.set_defaults(func=run_restart_if_idle)


def _context(args: argparse.Namespace):
    from kiosk.config import load_config
    from kiosk.paths import data_dir

    config = load_config(args.config)
    return config, data_dir(config.kiosk.data_dir)


def _pin_store(config, directory):
    from kiosk.services.maintenance_auth import PinStore

    section = config.maintenance
    return PinStore(
        directory,
        configured_hash=section.pin_hash,
        max_tries=section.pin_max_tries,
        lock_minutes=section.pin_lock_minutes,
    )


def run_set_pin(args: argparse.Namespace) -> int:
    from kiosk.services.audit import AuditLog
    from kiosk.services.maintenance_auth import PinPolicyError, check_pin_policy

    config, directory = _context(args)
    if args.pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        if not sys.stdin.isatty():
            print("no terminal: use --pin-stdin to read the PIN from stdin", file=sys.stderr)
            return 2
        pin = getpass.getpass("新维护密码 / new PIN (6-12 digits): ").strip()
        try:
            check_pin_policy(pin)
        except PinPolicyError as exc:
            print(exc.message, file=sys.stderr)
            return 2
        again = getpass.getpass("再输入一次 / repeat: ").strip()
        if again != pin:
            print("两次输入不一致 / the PINs differ; nothing changed", file=sys.stderr)
            return 2
    store = _pin_store(config, directory)
    try:
        store.set_pin(pin)
    except PinPolicyError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    AuditLog(directory).append(
        f"console:{_user()}", "console", "maintenance_pin.set", {"via": "kiosk maintenance"}
    )
    print(f"维护密码已设置 / PIN hash written to {store.pin_path}")
    if config.maintenance.pin_hash:
        print("note: this file takes precedence over maintenance.pin_hash in the config")
    return 0


def run_pin_status(args: argparse.Namespace) -> int:
    import time

    config, directory = _context(args)
    store = _pin_store(config, directory)
    failures, locked_until = store.lock_state()
    print(f"PIN set: {'yes' if store.is_set() else 'no'}")
    if locked_until > time.time():
        print(f"locked for another {int(locked_until - time.time()) + 1} s")
    else:
        print(f"not locked; {failures} wrong tries in a row")
    return 0


def run_restart_if_idle(args: argparse.Namespace) -> int:
    from kiosk.services.watchdog import idle_decision

    config, directory = _context(args)
    minutes = args.min_idle_minutes
    if minutes is None:
        minutes = config.maintenance.restart_idle_minutes
    decision = idle_decision(directory, min_idle_seconds=minutes * 60)
    if args.check:
        print(f"{'idle' if decision.restart else 'busy'}: {decision.reason}")
        return 0 if decision.restart else 1
    if not decision.restart:
        print(f"not restarting: {decision.reason}")
        return 0
    if args.dry_run:
        print(f"would restart {args.unit}: {decision.reason}")
        return 0
    print(f"restarting {args.unit}: {decision.reason}")
    try:
        done = subprocess.run(
            ["systemctl", "restart", args.unit], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"systemctl failed: {exc}", file=sys.stderr)
        return 1
    if done.returncode != 0:
        print(f"systemctl failed: {done.stderr.strip()}", file=sys.stderr)
        return 1
    return 0


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
