"""Finding: e-SSC verification on the reference platform was an exact string match on static
codes — a photographed ``ESSC-DEMO-OPERATOR-04`` unlocked maintenance as system administrator,
forever.

Now a code is signed (Ed25519), lives at most 120 s, verifies once (its id is spent in the
database, so across server workers too), and a kiosk's failed attempts are limited. Through
real HTTP to the reference platform on 127.0.0.1.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk_backend import essc_codes
from security.support import API, DEMO_PENSIONER, STATUS, database, serve

VERIFY = f"{API}/essc/verify"
SIGNIN = f"{API}/operators/essc-signin"
DEMO_LABELS = [f"ESSC-DEMO-RESIDENT-{n:02d}" for n in range(1, 9)] + [
    f"ESSC-DEMO-OPERATOR-{n:02d}" for n in range(1, 8)
]


def _code(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json().get("code", "")


@pytest.mark.parametrize("label", DEMO_LABELS)
def test_a_static_demo_code_no_longer_verifies(platform_server, label):
    kiosk = platform_server.kiosk()
    endpoint = SIGNIN if "OPERATOR" in label else VERIFY
    assert _code(kiosk.post(endpoint, {"qr": label})) == (404, "qr_not_recognised")


def test_a_code_verifies_once_and_brings_the_identity_token(platform_server):
    """One round trip identifies the resident and issues the token; a replay of the same
    code (a photograph of the resident's phone) is refused."""
    kiosk = platform_server.kiosk()
    code = platform_server.essc_code(DEMO_PENSIONER)
    first = kiosk.post(VERIFY, {"qr": code})
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["id_number"] == platform_server.id_number_of(DEMO_PENSIONER)
    token = answer["identity"]["token"]
    records = kiosk.post(STATUS, {"id_number": answer["id_number"]}, identity=token)
    assert records.status_code == 200
    assert _code(kiosk.post(VERIFY, {"qr": code})) == (422, "qr_already_used")
    assert _code(platform_server.kiosk().post(VERIFY, {"qr": code})) == (422, "qr_already_used")


def test_an_operator_code_signs_in_once(platform_server):
    kiosk = platform_server.kiosk()
    code = platform_server.essc_code("ESSC-DEMO-OPERATOR-04")
    signed_in = kiosk.post(SIGNIN, {"qr": code})
    assert signed_in.status_code == 200 and signed_in.json()["role"] == "system_admin"
    assert _code(kiosk.post(SIGNIN, {"qr": code})) == (422, "qr_already_used")


def _send_at_once(clients, path: str, body: dict) -> list[int]:
    """POST *body* through every client at the same instant; the statuses, sorted."""
    answers: list[int] = []
    start = threading.Barrier(len(clients))

    def send(client) -> None:
        start.wait()
        answers.append(client.post(path, body).status_code)

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sorted(answers)


def test_a_replay_at_another_server_worker_is_refused(tmp_path):
    """Two workers on one database: the same code sent to both at once verifies once."""
    with database("sqlite", tmp_path) as url, serve(url, workers=2) as pair:
        for _round in range(3):
            code = pair.essc_code(DEMO_PENSIONER)
            kiosks = [pair.kiosk(worker=0), pair.kiosk(worker=1)]
            assert _send_at_once(kiosks, VERIFY, {"qr": code}) == [200, 422]


@pytest.mark.parametrize("age_seconds", [121, 600, -60])
def test_an_expired_or_future_code_is_refused(platform_server, age_seconds):
    """Codes live at most 120 s (issued in the future: a forged clock, also refused)."""
    issued = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_seconds)
    with platform_server.apps[0].state.sessions() as session:
        person = platform_server.id_number_of(DEMO_PENSIONER)
        code = essc_codes.mint_for(session, person=person, now=issued)
    assert _code(platform_server.kiosk().post(VERIFY, {"qr": code})) == (422, "qr_expired")


def _parts(code: str) -> tuple[bytes, bytes]:
    _prefix, payload, signature = code.split(".")
    pad = lambda text: text + "=" * (-len(text) % 4)  # noqa: E731
    return base64.urlsafe_b64decode(pad(payload)), base64.urlsafe_b64decode(pad(signature))


def _join(payload: bytes, signature: bytes) -> str:
    b64 = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()  # noqa: E731
    return f"ESSC1.{b64(payload)}.{b64(signature)}"


def test_a_forged_code_is_refused(platform_server):
    """A code whose subject was changed, one signed with another key under the platform's key
    id, and a code of the wrong kind (operator at the resident endpoint) are all refused."""
    kiosk = platform_server.kiosk()
    payload, signature = _parts(platform_server.essc_code(DEMO_PENSIONER))
    other_person = payload[:-1] + bytes([payload[-1] ^ 0x01])  # another person's row id
    assert _code(kiosk.post(VERIFY, {"qr": _join(other_person, signature)}))[0] == 404
    impostor = Ed25519PrivateKey.generate().sign(b"ESSC1." + payload)
    assert _code(kiosk.post(VERIFY, {"qr": _join(payload, impostor)})) == (
        404,
        "qr_not_recognised",
    )
    operator = platform_server.essc_code("ESSC-DEMO-OPERATOR-04")
    assert _code(kiosk.post(VERIFY, {"qr": operator})) == (404, "qr_not_recognised")
    resident = platform_server.essc_code(DEMO_PENSIONER)
    assert _code(kiosk.post(SIGNIN, {"qr": resident})) == (404, "qr_not_recognised")
    assert _code(kiosk.post(VERIFY, {"qr": "ESSC1.AAAA.BBBB"})) == (404, "qr_not_recognised")


def test_failed_attempts_are_limited_per_kiosk(tmp_path):
    """After essc_failure_limit failures in the window a kiosk gets 429 before any code is
    checked — a good one included; another kiosk is not affected."""
    with database("sqlite", tmp_path) as url, serve(url, essc_failure_limit=3) as limited:
        guesser = limited.kiosk()
        for attempt in range(3):
            answer = guesser.post(SIGNIN, {"qr": f"ESSC-DEMO-OPERATOR-0{attempt + 1}"})
            assert _code(answer) == (404, "qr_not_recognised")
        good = limited.essc_code("ESSC-DEMO-OPERATOR-01")
        blocked = guesser.post(SIGNIN, {"qr": good})
        assert _code(blocked) == (429, "too_many_attempts")
        assert "失败次数过多" in blocked.json()["message"]
        assert limited.kiosk().post(SIGNIN, {"qr": good}).status_code == 200  # still unspent
