"""Outbox throughput: durable commits per second, and deliveries per second to the embedded
reference server over real HTTP on 127.0.0.1. Prints one JSON object; exits 1 unless the server
accepted every submission (a rate of refusals is not a delivery rate).

The submissions are residents' 问题反映 made through the kiosk's own ProblemReports service, so
the payload is always the one the platform expects today.

    python benchmarks/backend_outbox.py [--count 300]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import requests

from kiosk.domain.problems import COMMON_PROBLEMS
from kiosk.services.backend_client import BackendClient
from kiosk.services.embedded_backend import start_embedded_backend
from kiosk.services.outbox import Outbox
from kiosk.services.problem_reports import ProblemReports
from kiosk.services.store import KEY_FILE_NAME, PayloadCipher, open_store

KIOSK_ID = "bench-kiosk-0001"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        url, secret, handle = start_embedded_backend(data_dir, KIOSK_ID, seed_demo=False)
        store = open_store(data_dir)
        try:
            client = BackendClient(requests.Session(), url, KIOSK_ID, secret)
            outbox = Outbox(
                store,
                PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME),
                client.post_submission,
            )
            reports = ProblemReports(outbox)
            problem = COMMON_PROBLEMS[0]
            started = time.perf_counter()
            for _ in range(args.count):  # the resident's 问题反映 path, payload and all
                reports.submit_resident(problem.category.value, problem.code)
            commit_seconds = time.perf_counter() - started

            started = time.perf_counter()
            outbox.start()
            drained = outbox.drain(timeout=600)
            deliver_seconds = time.perf_counter() - started
            outbox.stop()
            summary = outbox.summary()
        finally:
            store.close()
            handle.stop()
    all_delivered = bool(drained and summary.delivered == args.count)
    print(
        json.dumps(
            {
                "benchmark": "backend_outbox",
                "submissions": args.count,
                "durable_commits_per_second": round(args.count / commit_seconds, 1),
                "commit_ms_mean": round(1000 * commit_seconds / args.count, 2),
                "delivery_per_second": round(args.count / deliver_seconds, 1),
                "delivery_ms_mean": round(1000 * deliver_seconds / args.count, 2),
                "all_delivered": all_delivered,
                "refused": summary.failed,
                "transport": "HTTP 127.0.0.1, HMAC-signed, embedded reference server (SQLite)",
                "sqlite": "WAL, synchronous=FULL, AES-GCM payloads",
                "python": platform.python_version(),
            }
        )
    )
    return 0 if all_delivered else 1


if __name__ == "__main__":
    raise SystemExit(main())
