"""The operating system's time zone set for one test (TZ + tzset), restored afterwards."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

FOREIGN_ZONES = ["UTC", "America/New_York"]


@contextmanager
def os_time_zone(name: str) -> Iterator[str]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield name
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.fixture(name="os_zone", params=FOREIGN_ZONES)
def os_zone_fixture(request):
    """This test's process runs with the OS zone set to a foreign one."""
    with os_time_zone(request.param) as name:
        yield name
