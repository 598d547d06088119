"""Fleet load: K kiosks, each with its own secret, against `kiosk backend serve --workers W`.

    python benchmarks/fleet_load.py --kiosks 2000 --seconds 60 --workers 1,2 [--db URL] [--knee]

Every simulated kiosk is provisioned with its own HMAC secret and signs every request, as the
real kiosk does. Each runs an open-loop schedule (the next request goes out when it is due,
whether or not the server kept up, so a slow server shows as latency, not as fewer requests):

- a heartbeat every 60 s (its phase random);
- residents arriving at random (Poisson, one every SESSION_EVERY_SECONDS per kiosk), each
  session one of: job searches (2-character queries, a page or two, a posting's detail);
  records queries with identity (the resident's contribution / payment records); a 预约柜台办理
  submission (a queue number; 1 in RESEND_EVERY is sent twice at once with the same
  Idempotency-Key, as a kiosk whose answer was lost); a 问题反映 ticket.

Identity: a records or submission session first identifies its resident by the card the
kiosk read (``POST /identity/sessions``, one round trip), sends the token with each
person-scoped request and ends the session when the resident leaves
(``DELETE /identity/sessions/current``), as the kiosk does. Each kiosk serves a fixed handful
of residents (PERSONS_PER_KIOSK new ones + RECORD_PERSONS_PER_KIOSK with records), far under
the platform's per-kiosk distinct-person limit (default 30 an hour), so the run never meets it.

``--speed X`` compresses time (X times the real-world rate, think times X times shorter);
``--knee`` raises the speed step by step and reports the highest sustained rate whose p95
stays ≤ 250 ms. ``--workers 1,2`` measures each worker count in the same run (one database,
servers started one after the other), so the ratios are comparable.

After each step the database is read: every submission the server accepted must be there
exactly once (``lost``, ``duplicated``), and so must every ticket. The generator measures its
own CPU and how late it sent requests (``generator``): if it lags, the figures are its own.

127.0.0.1 only; bounded in time (``--seconds`` per step) and count (``--max-requests``); it
stops by itself. Prints one JSON object. ``--db``: a PostgreSQL URL (a scratch database is
created on that server and dropped afterwards) or ``sqlite`` (a temporary file); default
$KIOSK_TEST_PG_URL if set, else sqlite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from kiosk.domain.identity import build_id_number  # noqa: E402
from kiosk_backend.signing import signed_headers  # noqa: E402

API = "/api/v1"
HEARTBEAT_SECONDS = 60.0
SESSION_EVERY_SECONDS = 600.0  # a resident every 10 minutes at each kiosk: a busy market day
THINK_SECONDS = 8.0  # between a resident's steps
KNEE_P95_MS = 250.0
GOAL_P95_MS = 100.0
RESEND_EVERY = 20
SEARCH_TERMS = ("司机", "保洁", "普工", "服务", "技术", "销售", "厨师", "电工", "保安", "护理")
RECORD_PATHS = (
    "/persons/enterprise-pension/status",
    "/persons/resident-pension/contributions",
    "/persons/resident-pension/payments",
    "/persons/unemployment-insurance/payments",
)
COUNTER_ITEMS = (16, 17, 18, 19, 20, 21, 24, 30, 31, 37, 38, 39, 40)
SESSION_MIX = (("search", 0.60), ("records", 0.25), ("submission", 0.12), ("ticket", 0.03))
PERSONS_PER_KIOSK = 5  # new residents a kiosk files for: with the next, under the person limit
RECORD_PERSONS_PER_KIOSK = 3  # seeded residents with records a kiosk looks up
CARD_EVIDENCE = ("idcard_sam", "sscard_psam")  # what the kiosk's readers claim (both accepted)
IDENTITY_PATH = "/identity/sessions"
IDENTITY_HEADER = "X-Identity-Token"


# --- what one run measures ---------------------------------------------------------------------


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    lag: list[float] = field(default_factory=list)
    accepted_orders: dict[str, str] = field(default_factory=dict)  # note → application number
    accepted_tickets: set[str] = field(default_factory=set)  # client_ref
    in_progress_retries: int = 0
    replayed: int = 0
    already_booked: int = 0  # answered with the person's open booking of that item (duplicate)
    requests: int = 0

    def record(self, endpoint: str, seconds: float) -> None:
        self.latencies[endpoint].append(seconds)
        self.requests += 1


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# --- one simulated kiosk -------------------------------------------------------------------------


@dataclass
class SimKiosk:
    kiosk_id: str
    secret: bytes
    region_persons: list[str]  # seeded persons with records (ID numbers)
    new_persons: list[tuple[str, str]]  # (ID number, name) for submissions
    submissions: int = 0


class Fleet:
    """Runs every kiosk's schedule against one base URL for *seconds* (see module docstring)."""

    def __init__(
        self,
        base_url: str,
        kiosks: list[SimKiosk],
        *,
        speed: float,
        seconds: float,
        max_requests: int,
        run_tag: str,
        rng: random.Random,
    ) -> None:
        self.base_url = base_url
        self.kiosks = kiosks
        self.speed = speed
        self.seconds = seconds
        self.max_requests = max_requests
        self.run_tag = run_tag
        self.rng = rng
        self.tally = Tally()
        self._deadline = 0.0
        self._http: aiohttp.ClientSession | None = None
        self._sessions: set[asyncio.Task] = set()

    async def run(self) -> Tally:
        connector = aiohttp.TCPConnector(limit=512, keepalive_timeout=4.0, ttl_dns_cache=None)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            self._http = http
            start = time.monotonic()
            self._deadline = start + self.seconds
            await asyncio.gather(*(self._kiosk_loop(k, start) for k in self.kiosks))
            # Sessions stop at their next step once the run is over; their last answers count.
            await asyncio.gather(*self._sessions)
        return self.tally

    def _done(self) -> bool:
        return time.monotonic() >= self._deadline or self.tally.requests >= self.max_requests

    async def _at(self, when: float) -> bool:
        """Sleep until *when* (monotonic); False if the run is over by then."""
        delay = when - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if self._done():
            return False
        self.tally.lag.append(max(0.0, time.monotonic() - when))
        return True

    async def _kiosk_loop(self, kiosk: SimKiosk, start: float) -> None:
        rng = random.Random(f"{self.run_tag}:{kiosk.kiosk_id}")
        heartbeat_every = HEARTBEAT_SECONDS / self.speed
        next_beat = start + rng.uniform(0, heartbeat_every)
        next_session = start + rng.expovariate(self.speed / SESSION_EVERY_SECONDS)
        while True:
            if next_beat <= next_session:
                if not await self._at(next_beat):
                    return
                await self._heartbeat(kiosk)
                next_beat += heartbeat_every
            else:
                if not await self._at(next_session):
                    return
                # A session runs beside the heartbeats, as the kiosk's threads do.
                task = asyncio.ensure_future(self._session(kiosk, rng))
                self._sessions.add(task)
                task.add_done_callback(self._sessions.discard)
                next_session += rng.expovariate(self.speed / SESSION_EVERY_SECONDS)

    # -- requests ------------------------------------------------------------------------------

    async def _call(
        self,
        kiosk: SimKiosk,
        method: str,
        path: str,
        endpoint: str,
        *,
        query: str = "",
        body: Any = None,
        key: str | None = None,
        identity: str | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = signed_headers(kiosk.kiosk_id, kiosk.secret, method, API + path, query, raw)
        if raw:
            headers["Content-Type"] = "application/json"
        if method == "POST":
            headers["Idempotency-Key"] = key or str(uuid.uuid4())
        if identity is not None:
            headers[IDENTITY_HEADER] = identity
        url = self.base_url + API + path + ("?" + query if query else "")
        began = time.monotonic()
        try:
            async with self._http.request(method, url, data=raw or None, headers=headers) as resp:
                payload = await resp.read()
                status = resp.status
                reply_headers = dict(resp.headers)
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.tally.record(endpoint, time.monotonic() - began)
            self.tally.errors[type(exc).__name__] += 1
            return 0, None, {}
        self.tally.record(endpoint, time.monotonic() - began)
        try:
            answer = json.loads(payload) if payload else None
        except ValueError:
            answer = None
        return status, answer, reply_headers

    def _count_error(self, endpoint: str, status: int) -> None:
        if status and not 200 <= status < 300:
            self.tally.errors[f"{status} {endpoint}"] += 1

    async def _heartbeat(self, kiosk: SimKiosk) -> None:
        body = {
            "version": "0.1.0",
            "devices": [
                {"name": n, "state": "ok"} for n in ("printer", "idcard", "sscard", "scanner")
            ],
            "paper_level": "ok",
            "outbox_depth": 0,
        }
        endpoint = "POST /kiosks/heartbeat"
        status, _, _ = await self._call(kiosk, "POST", "/kiosks/heartbeat", endpoint, body=body)
        self._count_error(endpoint, status)

    async def _session(self, kiosk: SimKiosk, rng: random.Random) -> None:
        roll, kind = rng.random(), "search"
        for name, share in SESSION_MIX:
            if roll < share:
                kind = name
                break
            roll -= share
        steps = {
            "search": self._search_session,
            "records": self._records_session,
            "submission": self._submission_session,
            "ticket": self._ticket_session,
        }
        try:
            await steps[kind](kiosk, rng)
        except Exception as exc:  # a bug in the generator must show, not vanish
            self.tally.errors[f"generator {type(exc).__name__}"] += 1

    async def _think(self, rng: random.Random) -> bool:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * THINK_SECONDS / self.speed)
        return not self._done()

    async def _search_session(self, kiosk: SimKiosk, rng: random.Random) -> None:
        term = rng.choice(SEARCH_TERMS)
        for page in range(1, rng.choice((2, 2, 3)) + 1):
            query = f"q={_quote(term)}&page={page}&kind=fixed"
            endpoint = "GET /jobs"
            status, answer, _ = await self._call(kiosk, "GET", "/jobs", endpoint, query=query)
            self._count_error(endpoint, status)
            if not await self._think(rng):
                return
            items = (answer or {}).get("items") or []
            if items and rng.random() < 0.3:
                posting = rng.choice(items)["id"]
                endpoint = "GET /jobs/{id}"
                status, _, _ = await self._call(kiosk, "GET", f"/jobs/{posting}", endpoint)
                self._count_error(endpoint, status)
                if not await self._think(rng):
                    return

    async def _identify(self, kiosk: SimKiosk, id_number: str, rng: random.Random) -> str | None:
        """Open an identity session on the card the kiosk read; the token (None if refused)."""
        body = {"evidence": rng.choice(CARD_EVIDENCE), "id_number": id_number}
        endpoint = f"POST {IDENTITY_PATH}"
        status, answer, _ = await self._call(kiosk, "POST", IDENTITY_PATH, endpoint, body=body)
        self._count_error(endpoint, status)
        return (answer or {}).get("token") if status == 200 else None

    async def _end_identity(self, kiosk: SimKiosk, token: str) -> None:
        """The resident leaves: the kiosk revokes the token at once."""
        path = IDENTITY_PATH + "/current"
        endpoint = f"DELETE {path}"
        status, _, _ = await self._call(kiosk, "DELETE", path, endpoint, identity=token)
        self._count_error(endpoint, status)

    async def _records_session(self, kiosk: SimKiosk, rng: random.Random) -> None:
        person = rng.choice(kiosk.region_persons)
        token = await self._identify(kiosk, person, rng)
        if token is None:
            return
        try:
            for path in rng.sample(RECORD_PATHS, rng.choice((1, 1, 2))):
                status = await query_records(self, kiosk, person, path, token)
                self._count_error(f"POST {path}", status)
                if not await self._think(rng):
                    return
        finally:
            await self._end_identity(kiosk, token)

    async def _submission_session(self, kiosk: SimKiosk, rng: random.Random) -> None:
        n = kiosk.submissions
        kiosk.submissions += 1
        id_number, name = kiosk.new_persons[n % len(kiosk.new_persons)]
        item = COUNTER_ITEMS[(n // len(kiosk.new_persons)) % len(COUNTER_ITEMS)]
        note = f"fleet-{self.run_tag}-{kiosk.kiosk_id}-{n}"
        body = {"id_number": id_number, "name": name, "item_no": item, "phone": "13900000000"}
        body["note"] = note
        body["answers"] = counter_answers(item, rng)
        key = str(uuid.uuid4())
        resend = rng.randrange(RESEND_EVERY) == 0
        copies = 2 if resend else 1
        token = await self._identify(kiosk, id_number, rng)
        if token is None:
            return
        try:
            results = await asyncio.gather(
                *(
                    self._post_until_answered(kiosk, "/work-orders", body, key, identity=token)
                    for _ in range(copies)
                )
            )
        finally:
            await self._end_identity(kiosk, token)
        answered = [a for status, a in results if status == 200 and a]
        numbers = {a["number"] for a in answered}
        if len(numbers) > 1:
            self.tally.errors["two answers for one Idempotency-Key"] += 1
        if any(a.get("duplicate") for a in answered):
            self.tally.already_booked += 1  # nothing new was filed under this note
        elif numbers:
            self.tally.accepted_orders[note] = numbers.pop()

    async def _post_until_answered(
        self, kiosk: SimKiosk, path: str, body: dict, key: str, *, identity: str | None = None
    ) -> tuple[int, Any]:
        """POST; a 503 request_in_progress is retried after its Retry-After (the outbox does)."""
        endpoint = f"POST {path}"
        for _attempt in range(20):
            status, answer, headers = await self._call(
                kiosk, "POST", path, endpoint, body=body, key=key, identity=identity
            )
            if status == 503 and (answer or {}).get("code") == "request_in_progress":
                self.tally.in_progress_retries += 1
                await asyncio.sleep(min(2.0, float(headers.get("Retry-After", "1"))) / 4)
                continue
            if headers.get("Idempotent-Replayed") == "true":
                self.tally.replayed += 1
            self._count_error(endpoint, status)
            return status, answer
        self.tally.errors[f"still in progress {endpoint}"] += 1
        return 503, None

    async def _ticket_session(self, kiosk: SimKiosk, rng: random.Random) -> None:
        client_ref = uuid.uuid4().hex
        body = {
            "client_ref": client_ref,
            "kind": "problem_report",
            "category": rng.choice(("system", "functional", "guidance")),
            "reporter": "resident",
            "description": f"负载测试问题反映 {self.run_tag}",
        }
        status, _ = await self._post_until_answered(
            kiosk, "/ledger/tickets", body, str(uuid.uuid4())
        )
        if status == 200:
            self.tally.accepted_tickets.add(client_ref)


async def query_records(
    fleet: Fleet, kiosk: SimKiosk, id_number: str, path: str, token: str
) -> int:
    """One records query of a resident identified at *kiosk* (*token*); the HTTP status."""
    status, _, _ = await fleet._call(
        kiosk, "POST", path, f"POST {path}", body={"id_number": id_number}, identity=token
    )
    return status


def counter_answers(item_no: int, rng: random.Random) -> dict[str, Any]:
    """The resident's choices on counter item *item_no*'s own form (31 暂停/恢复, 40 挂失/解挂 …):
    one of the offered options for every required choice, as the kiosk's form asks them."""
    return {
        key: [rng.choice(options)] if many else rng.choice(options)
        for key, many, options in _required_choices(item_no)
    }


@functools.cache
def _required_choices(item_no: int) -> tuple[tuple[str, bool, tuple[str, ...]], ...]:
    from kiosk.domain.items import load_definitions

    definitions = load_definitions()
    return tuple(
        (
            f.request_key,
            f.kind == "multi_picker",
            tuple(o.value for o in definitions.picker(f.source).options),
        )
        for f in definitions.work_order.item_fields(item_no)
        if f.required and f.kind in ("picker", "multi_picker") and not f.api_source
    )


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


# --- the database side -----------------------------------------------------------------------------


@contextlib.contextmanager
def database(db: str):
    """Yield a database URL: a scratch PostgreSQL database, or a temporary SQLite file."""
    if db.startswith("postgresql"):
        from kiosk_backend.testing import scratch_postgres_database, server_key_environment

        with scratch_postgres_database(db) as url, server_key_environment(url):
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="fleet-load-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'fleet.sqlite3'}"


def prepare(db_url: str, kiosks: int, rng: random.Random) -> list[SimKiosk]:
    """Migrate, seed the demo county and provision *kiosks* kiosks, each with its own secret."""
    from sqlalchemy import select

    from kiosk_backend.app import prepare_database
    from kiosk_backend.db import make_engine, make_session_factory
    from kiosk_backend.models import Contribution, Person
    from kiosk_backend.provision import new_secret_hex, upsert_kiosk
    from kiosk_backend.seed.places import REGION_CODE
    from kiosk_backend.server_keys import load_server_keys
    from kiosk_backend.settings import ServerSettings

    prepare_database(ServerSettings(db_url=db_url, seed_demo=True, seed_persons=400))
    keys = load_server_keys(db_url)
    engine = make_engine(db_url)
    try:
        sessions = make_session_factory(engine)
        with sessions() as session:
            with_records = list(
                session.scalars(
                    select(Person.id_number).where(
                        Person.id.in_(select(Contribution.person_id).distinct())
                    )
                )
            )
            fleet = []
            for index in range(kiosks):
                kiosk_id = f"fleet-{index:05d}"
                secret = new_secret_hex()
                upsert_kiosk(
                    session,
                    kiosk_id,
                    secret,
                    f"负载测试服务点{index:05d}",
                    keys=keys,
                    region_code=REGION_CODE,
                )
                persons = rng.sample(with_records, min(RECORD_PERSONS_PER_KIOSK, len(with_records)))
                new = [
                    (
                        build_id_number(
                            REGION_CODE,
                            dt.date(1950, 1, 1) + dt.timedelta(days=index * 7 + j),
                            2 * (index % 400) + 1,
                        ),
                        "负载居民",
                    )
                    for j in range(PERSONS_PER_KIOSK)
                ]
                fleet.append(SimKiosk(kiosk_id, bytes.fromhex(secret), persons, new))
            session.commit()
    finally:
        engine.dispose()
    return fleet


def check_database(db_url: str, tally: Tally, run_tag: str) -> dict[str, int]:
    """Every accepted submission and ticket exactly once in the database."""
    from sqlalchemy import func, select

    from kiosk_backend.db import make_engine, make_session_factory
    from kiosk_backend.ledger_models import LedgerTicket
    from kiosk_backend.models import Application

    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            note = Application.details["note"].as_string()
            rows = session.execute(
                select(note, func.count(), func.min(Application.number))
                .where(note.like(f"fleet-{run_tag}-%"))
                .group_by(note)
            ).all()
            refs = (
                set(
                    session.scalars(
                        select(LedgerTicket.client_ref).where(
                            LedgerTicket.client_ref.in_(tally.accepted_tickets)
                        )
                    )
                )
                if tally.accepted_tickets
                else set()
            )
    finally:
        engine.dispose()
    stored = {row[0]: (row[1], row[2]) for row in rows}
    lost = sum(1 for n in tally.accepted_orders if n not in stored)
    duplicated = sum(count - 1 for count, _ in stored.values() if count > 1)
    wrong_number = sum(
        1 for n, number in tally.accepted_orders.items() if n in stored and stored[n][1] != number
    )
    return {
        "submissions_accepted": len(tally.accepted_orders),
        "submissions_stored": len(stored),
        "lost": lost + len(tally.accepted_tickets - refs),
        "duplicated": duplicated,
        "answered_with_another_number": wrong_number,
        "stored_but_never_answered": sum(1 for n in stored if n not in tally.accepted_orders),
        "tickets_accepted": len(tally.accepted_tickets),
    }


# --- CPU accounting ------------------------------------------------------------------------------


def _cpu_of(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except OSError:
            pass
    return total


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    with open("/proc/stat", encoding="ascii") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = values[3] + values[4]
    return (sum(values) - idle) / ticks, sum(values) / ticks


def _loadavg() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


# --- steps and the knee ----------------------------------------------------------------------------


def summarize(tally: Tally, seconds: float) -> dict[str, Any]:
    every = [v for values in tally.latencies.values() for v in values]
    per_endpoint = {
        endpoint: {
            "count": len(values),
            "p50_ms": _ms(percentile(values, 50)),
            "p95_ms": _ms(percentile(values, 95)),
            "p99_ms": _ms(percentile(values, 99)),
        }
        for endpoint, values in sorted(tally.latencies.items())
    }
    return {
        "requests": tally.requests,
        "sustained_rps": round(tally.requests / seconds, 1),
        "p50_ms": _ms(percentile(every, 50)),
        "p95_ms": _ms(percentile(every, 95)),
        "p99_ms": _ms(percentile(every, 99)),
        "per_endpoint": per_endpoint,
        "errors_by_status": dict(tally.errors),
        "errors": sum(tally.errors.values()),
        "in_progress_retries": tally.in_progress_retries,
        "replayed_answers": tally.replayed,
        "already_booked_answers": tally.already_booked,
    }


def offered_rps(kiosks: int, speed: float) -> float:
    """Requests per second the schedule asks for (heartbeats + ~4 requests per session: ~3.3
    queries and submissions, and opening and ending the identity session of the 37 % of
    sessions that need one)."""
    per_kiosk = 1 / HEARTBEAT_SECONDS + 4.0 / SESSION_EVERY_SECONDS
    return round(kiosks * per_kiosk * speed, 1)


def run_step(server, fleet: list[SimKiosk], args, speed: float, db_url: str) -> dict[str, Any]:
    run_tag = uuid.uuid4().hex[:8]
    runner = Fleet(
        server.url,
        fleet,
        speed=speed,
        seconds=args.seconds,
        max_requests=args.max_requests,
        run_tag=run_tag,
        rng=random.Random(run_tag),
    )
    server_pids = [server.process.pid, *server.worker_pids()]
    busy0, total0 = _machine_busy()
    server_cpu0 = _cpu_of(server_pids)
    gen_cpu0, wall0 = time.process_time(), time.monotonic()
    tally = asyncio.run(runner.run())
    wall = time.monotonic() - wall0
    gen_cpu = time.process_time() - gen_cpu0
    server_cpu = _cpu_of(server_pids) - server_cpu0
    busy1, total1 = _machine_busy()
    step = {"speed": speed, "offered_rps": offered_rps(len(fleet), speed), "wall_s": round(wall, 1)}
    step.update(summarize(tally, args.seconds))
    time.sleep(1.0)  # let answers in flight at the deadline land before reading the database
    step.update(check_database(db_url, tally, run_tag))
    cores = os.cpu_count() or 1
    step["generator"] = {
        "cpu_cores_used": round(gen_cpu / wall, 2),
        "server_cpu_cores_used": round(server_cpu / wall, 2),
        "machine_busy_share": round((busy1 - busy0) / max(1e-9, (total1 - total0)), 2),
        "machine_cores": cores,
        "send_lag_p95_ms": _ms(percentile(tally.lag, 95)),
        "send_lag_p99_ms": _ms(percentile(tally.lag, 99)),
    }
    return step


def run_workers(workers: int, fleet: list[SimKiosk], args, db_url: str) -> dict[str, Any]:
    from kiosk_backend.testing import served_process

    with served_process(db_url, workers=workers) as server:
        # Warm up each worker's pools and caches before measuring.
        run_step(server, fleet[: min(50, len(fleet))], _warmup_args(args), 20.0, db_url)
        steps = []
        speeds = _speeds(args)
        for speed in speeds:
            step = run_step(server, fleet, args, speed, db_url)
            steps.append(step)
            if args.knee and (step["p95_ms"] > KNEE_P95_MS or step["errors"]):
                break
    within = [s for s in steps if s["p95_ms"] <= KNEE_P95_MS and not s["errors"]]
    knee = max(within, key=lambda s: s["sustained_rps"]) if within else None
    return {
        "workers": workers,
        "steps": steps,
        "knee_rps": knee["sustained_rps"] if knee else None,
        "knee_speed": knee["speed"] if knee else None,
    }


def _warmup_args(args):
    return argparse.Namespace(**{**vars(args), "seconds": 3.0})


def _speeds(args) -> list[float]:
    if not args.knee:
        return [args.speed]
    speeds, speed = [], args.speed
    while speed <= args.max_speed:
        speeds.append(speed)
        speed *= 2
    return speeds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kiosks", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60.0, help="per step")
    parser.add_argument("--workers", default="2", help="worker counts, e.g. 1,2")
    parser.add_argument("--db", default=os.environ.get("KIOSK_TEST_PG_URL") or "sqlite")
    parser.add_argument("--speed", type=float, default=1.0, help="time compression (first step)")
    parser.add_argument("--knee", action="store_true", help="double the speed until p95 > 250 ms")
    parser.add_argument("--max-speed", type=float, default=64.0)
    parser.add_argument("--max-requests", type=int, default=2_000_000, help="per step")
    parser.add_argument("--seed", default="fleet")
    args = parser.parse_args(argv)
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]
    result: dict[str, Any] = {
        "kiosks": args.kiosks,
        "seconds_per_step": args.seconds,
        "db": "postgresql" if args.db.startswith("postgresql") else "sqlite",
        "mix": {
            "heartbeat_every_s": HEARTBEAT_SECONDS,
            "resident_every_s_per_kiosk": SESSION_EVERY_SECONDS,
            "sessions": dict(SESSION_MIX),
            "resend_one_submission_in": RESEND_EVERY,
        },
        "load_average_before": _loadavg(),
        "goal": {"p95_ms": GOAL_P95_MS, "knee_p95_ms": KNEE_P95_MS},
    }
    started = time.monotonic()
    with database(args.db) as db_url:
        fleet = prepare(db_url, args.kiosks, random.Random(args.seed))
        result["prepare_s"] = round(time.monotonic() - started, 1)
        result["runs"] = [run_workers(w, fleet, args, db_url) for w in worker_counts]
    result["load_average_after"] = _loadavg()
    print(json.dumps(result, ensure_ascii=False))
    bad = any(s["lost"] or s["duplicated"] for run in result["runs"] for s in run["steps"])
    return 1 if bad else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
    raise SystemExit(130)
