"""Shared fixtures. Each simulator gets one fixture in the test module (or here when shared)."""

from __future__ import annotations

import os

import pytest

# Kivy must not parse pytest's arguments, nor write under ~/.kivy, when a GUI test imports it.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")


# Modules that use the machine's one pcscd + vpcd (virtual card slots on fixed ports), directly or
# through a demo-mode runtime or app: under pytest-xdist they run in one worker, one at a time.
# Tests marked ``pcscd`` join them wherever they live (tests/security/test_psam.py, a benchmark).
VPCD_MODULES = frozenset(
    {
        "test_diag_all",
        "test_gui_startup",
        "test_maint_facade",
        "test_maint_runtime",
        "test_runtime_demo",
        "test_runtime_faults",
        "test_runtime_gui",
        "test_runtime_pcscd",
        "test_sscard_diag",
        "test_sscard_driver",
        "test_sscard_pcscd",
        "test_sscard_vpcd",
    }
)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    """Under ``pytest -n N --dist loadgroup`` (``make test``) a module's tests stay in one worker:
    its GUI scenarios then share their pooled app children (tests/gui_child.py), and the vpcd
    modules share one worker between them."""
    for item in items:
        module = item.module.__name__.rpartition(".")[2] if item.module else item.nodeid
        uses_vpcd = module in VPCD_MODULES or item.get_closest_marker("pcscd") is not None
        group = "vpcd" if uses_vpcd else module
        database = getattr(item, "callspec", None) and item.callspec.params.get("live")
        if database:  # a server per database (module-scoped): the halves may run side by side
            group = f"{module}[{database}]"
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A private kiosk data directory for one test (KIOSK_DATA_DIR points at it)."""
    path = tmp_path / "kiosk-data"
    path.mkdir()
    monkeypatch.setenv("KIOSK_DATA_DIR", str(path))
    monkeypatch.setenv("KIVY_HOME", str(path / "kivy"))
    return path
