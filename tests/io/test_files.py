"""Files written whole or not at all, and file digests."""

from __future__ import annotations

import hashlib
import os
import stat

import numpy as np
import pytest

from dancegen.io.files import file_sha256, temporary_file, temporary_folder, write_atomic, write_text_atomic
from dancegen.io.video import VideoWriter


def test_a_failed_write_leaves_the_old_file_and_nothing_else(tmp_path):
    target = write_text_atomic(tmp_path / "sub" / "a.txt", "old")  # the folder is made

    def half_then_fail(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, half_then_fail)
    assert target.read_text() == "old" and sorted(p.name for p in target.parent.iterdir()) == ["a.txt"]
    write_atomic(target, lambda tmp: tmp.write_bytes(b"new"))
    assert target.read_bytes() == b"new" and len(list(target.parent.iterdir())) == 1


def test_file_sha256_reads_in_blocks_and_matches_hashlib(tmp_path):
    data = bytes(range(256)) * 1000
    (tmp_path / "f").write_bytes(data)
    assert file_sha256(tmp_path / "f", block=1000) == hashlib.sha256(data).hexdigest()


def test_without_replace_the_first_writer_wins_and_nothing_is_left_behind(tmp_path):
    target = write_atomic(tmp_path / "key", lambda tmp: tmp.write_bytes(b"first"), replace=False)
    with pytest.raises(FileExistsError):
        write_atomic(target, lambda tmp: tmp.write_bytes(b"second"), replace=False)
    assert target.read_bytes() == b"first" and [p.name for p in tmp_path.iterdir()] == ["key"]


@pytest.fixture()
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_what_we_write_others_may_read_as_the_umask_says(tmp_path, umask_022):
    """A study folder shared by several machines or served by another user's process: our files get the mode any
    new file gets (0644 under umask 022), not tempfile's 0600; folders renamed into place likewise 0755."""
    written = write_text_atomic(tmp_path / "results.csv", "a,b\n")
    video = tmp_path / "clip.mp4"
    with VideoWriter(video, 4) as writer:
        writer.write(np.zeros((2, 16, 16, 3), np.uint8))
    folder = temporary_folder(tmp_path, ".clip.partial-")
    assert stat.S_IMODE(written.stat().st_mode) == 0o644
    assert stat.S_IMODE(video.stat().st_mode) == 0o644
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert stat.S_IMODE(temporary_file(tmp_path, "x").stat().st_mode) == 0o644
