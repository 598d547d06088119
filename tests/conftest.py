"""Shared fixtures. Each simulator gets one fixture in the test module (or here when shared)."""

from __future__ import annotations

import os

import pytest

# Kivy must not parse pytest's arguments, nor write under ~/.kivy, when a GUI test imports it.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A private kiosk data directory for one test (KIOSK_DATA_DIR points at it)."""
    path = tmp_path / "kiosk-data"
    path.mkdir()
    monkeypatch.setenv("KIOSK_DATA_DIR", str(path))
    monkeypatch.setenv("KIVY_HOME", str(path / "kivy"))
    return path
