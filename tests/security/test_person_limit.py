"""Finding: nothing limited how many persons one kiosk looked up, so a stolen kiosk secret could
walk through the county's residents unnoticed.

Now each kiosk may identify at most ``person_limit`` distinct persons per window (state in the
database, so it holds with several server workers); over it the platform answers 429 with a
Chinese message and opens exactly one ticket for the county desk in the 问题台账 (附件5).
Through real HTTP to the reference platform on 127.0.0.1, one and two workers.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from kiosk_backend.identity_sessions import PERSON_LIMIT_FAULT_KEY
from kiosk_backend.ledger_models import LedgerTicket
from security.support import API, database, db_params, identify, new_id_number, serve

LIMIT = 3
SESSIONS = f"{API}/identity/sessions"


def _claim(client, id_number: str):
    return client.post(SESSIONS, {"evidence": "idcard_sam", "id_number": id_number})


def _alarm_tickets(platform, kiosk_id: str) -> list[LedgerTicket]:
    with platform.apps[0].state.sessions() as session:
        return list(
            session.scalars(
                select(LedgerTicket).where(
                    LedgerTicket.kiosk_id == kiosk_id,
                    LedgerTicket.fault_key == PERSON_LIMIT_FAULT_KEY,
                )
            )
        )


@pytest.fixture(params=db_params())
def limited(request, tmp_path):
    with (
        database(request.param, tmp_path) as url,
        serve(url, workers=2, person_limit=LIMIT, seed_persons=20) as platform,
    ):
        yield platform


def test_over_the_limit_is_429_in_chinese_and_one_ticket_for_the_county(limited):
    kiosk = limited.kiosk()
    persons = [new_id_number(n) for n in range(6)]
    for number in persons[:LIMIT]:
        identify(kiosk, number)
    identify(kiosk, persons[0])  # the same person again is not a new one
    refusals = [_claim(kiosk, number) for number in persons[LIMIT:]]
    assert [r.status_code for r in refusals] == [429] * 3
    assert {r.json()["code"] for r in refusals} == {"too_many_persons"}
    assert "超过限制" in refusals[0].json()["message"]
    (ticket,) = _alarm_tickets(limited, kiosk.kiosk_id)
    assert (ticket.level, ticket.assignee, ticket.state) == (
        "county",
        "demo-county-140431",
        "assigned",
    )
    assert f"超过{LIMIT}人" in ticket.description
    # The e-SSC path counts the same way.
    code = limited.essc_code("ESSC-DEMO-RESIDENT-04")
    assert kiosk.post(f"{API}/essc/verify", {"qr": code}).status_code == 429
    assert len(_alarm_tickets(limited, kiosk.kiosk_id)) == 1
    # Another kiosk is not affected, and the alarmed kiosk cannot close its own alarm.
    identify(limited.kiosk(), persons[5])
    closing = kiosk.post(
        f"{API}/ledger/tickets/close",
        {"client_ref": "closing-the-alarm", "fault_key": PERSON_LIMIT_FAULT_KEY},
    )
    assert closing.status_code == 403
    assert _alarm_tickets(limited, kiosk.kiosk_id)[0].state == "assigned"


def test_the_limit_holds_with_several_workers_at_once(limited):
    """Twelve distinct persons sent at once, half to each worker: exactly LIMIT get a token,
    the rest 429, and one ticket."""
    clients = limited.kiosk_on_every_worker()
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def send(n: int) -> None:
        start.wait()
        status = _claim(clients[n % 2], new_id_number(20 + n)).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(statuses) == [200] * LIMIT + [429] * (12 - LIMIT)
    assert len(_alarm_tickets(limited, clients[0].kiosk_id)) == 1
