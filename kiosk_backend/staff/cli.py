"""``kiosk backend staff add|list|review|lock-idle``: the account lifecycle from the server's
shell (bootstrap of the first administrators, cron-driven idle lock, the monthly list).

``--as-of DATE`` makes the command act as on that local date (creation date for ``add``, the
day idle days are counted to for the others); ``--json`` prints one JSON object. The command
line acts as the trusted actor ``cli`` (root on the server): it is not bound to a region, and
each change is in the audit trail like a console action. Exit codes: 0 done, 2 refused (the
reason on stderr), 1 nothing to sign (review without a business admin).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from zoneinfo import ZoneInfo

from kiosk.domain.roles import Permission, Role

EXIT_REFUSED = 2


def register(actions, db_help: str, default_db) -> None:
    """Add ``staff`` and its actions to the ``kiosk backend`` sub-parsers; *default_db* gives
    the database URL when ``--db`` is not given."""
    staff = actions.add_parser("staff", help="staff accounts of 附件3 (add, list, review, lock)")
    verbs = staff.add_subparsers(dest="staff_command", metavar="ACTION", required=True)

    def common(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--db", help=db_help)
        parser.add_argument("--as-of", type=dt.date.fromisoformat, metavar="DATE")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--timezone", default="Asia/Shanghai")
        parser.set_defaults(default_db=default_db)

    add = verbs.add_parser("add", help="create an account (prints its one-time credentials)")
    common(add)
    add.add_argument("--account", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--id-number", required=True)
    add.add_argument("--phone", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--region-code", required=True, help="14 / 1404 / 140431 …")
    add.add_argument("--unit", required=True, help="单位, e.g. 沁源县人社局")
    add.add_argument("--title", default="")
    add.add_argument(
        "--grant",
        action="append",
        default=[],
        choices=[p.name for p in Permission],
        help="a console duty (repeatable); must be allowed for the role",
    )
    add.set_defaults(func=_add)

    listing = verbs.add_parser("list", help="accounts with status, last sign-in and idle days")
    common(listing)
    listing.add_argument("--region-code", default="")
    listing.set_defaults(func=_list)

    review = verbs.add_parser("review", help="the monthly review (每月核查) of a region")
    common(review)
    review.add_argument("--month", required=True, help="YYYY-MM")
    review.add_argument("--region-code", required=True)
    review.add_argument("--sign-as", metavar="ACCOUNT", help="sign off as this 业务管理员")
    review.add_argument("--note", default="")
    review.set_defaults(func=_review)

    lock = verbs.add_parser("lock-idle", help="lock accounts idle for more than 3 months")
    common(lock)
    lock.set_defaults(func=_lock_idle)


def _sessions(args):
    from kiosk_backend.db import make_engine, make_session_factory, migrate

    engine = make_engine(args.db or args.default_db())
    migrate(engine)
    return engine, make_session_factory(engine)


def _as_of(args) -> dt.date:
    return args.as_of or dt.datetime.now(ZoneInfo(args.timezone)).date()


def _moment(args) -> dt.datetime:
    """Now, or noon of the --as-of day in the county's time zone."""
    if args.as_of is None:
        return dt.datetime.now(dt.UTC)
    return dt.datetime.combine(args.as_of, dt.time(12), ZoneInfo(args.timezone)).astimezone(dt.UTC)


def _emit(args, payload: dict, lines: list[str]) -> None:
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        print("\n".join(lines))


def _refused(message: str) -> int:
    print(f"refused: {message}", file=sys.stderr)
    return EXIT_REFUSED


def _add(args) -> int:
    from kiosk_backend.staff.accounts import AccountSpec, Actor, create_account
    from kiosk_backend.staff.rules import AccountRuleError

    engine, sessions = _sessions(args)
    try:
        with sessions() as session:
            spec = AccountSpec(
                account=args.account,
                name=args.name,
                id_number=args.id_number,
                phone=args.phone,
                role=args.role,
                region=args.unit,
                region_code=args.region_code,
                title=args.title,
                grants=tuple(args.grant),
            )
            try:
                operator, handed = create_account(
                    session, spec, actor=Actor.command_line(), now=_moment(args)
                )
            except AccountRuleError as exc:
                return _refused(str(exc))
            session.commit()
            payload = {
                "account": operator.account,
                "role": operator.role,
                "region_code": operator.region_code,
                "created_at": operator.created_at.isoformat(),
                "initial_password": handed.password,
                "totp_uri": handed.totp_uri,
            }
    finally:
        engine.dispose()
    lines = [
        f"account {payload['account']} created ({payload['role']}, {payload['region_code']})",
        f"initial password (change at first sign-in): {payload['initial_password']}",
    ]
    if payload["totp_uri"]:
        lines.append(f"TOTP (add to an authenticator app): {payload['totp_uri']}")
    _emit(args, payload, lines)
    return 0


def _account_row(operator, as_of: dt.date, tz: str) -> dict:
    from kiosk_backend.identity import mask_id_number, mask_phone
    from kiosk_backend.staff.accounts import last_active, local_date
    from kiosk_backend.staff.rules import idle_days, idle_lock_due

    active_on = last_active(operator, tz)
    return {
        "account": operator.account,
        "name": operator.name,
        "id_number": mask_id_number(operator.id_number),
        "phone": mask_phone(operator.phone),
        "role": operator.role,
        "grants": list(operator.grants or []),
        "status": operator.status,
        "lock_reason": operator.lock_reason,
        "region_code": operator.region_code,
        "region": operator.region,
        "created_on": local_date(operator.created_at, tz).isoformat(),
        "last_signin_on": (
            local_date(operator.last_signin_at, tz).isoformat() if operator.last_signin_at else None
        ),
        "idle_days": idle_days(active_on, as_of),
        "idle_lock_on": idle_lock_due(active_on).isoformat(),
    }


def _list(args) -> int:
    from sqlalchemy import select

    from kiosk_backend.models import Operator

    as_of = _as_of(args)
    engine, sessions = _sessions(args)
    try:
        with sessions() as session:
            query = select(Operator).order_by(Operator.region_code, Operator.account)
            if args.region_code:
                query = query.where(
                    Operator.region_code.startswith(args.region_code, autoescape=True)
                )
            rows = [_account_row(o, as_of, args.timezone) for o in session.scalars(query)]
    finally:
        engine.dispose()
    lines = [
        f"{r['account']:<16} {r['role']:<15} {r['status']:<9} {r['lock_reason']:<7} "
        f"{r['region_code']:<7} last {r['last_signin_on'] or '-':<10} idle {r['idle_days']:>4} d"
        for r in rows
    ]
    _emit(args, {"as_of": as_of.isoformat(), "accounts": rows}, lines or ["(no accounts)"])
    return 0


def _review(args) -> int:
    from kiosk_backend.models import Operator
    from kiosk_backend.staff.accounts import Actor
    from kiosk_backend.staff.review import review_rows, sign_off, signed_review
    from kiosk_backend.staff.rules import AccountRuleError

    as_of = _as_of(args)
    engine, sessions = _sessions(args)
    try:
        with sessions() as session:
            try:
                kept = signed_review(session, args.region_code, args.month)
                if args.sign_as:
                    reviewer = session.get(Operator, args.sign_as)
                    if reviewer is None or reviewer.status != "active":
                        return _refused("the reviewer must be an active account")
                    kept = sign_off(
                        session,
                        actor=Actor.of(reviewer),
                        actor_name=reviewer.name,
                        region_code=args.region_code,
                        month=args.month,
                        note=args.note,
                        now=_moment(args),
                        tz=args.timezone,
                    )
                    session.commit()
                rows = (
                    kept.rows
                    if kept
                    else review_rows(session, args.region_code, args.month, as_of, args.timezone)
                )
            except AccountRuleError as exc:
                return _refused(str(exc))
            payload = {
                "month": args.month,
                "region_code": args.region_code,
                "signed": kept is not None,
                "signed_by": kept.signed_by if kept else None,
                "signed_at": kept.signed_at.isoformat() if kept else None,
                "accounts": rows,
            }
    finally:
        engine.dispose()
    lines = [f"每月核查 {args.month} {args.region_code}: {len(rows)} accounts"]
    lines += [
        f"{r['account']:<16} {r['role']:<8} {r['status']:<5} last {r['last_signin'] or '-':<10} "
        f"idle {r['idle_days']:>4} d  {'; '.join(r['changes'])}"
        for r in rows
    ]
    lines.append(f"signed by {payload['signed_by']}" if kept else "not signed yet")
    _emit(args, payload, lines)
    return 0


def _lock_idle(args) -> int:
    from kiosk_backend.staff.accounts import Actor, lock_idle

    as_of = _as_of(args)
    engine, sessions = _sessions(args)
    try:
        with sessions() as session:
            locked = lock_idle(session, as_of, actor=Actor.command_line(), tz=args.timezone)
            session.commit()
    finally:
        engine.dispose()
    lines = [f"locked {len(locked)} idle account(s) as of {as_of}"] + locked
    _emit(args, {"as_of": as_of.isoformat(), "locked": locked}, lines)
    return 0
