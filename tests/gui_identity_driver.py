"""GUI scenarios of identity tokens, run in their own process on the flow rig of
tests/gui_flow_driver.py (the real app, the reference platform on 127.0.0.1, the device
simulators; taps through Kivy's input path). The child prints one ``RESULT {json}`` line.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import gui_flow_driver as flow
from gui_child import ROOT, give_seeded_platform, run_child
from gui_flow_driver import (
    RESIDENT_ENTERPRISE_RETIREE,
    RIG_DIR_NAME,
    idle_calls,
    open_item,
    scenario,
    shoot,
    until_screen,
)

PERSON_LIMIT = 30  # the platform's default: distinct persons per kiosk per hour


def run_identity_scenario(
    name: str, data_dir: Path, *, orientation: str = "portrait", shots: Path | None = None
) -> dict:
    """Run scenario *name* of this module in a child process; its observations."""
    give_seeded_platform(data_dir / RIG_DIR_NAME)
    return run_child(
        Path(__file__).resolve(),
        name,
        data_dir,
        orientation=orientation,
        env={"FLOW_SHOTS": str(shots or "")},
        timeout=400,
    )


def _token(app) -> str:
    session = app.services.session.current
    grant = session.identity.grant if session is not None else None
    return grant.token if grant is not None else ""


def _refused(rig, token: str, id_number: str) -> bool:
    from kiosk.services.errors import BackendRejected

    try:
        rig.flows._client.post_query(
            "/persons/enterprise-pension/status", {"id_number": id_number}, identity_token=token
        )
    except BackendRejected as exc:
        return (exc.status, exc.code) == (403, "identity_required")
    return False


@scenario
def identity_tokens_follow_the_session(app, rig, seen):
    """e-SSC → records (26) with the session's token → 首页 ends the session and revokes the
    token; the card → its token → card out revokes it; over the person limit the 确认身份
    screen says so in Chinese."""
    from kiosk.screens.driver import Until, find_bar_button, tap

    yield from open_item(app, rig, "我要办社保", 26)
    yield until_screen(app, "identify")
    yield 0.5
    rig.scan_essc(RESIDENT_ENTERPRISE_RETIREE)
    yield until_screen(app, "records", 60)
    records = app.screens["records"]
    yield Until(lambda: bool(records.rows), 60, "records shown")
    yield idle_calls(rig)
    token, resident = _token(app), app.services.session.resident
    seen["records_with_token"] = bool(token) and len(records.rows) > 0
    seen["evidence"] = resident.proof.evidence.value
    yield from tap(find_bar_button(records, "home_button"))
    yield until_screen(app, "home")
    seen["revoked_at_home"] = rig.flows.identity.wait_revoked() and _refused(
        rig, token, resident.id_number
    )

    yield from open_item(app, rig, "我要办社保", 26)
    yield until_screen(app, "identify")
    rig.sscard.virtual_card.insert("gen2")
    held: dict = {}

    def identified() -> bool:
        # Taken at once: a test machine's shared pcscd may deliver another reader's
        # CardRemoved (the app's own demo runtime listens there too), which ends it early.
        if _token(app) and "token" not in held:
            held["token"], held["person"] = _token(app), app.services.session.resident
        return "token" in held

    yield Until(identified, 60, "identified by card")
    card_token, card_holder = held["token"], held["person"]
    seen["card_evidence"] = card_holder.proof.evidence.value
    rig.sscard.virtual_card.remove()
    yield until_screen(app, "home", 30)
    seen["revoked_at_card_out"] = rig.flows.identity.wait_revoked() and _refused(
        rig, card_token, card_holder.id_number
    )

    # GIVEN this kiosk already looked up PERSON_LIMIT persons in the last hour.
    kiosk_id = app.services.config.kiosk.device_id
    with sqlite3.connect(rig.data_dir / "demo-backend.sqlite3") as db:
        db.executemany(
            "insert into identity_person_seen (kiosk_id, person_digest, last_seen_at) "
            "values (?, ?, datetime('now'))",
            [(kiosk_id, f"{n:064x}") for n in range(PERSON_LIMIT)],
        )
    yield from open_item(app, rig, "我要办社保", 26)
    yield until_screen(app, "identify")
    identify = app.screens["identify"]
    before = identify.status
    rig.scan_essc("ESSC-DEMO-RESIDENT-02")
    yield Until(lambda: identify.status != before and not rig.controller.calls.busy, 60, "refusal")
    seen["limit_status"] = identify.status
    seen["limit_screen"] = app.current_screen
    seen["limit_session_identified"] = app.services.session.resident is not None
    yield from shoot(app, "identify-person-limit")
    yield from tap(find_bar_button(identify, "home_button"))
    yield until_screen(app, "home")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(flow.main(sys.argv[1], sys.argv[2]))
