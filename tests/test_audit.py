"""Append-only audit log: the hash chain, tamper detection, durability rules, `kiosk audit`."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.logsetup import scrub
from kiosk.services.audit import (
    GENESIS,
    AuditDataError,
    AuditLog,
    entry_hash,
)


def fixed_clock():
    return dt.datetime(2026, 11, 29, 8, 40, tzinfo=dt.UTC)


@pytest.fixture
def log(data_dir):
    return AuditLog(data_dir, clock=fixed_clock)


def fill(log, n=5):
    return [
        log.append("op-0001", "operator", "paper.replaced", {"roll": i, "ok": True})
        for i in range(n)
    ]


def read_lines(log):
    return log.path.read_text(encoding="utf-8").splitlines()


def write_lines(log, lines):
    log.path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_first_entry_links_to_zeros_and_each_next_to_its_predecessor(log):
    entries = fill(log, 3)
    assert entries[0].prev == GENESIS == "0" * 64
    assert entries[1].prev == entries[0].hash
    assert entries[2].prev == entries[1].hash
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].hash == entry_hash(entries[0].body())
    assert entries[0].time == "2026-11-29T08:40:00Z"


def test_intact_log_verifies_and_reads_back(log):
    written = fill(log, 5)
    result = log.verify()
    assert result.ok and result.entries == 5
    assert list(log.entries()) == written


def test_no_log_and_no_head_is_reported_not_verified(log):
    result = log.verify()
    assert (result.ok, result.verified, result.entries) == (False, False, 0)
    assert "no audit log" in result.reason


def test_tampering_with_a_field_is_detected_at_that_entry(log):
    fill(log, 5)
    lines = read_lines(log)
    record = json.loads(lines[2])
    record["account"] = "someone-else"
    lines[2] = json.dumps(record, ensure_ascii=False, sort_keys=True)
    write_lines(log, lines)
    result = log.verify()
    assert not result.ok and result.broken_seq == 3
    assert "altered" in result.reason


def test_tampering_and_rehashing_an_entry_is_detected_at_the_next(log):
    fill(log, 5)
    lines = read_lines(log)
    record = json.loads(lines[1])
    record["action"] = "nothing.happened"
    record["hash"] = entry_hash({k: v for k, v in record.items() if k != "hash"})
    lines[1] = json.dumps(record, ensure_ascii=False, sort_keys=True)
    write_lines(log, lines)
    result = log.verify()
    assert not result.ok and result.broken_seq == 3


def test_deleting_an_entry_is_detected(log):
    fill(log, 5)
    lines = read_lines(log)
    del lines[2]
    write_lines(log, lines)
    result = log.verify()
    assert not result.ok and result.broken_seq == 3


def test_reordering_entries_is_detected(log):
    fill(log, 5)
    lines = read_lines(log)
    lines[1], lines[3] = lines[3], lines[1]
    write_lines(log, lines)
    result = log.verify()
    assert not result.ok and result.broken_seq == 2


def test_cutting_entries_off_the_end_is_detected_by_the_head(log):
    fill(log, 5)
    write_lines(log, read_lines(log)[:3])
    result = log.verify()
    assert not result.ok and result.broken_seq == 4
    assert "missing" in result.reason


def test_deleting_the_whole_log_is_detected_by_the_head(log):
    fill(log, 2)
    log.path.unlink()
    assert not log.verify().ok


def test_garbage_line_is_detected(log):
    fill(log, 3)
    lines = read_lines(log)
    lines.insert(1, "not json at all")
    write_lines(log, lines)
    result = log.verify()
    assert not result.ok and result.broken_seq == 2


def test_torn_last_line_does_not_stop_recording_but_is_reported(log):
    fill(log, 2)
    with log.path.open("a", encoding="utf-8") as fh:
        fh.write('{"seq": 3, "ti')  # a power cut in the middle of a write
    entry = log.append("op-0001", "operator", "paper.replaced")
    assert entry.seq == 3
    result = log.verify()
    assert not result.ok and result.broken_seq == 3


@pytest.mark.parametrize(
    "detail",
    [
        {"id": "110101199003074514"},
        {"phone": "13800138000"},
        {"card": "6217000012345678"},
        {"13800138000": "key"},  # a key is checked like a value
        {"note": "line\nbreak"},
        {"x": 1.5},
    ],
)
def test_personal_data_and_bad_values_are_refused_and_nothing_is_written(log, detail):
    with pytest.raises(AuditDataError):
        log.append("op-0001", "operator", "reprint", detail)
    assert not log.path.exists()


@pytest.mark.parametrize("field", ["account", "role", "action"])
def test_empty_required_field_is_refused(log, field):
    args = {"account": "op", "role": "operator", "action": "x"}
    args[field] = ""
    with pytest.raises(AuditDataError):
        log.append(**args)


def test_file_modes_are_private(log):
    fill(log, 1)
    assert os.stat(log.path).st_mode & 0o077 == 0
    assert os.stat(log.head_path).st_mode & 0o077 == 0


def test_concurrent_appends_from_threads_keep_the_chain(log):
    def worker(n):
        for i in range(10):
            log.append(f"op-{n}", "operator", "paper.replaced", {"i": i})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    result = log.verify()
    assert result.ok and result.entries == 40


def test_two_processes_append_to_one_chain(data_dir):
    code = (
        "import sys; from pathlib import Path; from kiosk.services.audit import AuditLog\n"
        "log = AuditLog(Path(sys.argv[1]))\n"
        "for i in range(15): log.append('op-' + sys.argv[2], 'operator', 'x', {'i': i})\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(data_dir), str(n)]) for n in range(3)
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    result = AuditLog(data_dir).verify()
    assert result.ok and result.entries == 45


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            # keys the log accepts (a digit run is refused as personal data: tested above)
            st.text(
                st.characters(codec="utf-8", exclude_characters="\n\r\x00"), min_size=1, max_size=8
            ).filter(lambda key: scrub(key) == key),
            st.one_of(
                st.booleans(), st.integers(-1000, 1000), st.sampled_from(["打印纸", "ok", ""])
            ),
            max_size=3,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_any_accepted_details_round_trip_and_verify(tmp_path_factory, details):
    log = AuditLog(tmp_path_factory.mktemp("audit"))
    written = [log.append("op-1", "operator", "act", detail) for detail in details]
    assert list(log.entries()) == written
    assert log.verify().ok


def run_cli(data_dir, *args):
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "audit", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_verify_reports_intact_then_broken(data_dir):
    log = AuditLog(data_dir)
    fill(log, 4)
    ok = run_cli(data_dir, "verify")
    assert ok.returncode == 0, ok.stderr
    assert "audit log intact: 4 entries" in ok.stdout
    lines = read_lines(log)
    del lines[1]
    write_lines(log, lines)
    broken = run_cli(data_dir, "verify")
    assert broken.returncode == 1
    assert "entry 2" in broken.stderr


def test_cli_show_prints_the_latest_entries(data_dir):
    fill(AuditLog(data_dir), 4)
    out = run_cli(data_dir, "show", "--last", "2", "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["seq"] for r in rows] == [3, 4]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_single_character_change_is_detected(tmp_path_factory, data):
    log = AuditLog(tmp_path_factory.mktemp("audit"), clock=fixed_clock)
    fill(log, 4)
    text = log.path.read_text(encoding="utf-8")
    index = data.draw(st.integers(0, len(text) - 1), label="position")
    replacement = data.draw(
        st.characters(codec="utf-8").filter(lambda ch: ch != text[index]), label="char"
    )
    log.path.write_text(text[:index] + replacement + text[index + 1 :], encoding="utf-8")
    assert not log.verify().ok
