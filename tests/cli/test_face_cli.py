"""``dancegen face``: JSON and text summaries, the crop and preview files, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from support.paths import ASTRONAUT, GROUP
from support.paths import REPO as ROOT

from dancegen.cli.face import main

EXACT_NO_FACE = "no face found in the reference photo; use a photo where the face is visible and at least ~64 px wide"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dancegen", "face", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_cli_json_and_crop(tmp_path, astro_ref):
    crop = tmp_path / "crop.png"
    out = _cli(str(ASTRONAUT), "--json", "--crop-out", str(crop))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["faces"] == 1 and doc["embedding_dim"] == 512 and doc["source"] == "offline"
    np.testing.assert_allclose(doc["largest"]["bbox"], astro_ref.largest.bbox, atol=0.01)
    assert doc["largest"]["score"] == pytest.approx(astro_ref.largest.score, abs=1e-4)
    with Image.open(crop) as im:
        assert im.size == (112, 112)
        assert np.array_equal(np.asarray(im.convert("RGB")), astro_ref.crop)


def test_cli_bad_input_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("not a photo\n")
    out = _cli(str(bad), "--json")
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: ") and "Traceback" not in out.stderr


def test_cli_in_process_summary_and_errors(capsys, tmp_path):
    assert main([str(GROUP)]) == 0
    text = capsys.readouterr().out
    assert "3 faces found; the largest (boxed in green) is used" in text and "score" in text
    missing = tmp_path / "nowhere"
    assert main([str(ASTRONAUT), "--source", "antelopev2", "--model-dir", str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and err.count("\n") == 1
    assert main([str(ASTRONAUT), "--source", "nope"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), (120, 120, 120)).save(blank)
    assert main([str(blank), "--json"]) == 2
    assert capsys.readouterr().err.strip() == "error: " + EXACT_NO_FACE
