"""Identity tokens on the kiosk, end to end with the flows, the outbox and the reference
platform over HTTP: nothing is lost when the token is gone before the outbox delivers, a card's
token is renewed once when the platform drops it, and an e-SSC identity asks to identify again.
"""

from __future__ import annotations

import dataclasses

import pytest
from test_flows_items import new_resident
from test_flows_support import RESIDENT_EMPLOYED, RESIDENT_UI_CLAIMANT, build_rig

from kiosk.domain.person import IdentitySource
from kiosk.services.identity_tokens import IdentityExpired
from kiosk.services.outbox import OutboxStatus
from kiosk.services.session import EndReason


@pytest.fixture(name="rig")
def rig_fixture(tmp_path):
    rig = build_rig(tmp_path / "identity", submit_timeout=1.5)
    yield rig
    rig.close()


def _late_sessions(rig) -> list[tuple]:
    return rig.server_rows(
        "select submission_key, resumed_from from identity_sessions "
        "where submission_key is not null"
    )


def test_an_e_ssc_submission_delivered_after_the_session_ended_still_lands(rig):
    """GIVEN a resident identified by e-SSC submitted while the outbox could not deliver and the
    session then ended (its token revoked) WHEN the outbox delivers THEN it gets a token for
    that one submission from the session reference, and the application lands once."""
    resident = rig.identify(RESIDENT_UI_CLAIMANT)
    rig.outbox.stop()  # the delivery will come late
    saved = rig.flows.submit(23, {"phone": "13412345678", "seeking_work": "是"})
    assert saved.accepted and not saved.delivered
    rig.flows.end_session(EndReason.TRANSACTION_DONE)
    assert rig.flows.identity.wait_revoked()
    rig.outbox.start()
    assert rig.outbox.drain(timeout=60)
    entry = rig.outbox.entry(saved.local_ref)
    assert entry.status is OutboxStatus.DELIVERED, entry.error_code
    rows = rig.server_rows(
        "select a.item_no from applications a join persons p on p.id = a.person_id "
        "where p.id_number = ? and a.item_no = 23",
        resident.id_number,
    )
    assert rows == [(23,)]
    ((key, resumed_from),) = _late_sessions(rig)
    assert key == entry.idempotency_key and resumed_from is not None


def test_a_card_submission_with_an_agent_delivered_late_presents_both_claims(tmp_path):
    """Identified by card while the platform was unreachable (no token, no session
    reference): once it is back, the outbox presents the resident's and the agent's card
    claims for a token that files only that submission."""
    rig = build_rig(tmp_path / "offline", online=False, submit_timeout=1.5)
    try:
        _deliver_an_agents_order_made_offline(rig)
    finally:
        rig.close()


def _deliver_an_agents_order_made_offline(rig) -> None:
    helper = new_resident("李春梅", 40, IdentitySource.SSCARD)
    rig.flows.start_session(helper, as_agent=True)
    rig.flows.start_session(new_resident("王福生", 66))
    assert rig.session.current.identity.grant is None  # nothing could be asked for
    order = rig.flows.work_order(24, {"phone": "13712345678", "reason": "失踪或生存状态不明"})
    assert order.accepted and not order.delivered
    rig.flows.end_session(EndReason.TRANSACTION_DONE)
    rig.start_server()
    rig.outbox.wake()
    assert rig.outbox.drain(timeout=60)
    entry = rig.outbox.entry(order.local_ref)
    assert entry.status is OutboxStatus.DELIVERED, entry.error_code
    stored = rig.server_rows(
        "select agent_id_number from applications where number = ?", entry.reference_no
    )
    assert stored == [(helper.id_number,)]
    assert [key for key, _resumed in _late_sessions(rig)] == [entry.idempotency_key]
    members = rig.server_rows(
        "select m.role, m.evidence from identity_members m join identity_sessions s "
        "on s.id = m.session_id where s.submission_key = ? order by m.role",
        entry.idempotency_key,
    )
    assert members == [("agent", "sscard_psam"), ("resident", "idcard_sam")]


def test_a_cards_token_dropped_by_the_platform_is_renewed_once(rig):
    known = rig.identify(RESIDENT_EMPLOYED)  # (to learn a seeded resident's card data)
    rig.flows.end_session(EndReason.RESIDENT_EXIT)
    card = new_resident(known.name, 35, IdentitySource.SSCARD)
    resident = rig.flows.start_session(dataclasses.replace(card, id_number=known.id_number))
    token = rig.session.current.identity.grant.token
    rig.flows._client.revoke_identity(token)  # the platform no longer accepts it
    assert rig.flows.records(25).rows  # the kiosk presented the card claim again, once
    assert rig.session.current.identity.grant.token not in ("", token)
    assert rig.session.resident is resident


def test_an_e_ssc_identity_the_platform_dropped_asks_to_identify_again(rig):
    rig.identify(RESIDENT_EMPLOYED)
    rig.flows._client.revoke_identity(rig.session.current.identity.grant.token)
    with pytest.raises(IdentityExpired, match="重新刷卡"):
        rig.flows.records(25)
