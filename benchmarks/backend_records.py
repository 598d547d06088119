"""Records latency (items 25, 33) over real HTTP: one page plus totals aggregated in SQL over
the whole history, for a person with a long history among many others.

Starts the reference server on 127.0.0.1 (SQLite in a temp dir), adds ``--persons`` people with
``--months`` monthly enterprise-pension contributions each (and one with 480 months, whose
totals are checked against the sum computed here), then times POST
/persons/enterprise-pension/status for the first page, a year, and the last page. Prints one
JSON object; milliseconds throughout. No assertion on time (the machine is shared).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

from kiosk.domain.identity import build_id_number
from kiosk_backend.db import make_engine
from kiosk_backend.models import Contribution, Person
from kiosk_backend.testing import running_backend

PATH = "/api/v1/persons/enterprise-pension/status"
LONG_MONTHS = 480  # 40 years


def _months(count: int) -> list[str]:
    return [f"{1980 + i // 12}-{i % 12 + 1:02d}" for i in range(count)]


def _fill(db_url: str, persons: int, months: int) -> tuple[str, Decimal]:
    """Insert the people and their rows; the long-history person's ID number and true total."""
    engine = make_engine(db_url)
    long_id = build_id_number("140431", dt.date(1962, 1, 15), 901)
    expected = Decimal("0")
    try:
        with engine.begin() as connection:
            for n in range(persons + 1):
                number = (
                    long_id
                    if n == 0
                    else build_id_number(
                        "140431", dt.date(1960 + n % 40, 1 + n % 12, 1 + n % 28), n % 900
                    )
                )
                if n and number == long_id:
                    continue
                pid = connection.execute(
                    insert(Person).returning(Person.id),
                    {"id_number": number, "name": f"基准{n}", "gender": "male",
                     "birth_date": dt.date(1960, 1, 1), "enterprise_pension_status": "active"},
                ).scalar_one()  # fmt: skip
                count = LONG_MONTHS if n == 0 else months
                rows = []
                for index, period in enumerate(_months(count)):
                    amount = Decimal(300 + index % 97) + Decimal("0.25")
                    rows.append({"person_id": pid, "scheme": "enterprise_pension",
                                 "period": period, "base": amount * 12, "amount": amount})  # fmt: skip
                    if n == 0:
                        expected += amount
                connection.execute(insert(Contribution), rows)
    except Exception:
        engine.dispose()
        raise
    engine.dispose()
    return long_id, expected


def _time(client, body: dict, repeats: int) -> tuple[dict, dict]:
    timings, answer = [], None
    for _ in range(repeats + 1):
        started = time.perf_counter()
        response = client.post(PATH, body)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{PATH} answered {response.status_code}: {response.text[:200]}")
        answer = response.json()
        timings.append(elapsed)
    timings = timings[1:]  # the first warmed caches
    return answer, {
        "p50_ms": round(statistics.median(timings), 2),
        "max_ms": round(max(timings), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--months", type=int, default=240)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'records.sqlite3'}"
        with running_backend(url, seed_postings=20, seed_persons=5) as backend:
            started = time.perf_counter()
            long_id, expected = _fill(url, args.persons, args.months)
            fill_s = time.perf_counter() - started
            client = backend.client
            first, first_t = _time(client, {"id_number": long_id}, args.repeats)
            _year, year_t = _time(client, {"id_number": long_id, "year": 2000}, args.repeats)
            pages = -(-first["total"] // first["page_size"])
            _last, last_t = _time(client, {"id_number": long_id, "page": pages}, args.repeats)
    total_ok = Decimal(str(first["total_paid"])) == expected
    print(
        json.dumps(
            {
                "benchmark": "backend_records",
                "python": platform.python_version(),
                "persons": args.persons + 1,
                "rows": args.persons * args.months + LONG_MONTHS,
                "fill_seconds": round(fill_s, 2),
                "long_history_months": first["months_on_record"],
                "total_matches_hand_sum": total_ok,
                "pages": pages,
                "first_page": first_t,
                "one_year": year_t,
                "last_page": last_t,
            },
            ensure_ascii=False,
        )
    )
    return 0 if total_ok and first["months_on_record"] == LONG_MONTHS else 1


if __name__ == "__main__":
    sys.exit(main())
