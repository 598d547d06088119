"""Shared fixtures. Each simulator gets one fixture in the test module (or here when shared)."""

from __future__ import annotations

import os

import pytest

# Kivy must not parse pytest's arguments, nor write under ~/.kivy, when a GUI test imports it.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")


def pytest_collection_modifyitems(config, items):
    """A GUI scenario that timed out waiting for the screen runs once more.

    The scenarios tap a real app under Xvfb on shared CI machines, where a frame can be seconds
    late; a wait that runs out there says "slow", not "wrong". Only ScenarioTimeout is retried
    (a wrong screen, a wrong value or a crash fails at once), the retry shows as R in the
    report, and a scenario that times out twice fails.
    """
    for item in items:
        if item.get_closest_marker("gui"):
            item.add_marker(pytest.mark.flaky(reruns=1, only_rerun=["ScenarioTimeout"]))


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A private kiosk data directory for one test (KIOSK_DATA_DIR points at it)."""
    path = tmp_path / "kiosk-data"
    path.mkdir()
    monkeypatch.setenv("KIOSK_DATA_DIR", str(path))
    monkeypatch.setenv("KIVY_HOME", str(path / "kivy"))
    return path
