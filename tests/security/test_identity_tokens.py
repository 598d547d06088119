"""Finding: any provisioned kiosk secret read any person's pension, payment, certificate and
archive records and filed applications in their name from an ID number alone — a newly
provisioned kiosk that never registered got 200 with a seeded person's pension status.

Now every person-scoped endpoint needs an identity token (``X-Identity-Token``) that the
platform issued to this kiosk for the persons in the body, and answers 403
``identity_required`` before any person data is read. Through real HTTP to the reference
platform on 127.0.0.1 (SQLite, and PostgreSQL when configured).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest

from kiosk_backend.identity_sessions import IDENTITY_REQUIRED_MESSAGE, person_scoped_operations
from kiosk_backend.models import Person
from security.support import (
    API,
    DEMO_EMPLOYED,
    DEMO_PENSIONER,
    STATUS,
    StatementLog,
    database,
    identify,
    new_id_number,
    refused_for_identity,
    serve,
)

# Every endpoint that reads or files for the person in its body (issue 13: /persons/*,
# /applications/*, /eligibility, /work-orders, and the job-seeker ones; items 8/9 ask who is
# searching, so the odd-job searches are the person's too).
PERSON_ENDPOINTS = (
    "/persons/enterprise-pension/status",
    "/persons/enterprise-pension/payments",
    "/persons/unemployment-insurance/payments",
    "/persons/resident-pension/contributions",
    "/persons/resident-pension/payments",
    "/persons/employment-certificate",
    "/persons/archive",
    "/eligibility",
    "/applications/flexible-employment",
    "/applications/unemployment-registration",
    "/applications/skill-subsidy",
    "/applications/unemployment-benefit",
    "/applications/mine",
    "/work-orders",
    "/job-seekers",
    "/job-seekers/matches",
    "/odd-job-demands",
    "/odd-job-demands/mine",
    "/odd-job-demands/matches",
    "/odd-job-seekers/search",
)
REFUSAL = {"code": "identity_required", "message": IDENTITY_REQUIRED_MESSAGE}


@pytest.fixture(scope="module")
def statements(platform_server):
    return StatementLog(platform_server.apps[0].state.engine)


def test_every_person_endpoint_is_guarded_and_no_other(platform_server):
    """The one dependency sits on exactly the person-scoped routes (a new route that takes a
    person in its body shows up here until it carries it)."""
    guarded = {path for _method, path in person_scoped_operations(platform_server.apps[0].routes)}
    assert guarded == {API + path for path in PERSON_ENDPOINTS}


@pytest.mark.parametrize("path", PERSON_ENDPOINTS)
def test_a_new_kiosk_without_a_token_is_refused_before_any_person_is_read(
    platform_server, statements, path
):
    """GIVEN a kiosk provisioned a minute ago that never registered WHEN it asks about a seeded
    person and about a person the platform does not have THEN both answers are the same 403
    identity_required, and the platform ran no statement on any person table."""
    kiosk = platform_server.kiosk()
    known = platform_server.id_number_of(DEMO_PENSIONER)
    unknown = new_id_number(1)
    assert platform_server.count(Person, Person.id_number == unknown) == 0
    answers = []
    with statements.recording() as ran:
        for number in (known, unknown):
            response = kiosk.post(API + path, {"id_number": number, "item_no": 34})
            answers.append((response.status_code, response.json()))
        forged = kiosk.post(API + path, {"id_number": known}, identity="x" * 43)
        answers.append((forged.status_code, forged.json()))
    assert answers == [(403, REFUSAL)] * 3
    assert StatementLog.touching_persons(ran) == []


def test_a_token_for_one_person_does_not_open_another(platform_server, statements):
    kiosk = platform_server.kiosk()
    pensioner, employed = (
        platform_server.id_number_of(DEMO_PENSIONER),
        platform_server.id_number_of(DEMO_EMPLOYED),
    )
    token = identify(kiosk, pensioner)
    own = kiosk.post(STATUS, {"id_number": pensioner}, identity=token)
    assert own.status_code == 200 and own.json()["insured_status"] == "receiving"
    with statements.recording() as ran:
        other = kiosk.post(STATUS, {"id_number": employed}, identity=token)
        mine = kiosk.post(f"{API}/applications/mine", {"id_number": employed}, identity=token)
    assert refused_for_identity(other) and refused_for_identity(mine)
    assert StatementLog.touching_persons(ran) == []


def test_a_token_of_another_kiosk_is_refused(platform_server):
    """A token is bound to the kiosk it was issued to (a leaked token is no use elsewhere)."""
    pensioner = platform_server.id_number_of(DEMO_PENSIONER)
    issued_to = platform_server.kiosk()
    token = identify(issued_to, pensioner)
    assert issued_to.post(STATUS, {"id_number": pensioner}, identity=token).status_code == 200
    elsewhere = platform_server.kiosk().post(STATUS, {"id_number": pensioner}, identity=token)
    assert refused_for_identity(elsewhere)


def test_a_revoked_token_is_refused(platform_server):
    kiosk = platform_server.kiosk()
    pensioner = platform_server.id_number_of(DEMO_PENSIONER)
    token = identify(kiosk, pensioner)
    assert kiosk.post(STATUS, {"id_number": pensioner}, identity=token).status_code == 200
    revoked = kiosk.request("DELETE", f"{API}/identity/sessions/current", identity=token)
    assert revoked.status_code == 204
    assert refused_for_identity(kiosk.post(STATUS, {"id_number": pensioner}, identity=token))
    again = kiosk.request("DELETE", f"{API}/identity/sessions/current", identity=token)
    assert again.status_code == 204  # revoking twice is harmless


def test_an_expired_token_is_refused(tmp_path):
    """A token dies ``identity_token_seconds`` after its last use (here 1 s; at most 900)."""
    with database("sqlite", tmp_path) as url, serve(url, identity_token_seconds=1) as short:
        kiosk = short.kiosk()
        pensioner = short.id_number_of(DEMO_PENSIONER)
        token = identify(kiosk, pensioner)
        time.sleep(2.5)
        assert refused_for_identity(kiosk.post(STATUS, {"id_number": pensioner}, identity=token))


def test_a_token_lives_at_most_15_minutes_after_its_last_use(platform_server):
    from kiosk_backend.app import identity_policy
    from kiosk_backend.settings import ServerSettings

    kiosk = platform_server.kiosk()
    before = dt.datetime.now(dt.UTC)
    response = kiosk.post(
        f"{API}/identity/sessions",
        {"evidence": "idcard_sam", "id_number": platform_server.id_number_of(DEMO_PENSIONER)},
    )
    after = dt.datetime.now(dt.UTC)
    assert response.status_code == 200
    expires = dt.datetime.fromisoformat(response.json()["expires_at"])
    fifteen_minutes = dt.timedelta(minutes=15)
    assert before + fifteen_minutes <= expires <= after + fifteen_minutes
    with pytest.raises(ValueError, match="1-900"):
        identity_policy(ServerSettings(identity_token_seconds=901))


def test_an_agent_covers_the_principal_only_within_that_session(platform_server):
    """代办: the principal joins the agent's identity session, so one token covers both — and
    only there: the agent's token of another session opens nothing of the principal's."""
    kiosk = platform_server.kiosk()
    principal = platform_server.id_number_of("ESSC-DEMO-RESIDENT-01")
    agent = new_id_number(2)
    order = {
        "id_number": principal,
        "item_no": 34,
        "phone": "13812345678",
        "agent": {"id_number": agent, "name": "郝建明", "relation": "child"},
    }
    visit = identify(kiosk, agent, role="agent")
    assert identify(kiosk, principal, token=visit) == visit  # joined: the same token
    assert kiosk.post(STATUS, {"id_number": principal}, identity=visit).status_code == 200
    filed = kiosk.post(f"{API}/work-orders", order, identity=visit)
    assert filed.status_code == 200, filed.text
    assert filed.json()["agent"]["id_number_masked"].endswith(agent[-4:])

    later = identify(kiosk, agent, role="agent")  # the agent alone, another visit
    assert later != visit
    assert refused_for_identity(kiosk.post(STATUS, {"id_number": principal}, identity=later))
    assert refused_for_identity(kiosk.post(f"{API}/work-orders", order, identity=later))
    alone = identify(kiosk, principal)  # the principal alone: the agent is not covered
    assert refused_for_identity(kiosk.post(f"{API}/work-orders", order, identity=alone))


def test_a_refusal_for_want_of_identity_is_not_kept_as_the_keys_answer(platform_server):
    """The outbox retries a submission with the same Idempotency-Key once it has a token: the
    earlier 403 must not be replayed to it."""
    kiosk = platform_server.kiosk()
    resident = new_id_number(3)
    body = {
        "id_number": resident,
        "name": "柴秀兰",
        "item_no": 31,
        "phone": "13612345678",
        "answers": {"action": "resume"},  # item 31 asks 办理内容
    }
    key = str(uuid.uuid4())
    first = kiosk.post(f"{API}/work-orders", body, idempotency_key=key)
    assert refused_for_identity(first)
    token = identify(kiosk, resident)
    retried = kiosk.post(f"{API}/work-orders", body, idempotency_key=key, identity=token)
    assert retried.status_code == 200, retried.text
    assert "idempotent-replayed" not in retried.headers


def test_a_late_submission_token_files_that_submission_and_reads_nothing(platform_server):
    """The outbox delivering after the session ended gets a token (by the session reference)
    that files exactly the submission it names and opens no record."""
    kiosk = platform_server.kiosk()
    resident = new_id_number(4)
    response = kiosk.post(
        f"{API}/identity/sessions", {"evidence": "sscard_psam", "id_number": resident}
    )
    visit, ref = response.json()["token"], response.json()["session_ref"]
    kiosk.request("DELETE", f"{API}/identity/sessions/current", identity=visit)
    key = str(uuid.uuid4())
    resumed = kiosk.post(
        f"{API}/identity/sessions/resume", {"session_ref": ref, "submission_key": key}
    )
    assert resumed.status_code == 200 and resumed.json()["submission_key"] == key
    late = resumed.json()["token"]
    body = {
        "id_number": resident,
        "name": "贾玉兰",
        "item_no": 31,
        "phone": "13812345678",
        "answers": {"action": "resume"},
    }
    assert refused_for_identity(kiosk.post(STATUS, {"id_number": resident}, identity=late))
    other = kiosk.post(f"{API}/work-orders", body, identity=late)  # another key
    assert refused_for_identity(other)
    filed = kiosk.post(f"{API}/work-orders", body, idempotency_key=key, identity=late)
    assert filed.status_code == 200, filed.text
    stranger = platform_server.kiosk().post(
        f"{API}/identity/sessions/resume", {"session_ref": ref, "submission_key": key}
    )
    assert refused_for_identity(stranger)  # a session reference is this kiosk's only
