"""A real Chromium (Debian's ``chromium`` + ``chromium-driver``, driven by selenium) against the
reference platform on 127.0.0.1, seeded with the demo data plus two kiosks of our own: one that
heartbeats through the real signed endpoint, one that went silent 20 minutes ago.

Headless, 1366×768 (a county office PC), a fresh profile per module. Screenshots go to
``$CONSOLE_SHOTS_DIR`` (``make console-shots`` sets it to ``docs/console``) or a temp folder.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from kiosk_backend.provision import add_kiosk, new_secret_hex
from kiosk_backend.testing import IdentifiedClient, running_backend

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WINDOW = (1366, 768)
STALE_KIOSK = "qy-test-stale"
LIVE_KIOSK = "qy-test-live"

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="needs Debian's chromium and chromium-driver (make test installs them)",
)


def _register(client, service_point: str) -> None:
    response = client.post(
        "/api/v1/kiosks/register",
        {"version": "1.4.2", "service_point": service_point, "region_code": "140431"},
    )
    assert response.status_code == 200, response.text


def _heartbeat(client, paper: str = "ok", outbox: int = 0) -> None:
    response = client.post(
        "/api/v1/kiosks/heartbeat",
        {
            "version": "1.4.2",
            "paper_level": paper,
            "outbox_depth": outbox,
            "devices": [
                {"name": "printer", "state": "ok"},
                {"name": "idcard", "state": "ok"},
            ],
        },
    )
    assert response.status_code == 200, response.text


def _backdate_heartbeats(db_url: str, kiosk_id: str, minutes_ago: int) -> None:
    """The silent kiosk: its heartbeats (sent for real a moment ago) moved into the past, the
    way they would look had it stopped talking *minutes_ago* minutes ago."""
    from sqlalchemy import select

    from kiosk_backend.db import make_engine, make_session_factory
    from kiosk_backend.models import Kiosk
    from kiosk_backend.staff_models import KioskHeartbeat

    engine = make_engine(db_url)
    shift = dt.timedelta(minutes=minutes_ago)
    with make_session_factory(engine)() as session:
        for beat in session.scalars(
            select(KioskHeartbeat).where(KioskHeartbeat.kiosk_id == kiosk_id)
        ):
            beat.at -= shift
        kiosk = session.get(Kiosk, kiosk_id)
        kiosk.last_heartbeat_at -= shift
        session.commit()
    engine.dispose()


@pytest.fixture(scope="package")
def platform(tmp_path_factory):
    """The seeded platform with a live and a stale kiosk; yields (backend, {kiosk: client})."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('console') / 'platform.sqlite3'}"
    with running_backend(db_url, seed_postings=120, seed_persons=40) as backend:
        clients = {}
        for kiosk_id, place in (
            (LIVE_KIOSK, "沁源县郭道镇郭道村就业社保服务点"),
            (STALE_KIOSK, "沁源县王陶镇王陶村就业社保服务点"),
        ):
            secret = new_secret_hex()
            add_kiosk(
                db_url, kiosk_id, secret, place, region_code="140431", key_file=backend.key_file
            )
            # Identifies the residents it files for by itself (as a kiosk whose reader read
            # their ID cards) and mints e-SSC codes for them.
            clients[kiosk_id] = IdentifiedClient(backend.url, kiosk_id, secret, db_url=db_url)
            _register(clients[kiosk_id], place)
        for n in range(3):
            _heartbeat(clients[STALE_KIOSK], outbox=n)
            _heartbeat(clients[LIVE_KIOSK], paper="low" if n == 2 else "ok", outbox=n)
        _backdate_heartbeats(db_url, STALE_KIOSK, minutes_ago=20)
        yield backend, clients


@pytest.fixture(scope="package")
def shots_dir(tmp_path_factory) -> Path:
    target = os.environ.get("CONSOLE_SHOTS_DIR")
    path = Path(target) if target else tmp_path_factory.mktemp("console-shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="package")
def driver(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--lang=zh-CN",
    ):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()
