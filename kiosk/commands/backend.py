"""``kiosk backend serve|add-kiosk|seed|staff``: run and provision the reference platform server.

Imports the backend only inside the handlers (no Kivy, fast ``kiosk --help``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_DB_HELP = "SQLAlchemy URL (default: sqlite:///<data dir>/backend.sqlite3)"


def _default_db_url() -> str:
    from kiosk.paths import data_dir

    return f"sqlite:///{data_dir() / 'backend.sqlite3'}"


def register(subparsers) -> None:
    parser = subparsers.add_parser("backend", help="run or provision the reference backend server")
    actions = parser.add_subparsers(dest="backend_command", metavar="ACTION", required=True)

    serve = actions.add_parser("serve", help="run the server (applies migrations first)")
    serve.add_argument("--db", help=DEFAULT_DB_HELP)
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
    serve.set_defaults(func=_serve)

    add = actions.add_parser("add-kiosk", help="provision a kiosk id and its HMAC secret")
    add.add_argument("--id", required=True, dest="kiosk_id")
    add.add_argument("--db", help=DEFAULT_DB_HELP)
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
    seed.add_argument("--postings", type=int, default=3000)
    seed.add_argument("--persons", type=int, default=400)
    seed.set_defaults(func=_seed)

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
    from kiosk_backend.settings import ServerSettings
    from kiosk_backend.workers import serve

    db_url = args.db or _default_db_url()
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
        ServerSettings(db_url=db_url, seed_demo=args.seed_demo),
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
        new_secret_hex,
        read_secret_file,
        write_secret_file,
    )

    try:
        if args.secret_file.exists():
            secret = read_secret_file(args.secret_file)
            created = False
        else:
            secret = new_secret_hex()
            write_secret_file(args.secret_file, secret)
            created = True
        add_kiosk(args.db or _default_db_url(), args.kiosk_id, secret, args.service_point)
    except (ProvisionError, OSError) as exc:
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

    engine = make_engine(args.db or _default_db_url())
    try:
        migrate(engine)
        sessions = make_session_factory(engine)
        with sessions() as session:
            if session.scalar(select(func.count()).select_from(Person)):
                print("database already has data; not seeding", file=sys.stderr)
                return 1
        seed_demo_data(sessions, postings=args.postings, persons=args.persons)
    finally:
        engine.dispose()
    print("demo data seeded")
    return 0
