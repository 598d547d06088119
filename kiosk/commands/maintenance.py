"""``kiosk maintenance set-pin | remove-pin | pin-status | sync-roster | restart-if-idle``.

``set-pin --account LOGIN`` sets the offline maintenance PIN (6–12 digits) of one named staff
account: asks twice on a terminal, or reads one line from stdin with ``--pin-stdin`` (for
provisioning scripts). The account must be active on the operator roster synced from the
platform (``sync-roster`` fetches it now; the running kiosk re-reads it every few minutes). Only
the argon2 hash is written, to ``<data_dir>/maintenance-pins.json`` (0600); any PIN lockout is
cleared and the change is recorded in the audit log as the console user. ``remove-pin
--account LOGIN`` deletes one. ``pin-status`` lists the accounts with a PIN, their roster status
and the lockout.

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
    set_pin = actions.add_parser("set-pin", help="set a staff account's offline PIN")
    set_pin.add_argument("--account", required=True, metavar="LOGIN", help="the account (附件3)")
    set_pin.add_argument("--pin-stdin", action="store_true", help="read the PIN from stdin")
    set_pin.set_defaults(func=run_set_pin)
    remove_pin = actions.add_parser("remove-pin", help="delete a staff account's offline PIN")
    remove_pin.add_argument("--account", required=True, metavar="LOGIN")
    remove_pin.set_defaults(func=run_remove_pin)
    status = actions.add_parser("pin-status", help="accounts with a PIN, the roster, the lock")
    status.set_defaults(func=run_pin_status)
    sync = actions.add_parser("sync-roster", help="fetch the operator roster from the platform")
    sync.set_defaults(func=run_sync_roster)
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
        directory, max_tries=section.pin_max_tries, lock_minutes=section.pin_lock_minutes
    )


def _roster(config, directory):
    from kiosk.services.operator_roster import OperatorRoster

    return OperatorRoster(directory, max_age_days=config.maintenance.roster_max_age_days)


def run_set_pin(args: argparse.Namespace) -> int:
    from kiosk.services.maintenance_auth import PinPolicyError, check_pin_policy
    from kiosk.services.operator_roster import RosterRefusal

    config, directory = _context(args)
    try:
        operator = _roster(config, directory).vouch(args.account)
    except RosterRefusal as exc:
        print(f"{exc.message} ({args.account}: {exc.code})", file=sys.stderr)
        if exc.code in ("roster_missing", "roster_stale", "not_on_roster"):
            print(
                "run `kiosk maintenance sync-roster` while the platform is reachable",
                file=sys.stderr,
            )
        return 2
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
        store.set_pin(operator.account, pin)
    except PinPolicyError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    _audit_console(directory, "maintenance_pin.set", operator.account)
    print(
        f"维护密码已设置 / PIN of {operator.account} ({operator.name_masked}) written to "
        f"{store.pins_path}"
    )
    return 0


def run_remove_pin(args: argparse.Namespace) -> int:

    config, directory = _context(args)
    if not _pin_store(config, directory).remove_pin(args.account):
        print(f"{args.account} has no PIN on this kiosk", file=sys.stderr)
        return 1
    _audit_console(directory, "maintenance_pin.removed", args.account)
    print(f"维护密码已删除 / PIN of {args.account} removed")
    return 0


def run_pin_status(args: argparse.Namespace) -> int:
    import time

    from kiosk.services.operator_roster import RosterRefusal

    config, directory = _context(args)
    store = _pin_store(config, directory)
    roster = _roster(config, directory)
    snapshot = roster.load()
    if snapshot is None:
        print("operator roster: never synced (no PIN works until it is)")
    else:
        age_days = (time.time() - snapshot.synced_at) / 86_400
        print(
            f"operator roster: {len(snapshot.accounts)} accounts of {snapshot.region_code}, "
            f"synced {age_days:.1f} days ago"
        )
    accounts = store.accounts()
    print(f"accounts with a PIN: {len(accounts)}")
    for login in accounts:
        try:
            roster.vouch(login)
            usable = "usable"
        except RosterRefusal as exc:
            usable = f"refused ({exc.code})"
        print(f"  {login}: {usable}")
    if store.legacy_pin_present():
        print(f"note: {store.legacy_path} (the old shared PIN) is ignored; delete it")
    state = store.lock_state()
    if state.locked_until > time.time():
        print(
            f"locked for another {int(state.locked_until - time.time()) + 1} s (lock {state.level})"
        )
    else:
        print(f"not locked; {state.failures} wrong tries since the last right PIN")
    return 0


def run_sync_roster(args: argparse.Namespace) -> int:
    from kiosk.commands._platform import open_platform_client
    from kiosk.services.errors import BackendError

    config, directory = _context(args)
    handle = session = None
    try:
        client, handle, session = open_platform_client(config, directory)
        if client is None:
            print("no platform configured (backend.url)", file=sys.stderr)
            return 1
        count = _roster(config, directory).sync(client)
    except BackendError as exc:
        print(
            f"platform not reachable or refused: {exc.code or type(exc).__name__}", file=sys.stderr
        )
        return 1
    finally:
        if session is not None:
            session.close()
        if handle is not None:
            handle.stop()
    print(f"operator roster synced: {count} accounts")
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


def _audit_console(directory, action: str, account: str) -> None:
    """Record a PIN change made from the shell, as the console user."""
    from kiosk.services.audit import AuditLog

    AuditLog(directory).append(
        f"console:{_user()}", "console", action, {"account": account, "via": "kiosk maintenance"}
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
