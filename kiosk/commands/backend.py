"""``kiosk backend serve|add-kiosk|seed|rotate-key|staff|essc-code``: run and provision the platform.

Every action takes ``--key-file``: the server key ring that seals kiosk secrets and stored
answers (default ``$KIOSK_BACKEND_KEY_FILE``, else ``<database file>.key`` beside an SQLite
database, created 0600 on first use; PostgreSQL needs one named). Imports the backend only
inside the handlers (no Kivy, fast ``kiosk --help``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_DB_HELP = "SQLAlchemy URL (default: sqlite:///<data dir>/backend.sqlite3)"
KEY_FILE_HELP = (
    "server key file, 0600 (default: $KIOSK_BACKEND_KEY_FILE, else <database file>.key beside "
    "an SQLite database; required for PostgreSQL)"
)


def _default_db_url() -> str:
    from kiosk.paths import data_dir

    return f"sqlite:///{data_dir() / 'backend.sqlite3'}"


def register(subparsers) -> None:
    parser = subparsers.add_parser("backend", help="run or provision the reference backend server")
    actions = parser.add_subparsers(dest="backend_command", metavar="ACTION", required=True)

    serve = actions.add_parser("serve", help="run the server (applies migrations first)")
    serve.add_argument("--db", help=DEFAULT_DB_HELP)
    serve.add_argument("--key-file", help=KEY_FILE_HELP)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700)
    serve.add_argument(
        "--seed-demo", action="store_true", help="fill an empty database with the 沁源县 demo data"
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="worker processes sharing the port (PostgreSQL for more than one; the database "
        "is migrated once before they start)",
    )
    serve.add_argument(
        "--person-limit",
        type=int,
        default=30,
        help="distinct persons one kiosk may identify per window (default 30)",
    )
    serve.add_argument(
        "--person-window-minutes", type=int, default=60, help="the window (default 60)"
    )
    serve.add_argument(
        "--accept-evidence",
        default="essc,sscard_psam,idcard_sam",
        help="identity evidence kinds accepted, comma-separated "
        "(essc, sscard_psam, idcard_sam, sscard_unauthenticated)",
    )
    serve.add_argument(
        "--answer-days",
        default="",
        metavar="county=3,city=5,province=10",
        help="附件5 answer deadlines in working days per level (a local rule; defaults shown)",
    )
    serve.set_defaults(func=_serve)

    add = actions.add_parser(
        "add-kiosk", help="provision a kiosk: id, HMAC secret and the region the county sets"
    )
    add.add_argument("--id", required=True, dest="kiosk_id")
    add.add_argument("--db", help=DEFAULT_DB_HELP)
    add.add_argument("--key-file", help=KEY_FILE_HELP)
    add.add_argument(
        "--region",
        help="6-digit 行政区划代码 of the service point, e.g. 140431 (required for a new kiosk; "
        "the kiosk itself cannot change it)",
    )
    add.add_argument(
        "--secret-file",
        required=True,
        type=Path,
        help="read the hex secret from here, or create it (0600) if missing",
    )
    add.add_argument("--service-point", default="")
    add.set_defaults(func=_add_kiosk)

    seed = actions.add_parser("seed", help="migrate and fill an empty database with demo data")
    seed.add_argument("--db", help=DEFAULT_DB_HELP)
    seed.add_argument("--key-file", help=KEY_FILE_HELP)
    seed.add_argument("--postings", type=int, default=3000)
    seed.add_argument("--persons", type=int, default=400)
    seed.set_defaults(func=_seed)

    rotate = actions.add_parser(
        "rotate-key",
        help="put a new server key first and re-seal kiosk secrets and stored answers under it",
    )
    rotate.add_argument("--db", help=DEFAULT_DB_HELP)
    rotate.add_argument("--key-file", help=KEY_FILE_HELP)
    rotate.set_defaults(func=_rotate_key)

    essc = actions.add_parser(
        "essc-code",
        help="mint a fresh e-SSC QR code (valid at most 120 s, verifies once)",
        description="The reference platform acts as the e-SSC issuer: the code it prints is "
        "what a resident's or operator's phone shows. Give exactly one of --person/--operator.",
    )
    who = essc.add_mutually_exclusive_group(required=True)
    who.add_argument("--person", metavar="ID", help="the resident's ID number")
    who.add_argument("--operator", metavar="LOGIN", help="the operator's account")
    essc.add_argument("--db", help=DEFAULT_DB_HELP)
    essc.add_argument("--key-file", help=KEY_FILE_HELP)
    essc.add_argument("--ttl", type=int, default=120, help="seconds the code is valid (1-120)")
    essc.add_argument("--png", type=Path, help="also write the code as a QR image here")
    essc.set_defaults(func=_essc_code)

    from kiosk_backend.staff import cli as staff_cli

    staff_cli.register(actions, DEFAULT_DB_HELP, _default_db_url)


# uvicorn's own log set-up, with every line stamped in UTC with its offset.
UTC_LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "utc": {
            "()": "kiosk.logsetup.UtcFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        }
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "utc",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "kiosk_backend": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _serve(args: argparse.Namespace) -> int:
    from kiosk_backend.app import identity_policy
    from kiosk_backend.server_keys import ServerKeyError, load_server_keys
    from kiosk_backend.settings import ServerSettings
    from kiosk_backend.ticket_routing import answer_days_from
    from kiosk_backend.workers import serve

    db_url = args.db or _default_db_url()
    settings = ServerSettings(
        db_url=db_url,
        seed_demo=args.seed_demo,
        key_file=args.key_file or "",
        answer_working_days=args.answer_days,
        person_limit=args.person_limit,
        person_limit_window_seconds=args.person_window_minutes * 60,
        identity_evidence=tuple(k.strip() for k in args.accept_evidence.split(",") if k.strip()),
    )
    try:
        answer_days_from(settings.answer_working_days)
    except ValueError as exc:  # name the option: the reason alone does not say where to look
        print(f"serve failed: --answer-days: {exc}", file=sys.stderr)
        return 2
    try:
        identity_policy(settings)
        load_server_keys(settings.db_url, settings.key_file or None)  # refuse before listening
    except (ServerKeyError, ValueError) as exc:  # a missing key, a setting out of range
        print(f"serve failed: {exc}", file=sys.stderr)
        return 2
    if args.workers > 1 and db_url.startswith("sqlite"):
        print(
            "note: SQLite serialises writers across worker processes; use PostgreSQL to scale",
            file=sys.stderr,
        )
    print(
        f"kiosk backend listening on http://{args.host}:{args.port} "
        f"({args.workers} worker{'s' if args.workers > 1 else ''})",
        file=sys.stderr,
    )
    serve(
        settings,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        log_config=UTC_LOG_CONFIG,
    )
    return 0


def _add_kiosk(args: argparse.Namespace) -> int:
    from kiosk_backend.provision import (
        ProvisionError,
        add_kiosk,
        check_region_code,
        new_secret_hex,
        read_secret_file,
        write_secret_file,
    )
    from kiosk_backend.server_keys import ServerKeyError

    try:
        if args.region is not None:
            check_region_code(args.region)  # before a secret file is created for nothing
        if args.secret_file.exists():
            secret = read_secret_file(args.secret_file)
            created = False
        else:
            secret = new_secret_hex()
            write_secret_file(args.secret_file, secret)
            created = True
        add_kiosk(
            args.db or _default_db_url(),
            args.kiosk_id,
            secret,
            args.service_point,
            region_code=args.region,
            key_file=args.key_file,
        )
    except (ProvisionError, ServerKeyError, OSError) as exc:
        print(f"add-kiosk failed: {exc}", file=sys.stderr)
        return 2
    verb = "created" if created else "read"
    print(f"kiosk {args.kiosk_id} provisioned; secret {verb} at {args.secret_file}")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from kiosk_backend.db import make_engine, make_session_factory, migrate
    from kiosk_backend.models import Person
    from kiosk_backend.seed.demo import seed_demo_data
    from kiosk_backend.server_keys import ServerKeyError, load_server_keys

    db_url = args.db or _default_db_url()
    try:
        keys = load_server_keys(db_url, args.key_file)
    except ServerKeyError as exc:
        print(f"seed failed: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(db_url)
    try:
        migrate(engine, keys)
        sessions = make_session_factory(engine)
        with sessions() as session:
            if session.scalar(select(func.count()).select_from(Person)):
                print("database already has data; not seeding", file=sys.stderr)
                return 1
        seed_demo_data(sessions, postings=args.postings, persons=args.persons, keys=keys)
    finally:
        engine.dispose()
    print("demo data seeded")
    return 0


def _essc_code(args: argparse.Namespace) -> int:
    from kiosk_backend.db import make_engine, migrate
    from kiosk_backend.essc_codes import mint_in_database
    from kiosk_backend.identity import InvalidIdNumber
    from kiosk_backend.server_keys import ServerKeyError, load_server_keys

    db_url = args.db or _default_db_url()
    try:
        keys = load_server_keys(db_url, args.key_file)
    except ServerKeyError as exc:
        print(f"essc-code failed: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(db_url)
    try:
        migrate(engine, keys)
    finally:
        engine.dispose()
    who = {"person": args.person} if args.person else {"operator": args.operator}
    try:
        code = mint_in_database(db_url, ttl_seconds=args.ttl, **who)
    except (LookupError, ValueError, InvalidIdNumber) as exc:
        print(f"essc-code failed: {exc}", file=sys.stderr)
        return 2
    if args.png:
        import qrcode

        qrcode.make(code).save(args.png)
    print(code)
    return 0


def _rotate_key(args: argparse.Namespace) -> int:
    from kiosk_backend.rotation import rotate_server_key
    from kiosk_backend.server_keys import ServerKeyError

    try:
        path, resealed = rotate_server_key(args.db or _default_db_url(), args.key_file)
    except (ServerKeyError, OSError) as exc:
        print(f"rotate-key failed: {exc}", file=sys.stderr)
        return 2
    print(
        f"new server key first in {path}; re-sealed {resealed.secrets} kiosk secrets and "
        f"{resealed.answers} stored answers. Delete the older key lines once the idempotency "
        "retention (14 days by default) has passed."
    )
    return 0
