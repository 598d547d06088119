"""Private state files: replaced whole, mode 0600, no temporary file left behind on failure."""

from __future__ import annotations

import os
import stat

import pytest

from kiosk.services.durable_files import fsync_dir, write_private_file


def test_a_file_is_created_private_and_replaced_whole(tmp_path):
    target = tmp_path / "state.json"
    write_private_file(target, b'{"open": {}}')
    assert target.read_bytes() == b'{"open": {}}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    target.chmod(0o644)  # an old file with a wider mode is replaced by a private one
    write_private_file(target, b"x" * 200_000)  # larger than one write() may take
    assert target.read_bytes() == b"x" * 200_000
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_a_failed_replace_leaves_the_old_target_and_no_temporary_file(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()  # a directory cannot be replaced by a file
    (target / "keep").write_text("old", encoding="utf-8")
    with pytest.raises(OSError):
        write_private_file(target, b"new")
    assert (target / "keep").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_a_missing_directory_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_private_file(tmp_path / "absent" / "state.json", b"{}")
    with pytest.raises(FileNotFoundError):
        fsync_dir(tmp_path / "absent")
    fsync_dir(tmp_path)  # an existing directory is fine
    assert os.listdir(tmp_path) == []
