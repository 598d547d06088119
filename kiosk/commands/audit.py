"""``kiosk audit verify | show``: check and read the maintenance audit log.

``verify`` walks the hash chain, reports any chain break the log recorded (entries cut off or the
log replaced before an append noticed it), and — unless ``--offline`` — asks the platform for the
heads it received in heartbeats and checks that the log still holds every one of them. Exit
codes: 0 intact (and consistent with the platform when asked), 1 tampering evidence (broken
chain, recorded chain break, missing log, or the platform saw entries this log no longer has),
3 not verified (no log here and nothing — no head file, no platform head — says there was one).
``show [--last N] [--json]`` prints the most recent entries (accounts and actions; the log holds
no residents' data). Never imports Kivy.
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT_INTACT = 0
EXIT_TAMPERED = 1
EXIT_NOT_VERIFIED = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="verify or show the maintenance audit log",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", help="site config file (default: $KIOSK_CONFIG or demo)")
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = actions.add_parser("verify", help="check the hash chain (and the platform's heads)")
    verify.add_argument(
        "--offline", action="store_true", help="do not ask the platform for its heads"
    )
    verify.set_defaults(func=run_verify)
    show = actions.add_parser("show", help="print the latest entries")
    show.add_argument("--last", type=int, default=20, metavar="N", help="how many (default 20)")
    show.add_argument("--json", action="store_true", help="print JSON lines")
    show.set_defaults(func=run_show)


def _context(args: argparse.Namespace):
    from kiosk.config import load_config
    from kiosk.paths import data_dir
    from kiosk.services.audit import AuditLog

    config = load_config(args.config)
    directory = data_dir(config.kiosk.data_dir)
    return config, directory, AuditLog(directory)


def run_verify(args: argparse.Namespace) -> int:
    from kiosk.services.audit import check_platform_heads

    config, directory, log = _context(args)
    result = log.verify()
    heads, platform_note = (None, "not asked (--offline)")
    if not args.offline:
        heads, platform_note = _platform_heads(config, directory)
    problems = check_platform_heads(log, heads) if heads else []
    known = [head for head in heads or [] if head.seq > 0]
    if not result.verified:
        if not known:
            print(
                f"audit log NOT VERIFIED: {result.reason}; nothing says a log existed "
                f"(no head file; platform: {platform_note}) ({log.path})",
                file=sys.stderr,
            )
            return EXIT_NOT_VERIFIED
        newest = known[0]
        print(
            f"audit log DELETED: {result.reason}; the platform received head {newest.seq} "
            f"at {newest.received_at} ({log.path})",
            file=sys.stderr,
        )
        return EXIT_TAMPERED
    if result.ok and not problems:
        print(f"audit log intact: {result.entries} entries ({log.path}); platform: {platform_note}")
        return EXIT_INTACT
    if not result.ok:
        print(
            f"audit log BROKEN at entry {result.broken_seq}: {result.reason} "
            f"({result.entries} entries verified before it; {log.path})",
            file=sys.stderr,
        )
        for noticed in result.chain_breaks[1:]:
            print(f"  also: {noticed.describe()}", file=sys.stderr)
    for problem in problems:
        print(f"audit log and platform DISAGREE: {problem}", file=sys.stderr)
    return EXIT_TAMPERED


def _platform_heads(config, directory):
    """(the platform's heads for this kiosk, a note); (None, why) when it cannot be asked."""
    from kiosk.commands._platform import open_platform_client
    from kiosk.services.audit import PlatformHead
    from kiosk.services.errors import BackendError

    handle = session = None
    try:
        client, handle, session = open_platform_client(config, directory)
        if client is None:
            return None, "no platform configured"
        answer = client.audit_heads()
    except BackendError as exc:
        return None, f"not reachable ({exc.code or type(exc).__name__})"
    finally:
        if session is not None:
            session.close()
        if handle is not None:
            handle.stop()
    heads = [
        PlatformHead(h.seq, h.hash, h.received_at.isoformat(timespec="seconds"), h.regression)
        for h in answer.heads
    ]
    return heads, f"{len(heads)} heads received, each checked"


def run_show(args: argparse.Namespace) -> int:
    from collections import deque

    _config, _directory, log = _context(args)
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
