"""Small state files that must survive a power cut whole: write beside, fsync, rename, fsync dir.

Used for the audit log's head, the maintenance PIN and its lock-out, the fault tracker's state and
the at-rest key's directory entry. Each file is private to the kiosk user (mode 0600).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_private_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace *path* with *data*, atomically and durably.

    The bytes go to a 0600 temporary file in the same directory, which is fsynced and renamed
    over *path*; then the directory is fsynced so the rename itself survives a power cut. A crash
    leaves the old file or the new one, never a mix. Raises OSError (the temporary file is
    removed; *path* is untouched). The directory must exist.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    """Flush *directory*'s entries (a file created or renamed in it) to disk."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
