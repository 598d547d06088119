"""One session object holds who is at the kiosk; ending it leaves no trace of the person."""

from __future__ import annotations

import datetime as dt
import gc
import weakref
from types import SimpleNamespace

import pytest

from kiosk.devices.idcard.cards import CardKind, IdCard
from kiosk.devices.sscard.card import CardAuthentication, CardGeneration, SsCardData
from kiosk.domain.identity import build_id_number
from kiosk.domain.person import (
    IdentityError,
    IdentitySource,
    person_from_essc,
    person_from_idcard,
    person_from_sscard,
)
from kiosk.services.session import EndReason, ResidentIdentified, SessionEnded, SessionManager

TODAY = dt.date(2026, 11, 29)
BIRTH = dt.date(1985, 3, 12)
NUMBER = build_id_number("140431", BIRTH, 123)  # odd sequence: 男
AGENT_NUMBER = build_id_number("140431", dt.date(1990, 6, 1), 246)
CARD_ID = "140431D156000005" + "0" * 16
# What the PSAM authenticator reports for a 3.0 card it verified (kiosk.devices.sscard.auth).
PSAM_VERIFIED = CardAuthentication(
    method="psam",
    algorithm="sm4",
    internal=True,
    external=True,
    terminal_number="140431000001",
    card_id=CARD_ID,
)


def sscard(
    ssn: str = NUMBER,
    name: str = "张建军",
    birth: dt.date = BIRTH,
    authentication: CardAuthentication | None = None,
) -> SsCardData:
    """A decoded card; read without card authentication unless *authentication* is given."""
    extra = {} if authentication is None else {"authentication": authentication}
    return SsCardData(
        atr=b"\x3b\x00",
        card_id=CARD_ID,
        card_type="1",
        version="3.00",
        generation=CardGeneration.THIRD,
        issuer_code="140431000000",
        issue_date=dt.date(2020, 1, 1),
        expiry_date=dt.date(2030, 1, 1),
        card_number="X12345678",
        ssn=ssn,
        name=name,
        sex="1",
        nation="01",
        birthplace="140431",
        birth_date=birth,
        **extra,
    )


def idcard(**changes) -> IdCard:
    values = dict(
        kind=CardKind.RESIDENT,
        name="李春英",
        sex="女",
        birth_date=dt.date(1990, 6, 1),
        id_number=AGENT_NUMBER,
        valid_from=dt.date(2015, 1, 1),
        valid_to=dt.date(2035, 1, 1),
        nation="汉",
        address="山西省沁源县沁河镇西关村1号",
    )
    values.update(changes)
    return IdCard(**values)


def test_the_three_sources_give_one_kind_of_person():
    from_card = person_from_sscard(sscard(), today=TODAY)
    assert (from_card.source, from_card.name, from_card.sex) == (
        IdentitySource.SSCARD,
        "张建军",
        "男",
    )
    assert from_card.birth_date == BIRTH and from_card.nation == "汉族"
    from_id = person_from_idcard(idcard(appended_addresses=("沁河镇东关村2号",)), today=TODAY)
    assert from_id.source is IdentitySource.IDCARD and from_id.sex == "女"
    assert from_id.prefill("address") == "沁河镇东关村2号"  # the newest 签注 address wins
    answer = {"id_number": NUMBER, "name": "张建军", "gender": "male", "birth_date": "1985-03-12"}
    from_qr = person_from_essc(answer, today=TODAY)
    assert from_qr.source is IdentitySource.ESSC and from_qr.same_person(from_card)
    assert from_qr.prefill("phone") is None and from_qr.prefill("name") == "张建军"


def test_repr_and_str_never_show_the_name_or_number():
    person = person_from_sscard(sscard(), today=TODAY)
    for text in (repr(person), str(person), f"{person}", repr([person])):
        assert "张建军" not in text and NUMBER not in text
    assert person.masked == f"张*军  {NUMBER[:4]}{'*' * 10}{NUMBER[-4:]}"


@pytest.mark.parametrize(
    "card, code",
    [
        (sscard(ssn=NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")), "id_checksum"),
        (sscard(ssn=""), "no_id_number"),
        (sscard(name="  "), "no_name"),
        (sscard(birth=dt.date(1985, 3, 13)), "birth_mismatch"),
    ],
)
def test_bad_card_data_is_a_typed_error_with_a_chinese_message(card, code):
    with pytest.raises(IdentityError) as caught:
        person_from_sscard(card, today=TODAY)
    assert caught.value.code == code
    assert NUMBER not in caught.value.message and caught.value.message


def test_an_id_card_the_reader_flagged_is_refused_with_its_reason():
    with pytest.raises(IdentityError, match="号码与出生日期不符") as caught:
        person_from_idcard(idcard(id_problem="mismatch", id_problem_zh="号码与出生日期不符"))
    assert caught.value.code == "id_mismatch"
    with pytest.raises(IdentityError):
        person_from_essc({"id_number": "not a number", "name": "x"}, today=TODAY)
    with pytest.raises(IdentityError):
        person_from_essc(["unexpected"], today=TODAY)  # type: ignore[arg-type]


def test_identify_starts_a_session_and_announces_only_the_source():
    events: list = []
    manager = SessionManager(publish=events.append)
    session = manager.identify(person_from_sscard(sscard(), today=TODAY))
    assert manager.current is session and manager.resident.name == "张建军"
    assert events == [ResidentIdentified(session.ordinal, "sscard", False)]
    for text in (repr(session), repr(session.identity)):
        assert "张建军" not in text and NUMBER not in text


def test_an_agent_is_recorded_beside_the_resident_and_cannot_be_the_resident():
    manager = SessionManager()
    resident = person_from_sscard(sscard(), today=TODAY)
    agent = person_from_idcard(idcard(), today=TODAY)
    manager.set_agent(agent)
    manager.identify(resident)
    assert manager.agent.same_person(agent) and manager.resident.same_person(resident)
    with pytest.raises(ValueError, match="代办人不能是办事人本人"):
        manager.set_agent(resident)
    manager.set_agent(None)
    assert manager.agent is None


def test_a_different_resident_ends_the_previous_session_first():
    ended: list = []
    manager = SessionManager()
    manager.on_end(lambda session, reason: ended.append(reason))
    first = manager.identify(person_from_sscard(sscard(), today=TODAY))
    second = manager.identify(person_from_idcard(idcard(), today=TODAY))
    assert ended == [EndReason.NEW_RESIDENT]
    assert second.ordinal == first.ordinal + 1 and first.identity.resident is None
    same = manager.identify(person_from_idcard(idcard(), today=TODAY))
    assert same is second and ended == [EndReason.NEW_RESIDENT]  # same person: same session


def test_removing_the_residents_card_ends_the_session_but_an_agents_card_does_not():
    manager = SessionManager()
    manager.set_agent(person_from_sscard(sscard(ssn=AGENT_NUMBER, name="李春英",
                                                 birth=dt.date(1990, 6, 1)), today=TODAY))  # fmt: skip
    assert manager.card_removed() is False  # the helper takes their own card out
    assert manager.agent is not None
    manager.identify(person_from_sscard(sscard(), today=TODAY))
    assert manager.card_removed() is True
    assert manager.current is None
    qr_manager = SessionManager()
    qr_manager.identify(person_from_essc({"id_number": NUMBER, "name": "张建军"}, today=TODAY))
    assert qr_manager.card_removed() is False  # identified by QR: a card removal is not theirs


@pytest.mark.parametrize(
    "reason",
    [EndReason.CARD_REMOVED, EndReason.LOGOUT, EndReason.IDLE_TIMEOUT, EndReason.TRANSACTION_DONE],
)
def test_ending_discards_the_whole_identity_and_nothing_keeps_the_person_alive(reason):
    """GIVEN a resident and agent in a session WHEN it ends for any reason THEN listeners run
    while the person is still there, and afterwards no object reaches the person any more."""
    events: list = []
    manager = SessionManager(publish=events.append)
    seen: list = []
    manager.on_end(lambda session, why: seen.append((session.identity.resident is not None, why)))
    resident = person_from_sscard(sscard(), today=TODAY)
    agent = person_from_idcard(idcard(), today=TODAY)
    manager.identify(resident)
    manager.set_agent(agent)
    session = manager.current
    refs = [weakref.ref(resident), weakref.ref(agent)]
    del resident, agent
    assert manager.end(reason) is True
    assert seen == [(True, reason)]
    assert session.identity.resident is None and session.identity.agent is None
    assert manager.resident is None and manager.agent is None
    gc.collect()
    assert [ref() for ref in refs] == [None, None]
    assert isinstance(events[-1], SessionEnded) and events[-1].reason is reason
    assert EndReason.LOGOUT is EndReason.RESIDENT_EXIT


def test_the_phone_typed_once_is_remembered_for_the_rest_of_the_session_only():
    manager = SessionManager()
    session = manager.identify(person_from_sscard(sscard(), today=TODAY))
    session.identity.remember_phone("13812345678")
    assert manager.resident.prefill("phone") == "13812345678"
    manager.end(EndReason.TRANSACTION_DONE)
    manager.identify(person_from_sscard(sscard(), today=TODAY))
    assert manager.resident.prefill("phone") is None


def test_the_flows_facade_starts_sessions_from_the_card_readers_events():
    """Device events in, one session out; the card leaving the reader ends it. Cards identify
    with the platform unreachable (no token yet); e-SSC codes are covered in test_flows_*."""
    import requests
    from test_client_support import free_port

    from kiosk.devices.idcard.events import IdCardRead, IdCardReadFailed
    from kiosk.devices.sscard.events import SsCardRead
    from kiosk.domain.catalogue import load_catalogue
    from kiosk.domain.items import load_definitions
    from kiosk.services.backend_client import BackendClient
    from kiosk.services.flows import FlowsService

    manager = SessionManager()
    offline = BackendClient(
        requests.Session(), f"http://127.0.0.1:{free_port()}", "kiosk-1", b"k" * 32
    )
    flows = FlowsService(
        client=offline,
        outbox=None,
        answers=None,
        session=manager,
        definitions=load_definitions(),
        catalogue=load_catalogue(),
        service_point="沁源县沁河镇城关社区就业社保服务点",
        today=lambda: TODAY,
    )
    resident = flows.start_session(SsCardRead("reader-0", sscard(authentication=PSAM_VERIFIED)))
    assert manager.resident is resident and resident.source is IdentitySource.SSCARD
    assert resident.proof.evidence == "sscard_psam" and resident.proof.token == ""
    agent = flows.identify(IdCardRead(idcard()), as_agent=True)
    flows.begin_session(agent, as_agent=True)
    assert manager.agent is agent
    assert flows.card_removed() is True and manager.current is None
    unverified = flows.start_session(SsCardRead("reader-0", sscard()))  # no PSAM: never claimed
    assert unverified.proof.evidence == "sscard_unauthenticated"
    assert flows.card_removed() is True and manager.current is None
    with pytest.raises(IdentityError) as caught:
        flows.identify(object())
    assert caught.value.code == "unknown_event"
    with pytest.raises(IdentityError):
        flows.identify(IdCardRead(idcard(id_problem="checksum", id_problem_zh="校验码不正确")))
    failed = IdCardReadFailed("unsupported_card", "本机暂不支持此类证件，请到柜台办理")
    with pytest.raises(IdentityError, match="本机暂不支持此类证件") as caught:
        flows.identify(failed)  # never mistaken for a QR code and sent to the platform
    assert caught.value.code == "unsupported_card"


@pytest.mark.parametrize(
    ("report", "evidence"),
    [
        (None, "sscard_psam"),  # a reader that reports nothing: the kiosk's claim
        (SimpleNamespace(evidence="sscard_psam", method="psam"), "sscard_psam"),
        (SimpleNamespace(evidence="", method="none"), "sscard_unauthenticated"),
        ("psam", "sscard_psam"),
        ("none", "sscard_unauthenticated"),
    ],
)
def test_a_social_security_cards_evidence_is_what_its_reader_reports(report, evidence):
    from kiosk.services.identity_tokens import sscard_evidence

    on_event = SimpleNamespace(card=SimpleNamespace(), authentication=report)
    on_card = SimpleNamespace(card=SimpleNamespace(authentication=report))
    assert sscard_evidence(on_event) == evidence
    assert sscard_evidence(on_card) == evidence
