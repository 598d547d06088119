"""Command line for the 问题台账 of the reference server: provision responder desks, and let a
desk work its tickets — and a county desk its applications — without a desk application (the
same rules as the HTTP API).

    python -m kiosk_backend.ledger_admin add-responder --db URL --account county-140431 \\
        --level county --region 140431 --name 张三 --role 县人社局就业股 --secret-file PATH
    python -m kiosk_backend.ledger_admin tickets --db URL --account county-140431 [--all]
    python -m kiosk_backend.ledger_admin answer --db URL --account county-140431 --ticket 7 \\
        --result "已电话指导" --deadline 2026-12-10
    python -m kiosk_backend.ledger_admin escalate --db URL --account ... --ticket 7 --reason ...
    python -m kiosk_backend.ledger_admin close --db URL --account ... --ticket 7 --resolution ...
    python -m kiosk_backend.ledger_admin responsibility --db URL --account province
    python -m kiosk_backend.ledger_admin applications --db URL --account county-140431 \
        [--status submitted]
    python -m kiosk_backend.ledger_admin move-application --db URL --account county-140431 \
        --number BJ20261201000042 --status rejected --reason "材料不全"

add-responder writes a fresh 32-byte secret (0600) to --secret-file unless it already holds one;
the desk signs HTTP requests with it exactly like a kiosk (X-Kiosk-Id = the account).
Dates are the county's local dates (Asia/Shanghai). Exit status: 0 done, 2 refused/invalid.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.domain.catalogue import BUSINESS_LINES
from kiosk_backend import ledger, progression
from kiosk_backend.db import make_engine, make_session_factory, migrate
from kiosk_backend.errors import ApiError
from kiosk_backend.filing import STATUS_LABELS
from kiosk_backend.provision import (
    ProvisionError,
    new_secret_hex,
    read_secret_file,
    write_secret_file,
)
from kiosk_backend.server_keys import ServerKeyError, load_server_keys
from kiosk_backend.ticket_routing import LEVEL_LABELS, STATE_LABELS, Level, TicketState, overdue

TIMEZONE = "Asia/Shanghai"


def main(argv: list[str] | None = None, out=None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        if args.command == "add-responder":
            return _add_responder(args, out)
        if args.command in ("applications", "move-application"):
            return _application_command(args, out)
        return _desk_command(args, out)
    except (ProvisionError, ServerKeyError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ApiError as exc:
        print(f"refused: {exc.message}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--db", required=True, help="SQLAlchemy URL of the platform database")
        sub.add_argument(
            "--key-file",
            type=Path,
            help="the server key file (default: $KIOSK_BACKEND_KEY_FILE, or beside an SQLite db)",
        )
        sub.add_argument("--account", required=True, help="the responder desk's account")
        return sub

    add = command("add-responder", "create or update a responder desk")
    add.add_argument("--level", required=True, choices=[level.value for level in Level])
    add.add_argument("--region", default="", help="region code prefix covered ('' = all)")
    add.add_argument("--name", required=True)
    add.add_argument("--role", default="")
    add.add_argument("--secret-file", required=True, type=Path)
    add.add_argument(
        "--business-line",
        default="",
        choices=["", *BUSINESS_LINES],
        help="附件5 指定业务骨干: the line this desk answers ('' = every line)",
    )
    listing = command("tickets", "tickets this desk's level holds (open ones by default)")
    listing.add_argument("--all", action="store_true", help="include closed tickets")
    answer = command("answer", "answer a ticket: result and 反馈时限")
    answer.add_argument("--ticket", required=True, type=int)
    answer.add_argument("--result", required=True)
    answer.add_argument("--deadline", required=True, type=dt.date.fromisoformat)
    escalate = command("escalate", "hand a ticket to the next level")
    escalate.add_argument("--ticket", required=True, type=int)
    escalate.add_argument("--reason", required=True)
    close = command("close", "close a ticket")
    close.add_argument("--ticket", required=True, type=int)
    close.add_argument("--resolution", required=True)
    command("responsibility", "责任清单: who holds each open ticket of the desk's region")
    apps = command("applications", "applications filed at the region's kiosks (county desks)")
    apps.add_argument("--status", choices=sorted(STATUS_LABELS), default=None)
    move = command("move-application", "受理 / 审核中 / 已办结 / 不予受理 (county desks)")
    move.add_argument("--number", required=True, help="办件编号, e.g. BJ20261201000042")
    move.add_argument("--status", required=True, choices=progression.TARGETS)
    move.add_argument("--reason", default="", help="result or reason (required for rejected)")
    return parser


def _add_responder(args, out) -> int:
    if args.secret_file.exists():
        secret_hex = read_secret_file(args.secret_file)
    else:
        secret_hex = new_secret_hex()
        write_secret_file(args.secret_file, secret_hex)
    ledger.add_responder(
        args.db,
        args.account,
        name=args.name,
        role=args.role,
        level=args.level,
        region_prefix=args.region,
        business_line=args.business_line,
        secret_hex=secret_hex,
        key_file=args.key_file,
    )
    print(
        f"responder {args.account} ({args.level}) provisioned; secret in {args.secret_file}",
        file=out,
    )
    return 0


def _keys_if_named(args):
    """The ring of --key-file, or None: a migration that must seal rows loads the default."""
    return load_server_keys(args.db, args.key_file) if args.key_file else None


def _desk_command(args, out) -> int:
    engine = make_engine(args.db)
    try:
        migrate(engine, _keys_if_named(args))
        with make_session_factory(engine)() as session:
            desk = ledger.responder_of(session, args.account)
            now = dt.datetime.now(dt.UTC)
            today = now.astimezone(ZoneInfo(TIMEZONE)).date()
            if args.command == "tickets":
                rows = ledger.desk_tickets(session, desk, "all" if args.all else "open")
            elif args.command == "responsibility":
                rows = ledger.region_open_tickets(session, desk)
            elif args.command == "answer":
                rows = [
                    ledger.answer_ticket(
                        session, desk, args.ticket, args.result, args.deadline, now=now, today=today
                    )
                ]
            elif args.command == "escalate":
                rows = [
                    ledger.escalate_ticket(
                        session, desk, args.ticket, args.reason, now=now, today=today
                    )
                ]
            else:
                rows = [
                    ledger.close_by_responder(session, desk, args.ticket, args.resolution, now=now)
                ]
            for ticket in rows:
                print(_line(ticket, today), file=out)
    finally:
        engine.dispose()
    return 0


def _application_command(args, out) -> int:
    engine = make_engine(args.db)
    try:
        migrate(engine, _keys_if_named(args))
        with make_session_factory(engine)() as session:
            desk = progression.require_county_desk(session, args.account)
            if args.command == "applications":
                rows = progression.region_applications(session, desk, args.status, 500)
            else:
                now = dt.datetime.now(dt.UTC)
                rows = [
                    progression.move_application(
                        session, desk, args.number, args.status, args.reason, now=now
                    )
                ]
                session.commit()
            for application in rows:
                print(_application_line(application), file=out)
    finally:
        engine.dispose()
    return 0


def _application_line(application) -> str:
    """One application as a tab-separated line (no resident data: number, item, status)."""
    fields = [
        application.number,
        str(application.item_no),
        STATUS_LABELS.get(application.status, application.status),
        application.due_date.isoformat() if application.due_date else "",
        application.service_point,
        application.result.replace("\n", " "),
    ]
    return "\t".join(fields)


def _line(ticket, today: dt.date) -> str:
    """One ticket as a tab-separated line (no phone numbers: they stay in the database)."""
    state = TicketState(ticket.state)
    late = overdue(state, ticket.answer_due, ticket.feedback_deadline, today)
    flag = "超期" if late.any else ""
    holder = f"{LEVEL_LABELS[Level(ticket.level)]}/{ticket.assignee or '未配置责任人'}"
    fields = [
        str(ticket.id),
        ticket.number or "",
        STATE_LABELS[state],
        holder,
        f"答复期限{ticket.answer_due.isoformat()}",
        f"反馈时限{ticket.feedback_deadline.isoformat()}" if ticket.feedback_deadline else "",
        flag,
        ticket.service_point,
        ticket.description[:60].replace("\n", " "),
    ]
    return "\t".join(fields)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
