"""Values that carry personal data keep it out of ``repr`` (tracebacks, debug logs, asserts)."""

from __future__ import annotations

import datetime as dt

from kiosk.devices.scanner.events import QrScanned
from kiosk.domain.person import person_from_essc
from kiosk.services import api_models as m

ID_NUMBER = "11010519491231002X"
NAME = "王建军"
QR = "essc://v1/8f14e45fceea167a5a36dedd4bea2543"


def test_an_essc_identity_keeps_its_fields_out_of_repr():
    identity = m.parse(
        m.ResidentIdentity,
        {"id_number": ID_NUMBER, "name": NAME, "gender": "男", "birth_date": "1949-12-31"},
    )
    assert identity.id_number == ID_NUMBER and identity.birth_date == dt.date(1949, 12, 31)
    text = repr(identity) + str(identity)
    for secret in (ID_NUMBER, NAME, "1949"):
        assert secret not in text


def test_a_scanned_code_keeps_the_code_out_of_repr():
    event = QrScanned(QR)
    assert event.code == QR
    assert QR not in repr(event) and QR not in str(event)
    assert event == QrScanned(QR)  # still compared by value


def test_a_person_keeps_its_fields_out_of_repr():
    person = person_from_essc(
        {"id_number": ID_NUMBER, "name": NAME, "gender": "男", "birth_date": "1949-12-31"},
        today=dt.date(2026, 11, 29),
    )
    assert person.id_number == ID_NUMBER
    assert ID_NUMBER not in repr(person) and NAME not in repr(person)
