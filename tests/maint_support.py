"""Helpers shared by the maintenance tests (imported, never copied)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kiosk.services import api_models as m
from kiosk.services.operator_roster import OperatorRoster

# The demo county's staff as GET /kiosks/operators answers for a 140431 kiosk (demo seed):
# qyhe-op-004 is active on the platform but idle for 4 months, so the roster says locked.
ROSTER = m.OperatorRoster(
    region_code="140431",
    generated_at=dt.datetime(2026, 11, 29, 8, 0, tzinfo=dt.UTC),
    operators=[
        m.RosterAccount("qyhe-op-001", "李*梅", "operator", "active"),
        m.RosterAccount("qyhe-op-002", "王*涛", "operator", "locked"),
        m.RosterAccount("vendor-eng-01", "周*", "vendor", "active"),
        m.RosterAccount("qy-sysadmin", "孙*", "system_admin", "active"),
        m.RosterAccount("qy-bizadmin", "马*", "business_admin", "active"),
        m.RosterAccount("qyhe-op-003", "高*兰", "operator", "cancelled"),
        m.RosterAccount("qyhe-op-004", "赵*斌", "operator", "locked"),
    ],
)


def save_roster(data_dir: Path, roster: m.OperatorRoster = ROSTER) -> OperatorRoster:
    """Write *roster* into *data_dir* as a sync would, now."""
    store = OperatorRoster(data_dir)
    store.save(roster)
    return store
