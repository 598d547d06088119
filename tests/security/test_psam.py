"""Finding: the social security card was trusted as read — a copy of another person's data passed.

Through the real stack for both chips: pyscard → pcscd → vsmartcard vpcd, the card in slot 0
(port 35963) and the virtual PSAM in slot 1 (port 35964), the driver with the PSAM
authenticator, and the ``kiosk diag sscard`` command. Before the fix the default authenticator
was "none" and a cloned card was read like the real one; each test here fails on that code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sscard_support import Recorder, require_vpcd

from kiosk.config import load_config
from kiosk.config.schema import SITE_EXAMPLE_PATH
from kiosk.devices.sscard import PSAM_VPCD_PORT, VPCD_PSAM_READER, VPCD_READER, simkeys
from kiosk.devices.sscard.auth import PsamAuthenticator
from kiosk.devices.sscard.cardcrypto import Algorithm, encrypt_blocks
from kiosk.devices.sscard.driver import SsCardDriver
from kiosk.devices.sscard.events import CardReadFailed, SsCardRead
from kiosk.devices.sscard.ports import PcscPort
from kiosk.devices.sscard.virtual_card import VirtualCard, demo_profiles
from kiosk.devices.sscard.virtual_psam import VirtualPsam
from kiosk.devices.sscard.vpcd import VpcdCardSlot

pytestmark = pytest.mark.pcscd

ROOT = Path(__file__).resolve().parents[2]
PROFILES = demo_profiles()
CLONE_MESSAGE = "此社保卡未通过安全认证，不能在本机使用。请到窗口核验，或改用身份证、电子社保卡"


@pytest.fixture(scope="module")
def stack():
    """(card slot, PSAM slot, the PSAM, driver, recorder) through pcscd for the module."""
    require_vpcd()
    card_slot, psam_slot = VpcdCardSlot(), VpcdCardSlot(port=PSAM_VPCD_PORT)
    card_slot.start()
    psam_slot.start()
    chip = VirtualPsam()
    psam_slot.insert(chip)
    recorder = Recorder()
    driver = SsCardDriver(
        PcscPort(),
        recorder,
        reader_filter=VPCD_READER,
        authenticator=PsamAuthenticator(PcscPort(), VPCD_PSAM_READER),
        read_timeout=4.0,
    )
    driver.start()
    assert driver.wait_ready(15)
    yield card_slot, psam_slot, chip, driver, recorder
    driver.stop()
    card_slot.stop()
    psam_slot.stop()


def _read(stack, card: VirtualCard):
    """Insert *card* into an empty reader, return its SsCardRead or CardReadFailed, pull it."""
    card_slot, _, _, driver, recorder = stack
    card_slot.remove()
    deadline = time.monotonic() + 15
    while driver.card_present and time.monotonic() < deadline:
        time.sleep(0.05)
    start = recorder.mark()
    card_slot.insert(card)
    result = recorder.wait_for(
        object, start, where=lambda e: isinstance(e, SsCardRead | CardReadFailed)
    )
    card_slot.remove()
    return result


@pytest.mark.parametrize("key", ["cloned", "cloned_gen1"])
def test_a_clone_with_a_real_cards_data_is_refused(stack, key):
    """GIVEN a card carrying a genuine card's data (3.0, or claiming 1.00 to dodge SM4 and
    RKSSSE) but not its keys THEN the read fails card_not_genuine with the Chinese message,
    after the PSAM computed the expected cryptogram for that card's 卡识别码."""
    _, _, chip, _, _ = stack
    before = len(chip.received)
    result = _read(stack, VirtualCard(PROFILES[key]))
    assert isinstance(result, CardReadFailed), result
    assert (result.code, result.message_zh) == ("card_not_genuine", CLONE_MESSAGE)
    delivered = [c for c in chip.received[before:] if c[:2] == b"\x80\x1a"]
    assert delivered and delivered[-1][5:] == PROFILES[key].card_id  # diversified by its id


def test_a_genuine_card_passes_and_says_so_for_the_identity_token(stack):
    result = _read(stack, VirtualCard(PROFILES["gen3"]))
    assert isinstance(result, SsCardRead), result
    authentication = result.card.authentication
    assert authentication.evidence == "sscard_psam"
    assert (authentication.algorithm, authentication.internal, authentication.external) == (
        "sm4",
        True,
        True,
    )
    assert authentication.terminal_number == "140431000001"
    assert authentication.card_id == PROFILES["gen3"].card_id.hex().upper()


class ReplayingCard(VirtualCard):
    """An emulator that answers INTERNAL AUTHENTICATE with a genuine card's recorded answer."""

    recorded = b""

    def _internal_authenticate(self, key_id: int, data: bytes) -> bytes:
        return self._queue(self.recorded)


def test_a_recorded_answer_of_the_genuine_card_does_not_replay(stack):
    """GIVEN an attacker who watched a genuine card's authentication WHEN an emulator with that
    card's data replays its cryptogram THEN the fresh challenge makes it fail."""
    genuine = VirtualCard(PROFILES["gen2"])
    assert isinstance(_read(stack, genuine), SsCardRead)
    challenge = next(c for c in genuine.received if c[1] == 0x88)[5:]
    # What the genuine card answered to that challenge, as a sniffer on its contacts saw it.
    key = simkeys.card_key(Algorithm.TDES, simkeys.INTERNAL, PROFILES["gen2"].card_id)
    ReplayingCard.recorded = encrypt_blocks(Algorithm.TDES, key, challenge)
    replay = ReplayingCard(PROFILES["gen2"])
    result = _read(stack, replay)
    assert isinstance(result, CardReadFailed) and result.code == "card_not_genuine"


def test_without_the_psam_no_card_is_read_unauthenticated(stack):
    """GIVEN the PSAM pulled from its slot THEN a genuine card is refused psam_unavailable
    (fail closed), and it reads again once the PSAM is back."""
    _, psam_slot, chip, _, _ = stack
    psam_slot.remove()
    try:
        result = _read(stack, VirtualCard(PROFILES["gen2"]))
        assert isinstance(result, CardReadFailed) and result.code == "psam_unavailable"
    finally:
        psam_slot.insert(chip)
    result = _read(stack, VirtualCard(PROFILES["gen2"]))
    assert isinstance(result, SsCardRead) and result.card.authentication.evidence


def test_diag_exits_10_for_a_cloned_card(stack, tmp_path):
    """``kiosk diag sscard --card cloned`` in demo mode (the command's own virtual card and
    PSAM through pcscd) exits 10 with card_not_genuine and the Chinese message."""
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "diag", "sscard", "--json", "--card", "cloned"],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ROOT,
        env={**os.environ, "KIOSK_DATA_DIR": str(tmp_path)},
    )
    assert done.returncode == 10, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["transport"].startswith("pcscd + vpcd")
    assert result["error"]["code"] == "card_not_genuine"
    assert result["error"]["message_zh"] == CLONE_MESSAGE


def test_a_site_requires_the_psam_by_default(monkeypatch):
    monkeypatch.delenv("KIOSK__DEVICES__SSCARD__AUTHENTICATOR", raising=False)
    assert load_config(environ={}).devices.sscard.authenticator == "psam"
    site = load_config(SITE_EXAMPLE_PATH, environ={}).devices.sscard
    assert (site.authenticator, site.psam_reader) == ("psam", "SAM")
