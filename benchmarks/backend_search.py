"""Job search latency over 100,000 postings: the unigram+bigram index vs a plain LIKE scan.

Builds a fresh database (SQLite in a temp dir; PostgreSQL too when KIOSK_TEST_PG_URL is set,
in a scratch database that is dropped afterwards), fills it with generated postings, then times
the search the API runs for one page (total count + first 20 rows, newest first) for two-,
three- and four-character Chinese queries. Prints one JSON object. Milliseconds throughout.

Environment: BENCH_POSTINGS (default 100000), BENCH_REPEATS (default 15 per query).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack

from sqlalchemy import func, select

from kiosk_backend.db import make_engine, make_session_factory, migrate
from kiosk_backend.models import JobPosting, PostingGram
from kiosk_backend.search import like_condition, text_condition
from kiosk_backend.seed.demo import add_postings
from kiosk_backend.testing import scratch_postgres_database

QUERIES = {
    2: ["司机", "电工", "保安", "厨师", "焊工"],
    3: ["电焊工", "收银员", "郭道镇", "养殖工"],
    4: ["货车司机", "灵空山镇", "维修电工", "物业保洁"],
}
PAGE_SIZE = 20


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _search_once(session, condition) -> tuple[int, float]:
    started = time.perf_counter()
    total = session.scalar(select(func.count()).select_from(JobPosting).where(condition))
    session.scalars(
        select(JobPosting.id)
        .where(condition)
        .order_by(JobPosting.posted_on.desc(), JobPosting.id.desc())
        .limit(PAGE_SIZE)
    ).all()
    return total or 0, (time.perf_counter() - started) * 1000


def _measure(sessions, repeats: int) -> dict:
    results: dict[str, dict] = {}
    with sessions() as session:
        for length, queries in QUERIES.items():
            timings = {"ngram": [], "like": []}
            totals = {}
            for query in queries:
                for method, build in (("ngram", text_condition), ("like", like_condition)):
                    condition = build(query)
                    _search_once(session, condition)  # warm caches
                    for _ in range(repeats):
                        total, ms = _search_once(session, condition)
                        timings[method].append(ms)
                    if method == "ngram":
                        totals[query] = total
                    elif totals[query] != total:
                        raise AssertionError(f"index and LIKE disagree on {query!r}")
            results[f"{length}_chars"] = {
                "queries": totals,
                **{
                    method: {
                        "p50_ms": round(statistics.median(values), 2),
                        "p95_ms": round(_percentile(values, 0.95), 2),
                    }
                    for method, values in timings.items()
                },
            }
    return results


def _run(db_url: str, postings: int, repeats: int) -> dict:
    engine = make_engine(db_url)
    try:
        migrate(engine)
        sessions = make_session_factory(engine)
        started = time.perf_counter()
        add_postings(sessions, postings, start_id=1)
        load_seconds = time.perf_counter() - started
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
                connection.commit()
        with sessions() as session:
            grams = session.scalar(select(func.count()).select_from(PostingGram))
        return {
            "postings": postings,
            "gram_rows": grams,
            "load_seconds": round(load_seconds, 1),
            "search": _measure(sessions, repeats),
        }
    finally:
        engine.dispose()


def main() -> int:
    postings = int(os.environ.get("BENCH_POSTINGS", "100000"))
    repeats = int(os.environ.get("BENCH_REPEATS", "15"))
    report: dict = {
        "benchmark": "backend_search",
        "what": "count + first page of 20, newest first; ngram index vs LIKE '%q%' scan",
        "python": platform.python_version(),
    }
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        report["sqlite"] = _run(f"sqlite:///{tmp}/bench.sqlite3", postings, repeats)
        pg_admin = os.environ.get("KIOSK_TEST_PG_URL")
        if pg_admin:
            pg_url = stack.enter_context(scratch_postgres_database(pg_admin))
            report["postgresql"] = _run(pg_url, postings, repeats)
        else:
            report["postgresql"] = "skipped: KIOSK_TEST_PG_URL not set"
    json.dump(report, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
