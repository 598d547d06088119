"""``kiosk audit verify | show``: check and read the maintenance audit log.

``verify`` walks the hash chain: exit 0 and "audit log intact: N entries", or exit 1 naming the
first broken entry and why (altered, deleted, reordered, cut off). ``show [--last N] [--json]``
prints the most recent entries (accounts and actions; the log holds no residents' data).
Never imports Kivy.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit", help="verify or show the maintenance audit log", description=__doc__
    )
    parser.add_argument("--config", help="site config file (default: $KIOSK_CONFIG or demo)")
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = actions.add_parser("verify", help="check the hash chain")
    verify.set_defaults(func=run_verify)
    show = actions.add_parser("show", help="print the latest entries")
    show.add_argument("--last", type=int, default=20, metavar="N", help="how many (default 20)")
    show.add_argument("--json", action="store_true", help="print JSON lines")
    show.set_defaults(func=run_show)


def _open_log(args: argparse.Namespace):
    from kiosk.config import load_config
    from kiosk.paths import data_dir
    from kiosk.services.audit import AuditLog

    config = load_config(args.config)
    return AuditLog(data_dir(config.kiosk.data_dir))


def run_verify(args: argparse.Namespace) -> int:
    log = _open_log(args)
    result = log.verify()
    if result.ok:
        print(f"audit log intact: {result.entries} entries ({log.path})")
        return 0
    print(
        f"audit log BROKEN at entry {result.broken_seq}: {result.reason} "
        f"({result.entries} entries verified before it; {log.path})",
        file=sys.stderr,
    )
    return 1


def run_show(args: argparse.Namespace) -> int:
    from collections import deque

    log = _open_log(args)
    entries = deque(log.entries(), maxlen=max(1, args.last))
    for entry in entries:
        if args.json:
            print(json.dumps({**entry.body(), "hash": entry.hash}, ensure_ascii=False))
        else:
            detail = " ".join(f"{k}={v}" for k, v in sorted(entry.detail.items()))
            print(
                f"{entry.seq:>6}  {entry.time}  {entry.account:<24} {entry.role:<14} "
                f"{entry.action} {detail}".rstrip()
            )
    return 0
