"""``kiosk outbox status`` and the embedded demo backend (real processes, real HTTP)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import requests

from kiosk.services import api_models as m
from kiosk.services.backend_client import BackendClient
from kiosk.services.embedded_backend import (
    SECRET_FILE_NAME,
    demo_essc_code,
    start_embedded_backend,
)
from kiosk.services.errors import BackendUnavailable
from kiosk.services.outbox import Outbox
from kiosk.services.store import KEY_FILE_NAME, PayloadCipher, open_store

ID_NUMBER = "140431198807150023"


def _kiosk(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import sys\n"
        "from kiosk.cli import main\n"
        "rc = main(sys.argv[1:])\n"
        "assert 'kivy' not in sys.modules, 'the outbox command imported kivy'\n"
        "sys.exit(rc)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _offline(_path, _payload, _key):
    raise BackendUnavailable()


def test_outbox_status_counts_pending_and_never_prints_personal_data(data_dir):
    store = open_store(data_dir)
    cipher = PayloadCipher.from_key_file(data_dir / KEY_FILE_NAME)
    outbox = Outbox(store, cipher, _offline)
    first = outbox.submit(
        "registration", m.PATH_JOB_SEEKERS, {"id_number": ID_NUMBER, "name": "王秀英"}
    )
    outbox.submit("application", m.PATH_SKILL_SUBSIDY, {"id_number": ID_NUMBER})
    store.close()
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir)}

    result = _kiosk("outbox", "status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert (status["pending"], status["delivered"], status["failed"]) == (2, 0, 0)
    assert status["oldest_pending_age_seconds"] >= 0

    human = _kiosk("outbox", "status", env=env)
    listing = _kiosk("outbox", "list", env=env)
    assert human.returncode == 0 and "pending" in human.stdout and "2" in human.stdout
    assert first.local_ref in listing.stdout
    for output in (result.stdout, human.stdout, listing.stdout):
        assert ID_NUMBER not in output and "王秀英" not in output


def test_outbox_status_on_a_fresh_kiosk_reports_zero_without_creating_files(data_dir):
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir)}
    result = _kiosk("outbox", "status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pending"] == 0
    assert not (data_dir / "kiosk.sqlite3").exists()


def test_retry_of_an_unknown_entry_is_a_clear_error(data_dir):
    open_store(data_dir).close()
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir)}
    result = _kiosk("outbox", "retry", "261129-NOPE", env=env)
    assert result.returncode == 1
    assert "261129-NOPE" in result.stdout


def test_embedded_backend_serves_the_demo_kiosk_over_real_http(data_dir):
    url, secret, handle = start_embedded_backend(
        data_dir, "demo-kiosk-0001", seed_postings=200, seed_persons=40
    )
    try:
        assert url.startswith("http://127.0.0.1:")
        assert os.stat(data_dir / SECRET_FILE_NAME).st_mode & 0o777 == 0o600
        client = BackendClient(requests.Session(), url, "demo-kiosk-0001", secret)
        assert len(client.catalogue().items) == 40
        assert client.verify_essc(demo_essc_code(data_dir, "ESSC-DEMO-RESIDENT-01")).name
    finally:
        handle.stop()
    # a restart reuses the provisioned secret (and the server's database)
    url2, secret2, handle2 = start_embedded_backend(data_dir, "demo-kiosk-0001")
    try:
        assert secret2 == secret
        client = BackendClient(requests.Session(), url2, "demo-kiosk-0001", secret2)
        assert client.health().status == "ok"
        assert client.search_jobs("司机").total >= 0
    finally:
        handle2.stop()
