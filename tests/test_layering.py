"""The core (domain, devices, services) imports and runs without Kivy."""

import subprocess
import sys


def test_core_packages_do_not_import_kivy():
    code = (
        "import importlib, pkgutil, sys\n"
        "import kiosk.domain, kiosk.devices, kiosk.services, kiosk.config\n"
        "for pkg in (kiosk.domain, kiosk.devices, kiosk.services, kiosk.config):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "assert 'kivy' not in sys.modules, 'core imported kivy'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")


def test_domain_imports_nothing_of_ours_outside_domain():
    import ast
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1] / "kiosk" / "domain"
    offenders = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.startswith("kiosk") and not name.startswith("kiosk.domain"):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_cli_commands_that_need_no_ui_do_not_import_kivy():
    code = (
        "import sys\n"
        "from kiosk.cli import build_parser\n"
        "build_parser()\n"
        "assert 'kivy' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
