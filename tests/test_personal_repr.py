"""Values that carry personal data keep it out of ``repr`` (tracebacks, debug logs, asserts)."""

from __future__ import annotations

import datetime as dt

from kiosk.devices.scanner.events import QrScanned
from kiosk.domain.person import Evidence, IdentityProof, person_from_essc
from kiosk.services import api_models as m

ID_NUMBER = "11010519491231002X"
NAME = "王建军"
QR = "essc://v1/8f14e45fceea167a5a36dedd4bea2543"
TOKEN = "tok_Zm9vYmFyYmF6cXV4cXV1eHh5enp5"
SESSION_REF = "5f0c7e1d2b3a49e8a1c4d6f7e8091a2b"


def test_an_essc_identity_keeps_its_fields_out_of_repr():
    identity = m.parse(
        m.ResidentIdentity,
        {
            "id_number": ID_NUMBER,
            "name": NAME,
            "gender": "男",
            "birth_date": "1949-12-31",
            "identity": {
                "token": TOKEN,
                "expires_at": "2026-12-05T08:15:00Z",
                "session_ref": SESSION_REF,
            },
        },
    )
    assert identity.id_number == ID_NUMBER and identity.birth_date == dt.date(1949, 12, 31)
    assert identity.identity.token == TOKEN
    text = repr(identity) + str(identity) + repr(identity.identity)
    for secret in (ID_NUMBER, NAME, "1949", TOKEN, SESSION_REF):
        assert secret not in text


def test_a_persons_identity_proof_keeps_its_token_out_of_repr():
    person = person_from_essc(
        {"id_number": ID_NUMBER, "name": NAME, "gender": "男"}, today=dt.date(2026, 11, 29)
    )
    proof = IdentityProof(Evidence.ESSC, dt.datetime(2026, 11, 29, tzinfo=dt.UTC))
    person = person.with_proof(proof.granted(TOKEN, SESSION_REF, frozenset({ID_NUMBER})))
    text = repr(person) + repr(person.proof)
    for secret in (ID_NUMBER, NAME, TOKEN, SESSION_REF):
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
