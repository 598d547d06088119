"""Faults the soak found without a ticket or a way back: the kiosk's clock far from the
platform's, a full data disk (the ticket is saved once there is room again), and the wall
clock set back (the outbox must not sit on submissions scheduled "in the future")."""

from __future__ import annotations

from test_fault_reporter import fault_entries, reporter_for

from kiosk.services.backend_runtime import PlatformClockChecked
from kiosk.services.bus import EventBus
from kiosk.services.fault_reporter import (
    PATH_LEDGER_CLOSE,
    PATH_LEDGER_TICKETS,
    STATE_FILE_NAME,
    FaultReporter,
)
from kiosk.services.outbox import Outbox, OutboxStatus
from kiosk.services.store import KEY_FILE_NAME, PayloadCipher, open_store


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_clock_far_from_the_platforms_opens_one_ticket_and_closes_it_when_fixed(data_dir):
    bus = EventBus()
    store = open_store(data_dir)
    outbox = Outbox(store, PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME), print)
    reporter = reporter_for(outbox, bus, data_dir, clock_skew_seconds=120)
    try:
        bus.publish(PlatformClockChecked(skew_seconds=-3600.0))  # the kiosk is an hour ahead
        for t in range(5):
            reporter.check(now=1000.0 + t)
        bus.publish(PlatformClockChecked(skew_seconds=0.4))
        reporter.check(now=1010.0)
        (opened, opened_body), (closed, closed_body) = fault_entries(outbox)
        assert (opened, opened_body["fault_key"]) == (PATH_LEDGER_TICKETS, "clock.skew")
        assert opened_body["description"] == "skew=-3600s"
        assert (closed, closed_body["client_ref"]) == (PATH_LEDGER_CLOSE, opened_body["client_ref"])
    finally:
        store.close()


class FullDisk:
    """An outbox whose disk is full until ``room()`` (then the real outbox takes over)."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.full = True

    def submit(self, kind, path, payload):
        if self.full:
            import sqlite3

            raise sqlite3.OperationalError("database or disk is full")
        return self.outbox.submit(kind, path, payload)


def test_a_full_disk_still_ends_in_one_ticket_opened_and_closed_once_there_is_room(data_dir):
    bus = EventBus()
    store = open_store(data_dir)
    outbox = Outbox(store, PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME), print)
    disk = FullDisk(outbox)
    reporter = FaultReporter(
        disk, bus.subscribe, data_dir / STATE_FILE_NAME, data_dir=data_dir, min_free_bytes=1 << 62
    )
    try:
        for t in range(6):  # the disk is "full" (less free than asked) and saving fails
            assert reporter.check(now=2000.0 + t) == []
        assert fault_entries(outbox) == []
        disk.full = False
        reporter._min_free = 0  # room again: the pending ticket is saved, then closed
        reporter._set("storage.full", False)
        reporter.check(now=2010.0)
        reporter.check(now=2011.0)
        (opened, body), (closed, close_body) = fault_entries(outbox)
        assert (opened, body["fault_key"]) == (PATH_LEDGER_TICKETS, "storage.full")
        assert (closed, close_body["client_ref"]) == (PATH_LEDGER_CLOSE, body["client_ref"])
        assert reporter.open_faults() == {}
    finally:
        store.close()


def test_submissions_scheduled_ahead_of_a_clock_set_back_are_sent_at_once(data_dir):
    store = open_store(data_dir)
    clock = Clock(1_800_000_000.0)
    sent = []
    outbox = Outbox(
        store,
        PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME),
        lambda path, payload, key: sent.append(key) or {"id": 1},
        backoff_max_seconds=300.0,
        clock=clock,
    )
    try:
        entry = outbox.submit("work_order", "/api/v1/work-orders", {"n": 1})
        later = outbox.submit("work_order", "/api/v1/work-orders", {"n": 2})
        with store.engine.begin() as conn:  # retried at 12:00 with a 200 s backoff ...
            from kiosk.services.store import outbox_entries

            conn.execute(outbox_entries.update().values(next_attempt_at=clock.now + 200))
        clock.now -= 3600  # ... then the clock goes back an hour
        outbox.run_once()
        assert sent == [entry.idempotency_key, later.idempotency_key]
        assert outbox.entry(entry.local_ref).status is OutboxStatus.DELIVERED
    finally:
        store.close()


def test_fault_tickets_never_overtake_an_older_one_waiting_for_its_retry(data_dir):
    """A close waiting for its retry holds back the next open of the fault (the platform would
    merge that open into the ticket it still holds open); other submissions go on."""
    store = open_store(data_dir)
    clock = Clock(1_800_000_000.0)
    sent = []
    outbox = Outbox(
        store,
        PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME),
        lambda path, payload, key: sent.append(payload["n"]) or {"id": 1},
        clock=clock,
    )
    try:
        close = outbox.submit("fault", PATH_LEDGER_CLOSE, {"n": "close-1"})
        outbox.submit("fault", PATH_LEDGER_TICKETS, {"n": "open-2"})
        outbox.submit("work_order", "/api/v1/work-orders", {"n": "order"})
        with store.engine.begin() as conn:  # the close failed a moment ago: retry in 30 s
            from kiosk.services.store import outbox_entries

            conn.execute(
                outbox_entries.update()
                .where(outbox_entries.c.local_ref == close.local_ref)
                .values(next_attempt_at=clock.now + 30)
            )
        outbox.run_once()
        assert sent == ["order"]
        clock.now += 31
        outbox.run_once()
        assert sent == ["order", "close-1", "open-2"]
    finally:
        store.close()


def test_a_cache_that_cannot_be_written_still_returns_the_platforms_answer(data_dir):
    import sqlite3

    import sqlalchemy as sa

    from kiosk.services.cache import OfflineCache

    store = open_store(data_dir)
    cache = OfflineCache(store)
    cache.put("jobs?q=司机", {"items": ["old"]})

    def disk_full(*_args, **_kwargs):
        raise sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("disk is full"))

    cache.put = disk_full
    try:
        fresh = cache.fetch("jobs?q=司机", lambda: {"items": ["new"]})
        assert (fresh.value, fresh.from_cache) == ({"items": ["new"]}, False)
        assert cache.get("jobs?q=司机").value == {"items": ["old"]}
    finally:
        store.close()
