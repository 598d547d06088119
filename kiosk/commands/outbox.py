"""``kiosk outbox status [--json]`` and ``kiosk outbox list``: what waits to be delivered.

Reads the kiosk store only (no network, no Kivy) and never prints personal data: counts, local
reference numbers, kinds, states and machine error codes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict

EXIT_DAMAGED = 3


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "outbox", help="submissions waiting for the platform (status, list, retry)"
    )
    parser.add_argument("--config", help="site config file (default: $KIOSK_CONFIG or demo)")
    actions = parser.add_subparsers(dest="outbox_action", metavar="ACTION")
    status = actions.add_parser("status", help="pending / delivered / failed counts")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    listing = actions.add_parser("list", help="recent submissions (no personal data)")
    listing.add_argument("--status", choices=["pending", "delivered", "failed"])
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--json", action="store_true", help="print JSON lines")
    retry = actions.add_parser("retry", help="put a failed submission back in the queue")
    retry.add_argument("local_ref")
    parser.set_defaults(func=run, outbox_action="status", json=False)


def run(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.paths import data_dir
    from kiosk.services.store import DB_FILE_NAME

    config = load_config(args.config)
    directory = data_dir(config.kiosk.data_dir)
    from kiosk.services.quarantine import quarantined_files

    quarantined = quarantined_files(directory)
    if not (directory / DB_FILE_NAME).exists() and args.outbox_action != "retry":
        if args.outbox_action == "status":
            return _print_status(None, quarantined, args.json)
        return 0
    import sqlalchemy as sa

    from kiosk.services.outbox import OutboxStatus, summarize
    from kiosk.services.store import open_store

    try:
        # Never move the file here: the running kiosk may hold it open; it quarantines a
        # damaged store itself when it starts.
        store = open_store(directory, quarantine=False)
    except sa.exc.DatabaseError:
        print(
            f"{DB_FILE_NAME} 已损坏，无法读取；重新启动本机程序时会隔离该文件并新建"
            f" / {DB_FILE_NAME} is damaged; the kiosk sets it aside when it next starts",
            file=sys.stderr,
        )
        return EXIT_DAMAGED
    try:
        if args.outbox_action == "status":
            return _print_status(summarize(store.engine, time.time()), quarantined, args.json)
        if args.outbox_action == "list":
            status = OutboxStatus(args.status) if args.status else None
            return _print_list(store, status, args, config.kiosk.timezone)
        return _retry(store, args.local_ref)
    finally:
        store.close()


def _print_status(summary, quarantined: list, as_json: bool) -> int:
    pending = summary.pending if summary else 0
    delivered = summary.delivered if summary else 0
    failed = summary.failed if summary else 0
    age = summary.oldest_pending_age_seconds if summary else None
    if as_json:
        print(
            json.dumps(
                {
                    "pending": pending,
                    "delivered": delivered,
                    "failed": failed,
                    "oldest_pending_age_seconds": None if age is None else round(age, 1),
                    "quarantined": [asdict(record) for record in quarantined],
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"待提交 pending:     {pending}")
    print(f"已送达 delivered:   {delivered}")
    print(f"未受理 failed:      {failed}")
    print(f"最久待提交 oldest pending: {'-' if age is None else _duration(age)}")
    for record in quarantined:
        whole = "complete" if record.complete else "INCOMPLETE: some rows could not be read"
        print(
            f"已隔离的损坏文件 quarantined: {record.moved_to} ({record.moved_at}, "
            f"{record.reason}); rows saved into the new outbox: {record.salvaged}, {whole}"
        )
    return 0


def _print_list(store, status, args, zone: str) -> int:
    import sqlalchemy as sa

    from kiosk.domain.clock import ServiceClock
    from kiosk.services.store import outbox_entries

    clock = ServiceClock(zone)

    columns = [
        outbox_entries.c.local_ref,
        outbox_entries.c.kind,
        outbox_entries.c.status,
        outbox_entries.c.attempts,
        outbox_entries.c.created_at,
        outbox_entries.c.http_status,
        outbox_entries.c.error_code,
        outbox_entries.c.reference_no,
    ]
    query = sa.select(*columns).order_by(outbox_entries.c.id.desc()).limit(max(1, args.limit))
    if status is not None:
        query = query.where(outbox_entries.c.status == status.value)
    with store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    for row in rows:
        if args.json:
            print(json.dumps(dict(row), ensure_ascii=False))
        else:
            created = f"{clock.from_timestamp(row['created_at']):%Y-%m-%d %H:%M:%S}"
            print(
                f"{row['local_ref']}  {created}  {row['kind']:<15} {row['status']:<9} "
                f"tries={row['attempts']} {row['error_code'] or ''} {row['reference_no'] or ''}"
            )
    return 0


def _retry(store, local_ref: str) -> int:
    from kiosk.services.outbox import OutboxStatus
    from kiosk.services.store import outbox_entries

    with store.engine.begin() as conn:
        result = conn.execute(
            outbox_entries.update()
            .where(outbox_entries.c.local_ref == local_ref)
            .where(outbox_entries.c.status == OutboxStatus.FAILED.value)
            .values(status=OutboxStatus.PENDING.value, next_attempt_at=time.time())
        )
    if not result.rowcount:
        print(f"没有找到未受理的提交 {local_ref} / no failed submission {local_ref}")
        return 1
    print(f"{local_ref} 已重新排队 / queued again (the running kiosk sends it on its next round)")
    return 0


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes}m"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"
