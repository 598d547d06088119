"""The cheap benchmarks still run and still measure what they say (no timing is asserted).

A benchmark that quietly measures the wrong thing is worse than none: the outbox benchmark once
timed the platform refusing every submission. Each runs here with a small count, in its own
process as `make bench` runs it, and must print one JSON object whose sanity fields hold.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_benchmark(name: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_outbox_benchmark_delivers_every_submission_it_times():
    result = run_benchmark("backend_outbox", "--count", "20")
    assert result["all_delivered"] is True
    assert result["refused"] == 0
    assert result["delivery_per_second"] > 0


def test_idcard_benchmark_reads_whole_cards_over_a_pty():
    result = run_benchmark("idcard", "--reads", "5")
    assert result["reads"] == 5
    assert result["bytes_from_reader_per_read"] > 1024  # text + photo blocks came back


def test_ime_benchmark_looks_up_every_typed_prefix():
    result = run_benchmark("ime", "--rounds", "1")
    assert result["lookups_per_round"] > 100
    assert result["file_bytes"] > 1_000_000


def test_printer_benchmark_prints_native_and_raster_receipts():
    result = run_benchmark("printer")
    for paper in ("576dots", "384dots"):
        native, raster = result[f"{paper}_native_qr"], result[f"{paper}_raster_qr"]
        assert native["bytes"] > 500
        assert raster["bytes"] > 5 * native["bytes"]  # the QR went as an image


def test_fleet_load_benchmark_signs_as_many_kiosks_and_finds_every_submission_once():
    result = run_benchmark(
        "fleet_load",
        "--kiosks",
        "40",
        "--seconds",
        "4",
        "--workers",
        "2",
        "--speed",
        "40",
        "--db",
        "sqlite",
    )
    (run,) = result["runs"]
    (step,) = run["steps"]
    assert run["workers"] == 2 and result["kiosks"] == 40
    assert step["errors_by_status"] == {}  # records and submissions carried identity tokens
    endpoints = step["per_endpoint"]
    opened = endpoints.get("POST /identity/sessions", {}).get("count", 0)
    assert endpoints.get("DELETE /identity/sessions/current", {}).get("count", 0) == opened
    assert step["requests"] > 50
    assert step["per_endpoint"]["POST /kiosks/heartbeat"]["count"] > 40
    assert step["lost"] == 0 and step["duplicated"] == 0
    assert step["submissions_stored"] == step["submissions_accepted"]
    assert step["stored_but_never_answered"] == 0
    assert step["generator"]["server_cpu_cores_used"] > 0


def test_console_benchmark_signs_in_and_renders_every_list_page():
    result = run_benchmark(
        "console", "--sqlite", "--applications", "300", "--tickets", "60", "--repeats", "2"
    )
    assert (result["applications"], result["tickets"]) == (300, 60)
    assert set(result["pages"]) >= {"applications", "tickets_mine_open", "fleet", "responsibility"}
    assert all(page["bytes"] > 1500 for page in result["pages"].values())


def test_voice_benchmark_starts_every_prompt_it_times():
    result = run_benchmark("voice", "--count", "15")
    assert result["rounds"] == 15
    assert result["clip_loads"] >= 15  # each round really loaded and started a clip
    assert result["driver"] == "dummy"
    assert set(result["ui_thread_ms"]) == {"p50", "p95", "max"}


def test_identity_benchmark_counts_one_round_trip_per_identification_and_query():
    """The budget of issue 13: the token costs one round trip at identification, none extra
    per personal query (and every session's end sends its revocation)."""
    result = run_benchmark("identity", "--count", "5")
    assert result["requests_per_identification"] == 1.0
    assert result["requests_per_query"] == 1.0
    assert result["revocations_sent"] == 5


@pytest.mark.pcscd
def test_sscard_benchmark_times_the_psam_authentication_of_every_read():
    result = run_benchmark("sscard", "--runs", "3")
    if "skipped" in result:
        if os.environ.get("KIOSK_TEST_PCSCD") == "1":
            pytest.fail(f"KIOSK_TEST_PCSCD=1 but the benchmark skipped: {result['skipped']}")
        pytest.skip(result["skipped"])
    assert result["with_psam"]["read_failures"] == []
    assert result["without_authentication"]["read_failures"] == []
    assert result["with_psam"]["cards"] == ["gen1", "gen2", "gen3"]
    assert result["authentication"]["median_s"] > 0  # the PSAM really ran


def test_records_benchmark_times_totals_that_match_the_hand_sum():
    result = run_benchmark("backend_records", "--persons", "20", "--months", "24", "--repeats", "2")
    assert result["total_matches_hand_sum"] is True
    assert result["long_history_months"] == 480 and result["pages"] == 20
    assert result["first_page"]["p50_ms"] > 0


def test_search_benchmark_times_the_served_search_and_checks_it_against_a_scan():
    """It exits 1 when the served or in-process answer differs from the LIKE scan's."""
    result = run_benchmark("backend_search", "--postings", "300", "--repeats", "1", "--sqlite")
    search = result["sqlite"]["search"]
    assert result["sqlite"]["postings"] == 300
    assert set(search["2_chars"]) == {"queries", "http", "index", "like"}
    assert sum(search["2_chars"]["queries"].values()) > 10  # the queries found postings
    assert search["http_one_posting"]["p50_ms"] > 0
