"""Where the kiosk keeps its files: one data directory, made on first use with mode 0700."""

from __future__ import annotations

import os
from pathlib import Path

APP_DIR_NAME = "jinjinban-kiosk"


def data_dir(configured: str = "", environ: dict[str, str] | None = None) -> Path:
    """Return the data directory: config value, else $KIOSK_DATA_DIR, else XDG data home."""
    environ = dict(os.environ) if environ is None else environ
    if configured:
        path = Path(configured)
    elif environ.get("KIOSK_DATA_DIR"):
        path = Path(environ["KIOSK_DATA_DIR"])
    else:
        xdg = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        path = Path(xdg) / APP_DIR_NAME
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
