"""A damaged SQLite file is set aside — never deleted, never silently emptied — and a fresh one
takes its place, with every row that can still be read copied over.

A power cut on cheap storage, a full disk or a failing SD card can leave ``kiosk.sqlite3`` (the
outbox) or ``print-queue.sqlite3`` truncated or corrupt. Opening it then fails, and a kiosk that
cannot open its outbox cannot accept a single submission. :func:`check_or_quarantine` runs
SQLite's ``quick_check`` before the store is opened; a file that fails it (or is not a database
at all) is renamed, with its ``-wal``/``-shm`` companions, to ``<name>.corrupt-<UTC time>``
and recorded in ``<data_dir>/quarantine.json``. After the fresh file is created,
:func:`salvage_rows` copies every row of the named table that still reads; outbox rows keep their
Idempotency-Key, so a pending submission delivered again cannot be created twice on the platform.

The record says which file, when, why, how many rows were saved and whether the table could be
read to its end; ``kiosk outbox status`` and the maintenance outbox page show it until an
engineer has taken the file away (:func:`quarantined_files` lists only files still present).
No personal data: the record names files and counts only (payloads stay encrypted).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kiosk.services.durable_files import fsync_dir, write_private_file

log = logging.getLogger(__name__)

RECORD_FILE_NAME = "quarantine.json"
COMPANIONS = ("-wal", "-shm")
MAX_PAD_BYTES = 1 << 30  # never pad a scratch copy beyond 1 GiB, whatever a header claims
MIN_ROW_BYTES = 16  # no stored row is smaller: bounds the probing of a table cut short


@dataclass(frozen=True)
class QuarantinedFile:
    """One damaged file set aside; ``salvaged`` rows were copied into the fresh file and
    ``complete`` says whether the whole table could be read (False: rows may be missing)."""

    original: str  # file name in the data directory, e.g. kiosk.sqlite3
    moved_to: str  # file name it now has
    moved_at: str  # ISO 8601 UTC
    reason: str  # SQLite's own words (no personal data)
    salvaged: int = 0
    complete: bool = False


def check_or_quarantine(path: Path) -> QuarantinedFile | None:
    """Check the SQLite file at *path*; if it is damaged, move it aside and return the record.

    A missing or empty file is fine (it will be created). Raises OSError only if the damaged
    file cannot be moved (then nothing was changed).
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return None
    problem = _problem_of(path)
    if problem is None:
        return None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    os.replace(path, target)
    for suffix in COMPANIONS:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            os.replace(companion, target.with_name(target.name + suffix))
    fsync_dir(path.parent)
    record = QuarantinedFile(path.name, target.name, dt.datetime.now(dt.UTC).isoformat(), problem)
    log.error(
        "damaged database set aside; a fresh one is started",
        extra={"event": "store_quarantined", "state": path.name},
    )
    _append_record(path.parent, record)
    return record


def _problem_of(path: Path) -> str | None:
    """None if SQLite finds *path* sound, else a short reason."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        return f"cannot open: {exc}"[:200]
    try:
        rows = connection.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)[:200]
    finally:
        connection.close()
    results = [str(row[0]) for row in rows]
    return None if results == ["ok"] else "; ".join(results)[:200]


def salvage_rows(
    quarantined: Path,
    fresh: Path,
    table: str,
    record: QuarantinedFile,
    valid: Callable[[dict[str, Any]], bool] = lambda _row: True,
) -> int:
    """Copy every readable row of *table* from the *quarantined* file into *fresh* (same
    schema), skipping rows whose unique keys are already there and rows *valid* refuses (a
    page cut in the middle reads back as a row of zeros). Updates the record with the count
    and whether the table was read whole and sound; returns the count."""
    saved = 0
    complete = False
    copy = _readable_copy(quarantined)
    try:
        source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        source = None
    if source is not None:
        target = sqlite3.connect(fresh, timeout=30)
        try:
            saved, complete = _copy_table(source, target, table, copy.stat().st_size, valid)
        finally:
            source.close()
            target.close()
    for path in (copy, *(copy.with_name(copy.name + suffix) for suffix in COMPANIONS)):
        path.unlink(missing_ok=True)
    log.warning(
        "rows saved from a damaged database",
        extra={"event": "store_salvaged", "count": saved, "state": "complete" if complete else ""},
    )
    _replace_record(fresh.parent, record, saved, complete)
    return saved


def _readable_copy(quarantined: Path) -> Path:
    """A scratch copy of *quarantined* (and its WAL) that SQLite can read past a cut.

    A truncated file is refused as a whole ("malformed") because the header promises pages
    that are not there; padding the copy with empty pages up to the promised size lets SQLite
    read every page that survived (the empty ones fail on their own).
    """
    copy = quarantined.with_name(quarantined.name + ".salvage")
    shutil.copyfile(quarantined, copy)
    wal = quarantined.with_name(quarantined.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
    header = copy.read_bytes()[:100] if copy.stat().st_size >= 100 else b""
    if header.startswith(b"SQLite format 3\x00"):
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        promised = page_size * int.from_bytes(header[28:32], "big")
        if copy.stat().st_size < promised <= MAX_PAD_BYTES:
            with open(copy, "r+b") as fh:
                fh.truncate(promised)
    return copy


def _copy_table(source, target, table: str, size: int, valid) -> tuple[int, bool]:
    try:
        wanted = [r[1] for r in target.execute(f"PRAGMA table_info({table})")]
        have = {r[1] for r in source.execute(f"PRAGMA table_info({table})")}
    except sqlite3.DatabaseError:
        return 0, False
    columns = [c for c in wanted if c in have and c != "id"]
    if not columns:
        return 0, False
    try:
        high = source.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0
    except sqlite3.DatabaseError:
        high = size // MIN_ROW_BYTES  # the tree's right edge is gone: probe as far as could be
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    query = f"SELECT rowid, {names} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT 1"
    saved, complete, rowid = 0, True, 0
    # Hop from row to row: a damaged page costs the rows on it, not the rest of the table.
    while rowid < high:
        try:
            row = source.execute(query, (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            complete = False
            rowid += 1
            continue
        if row is None:
            break
        if row[0] <= rowid:  # a damaged interior page led back: step past it instead
            complete = False
            rowid += 1
            continue
        rowid = row[0]
        if not valid(dict(zip(columns, row[1:], strict=True))):
            complete = False
            continue
        cursor = target.execute(
            f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({marks})", row[1:]
        )
        saved += cursor.rowcount
    target.commit()
    return saved, complete


def quarantined_files(data_dir: Path) -> list[QuarantinedFile]:
    """The damaged files set aside in *data_dir* that are still there, oldest first."""
    present = []
    for record in _read_records(Path(data_dir)):
        if (Path(data_dir) / record.moved_to).exists():
            present.append(record)
    return present


def _read_records(data_dir: Path) -> list[QuarantinedFile]:
    try:
        document = json.loads((data_dir / RECORD_FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    records = []
    for item in document if isinstance(document, list) else []:
        with contextlib.suppress(TypeError, ValueError):
            records.append(QuarantinedFile(**item))
    return records


def _write_records(data_dir: Path, records: list[QuarantinedFile]) -> None:
    text = json.dumps([asdict(r) for r in records], ensure_ascii=False, indent=1)
    try:
        write_private_file(data_dir / RECORD_FILE_NAME, text.encode("utf-8"))
    except OSError:
        # The file itself is the evidence; the log line above still says what happened.
        log.exception("quarantine record not written", extra={"event": "store_quarantined"})


def _append_record(data_dir: Path, record: QuarantinedFile) -> None:
    _write_records(data_dir, [*_read_records(data_dir), record])


def _replace_record(data_dir: Path, record: QuarantinedFile, saved: int, complete: bool) -> None:
    updated = QuarantinedFile(**{**asdict(record), "salvaged": saved, "complete": complete})
    records = [updated if r.moved_to == record.moved_to else r for r in _read_records(data_dir)]
    _write_records(data_dir, records)
