"""Reading the packaged and site-supplied TOML data files (catalogue, items, holidays).

Every loader wants the same three failures told apart — the file cannot be read, it is not
UTF-8, it is not TOML — and reported under its own error type naming the file, so this module
reads and parses, and raises :class:`TomlFileError` whose text the loader puts in its own error.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


class TomlFileError(ValueError):
    """Why a TOML file could not be loaded: ``cannot read file: …``, ``not UTF-8 text: …`` or
    ``invalid TOML: …`` (the text does not name the file; the caller's error does)."""


def load_toml_file(path: str | Path) -> dict[str, Any]:
    """The parsed document in *path*; raises :class:`TomlFileError` (never OSError or
    UnicodeDecodeError)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise TomlFileError(f"cannot read file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TomlFileError(f"not UTF-8 text: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TomlFileError(f"invalid TOML: {exc}") from None
