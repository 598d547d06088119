"""The driver against a real reader, skipped unless IDCARD_PORT names its port.

IDCARD_PORT=/dev/ttyUSB0 pytest tests/test_idcard_hardware.py
IDCARD_PORT=hwgrep://0400:c35a IDCARD_CARD=1 pytest ...   # with a card laid on the reader
"""

from __future__ import annotations

import os

import pytest

from kiosk.devices.idcard import IdCard, IdCardReader

PORT = os.environ.get("IDCARD_PORT", "")

pytestmark = pytest.mark.skipif(not PORT, reason="set IDCARD_PORT to test a real reader")


@pytest.fixture
def reader():
    driver = IdCardReader(PORT, baudrate=int(os.environ.get("IDCARD_BAUD", "115200")))
    driver.connect()
    yield driver
    driver.disconnect()


def test_sam_answers(reader: IdCardReader) -> None:
    reader.sam_status()
    assert len(reader.read_sam_id().split("-")) == 4


@pytest.mark.skipif(not os.environ.get("IDCARD_CARD"), reason="set IDCARD_CARD=1 with a card")
def test_reads_the_laid_card(reader: IdCardReader) -> None:
    card = reader.read_card_present()
    assert isinstance(card, IdCard) and card.name and card.id_problem == ""
    assert len(card.photo) == 1024
    card.wipe()
