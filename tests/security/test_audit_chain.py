"""Finding: audit-log tampering was forgotten after one append, and a deleted log "verified".

Before the fix: entries cut off the tail were reported by ``verify``, but the next ``append``
continued from the new tail and ``verify`` said ok again; deleting both files also verified
("intact: 0 entries"). Here through the real files in a data directory, the ``kiosk audit
verify`` command, and the reference platform over HTTP on 127.0.0.1 (heartbeats carrying the
head, ``GET /kiosks/audit-heads``). Each test fails on the old code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from maint_support import demo_platform

from kiosk.services.audit import CHAIN_BREAK_ACTION, AuditLog, entry_hash
from kiosk.services.backend_client import BackendClient

ROOT = Path(__file__).resolve().parents[2]


def fill(log: AuditLog, n: int) -> list:
    return [log.append("qyhe-op-001", "operator", "paper.replaced", {"roll": i}) for i in range(n)]


def lines_of(log: AuditLog) -> list[str]:
    return log.path.read_text(encoding="utf-8").splitlines()


def verify_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "audit", "verify", *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
        env={**os.environ, "KIOSK_DATA_DIR": str(data_dir)},
    )


def test_cutting_the_tail_stays_on_record_after_the_next_append(data_dir):
    """GIVEN 5 entries WHEN the last two are cut off and maintenance goes on (two appends)
    THEN a chain_break entry carrying the old head (5, its hash) precedes the new entries and
    verify keeps reporting the loss."""
    log = AuditLog(data_dir)
    written = fill(log, 5)
    log.path.write_text("".join(line + "\n" for line in lines_of(log)[:3]), encoding="utf-8")
    log.append("qyhe-op-001", "operator", "paper.replaced", {"roll": 9})
    log.append("qyhe-op-001", "operator", "maintenance.end")
    records = [json.loads(line) for line in lines_of(log)]
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5, 6]
    noticed = records[3]
    assert (noticed["account"], noticed["action"]) == ("system", CHAIN_BREAK_ACTION)
    assert noticed["detail"] == {
        "reason": "entries_removed",
        "old_head_seq": 5,
        "old_head_hash": written[4].hash,
        "tail_seq": 3,
    }
    assert noticed["prev"] == written[2].hash  # the chain itself stays well-formed
    result = log.verify()
    assert (result.ok, result.verified, result.broken_seq) == (False, True, 4)
    assert "entries_removed" in result.reason and "said 5 entries" in result.reason
    out = verify_cli(data_dir, "--offline")
    assert out.returncode == 1 and "BROKEN at entry 4" in out.stderr


def test_deleting_the_log_and_its_head_is_reported_not_verified(data_dir):
    log = AuditLog(data_dir)
    fill(log, 3)
    log.path.unlink()
    log.head_path.unlink()
    out = verify_cli(data_dir, "--offline")
    assert out.returncode == 3, out.stdout + out.stderr
    assert "NOT VERIFIED" in out.stderr and "intact" not in out.stdout


def test_deleting_the_log_but_not_its_head_is_a_missing_log_and_then_a_chain_break(data_dir):
    log = AuditLog(data_dir)
    written = fill(log, 4)
    log.path.unlink()
    out = verify_cli(data_dir, "--offline")
    assert out.returncode == 1 and "missing" in out.stderr
    log.append("qyhe-op-001", "operator", "sign_in", {"method": "pin"})
    first = json.loads(lines_of(log)[0])
    assert first["action"] == CHAIN_BREAK_ACTION and first["seq"] == 1
    assert first["detail"]["reason"] == "log_missing"
    assert first["detail"]["old_head_hash"] == written[3].hash
    assert not log.verify().ok


@pytest.fixture
def platform(data_dir):
    with demo_platform(data_dir) as client:
        yield client


def _beat(client: BackendClient, log: AuditLog) -> None:
    client.heartbeat("test", [], "ok", 0, audit_head=log.head_pair())


def test_the_platform_keeps_each_head_and_flags_one_that_goes_back(data_dir, platform):
    log = AuditLog(data_dir)
    fill(log, 2)
    _beat(platform, log)
    _beat(platform, log)  # unchanged: no new row
    fill(log, 2)
    _beat(platform, log)
    four = log.head()
    log.path.write_text("".join(line + "\n" for line in lines_of(log)[:1]), encoding="utf-8")
    _beat(platform, log)  # the tail went back to entry 1
    heads = platform.audit_heads().heads
    assert [(h.seq, h.regression) for h in heads] == [(1, True), (4, False), (2, False)]
    assert heads[1].hash == four.hash


def test_a_consistently_rewritten_log_is_caught_by_the_platforms_heads(data_dir, platform):
    """GIVEN heartbeats that carried the head WHEN someone rewrites the whole log with every
    hash recomputed and a matching head file (local verify: intact) THEN ``kiosk audit verify``
    asks the platform and exits 1: the platform received entries this log does not hold."""
    log = AuditLog(data_dir)
    fill(log, 3)
    _beat(platform, log)
    records = [json.loads(line) for line in lines_of(log)]
    prev = "0" * 64
    for record in records:  # forge: entry 2 never happened, and the chain is recomputed
        if record["seq"] == 2:
            record["action"] = "view.devices"
        record["prev"] = prev
        record["hash"] = entry_hash({k: v for k, v in record.items() if k != "hash"})
        prev = record["hash"]
    log.path.write_text(
        "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records),
        encoding="utf-8",
    )
    log.head_path.write_text(json.dumps({"seq": 3, "hash": prev}), encoding="ascii")
    assert log.verify().ok  # the forgery is self-consistent
    offline = verify_cli(data_dir, "--offline")
    assert offline.returncode == 0
    online = verify_cli(data_dir)
    assert online.returncode == 1, online.stdout + online.stderr
    assert "DISAGREE" in online.stderr and "entry 3 here is different" in online.stderr


def test_a_deleted_log_is_reported_from_the_platforms_head(data_dir, platform):
    log = AuditLog(data_dir)
    fill(log, 2)
    _beat(platform, log)
    log.path.unlink()
    log.head_path.unlink()
    out = verify_cli(data_dir)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "DELETED" in out.stderr and "head 2" in out.stderr
