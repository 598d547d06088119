"""A submission the kiosk cannot save (its data disk full) is refused with a clear message,
and nothing is acknowledged, queued or printed — found by the soak, where it had surfaced as an
unhandled storage error on the screen."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from test_flows_support import RESIDENT_EMPLOYED, flows_rig_fixture  # noqa: F401

from kiosk.services.flow_errors import NotSaved


def test_a_full_disk_refuses_the_work_order_with_a_message_and_saves_nothing(flows_rig):
    rig = flows_rig
    rig.identify(RESIDENT_EMPLOYED)
    before = len(rig.outbox.entries(limit=1000))
    printed = len(rig.printer_sim.jobs)

    def disk_full(*_args, **_kwargs):
        raise sa.exc.OperationalError(
            "INSERT", {}, sqlite3.OperationalError("database or disk is full")
        )

    original = rig.outbox.submit_and_wait
    rig.outbox.submit_and_wait = disk_full
    try:
        with pytest.raises(NotSaved) as refused:
            rig.flows.work_order(38, {"phone": "13812345678"})
    finally:
        rig.outbox.submit_and_wait = original
    assert (
        refused.value.message
        == "本机暂时无法保存您的申请（存储空间不足），请到柜台办理，或稍后再试"
    )
    assert len(rig.outbox.entries(limit=1000)) == before
    assert len(rig.printer_sim.jobs) == printed
