"""Card authentication against a real PSAM and a real card, skipped unless SSCARD_PSAM_READER is set.

This is how a site checks the assumptions of docs/sscard-psam.md (APDUs, key usages, directories):

SSCARD_PSAM_READER="SAM" pytest tests/test_sscard_hardware.py                  # the PSAM alone
SSCARD_PSAM_READER="SAM" SSCARD_READER="ACR39U" pytest tests/test_sscard_hardware.py  # + a card

With a card in SSCARD_READER the whole read runs through the PSAM; a failure names the step and
the status word, which is what to compare with the province's PSAM application guide.
"""

from __future__ import annotations

import os

import pytest

from kiosk.devices.sscard import psam
from kiosk.devices.sscard.auth import PsamAuthenticator
from kiosk.devices.sscard.ports import PcscPort
from kiosk.devices.sscard.reading import read_card

PSAM_READER = os.environ.get("SSCARD_PSAM_READER", "")
CARD_READER = os.environ.get("SSCARD_READER", "")

pytestmark = [
    pytest.mark.hardware,
    pytest.mark.skipif(not PSAM_READER, reason="set SSCARD_PSAM_READER to test a real PSAM"),
]


def _reader(port: PcscPort, wanted: str) -> str:
    names = [name for name in port.readers() if wanted in name]
    assert names, f"no PC/SC reader contains {wanted!r}: {port.readers()}"
    return names[0]


def test_the_psam_answers_its_terminal_number_and_has_key_directories():
    port = PcscPort()
    link = port.connect(_reader(port, PSAM_READER))
    try:
        found = {}
        for algorithm, fid in psam.DEFAULT_KEY_MAP.directories.items():
            found[algorithm.value] = link.transmit(psam.select_directory(fid))[-2:].hex()
        link.transmit(psam.select_directory(psam.FID_MF))
        number = link.transmit(psam.read_terminal_number())
    finally:
        link.close()
    print(f"key directories: {found}; terminal number answer: {number.hex().upper()}")
    assert "9000" in found.values(), f"no key directory of {found} selects"


@pytest.mark.skipif(not CARD_READER, reason="set SSCARD_READER with a card in it")
def test_the_card_in_the_reader_passes_psam_authentication():
    port = PcscPort()
    authenticator = PsamAuthenticator(PcscPort(), PSAM_READER)
    link = port.connect(_reader(port, CARD_READER))
    try:
        card = read_card(link.transmit, link.atr, authenticator)
    finally:
        link.close()
    authentication = card.authentication
    print(f"card {card.version}: {authentication.to_dict()}")
    assert authentication.evidence == "sscard_psam"
