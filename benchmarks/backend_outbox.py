"""Outbox throughput: durable commits per second, and deliveries per second to the embedded
reference server over real HTTP on 127.0.0.1. Prints one JSON object.

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

from kiosk.services.api_models import PATH_TICKETS
from kiosk.services.backend_client import BackendClient
from kiosk.services.embedded_backend import start_embedded_backend
from kiosk.services.outbox import Outbox
from kiosk.services.store import KEY_FILE_NAME, PayloadCipher, open_store

KIOSK_ID = "bench-kiosk-0001"


def main() -> None:
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
            payload = {
                "category": "guidance",
                "kind": "problem_report",
                "description": "基准测试：自助机问题反映",
            }
            started = time.perf_counter()
            for i in range(args.count):
                outbox.submit("problem_report", PATH_TICKETS, {**payload, "suggestion": str(i)})
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
    print(
        json.dumps(
            {
                "benchmark": "backend_outbox",
                "submissions": args.count,
                "durable_commits_per_second": round(args.count / commit_seconds, 1),
                "commit_ms_mean": round(1000 * commit_seconds / args.count, 2),
                "delivery_per_second": round(args.count / deliver_seconds, 1),
                "delivery_ms_mean": round(1000 * deliver_seconds / args.count, 2),
                "all_delivered": bool(drained and summary.delivered == args.count),
                "transport": "HTTP 127.0.0.1, HMAC-signed, embedded reference server (SQLite)",
                "sqlite": "WAL, synchronous=FULL, AES-GCM payloads",
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
