"""Where the kiosk finds its files.

Two kinds of place:

* the data directory (:func:`data_dir`): the kiosk's own state, made on first use, mode 0700;
* the shipped folders ``config/`` and ``assets/`` (:func:`shipped_dir`): read-only files that come
  with the program. In a checkout they are the repository's top-level folders; an installed wheel
  carries them as data files under ``<prefix>/share/jinjinban-kiosk/`` (``[tool.setuptools.
  data-files]`` in pyproject.toml). :func:`shipped_dir` is the one place that knows both.
"""

from __future__ import annotations

import functools
import os
import sysconfig
from pathlib import Path

APP_DIR_NAME = "jinjinban-kiosk"
SHIPPED_FOLDERS = ("config", "assets")
# A file every copy of the shipped folders has: how a folder proves it is the real one.
_MARKER = Path("config") / "default.toml"


class ShippedFilesMissing(FileNotFoundError):
    """Neither a checkout nor an installed copy of ``config/`` and ``assets/`` was found."""


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


def shipped_dir(name: str) -> Path:
    """The shipped folder *name* (``"config"`` or ``"assets"``), from a checkout or a wheel.

    Raises :class:`ShippedFilesMissing` naming the places looked at. The answer is cached: the
    folders do not move while the program runs.
    """
    if name not in SHIPPED_FOLDERS:
        raise ValueError(f"not a shipped folder: {name!r} (known: {', '.join(SHIPPED_FOLDERS)})")
    return _shipped_root() / name


@functools.cache
def _shipped_root() -> Path:
    candidates = _candidate_roots()
    for root in candidates:
        if (root / _MARKER).is_file():
            return root
    looked = ", ".join(str(root) for root in candidates)
    raise ShippedFilesMissing(f"{_MARKER} not found (looked in: {looked}); reinstall the kiosk")


def _candidate_roots() -> list[Path]:
    """Checkout first (the package's parent holding pyproject.toml), then the installed data."""
    roots = []
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file():
        roots.append(checkout)
    roots.append(Path(sysconfig.get_path("data")) / "share" / APP_DIR_NAME)
    roots.extend(_recorded_roots())
    return roots


def _recorded_roots() -> list[Path]:
    """Where the installer put the data files, from the wheel's RECORD (``pip install --user``,
    ``--prefix`` and other schemes whose data path is not this interpreter's default)."""
    from importlib import metadata

    try:
        files = metadata.distribution(APP_DIR_NAME).files or []
    except metadata.PackageNotFoundError:
        return []
    tail = ("share", APP_DIR_NAME, *_MARKER.parts)
    for record in files:
        if tuple(record.parts[-len(tail) :]) == tail:
            return [Path(record.locate()).resolve().parents[len(_MARKER.parts) - 1]]
    return []
