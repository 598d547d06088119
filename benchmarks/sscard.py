"""Social security card through pcscd + vpcd: insertion → decoded data, PSAM authentication cost,
and removal latency.

Runs the real stack (pyscard → pcscd → vsmartcard vpcd → virtual card, and the virtual PSAM in
vpcd's second slot) and prints one JSON object: seconds from the card entering the slot to
SsCardRead (split into detection and reading), the time the PSAM authentication itself takes
inside the read (``authentication``: INTERNAL AUTHENTICATE on every card, plus RKSSSE EXTERNAL
AUTHENTICATE on 3.0 cards, both sides through pcscd), the same reads of 1.0/2.0 cards without
authentication for comparison, and from pulling the card to CardRemoved (the session must end
within 0.5 s). Budget: authentication adds at most 0.3 s to card-to-menu (``auth_within_budget``).
Needs a running pcscd with the vpcd readers; otherwise prints {"skipped": reason}.
"""

from __future__ import annotations

import argparse
import json
import queue
import random
import statistics
import sys
import time

from kiosk.devices.sscard import PSAM_VPCD_PORT, VPCD_PSAM_READER, VPCD_READER
from kiosk.devices.sscard.auth import AuthContext, NoAuthentication, PsamAuthenticator
from kiosk.devices.sscard.driver import SsCardDriver
from kiosk.devices.sscard.errors import SsCardError
from kiosk.devices.sscard.events import CardInserted, CardReadFailed, CardRemoved, SsCardRead
from kiosk.devices.sscard.ports import PcscPort
from kiosk.devices.sscard.virtual_card import VirtualCard, demo_profiles
from kiosk.devices.sscard.virtual_psam import VirtualPsam
from kiosk.devices.sscard.vpcd import MIN_ABSENT_SECONDS, VpcdCardSlot

REMOVAL_BUDGET_S = 0.5
AUTH_BUDGET_S = 0.3


class TimedAuthenticator:
    """Wraps an authenticator and records how long each authenticate() took (seconds)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.seconds: list[float] = []

    def authenticate(self, context: AuthContext):
        started = time.perf_counter()
        try:
            return self.inner.authenticate(context)
        finally:
            self.seconds.append(time.perf_counter() - started)

    def terminal_number(self) -> str:
        return self.inner.terminal_number()

    def describe(self) -> str:
        return self.inner.describe()


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median_s": round(statistics.median(ordered), 4),
        "p95_s": round(p95, 4),
        "max_s": round(ordered[-1], 4),
    }


def _next(events: queue.Queue, kinds: tuple[type, ...], timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        event = events.get(timeout=max(0.0, deadline - time.monotonic()))
        if isinstance(event, kinds):
            return event


def _run(slot: VpcdCardSlot, authenticator, keys: list[str], runs: int, seed: int) -> dict:
    """Insert and pull *runs* cards (cycling *keys*) under one driver; timings per phase."""
    events: queue.Queue = queue.Queue()
    driver = SsCardDriver(
        PcscPort(), events.put, reader_filter=VPCD_READER, authenticator=authenticator
    )
    profiles = demo_profiles()
    to_read, to_detect, reading, removal = [], [], [], []
    failures: list[str] = []
    jitter = random.Random(seed)
    driver.start()
    try:
        driver.wait_ready(10)
        while driver.card_present:
            time.sleep(0.05)
        for run in range(runs):
            # A random phase against pcscd's 400 ms poll of vpcd, as a resident's hand would be
            # (after the slot's own minimum time empty, which would otherwise hold the card back).
            time.sleep(MIN_ABSENT_SECONDS + jitter.uniform(0, 0.4))
            card = VirtualCard(profiles[keys[run % len(keys)]])
            inserted_at = time.monotonic()
            slot.insert(card)
            seen = _next(events, (CardInserted,), 15)
            result = _next(events, (SsCardRead, CardReadFailed), 15)
            if isinstance(result, CardReadFailed):
                failures.append(result.code)
            else:
                to_detect.append(seen.at - inserted_at)
                reading.append(result.at - seen.at)
                to_read.append(result.at - inserted_at)
            time.sleep(jitter.uniform(0, 0.4))
            pulled_at = time.monotonic()
            slot.remove()
            gone = _next(events, (CardRemoved,), 15)
            removal.append(gone.at - pulled_at)
    finally:
        driver.stop()
    return {
        "cards": keys,
        "runs": runs,
        "read_failures": failures,
        "insert_to_card_data": _summary(to_read),
        "insert_to_detected": _summary(to_detect),
        "detected_to_card_data": _summary(reading),
        "removal": removal,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="reads per pass (two passes)")
    args = parser.parse_args()
    try:
        readers = PcscPort().readers()
    except SsCardError as exc:
        print(json.dumps({"benchmark": "sscard", "skipped": f"pcscd not usable: {exc}"}))
        return 0
    for wanted in (VPCD_READER, VPCD_PSAM_READER):
        if not any(wanted in name for name in readers):
            print(json.dumps({"benchmark": "sscard", "skipped": f"no {wanted!r} reader"}))
            return 0

    slot = VpcdCardSlot()
    psam_slot = VpcdCardSlot(port=PSAM_VPCD_PORT)
    slot.start()
    psam_slot.start()
    psam_slot.insert(VirtualPsam())
    timed = TimedAuthenticator(PsamAuthenticator(PcscPort(), VPCD_PSAM_READER))
    untimed = TimedAuthenticator(NoAuthentication())
    try:
        time.sleep(1.0)  # let pcscd see the PSAM before the first card
        with_psam = _run(slot, timed, ["gen1", "gen2", "gen3"], args.runs, seed=4)
        # 3.0 cards cannot be read without RKSSSE: compare the generations both can read.
        without = _run(slot, untimed, ["gen1", "gen2"], args.runs, seed=5)
    finally:
        slot.stop()
        psam_slot.stop()
    removal = with_psam.pop("removal") + without.pop("removal")
    auth = _summary(timed.seconds)
    print(
        json.dumps(
            {
                "benchmark": "sscard",
                "transport": "pyscard -> pcscd -> vpcd -> virtual card / virtual PSAM",
                "with_psam": with_psam,
                "without_authentication": without,
                "authentication": auth,
                "auth_budget_s": AUTH_BUDGET_S,
                "auth_within_budget": bool(auth) and auth["max_s"] <= AUTH_BUDGET_S,
                "removal_event_latency": _summary(removal),
                "removal_within_budget": max(removal) <= REMOVAL_BUDGET_S,
                "removal_budget_s": REMOVAL_BUDGET_S,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
