"""Software time of a full ID card read (find → select → read 30 01) over a real pty.

The simulator answers with its device delays at zero, so the time measured is the driver's and
the simulator's software plus the pty, not the reader's radio or the UART (a pty does not pace
bytes to the baud rate; ``wire_ms_at_baud`` says what the real line would add).
Prints one JSON object. Usage: python benchmarks/idcard.py [--reads N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from kiosk.devices.idcard.driver import IdCardReader
from kiosk.devices.idcard.simulator import SimDelays, start_simulated_reader

BAUD = 115200
BITS_PER_BYTE = 10  # 8N1: start + 8 data + stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args()

    url, simulator = start_simulated_reader(delays=SimDelays())
    reader = IdCardReader(url, baudrate=BAUD, read_appended_address=False)
    reader.connect()
    try:
        simulator.place("resident")
        reader.read_card_present()  # warm-up: imports, identity tables, first tcsetattr
        out0, in0 = reader.wire_bytes
        times_ms = []
        for _ in range(args.reads):
            simulator.place("resident")  # lay the card again, as a resident would
            started = time.perf_counter()
            card = reader.read_card_present()
            times_ms.append((time.perf_counter() - started) * 1000)
            if card is None or card.id_problem:
                raise SystemExit("benchmark read failed")
            card.wipe()
        out1, in1 = reader.wire_bytes
    finally:
        reader.disconnect()
        simulator.stop()

    times_ms.sort()
    per_read_out = (out1 - out0) / args.reads
    per_read_in = (in1 - in0) / args.reads
    print(
        json.dumps(
            {
                "benchmark": "idcard_full_read",
                "transport": "pty",
                "baudrate": BAUD,
                "reads": args.reads,
                "median_ms": round(statistics.median(times_ms), 3),
                "p95_ms": round(times_ms[int(0.95 * (len(times_ms) - 1))], 3),
                "max_ms": round(times_ms[-1], 3),
                "bytes_to_reader_per_read": per_read_out,
                "bytes_from_reader_per_read": per_read_in,
                "wire_ms_at_baud": round(
                    (per_read_out + per_read_in) * BITS_PER_BYTE / BAUD * 1000, 1
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
