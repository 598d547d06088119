"""Job search latency over 100,000 postings, through the reference server on 127.0.0.1.

Builds a fresh database (SQLite in a temp dir; PostgreSQL too when KIOSK_TEST_PG_URL is set, in
a scratch database that is dropped afterwards), seeds it with the demo data and generated
postings, serves it with uvicorn on 127.0.0.1 and times what a kiosk asks for:
``GET /jobs?q=<query>`` (total count + first page of 20 unexpired postings, newest first),
signed as the demo kiosk, for two-, three- and four-character Chinese queries (``http``). The
same search is also timed in-process (``index``) beside a plain ``LIKE '%q%'`` scan (``like``);
every answer must equal the scan's, row for row, or the benchmark exits 1. ``http_one_posting``
(GET /jobs/{id}) is what any signed request costs on the same server: signature check, nonce
spent in the database, JSON.

Prints one JSON object; milliseconds throughout. Options: --postings N (BENCH_POSTINGS, default
100000), --repeats N per query (BENCH_REPEATS, default 15), --sqlite (skip PostgreSQL).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk_backend.app import API_PREFIX  # noqa: E402
from kiosk_backend.db import make_engine, make_session_factory  # noqa: E402
from kiosk_backend.models import JobPosting, PostingGram  # noqa: E402
from kiosk_backend.search import like_condition, search_page  # noqa: E402
from kiosk_backend.settings import ServerSettings  # noqa: E402
from kiosk_backend.testing import running_backend, scratch_postgres_database  # noqa: E402

QUERIES = {
    2: ["司机", "电工", "保安", "厨师", "焊工"],
    3: ["电焊工", "收银员", "郭道镇", "养殖工"],
    4: ["货车司机", "灵空山镇", "维修电工", "物业保洁"],
}
PAGE_SIZE = 20
SEED_PERSONS = 50


class Disagreement(AssertionError):
    """The search answered differently from the LIKE scan."""


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 2),
        "p95_ms": round(_percentile(values, 0.95), 2),
    }


def _timed(call) -> tuple[object, float]:
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1000


def _like_page(session, query: str, today: dt.date) -> tuple[int, list[int]]:
    """The reference answer: a plain scan, unexpired postings, newest first."""
    conditions = (like_condition(query), JobPosting.valid_until >= today)
    total = session.scalar(select(func.count()).select_from(JobPosting).where(*conditions))
    ids = session.scalars(
        select(JobPosting.id)
        .where(*conditions)
        .order_by(JobPosting.posted_on.desc(), JobPosting.id.desc())
        .limit(PAGE_SIZE)
    ).all()
    return total or 0, list(ids)


def _index_page(session, query: str, today: dt.date) -> tuple[int, list[int]]:
    """What GET /jobs runs, without HTTP."""
    total, rows = search_page(session, query, valid_on=today, limit=PAGE_SIZE)
    return total, [row.id for row in rows]


def _http_page(client, query: str) -> tuple[int, list[int]]:
    response = client.get(f"{API_PREFIX}/jobs", params={"q": query, "page_size": PAGE_SIZE})
    response.raise_for_status()
    body = response.json()
    return body["total"], [item["id"] for item in body["items"]]


def _measure(sessions, client, repeats: int, today: dt.date) -> dict:
    results: dict[str, dict] = {}
    with sessions() as session:
        for length, queries in QUERIES.items():
            timings: dict[str, list[float]] = {"http": [], "index": [], "like": []}
            totals = {}
            for query in queries:
                ways = {
                    "http": lambda q=query: _http_page(client, q),
                    "index": lambda q=query: _index_page(session, q, today),
                    "like": lambda q=query: _like_page(session, q, today),
                }
                expected = _like_page(session, query, today)
                for way, call in ways.items():
                    call()  # warm caches
                    for _ in range(repeats):
                        answer, ms = _timed(call)
                        if answer != expected:
                            raise Disagreement(f"{way} disagrees with LIKE on {query!r}")
                        timings[way].append(ms)
                totals[query] = expected[0]
            results[f"{length}_chars"] = {
                "queries": totals,
                **{way: _summary(values) for way, values in timings.items()},
            }
        # what any signed request costs here (signature, nonce spent in the database, JSON):
        # GET /jobs/{id}, one primary-key read
        one = f"{API_PREFIX}/jobs/{session.scalar(select(func.min(JobPosting.id)))}"
        floor = [_timed(lambda: client.get(one).raise_for_status())[1] for _ in range(repeats * 5)]
        results["http_one_posting"] = _summary(floor)
    return results


def _run(db_url: str, postings: int, repeats: int) -> dict:
    started = time.perf_counter()
    with running_backend(db_url, seed_postings=postings, seed_persons=SEED_PERSONS) as backend:
        load_seconds = time.perf_counter() - started
        engine = make_engine(db_url)
        try:
            if engine.dialect.name == "postgresql":  # as autovacuum leaves a settled database
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.exec_driver_sql("VACUUM (ANALYZE) job_postings, posting_grams")
            sessions = make_session_factory(engine)
            with sessions() as session:
                grams = session.scalar(select(func.count()).select_from(PostingGram))
            today = dt.datetime.now(ZoneInfo(ServerSettings().timezone)).date()
            return {
                "postings": postings,
                "gram_rows": grams,
                "load_seconds": round(load_seconds, 1),
                "search": _measure(sessions, backend.client, repeats, today),
            }
        finally:
            engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postings", type=int, default=int(os.environ.get("BENCH_POSTINGS", 100000))
    )
    parser.add_argument("--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", 15)))
    parser.add_argument("--sqlite", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args()
    report: dict = {
        "benchmark": "backend_search",
        "what": "GET /jobs?q= over HTTP (count + first page of 20, newest first, unexpired); "
        "in-process index vs LIKE '%q%' scan",
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }
    pg_admin = None if args.sqlite else os.environ.get("KIOSK_TEST_PG_URL")
    try:
        with ExitStack() as stack:
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
            report["sqlite"] = _run(f"sqlite:///{tmp}/bench.sqlite3", args.postings, args.repeats)
            if pg_admin:
                pg_url = stack.enter_context(scratch_postgres_database(pg_admin))
                report["postgresql"] = _run(pg_url, args.postings, args.repeats)
            else:
                report["postgresql"] = "skipped: KIOSK_TEST_PG_URL not set (or --sqlite)"
    except Disagreement as error:
        report["error"] = str(error)
    json.dump(report, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 1 if "error" in report else 0


if __name__ == "__main__":
    sys.exit(main())
