"""Social security card through pcscd + vpcd: insertion → decoded data, and removal latency.

Runs the real stack (pyscard → pcscd → vsmartcard vpcd → virtual card) 50 times and prints one
JSON object: seconds from the card entering the slot to SsCardRead (split into detection and
reading), and from pulling it to CardRemoved (the session must end within 0.5 s).
Needs a running pcscd with the vpcd reader; otherwise prints {"skipped": reason}.
"""

from __future__ import annotations

import argparse
import json
import queue
import random
import statistics
import sys
import time

from kiosk.devices.sscard import VPCD_READER
from kiosk.devices.sscard.driver import SsCardDriver
from kiosk.devices.sscard.errors import SsCardError
from kiosk.devices.sscard.events import CardInserted, CardReadFailed, CardRemoved, SsCardRead
from kiosk.devices.sscard.ports import PcscPort
from kiosk.devices.sscard.virtual_card import VirtualCard, demo_profiles
from kiosk.devices.sscard.vpcd import VpcdCardSlot

REMOVAL_BUDGET_S = 0.5


def _summary(values: list[float]) -> dict[str, float]:
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    try:
        readers = PcscPort().readers()
    except SsCardError as exc:
        print(json.dumps({"benchmark": "sscard", "skipped": f"pcscd not usable: {exc}"}))
        return 0
    if not any(VPCD_READER in name for name in readers):
        print(json.dumps({"benchmark": "sscard", "skipped": f"no {VPCD_READER!r} reader"}))
        return 0

    events: queue.Queue = queue.Queue()
    slot = VpcdCardSlot()
    driver = SsCardDriver(PcscPort(), events.put, reader_filter=VPCD_READER)
    profiles = demo_profiles()
    keys = ["gen1", "gen2", "gen3"]
    to_read, to_detect, reading, removal = [], [], [], []
    failures = 0
    jitter = random.Random(4)
    slot.start()
    driver.start()
    try:
        driver.wait_ready(10)
        while driver.card_present:
            time.sleep(0.05)
        for run in range(args.runs):
            # A random phase against pcscd's 400 ms poll of vpcd, as a resident's hand would be.
            time.sleep(jitter.uniform(0, 0.4))
            card = VirtualCard(profiles[keys[run % len(keys)]])
            inserted_at = time.monotonic()
            slot.insert(card)
            seen = _next(events, (CardInserted,), 15)
            result = _next(events, (SsCardRead, CardReadFailed), 15)
            if isinstance(result, CardReadFailed):
                failures += 1
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
        slot.stop()
    print(
        json.dumps(
            {
                "benchmark": "sscard",
                "transport": "pyscard -> pcscd -> vpcd -> virtual card",
                "runs": args.runs,
                "read_failures": failures,
                "insert_to_card_data": _summary(to_read),
                "insert_to_detected": _summary(to_detect),
                "detected_to_card_data": _summary(reading),
                "removal_event_latency": _summary(removal),
                "removal_within_budget": max(removal) <= REMOVAL_BUDGET_S,
                "removal_budget_s": REMOVAL_BUDGET_S,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
