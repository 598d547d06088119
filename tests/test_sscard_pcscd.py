"""The card driver through the real stack: pyscard → pcscd → vsmartcard vpcd → virtual card.

Needs a running pcscd with the vpcd reader "Virtual PCD 00 00" (scripts/test-services.sh starts
it as root); skipped with the reason otherwise. vpcd listens on global ports (35963 for the card,
35964 for the PSAM slot), so one module-scoped pair of slots serves every test, and the tests run
one after another.
The pcscd restart test stops the system pcscd: it runs only as root with
KIOSK_TEST_PCSCD_RESTART=1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sscard_support import Recorder, require_vpcd

from kiosk.config.schema import SsCardSection
from kiosk.devices.sscard import (
    PSAM_VPCD_PORT,
    TRANSPORT_VPCD,
    VPCD_PSAM_READER,
    VPCD_READER,
    open_reader,
)
from kiosk.devices.sscard.auth import PsamAuthenticator
from kiosk.devices.sscard.driver import SsCardDriver
from kiosk.devices.sscard.events import (
    CardInserted,
    CardReadFailed,
    CardRemoved,
    ReaderFault,
    ReaderRecovered,
    SsCardRead,
)
from kiosk.devices.sscard.ports import PcscPort
from kiosk.devices.sscard.virtual_card import VirtualCard, demo_profiles
from kiosk.devices.sscard.virtual_psam import VirtualPsam
from kiosk.devices.sscard.vpcd import VpcdCardSlot

pytestmark = pytest.mark.pcscd

WAIT = 15.0  # generous: pcscd polls vpcd, and the machine is shared
PROFILES = demo_profiles()


@pytest.fixture(scope="module")
def stack():
    """(slot, driver, recorder): one vpcd slot and one driver over pcscd for the module."""
    require_vpcd()
    slot = VpcdCardSlot()
    slot.start()
    psam_slot = VpcdCardSlot(port=PSAM_VPCD_PORT)
    psam_slot.start()
    psam_slot.insert(VirtualPsam())
    recorder = Recorder()
    authenticator = PsamAuthenticator(PcscPort(), VPCD_PSAM_READER)
    driver = SsCardDriver(
        PcscPort(),
        recorder,
        reader_filter=VPCD_READER,
        authenticator=authenticator,
        read_timeout=3.0,
        retry_seconds=0.5,
    )
    driver.start()
    assert driver.wait_ready(WAIT)
    yield slot, driver, recorder
    driver.stop()
    slot.stop()
    psam_slot.stop()


@pytest.fixture
def clean(stack):
    """Each test starts with an empty reader, as pcscd sees it."""
    slot, driver, recorder = stack
    slot.remove()
    deadline = time.monotonic() + WAIT
    while driver.card_present and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not driver.card_present
    yield slot, driver, recorder
    slot.remove()


@pytest.mark.parametrize("key", ["gen1", "gen2", "gen3", "long_name", "expired", "select_p1_00"])
def test_reads_every_demo_card_through_pcscd(clean, key):
    slot, driver, recorder = clean
    start = recorder.mark()
    card = VirtualCard(PROFILES[key])
    slot.insert(card)
    inserted = recorder.wait_for(CardInserted, start)
    assert inserted.atr == card.atr
    read = recorder.wait_for(SsCardRead, start)
    assert read.insertion == inserted.insertion
    assert read.card.name == PROFILES[key].name
    assert read.card.ssn == PROFILES[key].ssn
    assert read.card.version == PROFILES[key].version
    assert driver.health().transport


def test_removal_event_arrives_after_the_card_is_pulled(clean):
    slot, _, recorder = clean
    start = recorder.mark()
    slot.insert(VirtualCard(PROFILES["gen2"]))
    recorder.wait_for(SsCardRead, start)
    pulled_at = time.monotonic()
    slot.remove()
    removed = recorder.wait_for(CardRemoved, start)
    assert removed.at >= pulled_at  # the latency itself is measured by benchmarks/sscard.py


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("wrong_application", "not_found"),
        ("garbage", "malformed_tlv"),
        ("pulled_mid_read", "removed"),
    ],
)
def test_faulty_cards_through_pcscd(clean, key, code):
    slot, _, recorder = clean
    start = recorder.mark()
    slot.insert(VirtualCard(PROFILES[key]))
    failed = recorder.wait_for(CardReadFailed, start)
    assert failed.code == code
    if key == "pulled_mid_read":
        recorder.wait_for(CardRemoved, start)


def test_mute_card_times_out_and_its_removal_still_ends_the_session(clean):
    slot, _, recorder = clean
    start = recorder.mark()
    slot.insert(VirtualCard(PROFILES["mute"]))
    failed = recorder.wait_for(CardReadFailed, start)
    assert failed.code == "mute"
    slot.remove()
    recorder.wait_for(CardRemoved, start)
    # The reader is usable again afterwards.
    later = recorder.mark()
    slot.insert(VirtualCard(PROFILES["gen2"]))
    recorder.wait_for(SsCardRead, later)


def test_swapping_cards_quickly_reads_the_new_card(clean):
    slot, _, recorder = clean
    start = recorder.mark()
    slot.insert(VirtualCard(PROFILES["gen1"]))
    recorder.wait_for(SsCardRead, start)
    swap = recorder.mark()
    slot.insert(VirtualCard(PROFILES["gen3"]))  # insert() pulls the old card first
    read = recorder.wait_for(SsCardRead, swap, where=lambda e: e.card.version == "3.00")
    assert read.card.name == "李欣怡"
    recorder.wait_for(CardRemoved, swap)


def test_open_reader_uses_vpcd_when_pcscd_runs(stack):
    runtime = open_reader(SsCardSection(url="sim://"), print)
    assert runtime.virtual_card is not None
    assert runtime.virtual_card.transport == TRANSPORT_VPCD
    assert runtime.driver.health().transport == TRANSPORT_VPCD


def _diag(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, KIOSK_DATA_DIR=os.environ.get("KIOSK_DATA_DIR", "/tmp/kiosk-diag-test"))
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "diag", "sscard", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )


def test_diag_json_reads_the_demo_card_masked(clean):
    out = _diag("--json", "--card", "gen2", "--timeout", "20")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["ok"] is True and VPCD_READER in result["readers"]
    assert result["atr"] == PROFILES["gen2"].atr.hex().upper()
    card = result["card"]
    assert card["version"] == "2.00" and card["region_code"] == "140431"
    assert card["issue_date"] == "2021-03-18" and card["expiry_date"] == "2031-03-18"
    assert card["ssn"] != PROFILES["gen2"].ssn and card["ssn"].startswith("1404****")
    assert card["name"] == "王*国"
    assert {"card_number", "card_id", "sex", "nation", "birth_date"} <= card.keys()
    assert PROFILES["gen2"].ssn not in out.stdout + out.stderr


def test_diag_unmasked_shows_full_fields_and_ireadcardbas(clean):
    out = _diag("--json", "--unmasked", "--card", "gen1", "--timeout", "20")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["card"]["ssn"] == PROFILES["gen1"].ssn
    assert result["card"]["birth_date"] == "1956-09-12"
    assert result["ireadcardbas"].startswith(f"140431|{PROFILES['gen1'].ssn}|A04310052|")
    # 终端机编号 from the (virtual) PSAM, then the kiosk's device number
    assert result["ireadcardbas"].endswith("|140431000001|demo-kiosk-0001|")


def test_diag_text_output_names_generation(clean):
    out = _diag("--card", "gen3", "--timeout", "20")
    assert out.returncode == 0, out.stderr
    assert "第三代" in out.stdout and "ATR:" in out.stdout and "李*怡" in out.stdout


@pytest.mark.parametrize(
    ("args", "exit_code", "code"),
    [
        (("--card", "wrong_application"), 6, "not_found"),
        (("--card", "garbage"), 9, "malformed_tlv"),
        (("--reader", "No Such Reader"), 4, "no_reader"),
        (("--url", "pcsc://", "--reader", VPCD_READER, "--timeout", "1"), 5, "no_card"),
        (("--card", "no-such-card"), 2, "config"),
    ],
)
def test_diag_faults_have_distinct_exit_codes(clean, args, exit_code, code):
    out = _diag("--json", *args)
    assert out.returncode == exit_code, out.stdout + out.stderr
    result = json.loads(out.stdout)
    assert result["ok"] is False and result["error"]["code"] == code


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("KIOSK_TEST_PCSCD_RESTART") != "1" or os.geteuid() != 0,
    reason="restarts the system pcscd: needs root and KIOSK_TEST_PCSCD_RESTART=1",
)
def test_driver_survives_a_pcscd_restart(clean):
    """GIVEN a card in the reader WHEN pcscd stops and starts THEN fault, removal, recovery."""
    slot, driver, recorder = clean
    start = recorder.mark()
    slot.insert(VirtualCard(PROFILES["gen2"]))
    recorder.wait_for(SsCardRead, start)
    pid = int(Path("/run/pcscd/pcscd.pid").read_text().strip("\x00 \n"))
    os.kill(pid, signal.SIGTERM)
    fault = recorder.wait_for(ReaderFault, start)
    assert fault.code == "pcsc_unavailable", fault.detail
    recorder.wait_for(CardRemoved, start)
    deadline = time.monotonic() + WAIT
    while Path("/run/pcscd/pcscd.comm").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    subprocess.run(["pcscd"], check=True, timeout=30)
    recorder.wait_for(ReaderRecovered, start, timeout=30)
    # The slot reconnects to the new pcscd by itself: the card is read again.
    again = recorder.wait_for(SsCardRead, recorder.events.index(fault), timeout=30)
    assert again.card.version == "2.00"
