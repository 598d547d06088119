"""Finding (kiosk side): nothing tied what the platform would answer to the resident standing at
the kiosk; once identity tokens exist, a token left alive after the resident walked away would
open their records to whoever comes next.

Now the kiosk's session holds the token and revokes it when the session ends — card out, 退出,
idle, done, or another resident identifying — through the kiosk's real client and flows, against
the reference platform over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import pytest
from test_flows_items import new_resident
from test_flows_support import (  # noqa: F401  (fixtures)
    RESIDENT_EMPLOYED,
    RESIDENT_YOUNG,
    flows_rig_fixture,
    fresh_session_fixture,
)

from kiosk.domain.person import IdentitySource
from kiosk.services.errors import BackendRejected
from kiosk.services.session import EndReason

STATUS = "/persons/enterprise-pension/status"


def _refused(rig, token: str, id_number: str) -> bool:
    try:
        rig.flows._client.post_query(STATUS, {"id_number": id_number}, identity_token=token)
    except BackendRejected as exc:
        return (exc.status, exc.code) == (403, "identity_required")
    return False


@pytest.mark.parametrize(
    "reason",
    [EndReason.RESIDENT_EXIT, EndReason.IDLE_TIMEOUT, EndReason.TRANSACTION_DONE],
    ids=["exit", "idle", "done"],
)
def test_the_sessions_end_revokes_its_token(fresh_session, reason):
    rig = fresh_session
    resident = rig.identify(RESIDENT_EMPLOYED)
    token = rig.session.current.identity.grant.token
    assert rig.flows.records(25).rows  # the token opens the resident's records
    rig.flows.end_session(reason)
    assert rig.flows.identity.wait_revoked()
    assert rig.session.current is None
    assert _refused(rig, token, resident.id_number)


def test_taking_the_card_out_revokes_the_token(fresh_session):
    rig = fresh_session
    resident = rig.flows.start_session(new_resident("秦晓燕", 52, IdentitySource.SSCARD))
    assert resident.proof.evidence == "sscard_psam"
    token = rig.session.current.identity.grant.token
    assert rig.flows.card_removed() is True
    assert rig.flows.identity.wait_revoked()
    assert _refused(rig, token, resident.id_number)


def test_another_resident_identifying_revokes_the_previous_token(fresh_session):
    rig = fresh_session
    first = rig.identify(RESIDENT_EMPLOYED)
    token = rig.session.current.identity.grant.token
    rig.identify(RESIDENT_YOUNG)  # the next resident at the kiosk
    assert rig.flows.identity.wait_revoked()
    assert rig.session.current.identity.grant.token != token
    assert _refused(rig, token, first.id_number)
