"""Helpers shared by the maintenance tests (imported, never copied)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import requests
from gui_child import give_seeded_platform

from kiosk.config import load_config
from kiosk.services import api_models as m
from kiosk.services.backend_client import BackendClient
from kiosk.services.embedded_backend import start_embedded_backend
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


@contextlib.contextmanager
def demo_platform(data_dir: Path) -> Iterator[BackendClient]:
    """The kiosk's own demo platform (the reference server on 127.0.0.1, from a seeded copy,
    its database in *data_dir* as ``kiosk`` commands find it) and a signed client of the demo
    kiosk, registered in the demo county (140431)."""
    give_seeded_platform(data_dir)
    config = load_config()
    kiosk_id = config.kiosk.device_id
    url, secret, handle = start_embedded_backend(data_dir, kiosk_id)
    client = BackendClient.from_config(requests.Session(), config.backend, url, kiosk_id, secret)
    try:
        client.register("test", config.kiosk.service_point, "140431", [])
        yield client
    finally:
        client.close()
        handle.stop()
