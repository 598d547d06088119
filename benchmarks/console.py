"""Console list pages under load: p50/p95 of whole HTTP page loads (server-rendered HTML) with
100,000 applications and 10,000 tickets, on PostgreSQL (a scratch database on KIOSK_TEST_PG_URL;
SQLite in a temp dir when it is not set, and the JSON says which). Goal: p95 ≤ 200 ms.

The platform is migrated, filled with generated rows (60 kiosks of one county, 5,000 residents,
applications of the queue's items in every status, tickets of every category and level), served
by uvicorn on 127.0.0.1, and signed into as the county counter (a freshly minted signed e-SSC
code, as its phone would show) — then each page is fetched BENCH_REPEATS times with a warm-up.
Prints one JSON object. Milliseconds throughout.

Options: --applications N, --tickets N, --repeats N (or BENCH_APPLICATIONS, BENCH_TICKETS,
BENCH_REPEATS); --sqlite forces SQLite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import requests
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.domain.identity import build_id_number  # noqa: E402
from kiosk_backend.db import make_engine, make_session_factory, migrate  # noqa: E402
from kiosk_backend.essc_codes import mint_in_database  # noqa: E402
from kiosk_backend.ledger_models import LedgerTicket  # noqa: E402
from kiosk_backend.models import Application, Kiosk, Operator, Person  # noqa: E402
from kiosk_backend.testing import scratch_postgres_database  # noqa: E402

REGION = "140431"
KIOSKS = 60
PERSONS = 5000
STAFF_ACCOUNT = "bench-counter"
COUNTER_ITEMS = (16, 17, 18, 19, 20, 21, 24, 28, 29, 30, 31, 32, 34, 35, 37, 38, 39, 40)
STATUSES = ("waiting_counter", "submitted", "in_review", "completed", "rejected")
PAGES = {
    "applications": "/console/applications",
    "applications_waiting": "/console/applications?status=waiting_counter",
    "applications_overdue": "/console/applications?overdue=1",
    "applications_item_28": "/console/applications?item=28",
    "applications_one_kiosk": "/console/applications?kiosk=bench-kiosk-007",
    "applications_page_40": "/console/applications?page=40",
    "tickets_mine_open": "/console/tickets",
    "tickets_all": "/console/tickets?held=all&state=all",
    "tickets_overdue": "/console/tickets?overdue=1&held=all",
    "responsibility": "/console/tickets/responsibility",
    "fleet": "/console/fleet",
    "help": "/console/help",
    "home": "/console/",
}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def _fill(sessions, applications: int, tickets: int) -> None:
    rng = random.Random(20261205)
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    with sessions() as session:
        session.execute(
            insert(Kiosk),
            [
                {
                    "id": f"bench-kiosk-{n:03d}",
                    "kind": "kiosk",
                    "secret_sealed": b"",  # these kiosks never sign a request
                    "service_point": f"沁源县示例村{n}就业社保服务点",
                    "region_code": REGION,
                    "version": "1.4.2",
                    "capabilities": [],
                    "registered_at": now,
                    "last_heartbeat_at": now - dt.timedelta(seconds=rng.randrange(0, 600)),
                    "last_devices": [{"name": "printer", "state": "ok"}],
                    "paper_level": "ok",
                    "outbox_depth": rng.randrange(0, 5),
                    "enabled": True,
                }
                for n in range(KIOSKS)
            ],
        )
        session.execute(
            insert(Person),
            [
                {
                    "id": n,
                    "id_number": build_id_number(
                        REGION, dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28), n % 1000
                    ),
                    "name": "张" + "伟芳娜敏静丽强磊军洋"[n % 10] + "明",
                    "gender": "male" if n % 2 else "female",
                    "birth_date": dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28),
                    "phone": f"139{n:08d}",
                }
                for n in range(1, PERSONS + 1)
            ],
        )
        session.add(
            Operator(
                account=STAFF_ACCOUNT,
                name="韩晓东",
                id_number=build_id_number(REGION, dt.date(1985, 5, 5), 555),
                phone="13800000000",
                role="operator",
                status="active",
                region="沁源县人社局",
                region_code=REGION,
                essc_qr="ESSC-BENCH-COUNTER",
                grants=[
                    "HANDLE_APPLICATIONS",
                    "ANSWER_TICKETS",
                    "WATCH_HELP_REQUESTS",
                    "VIEW_FLEET",
                ],
                created_at=now,
                last_signin_at=now,
            )
        )
        session.commit()
        batch = []
        for n in range(1, applications + 1):
            work_order = rng.random() < 0.6
            item = rng.choice(COUNTER_ITEMS) if work_order else rng.choice((10, 11, 22, 23))
            submitted = now - dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
            batch.append(
                {
                    "id": n,
                    "number": f"BJ{submitted:%Y%m%d}{n:06d}",
                    "person_id": rng.randrange(1, PERSONS + 1),
                    "item_no": item,
                    "kind": "work_order" if work_order else "application",
                    "status": rng.choice(STATUSES),
                    "details": {"note": "benchmark"},
                    "kiosk_id": f"bench-kiosk-{rng.randrange(KIOSKS):03d}",
                    "service_point": "沁源县示例服务点",
                    "region_code": REGION,
                    "submitted_at": submitted,
                    "due_date": submitted.date() + dt.timedelta(days=7),
                    "due_estimated": False,
                    "result": "",
                }
            )
            if len(batch) == 5000:
                session.execute(insert(Application), batch)
                batch = []
        if batch:
            session.execute(insert(Application), batch)
        levels = ("county", "city", "province")
        session.execute(
            insert(LedgerTicket),
            [
                {
                    "id": n,
                    "number": f"WT{today:%Y%m%d}{n:06d}",
                    "kiosk_id": f"bench-kiosk-{rng.randrange(KIOSKS):03d}",
                    "client_ref": f"bench-{n:08d}",
                    "service_point": "沁源县示例服务点",
                    "region_code": REGION,
                    "kind": "problem_report",
                    "category": rng.choice(("system", "functional", "guidance")),
                    "description": "自助机上办理灵活就业登记时找不到就业类型说明",
                    "reporter": "operator",
                    "state": rng.choice(("assigned", "escalated", "answered", "closed")),
                    "level": rng.choice(levels),
                    "assignee": "",
                    "assigned_on": today - dt.timedelta(days=rng.randrange(0, 60)),
                    "answer_due": today + dt.timedelta(days=rng.randrange(-30, 10)),
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(1, tickets + 1)
            ],
        )
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            from kiosk_backend.db import reset_sequences

            reset_sequences(session, ["persons", "applications", "ledger_tickets"])
            session.commit()


def _measure(url: str, db_url: str, repeats: int) -> dict:
    browser = requests.Session()
    page = browser.get(f"{url}/console/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    code = mint_in_database(db_url, operator=STAFF_ACCOUNT)
    signed = browser.post(f"{url}/console/signin/essc", data={"csrf": token, "code": code})
    if not signed.url.endswith("/console/"):
        raise RuntimeError("could not sign in to the console")
    results = {}
    for name, path in PAGES.items():
        first = browser.get(url + path)  # warm-up, and the page must really render
        if first.status_code != 200 or "<main" not in first.text:
            raise RuntimeError(f"{path} answered {first.status_code}")
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            answer = browser.get(url + path)
            timings.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
        results[name] = {
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(_percentile(timings, 0.95), 1),
            "bytes": len(first.content),
        }
    return results


def _run(db_url: str, applications: int, tickets: int, repeats: int) -> dict:
    from kiosk_backend.app import create_app
    from kiosk_backend.server import serve_in_thread
    from kiosk_backend.server_keys import key_file_for
    from kiosk_backend.settings import ServerSettings

    engine = make_engine(db_url)
    try:
        migrate(engine)
        started = time.perf_counter()
        _fill(make_session_factory(engine), applications, tickets)
        load_seconds = time.perf_counter() - started
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
                connection.commit()
    finally:
        engine.dispose()
    with tempfile.TemporaryDirectory(prefix="console-bench-key-") as key_dir:
        key_file = key_file_for(db_url) or Path(key_dir) / "server.key"  # PostgreSQL: a new one
        settings = ServerSettings(db_url=db_url, staff_lock_check_seconds=0, key_file=str(key_file))
        handle = serve_in_thread(create_app(settings))
        try:
            pages = _measure(handle.url, db_url, repeats)
        finally:
            handle.stop()
    worst = max(p["p95_ms"] for p in pages.values())
    return {
        "applications": applications,
        "tickets": tickets,
        "load_seconds": round(load_seconds, 1),
        "pages": pages,
        "worst_p95_ms": worst,
        "goal_p95_ms": 200,
        "goal_met": worst <= 200,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--applications", type=int, default=int(os.environ.get("BENCH_APPLICATIONS", "100000"))
    )
    parser.add_argument(
        "--tickets", type=int, default=int(os.environ.get("BENCH_TICKETS", "10000"))
    )
    parser.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", "20")))
    parser.add_argument("--sqlite", action="store_true", help="use SQLite even if PG is set")
    args = parser.parse_args()
    report: dict = {
        "benchmark": "console",
        "what": "GET of a whole console page (HTML) as the county counter, after a warm-up",
        "python": platform.python_version(),
    }
    with ExitStack() as stack:
        pg_admin = os.environ.get("KIOSK_TEST_PG_URL")
        if pg_admin and not args.sqlite:
            db_url = stack.enter_context(scratch_postgres_database(pg_admin))
            report["database"] = "postgresql"
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            db_url = f"sqlite:///{tmp}/bench.sqlite3"
            report["database"] = (
                "sqlite (KIOSK_TEST_PG_URL not set)" if not args.sqlite else "sqlite"
            )
        report.update(_run(db_url, args.applications, args.tickets, args.repeats))
    json.dump(report, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
