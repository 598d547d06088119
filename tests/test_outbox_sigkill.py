"""THE outbox test: SIGKILL a real kiosk process anywhere between commit and acknowledgement.

A child process (this file run as a script: it loads the kiosk config, opens the store and the
outbox, submits items and runs the delivery worker against the real reference server over HTTP)
is killed with SIGKILL

- exactly at named points (the child sleeps there when ``KIOSK_TEST_STOP_AT=name:n`` says so,
  after printing ``STOPPED name``): inside the commit transaction, after the commit but before
  the acknowledgement, before sending, after sending but before the delivery is recorded, after
  it is recorded;
- at random moments while it submits and delivers;

then restarted until everything is delivered. The server (in this test process) counts what its
submission route actually processed: every idempotency key the kiosk committed is processed
exactly once, every item the kiosk acknowledged is there, and nothing the kiosk did not commit
appears.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi import Request  # module level: FastAPI resolves the route's annotations here

SUBMIT_PATH = "/api/v1/test-submissions"
TICKETS_PATH = "/api/v1/ledger/tickets"
KIND = "problem_report"
LINE_TIMEOUT = 120.0


# --- the child: a minimal kiosk process ------------------------------------------------------


def child_main(argv: list[str]) -> int:
    """Entry point of the kiosk process under test (see the module docstring)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, default=0)
    args = parser.parse_args(argv)

    import requests

    from kiosk.config import load_config
    from kiosk.paths import data_dir
    from kiosk.services.backend_client import BackendClient
    from kiosk.services.outbox import Outbox
    from kiosk.services.signing import load_secret
    from kiosk.services.store import KEY_FILE_NAME, PayloadCipher, open_store

    config = load_config()
    directory = data_dir(config.kiosk.data_dir)
    store = open_store(directory)
    cipher = PayloadCipher.from_key_file(directory / KEY_FILE_NAME)
    client = BackendClient.from_config(
        requests.Session(),
        config.backend,
        config.backend.url,
        config.kiosk.device_id,
        load_secret(Path(config.backend.secret_file)),
    )
    outbox = Outbox.from_config(
        store, cipher, client.post_submission, config.outbox, checkpoint=_stop_point()
    )
    outbox.start()
    path = os.environ.get("KIOSK_TEST_SUBMIT_PATH", SUBMIT_PATH)
    for marker in range(args.first, args.count):
        entry = outbox.submit(KIND, path, _payload(path, marker))
        say(f"ACK {marker} {entry.local_ref}")
    while not outbox.drain(timeout=1.0):
        pass
    say("DRAINED")
    outbox.stop()
    store.close()
    return 0


def say(line: str) -> None:
    """One line to the test, in one write(2): the submitting thread and the outbox worker both
    report, and print() writes text and newline separately, so two prints can interleave
    ("ACK 0 …STOPPED before_send"). A pipe write up to PIPE_BUF bytes is atomic."""
    os.write(1, (line + "\n").encode())


def _payload(path: str, marker: int) -> dict:
    if path == TICKETS_PATH:
        return {
            "client_ref": f"sigkill-marker-{marker:06d}",
            "category": "guidance",
            "kind": "problem_report",
            "reporter": "resident",
            "description": "自助机问题反映（断电测试）",
            "suggestion": f"marker-{marker}",
        }
    return {"marker": marker, "id_number": "140431199001011234"}


def _stop_point():
    spec = os.environ.get("KIOSK_TEST_STOP_AT", "")
    if not spec:
        return None
    name, _, nth = spec.partition(":")
    remaining = [int(nth or 1)]
    lock = threading.Lock()

    def checkpoint(point: str) -> None:
        if point != name:
            return
        with lock:
            remaining[0] -= 1
            hit = remaining[0] == 0
        if hit:
            say(f"STOPPED {point}")
            time.sleep(3600)

    return checkpoint


# --- the server side: the reference server plus a counting submission route -------------------


class CountingServer:
    """The real reference server (signing + idempotency middleware) with one extra route that
    records every submission it *processes* (a replayed answer does not reach it)."""

    def __init__(self, directory: Path) -> None:
        import secrets

        from kiosk_backend.app import create_app
        from kiosk_backend.server import serve_in_thread
        from kiosk_backend.settings import ServerSettings

        self.secret = secrets.token_bytes(32)
        self.kiosk_id = "sigkill-kiosk"
        self.processed: list[tuple[str, int]] = []  # (idempotency key, marker)
        self._lock = threading.Lock()
        app = create_app(
            ServerSettings(
                db_url=f"sqlite:///{directory / 'server.sqlite3'}",
                demo_kiosk_id=self.kiosk_id,
                demo_kiosk_secret_hex=self.secret.hex(),
            )
        )

        async def submission(request: Request) -> dict:
            body = await request.json()
            key = request.headers["idempotency-key"]
            with self._lock:
                self.processed.append((key, body["marker"]))
                number = len(self.processed)
            return {"reference_no": f"T{number:06d}", "due_date": "2026-12-31"}

        app.add_api_route(SUBMIT_PATH, submission, methods=["POST"])
        self.handle = serve_in_thread(app, host="127.0.0.1", port=0)

    def stop(self) -> None:
        self.handle.stop()


@pytest.fixture
def server(tmp_path):
    server = CountingServer(tmp_path)
    yield server
    server.stop()


class Child:
    """One run of the kiosk process, its stdout read line by line on a thread."""

    def __init__(self, env: dict[str, str], first: int, count: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--first", str(first), "--count", str(count)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.acked: list[tuple[int, str]] = []
        self.drained = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def wait_for(self, prefix: str, timeout: float = LINE_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise AssertionError(f"child never printed {prefix!r}: {self.stderr()}")
            try:
                line = self.lines.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    raise AssertionError(
                        f"child exited {self.proc.returncode} before {prefix!r}: {self.stderr()}"
                    ) from None
                continue
            self._note(line)
            if line.startswith(prefix):
                return line

    def _note(self, line: str) -> None:
        if line.startswith("ACK "):
            _ack, marker, ref = line.split()
            self.acked.append((int(marker), ref))
        elif line == "DRAINED":
            self.drained = True

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=60)
        self._reader.join(timeout=30)  # everything printed before the kill has been queued
        while not self.lines.empty():
            self._note(self.lines.get())

    def finish(self) -> None:
        self.wait_for("DRAINED")
        assert self.proc.wait(timeout=60) == 0, self.stderr()

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(running)"
        return self.proc.stderr.read()[-3000:]


class Kiosk:
    """Bookkeeping across restarts of the kiosk process."""

    def __init__(
        self, server: CountingServer, directory: Path, count: int, path: str = SUBMIT_PATH
    ) -> None:
        self.count = count
        self.path = path
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        secret_file = directory / "device.secret"
        secret_file.write_text(server.secret.hex())
        secret_file.chmod(0o600)
        self.env = {
            **os.environ,
            "KIOSK_DATA_DIR": str(directory),
            "KIOSK__KIOSK__DEVICE_ID": server.kiosk_id,
            "KIOSK__BACKEND__URL": server.handle.url,
            "KIOSK__BACKEND__SECRET_FILE": str(secret_file),
            "KIOSK__OUTBOX__BACKOFF_INITIAL_SECONDS": "0.05",
            "KIOSK__OUTBOX__BACKOFF_MAX_SECONDS": "0.5",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        }
        self.env.pop("KIOSK_TEST_STOP_AT", None)
        self.acked: list[tuple[int, str]] = []

    @property
    def next_marker(self) -> int:
        return max((m for m, _ in self.acked), default=-1) + 1

    def start(self, stop_at: str = "") -> Child:
        env = dict(self.env)
        env["KIOSK_TEST_SUBMIT_PATH"] = self.path
        if stop_at:
            env["KIOSK_TEST_STOP_AT"] = stop_at
        return Child(env, self.next_marker, self.count)

    def record(self, child: Child) -> None:
        self.acked.extend(child.acked)

    def rows(self) -> list[tuple[str, str, str]]:
        """(local_ref, idempotency_key, status) of every outbox row, read with plain sqlite3."""
        with sqlite3.connect(self.directory / "kiosk.sqlite3") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            return conn.execute(
                "SELECT local_ref, idempotency_key, status FROM outbox_entries"
            ).fetchall()

    def run_to_completion(self) -> None:
        child = self.start()
        child.finish()
        self.record(child)


def assert_exactly_once(kiosk: Kiosk, server: CountingServer) -> None:
    rows = kiosk.rows()
    assert rows, "nothing was committed"
    assert {status for _ref, _key, status in rows} == {"delivered"}
    processed_per_key = collections.Counter(key for key, _marker in server.processed)
    duplicates = {key: n for key, n in processed_per_key.items() if n > 1}
    assert duplicates == {}, "a submission was processed twice"
    assert set(processed_per_key) == {key for _ref, key, _status in rows}
    markers = {marker for _key, marker in server.processed}
    assert set(range(kiosk.count)) <= markers, "an item is missing"
    refs = {ref for ref, _key, _status in rows}
    assert {ref for _marker, ref in kiosk.acked} <= refs, "an acknowledged item was lost"


def assert_tickets_exactly_once(kiosk: Kiosk, server_db: Path) -> None:
    """Counted in the reference server's own database: one ticket per problem reported.

    A kill after the commit but before the child printed ACK makes the next child report the
    same marker again (same client_ref, new Idempotency-Key): two committed rows, both
    delivered, and the server's ledger keeps one ticket for that client_ref by design.
    """
    rows = kiosk.rows()
    assert {status for _ref, _key, status in rows} == {"delivered"}
    with sqlite3.connect(server_db) as conn:
        suggestions = [s for (s,) in conn.execute("SELECT suggestion FROM ledger_tickets")]
        keys = {k for (k,) in conn.execute("SELECT key FROM idempotency_records")}
    assert sorted(suggestions) == sorted(f"marker-{i}" for i in range(kiosk.count)), (
        "not exactly one ticket per reported problem"
    )
    assert keys == {key for _ref, key, _status in rows}, "a committed row never reached the server"
    assert {ref for _marker, ref in kiosk.acked} <= {ref for ref, _key, _status in rows}


# --- the tests ---------------------------------------------------------------------------------

KILL_POINTS = [
    "submit_before_commit",  # inside the commit transaction: must vanish, never acknowledged
    "submit_after_commit",  # committed, acknowledgement not yet given
    "before_send",
    "after_send",  # the server has it; the kiosk has not recorded the delivery
    "after_ack",
]


@pytest.mark.slow
@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_at_each_named_point_then_restart_delivers_everything_exactly_once(
    server, tmp_path, point
):
    kiosk = Kiosk(server, tmp_path / "kiosk", count=6)
    for nth in (1, 3):  # early and in the middle of the run
        child = kiosk.start(stop_at=f"{point}:{nth}")
        child.wait_for("STOPPED")
        child.kill()
        kiosk.record(child)
        if point == "submit_before_commit":
            # the interrupted transaction left nothing behind and was not acknowledged
            assert len(kiosk.rows()) == len(kiosk.acked)
    kiosk.run_to_completion()
    assert_exactly_once(kiosk, server)


@pytest.mark.slow
def test_random_kills_while_submitting_and_delivering_lose_and_duplicate_nothing(server, tmp_path):
    rng = random.Random(int(os.environ.get("KIOSK_TEST_SEED", "20261129")))
    kiosk = Kiosk(server, tmp_path / "kiosk", count=40)
    for _round in range(10):
        child = kiosk.start()
        time.sleep(rng.uniform(0.3, 2.5))  # the process takes ~0.5-1 s to import and open
        child.kill()
        kiosk.record(child)
    kiosk.run_to_completion()
    assert_exactly_once(kiosk, server)


@pytest.mark.slow
def test_power_cut_style_kills_during_commits_leave_whole_rows_or_nothing(server, tmp_path):
    """GIVEN kills landing while rows are being committed back to back THEN the database is
    intact, every acknowledged row is present, and every present row is complete (decrypts)."""
    rng = random.Random(42)
    kiosk = Kiosk(server, tmp_path / "kiosk", count=5000)
    for _round in range(6):
        child = kiosk.start()
        child.wait_for("ACK")  # it is committing now, one durable commit after another
        time.sleep(rng.uniform(0.0, 0.2))
        child.kill()
        assert not child.drained, "the child finished before the kill; raise the count"
        kiosk.record(child)
        rows = kiosk.rows()
        refs = {ref for ref, _key, _status in rows}
        assert {ref for _m, ref in kiosk.acked} <= refs
        _assert_every_row_decrypts(kiosk.directory)
    kiosk.count = kiosk.next_marker  # deliver what was taken; do not submit thousands more
    kiosk.run_to_completion()
    assert_exactly_once(kiosk, server)


def _assert_every_row_decrypts(directory: Path) -> None:
    from kiosk.services.store import KEY_FILE_NAME, PayloadCipher

    cipher = PayloadCipher.from_key_file(directory / KEY_FILE_NAME)
    with sqlite3.connect(directory / "kiosk.sqlite3") as conn:
        for key, blob in conn.execute("SELECT idempotency_key, payload FROM outbox_entries"):
            assert "marker" in json.loads(cipher.decrypt(blob, key.encode("ascii")))


@pytest.mark.slow
def test_random_kills_with_the_real_ticket_route_create_one_ticket_per_submission(server, tmp_path):
    """The same as above through the platform's own problem-report route, counted in the
    reference server's database."""
    rng = random.Random(int(os.environ.get("KIOSK_TEST_SEED", "7")))
    kiosk = Kiosk(server, tmp_path / "kiosk", count=25, path=TICKETS_PATH)
    for _round in range(6):
        child = kiosk.start()
        time.sleep(rng.uniform(0.3, 2.5))
        child.kill()
        kiosk.record(child)
    kiosk.run_to_completion()
    assert_tickets_exactly_once(kiosk, tmp_path / "server.sqlite3")


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
