"""`kiosk diag bundle --out DIR`: a zip for the vendor — logs, config, versions, inventory.

What goes in (and nothing else from the data directory — no databases, no printed-receipt
images, no audit log, no keys):

* ``logs/kiosk.log*`` — the rotated JSON logs, every line scrubbed again (ID numbers, phone
  numbers, long digit runs) in case a line escaped the log filter (e.g. a crash trace);
* ``config.json`` — the effective configuration with secrets hidden and string values scrubbed;
* ``versions.json`` — kiosk, Python, Kivy, pyserial, pyscard, OS and kernel;
* ``inventory.json`` — serial ports (VID:PID), PC/SC readers, the devices' last saved health;
* ``audit-verify.json`` — whether the audit chain is intact (counts only, no accounts);
* ``README.txt`` — what the bundle is and when it was made.

The zip is written under a temporary name and renamed, mode 0600. Never imports Kivy (Kivy's
version is read from the installed package's metadata).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("jinjinban-kiosk", "kivy", "pyserial", "pyscard", "requests", "sqlalchemy")


def register(diag_subparsers: argparse._SubParsersAction) -> None:
    parser = diag_subparsers.add_parser(
        "bundle",
        help="write a zip of logs, config, versions and inventory (no personal data)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--out", required=True, help="directory to write the zip into")
    parser.add_argument("--config", dest="bundle_config", help="kiosk config file (TOML)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.paths import data_dir

    config = load_config(getattr(args, "bundle_config", None) or getattr(args, "config", None))
    try:
        path = write_bundle(config, data_dir(config.kiosk.data_dir), Path(args.out))
    except OSError as exc:
        print(f"cannot write the bundle: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


def versions() -> dict:
    """Versions of the kiosk, Python, the key libraries and the OS (no personal data)."""
    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "packages": packages,
        "os": _os_release(),
        "kernel": platform.release(),
        "machine": platform.machine(),
    }


def _os_release() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def scrubbed_config(config: Any) -> dict:
    """The configuration with secrets hidden and every string value scrubbed."""
    from kiosk.logsetup import scrub
    from kiosk.services.maintenance import redacted_config

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, str):
            return scrub(value)
        return value

    return walk(redacted_config(config))


def _log_files(directory: Path) -> list[Path]:
    from kiosk.logsetup import LOG_FILE_NAME

    logs = directory / "logs"
    if not logs.is_dir():
        return []
    return sorted(p for p in logs.iterdir() if p.is_file() and p.name.startswith(LOG_FILE_NAME))


def _scrubbed_lines(path: Path) -> str:
    from kiosk.logsetup import scrub

    with open(path, encoding="utf-8", errors="replace") as fh:
        return "".join(scrub(line) for line in fh)


def write_bundle(
    config: Any,
    directory: Path,
    out_dir: Path,
    *,
    now: dt.datetime | None = None,
    inventory: dict | None = None,
) -> Path:
    """Write the bundle zip into *out_dir* (created if needed) and return its path.

    *inventory* defaults to :func:`kiosk.diag.all.inventory` plus the devices' last saved
    health; raises OSError if the zip cannot be written.
    """
    from kiosk.diag.all import inventory as find_inventory
    from kiosk.services.acceptance import load_device_health
    from kiosk.services.audit import AuditLog

    now = now or dt.datetime.now()
    if inventory is None:
        inventory = find_inventory(config)
        healths, note = load_device_health(directory)
        inventory["device_health"] = [
            {
                "name": h.name,
                "state": h.state.value,
                "detail": h.detail,
                "last_error": h.last_error,
                "counters": h.counters,
                "transport": h.transport,
            }
            for h in healths
        ]
        inventory["device_health_note"] = note
    verify = AuditLog(directory).verify()
    out_dir.mkdir(parents=True, exist_ok=True)
    device = "".join(c if c.isalnum() or c in "-_" else "_" for c in config.kiosk.device_id)
    path = out_dir / f"kiosk-diag-{device}-{now:%Y%m%d-%H%M%S}.zip"
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
        for log_file in _log_files(directory):
            zf.writestr(f"logs/{log_file.name}", _scrubbed_lines(log_file))
        zf.writestr("config.json", _dump(scrubbed_config(config)))
        zf.writestr("versions.json", _dump(versions()))
        zf.writestr("inventory.json", _dump(_scrub_tree(inventory)))
        zf.writestr(
            "audit-verify.json",
            _dump(
                {
                    "ok": verify.ok,
                    "verified": verify.verified,
                    "entries": verify.entries,
                    "broken_seq": verify.broken_seq,
                    "reason": verify.reason,
                    "chain_breaks": len(verify.chain_breaks),
                }
            ),
        )
        zf.writestr("README.txt", _readme(config, now))
    os.replace(tmp, path)
    return path


def _scrub_tree(value: Any) -> Any:
    from kiosk.logsetup import scrub

    if isinstance(value, dict):
        return {k: _scrub_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_tree(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _readme(config: Any, now: dt.datetime) -> str:
    return (
        "就近办自助机诊断包 / kiosk diagnostics bundle\n"
        f"device: {config.kiosk.device_id}\n"
        f"made:   {now:%Y-%m-%d %H:%M:%S} (local time)\n\n"
        "Contents: logs/ (scrubbed JSON logs), config.json (secrets hidden), versions.json,\n"
        "inventory.json (ports, readers, last device health), audit-verify.json.\n"
        "No personal data: no databases, receipts, keys or audit entries are included.\n"
    )
