"""``dancegen music``: JSON and text summaries, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import mir_eval
import numpy as np
import pytest
from support.music import MIN_BEAT_F, TEMPO_TOLERANCE
from support.paths import REPO

from dancegen.cli.music import main


def test_cli_json(encoded, capsys):
    files, beats = encoded
    assert main([str(files["flac"]), "--json", "--offset", "2", "--seconds", "8"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"duration_s", "tempo_bpm", "beats_s", "downbeats_s"} <= set(out)
    assert out["duration_s"] == 8.0 and out["offset_s"] == 2.0
    assert out["tempo_bpm"] == pytest.approx(120.0, rel=TEMPO_TOLERANCE)
    for t in out["beats_s"] + out["downbeats_s"]:
        assert round(t, 3) == t  # ms precision
    expected = beats[(beats >= 2.0) & (beats < 10.0)] - 2.0
    assert mir_eval.beat.f_measure(expected, np.array(out["beats_s"])) >= MIN_BEAT_F
    assert set(out["downbeats_s"]) <= set(out["beats_s"])


def test_cli_plain_text(encoded, capsys):
    assert main([str(encoded[0]["wav"])]) == 0
    assert "BPM" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [(["nope.wav", "--json"], "not found"), (["x.wav", "--offset", "abc"], "invalid float"), ([], "required")],
)
def test_cli_bad_input_exits_2_with_one_line(args, message, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "dancegen", "music", *args],
        check=False, capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in proc.stderr
