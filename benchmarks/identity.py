"""What identity tokens cost: round trips at identification and per personal query, and time.

The kiosk's own parts (BackendClient, SessionManager, IdentityTokens) against the reference
platform served on 127.0.0.1 (SQLite, small demo seed). Every HTTP request the kiosk sends is
counted by path. Budget (issue 13): one round trip at identification, none extra per query.

Times are medians in ms over ``--count`` repetitions, measured in one run so their ratio means
something: a records query with the token check, the same query on a second platform whose
check is switched off (the baseline), a card identification and an e-SSC identification.
Prints one JSON object.

    python benchmarks/identity.py [--count 50]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from kiosk.domain.identity import build_id_number
from kiosk.domain.person import Evidence, IdentitySource, Person
from kiosk.services.backend_client import BackendClient
from kiosk.services.identity_tokens import IdentityTokens
from kiosk.services.session import EndReason, SessionManager
from kiosk_backend.app import create_app
from kiosk_backend.essc_codes import mint_for
from kiosk_backend.identity_sessions import require_identity
from kiosk_backend.provision import new_secret_hex
from kiosk_backend.server import serve_in_thread
from kiosk_backend.settings import DEMO_KIOSK_ID, ServerSettings

PENSIONER = "ESSC-DEMO-RESIDENT-04"
RECORDS = "/persons/enterprise-pension/payments"


class Counter:
    """Counts the requests a requests.Session sends, by path."""

    def __init__(self, session: requests.Session) -> None:
        self.by_path: collections.Counter[str] = collections.Counter()
        session.hooks["response"].append(self._count)

    def _count(self, response, *_args, **_kwargs):
        self.by_path[urlsplit(response.request.url).path.removeprefix("/api/v1")] += 1

    def total(self) -> int:
        return sum(self.by_path.values())


def _serve(directory: Path, secret: str, *, check: bool):
    app = create_app(
        ServerSettings(
            db_url=f"sqlite:///{directory / 'platform.sqlite3'}",
            seed_demo=True,
            demo_kiosk_secret_hex=secret,
            seed_postings=100,
            seed_persons=40,
            person_limit=100_000,
        )
    )
    if not check:
        app.dependency_overrides[require_identity] = lambda: None
    return app, serve_in_thread(app)


def _ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def _card(sequence: int) -> Person:
    birth = dt.date(1980, 4, 2)
    number = build_id_number("140431", birth, sequence)
    return Person(IdentitySource.IDCARD, number, "测试", "男", birth)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args()
    count = args.count
    secret = new_secret_hex()
    with tempfile.TemporaryDirectory() as tmp:
        checked_dir, baseline_dir = Path(tmp) / "checked", Path(tmp) / "baseline"
        checked_dir.mkdir()
        baseline_dir.mkdir()
        app, handle = _serve(checked_dir, secret, check=True)
        _baseline_app, baseline = _serve(baseline_dir, secret, check=False)
        try:
            http = requests.Session()
            counter = Counter(http)
            client = BackendClient(http, handle.url, DEMO_KIOSK_ID, bytes.fromhex(secret))
            base_client = BackendClient(
                requests.Session(), baseline.url, DEMO_KIOSK_ID, bytes.fromhex(secret)
            )
            sessions = SessionManager()
            tokens = IdentityTokens(client, sessions)

            card_times = []
            for n in range(count):
                started = time.perf_counter()
                person = tokens.identify_card(_card(n + 1), Evidence.IDCARD_SAM, as_agent=False)
                card_times.append(time.perf_counter() - started)
                sessions.identify(person)
                sessions.end(EndReason.TRANSACTION_DONE)
                tokens.wait_revoked()
            identify_requests = counter.by_path["/identity/sessions"]
            revocations = counter.by_path["/identity/sessions/current"]

            essc_times = []
            with app.state.sessions() as db:
                codes = [mint_for(db, demo_label=PENSIONER) for _ in range(count)]
            for code in codes:
                started = time.perf_counter()
                person = tokens.verify_essc(code, as_agent=False)
                essc_times.append(time.perf_counter() - started)
            sessions.identify(person)

            query_times, baseline_times = [], []
            before = counter.total()
            body = {"id_number": person.id_number}
            for _ in range(count):
                started = time.perf_counter()
                tokens.query(RECORDS, body)
                query_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                base_client.post_query(RECORDS, body)
                baseline_times.append(time.perf_counter() - started)
            query_requests = counter.total() - before
        finally:
            handle.stop()
            baseline.stop()
    result = {
        "identifications": count,
        "requests_per_identification": identify_requests / count,
        "revocations_sent": revocations,
        "queries": count,
        "requests_per_query": query_requests / count,
        "identify_card_ms_median": _ms(card_times),
        "identify_essc_ms_median": _ms(essc_times),
        "query_ms_median": _ms(query_times),
        "query_without_check_ms_median": _ms(baseline_times),
        "check_cost_ratio": round(_ms(query_times) / max(_ms(baseline_times), 0.01), 3),
        "python": platform.python_version(),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
