"""Per-request output folders and the removal of old ones."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest

from dancegen.io.outputs import OutputDir


def _age(path: Path, seconds: float) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_output_dir_removes_only_old_request_folders(tmp_path):
    old = OutputDir(tmp_path, 3600).create()
    (old / "video.mp4").write_bytes(b"x")
    young = OutputDir(tmp_path, 3600).create()
    other = tmp_path / "not-a-request"
    other.mkdir()
    for p in (old, other):
        _age(p, 7200)
    assert old.exists()  # creating `young` did not remove it: it was new then

    new = OutputDir(tmp_path, 3600).create()
    assert new.is_dir() and new.parent == tmp_path and list(new.iterdir()) == []
    assert not old.exists()
    assert young.is_dir() and other.is_dir()
    assert len({old, young, new}) == 3


def test_output_dir_default_root_and_validation(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # stdlib's temp folder, not our module
    made = OutputDir().create()
    assert made.parent == tmp_path / "dancegen-outputs" and made.is_dir()
    assert OutputDir().path() == tmp_path / "dancegen-outputs"
    _age(made, 10)
    assert OutputDir(max_age_s=5).remove_old() == [made]
    with pytest.raises(ValueError, match="max_age_s"):
        OutputDir(tmp_path, max_age_s=-1).create()
