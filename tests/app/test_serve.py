"""``python app.py``: a bad flag or a failed start is one line and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_app_start_up_failure_is_one_line_and_status_2(tmp_path):
    missing = tmp_path / "no-weights-here"
    done = subprocess.run([sys.executable, str(REPO / "app.py"), "--preset", "stableanimator", "--weights",
                           str(missing)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [f"error: weights folder not found: {missing}"]


@pytest.mark.parametrize("flag, value, message", [("--unet-batch", "0", "unet batch must be at least 1, got 0"),
                                                  ("--concurrency", "0", "concurrency must be at least 1, got 0")])
def test_app_bad_flag_is_one_line_and_status_2(flag, value, message):
    done = subprocess.run([sys.executable, str(REPO / "app.py"), flag, value], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 2
    assert [line for line in done.stderr.splitlines() if line.strip()] == [f"error: {message}"]
