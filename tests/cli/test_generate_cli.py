"""``dancegen generate``: the videos and report on the tiny preset, one-line errors with no output left, and our own
bugs logged with an id."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from support.paths import ASTRONAUT

from dancegen.io.read import probe

FAST = dict(steps=2, fps=8.0)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "dancegen", "generate", *map(str, args)], capture_output=True,
                          text=True, timeout=600)


def test_cli_generate_writes_videos_and_report(tmp_path, drum_music):
    """With a ground truth of 1 s (the photo, still, at 4 fps) that ends half-way: its 4 frames are compared."""
    from dancegen.io.video import write_mp4

    truth = write_mp4(np.stack([np.asarray(Image.open(ASTRONAUT).convert("RGB"))] * 4), 4, tmp_path / "truth.mp4")
    out = tmp_path / "out"
    proc = run_cli("--photo", ASTRONAUT, "--music", drum_music, "--out", out, "--seconds", 2, "--fps", 4,
                   "--output-fps", 12, "--steps", 1, "--alpha", 0.5, "--id-tokens", 2, "--seed", 11,
                   "--unet-batch", 2, "--framing", "photo", "--ground-truth", truth)
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in out.iterdir()} == {"baseline.mp4", "identity.mp4", "side_by_side.mp4", "skeleton.mp4",
                                               "report.json", "choreography.json", "counts.md"}
    report = json.loads((out / "report.json").read_text())
    assert (report["alpha"], report["id_tokens"], report["seed"], report["fps"], report["frames"]) == (0.5, 2, 11,
                                                                                                        4.0, 8)
    assert report["framing"] == "photo" and (report["output_fps"], report["output_frames"]) == (12.0, 24)
    assert probe(out / "baseline.mp4").n_frames == 24  # 2 s at 12 fps: two frames in between each generated one
    for row in report["metrics"]["videos"].values():
        assert row["gt_frames"] == 4 and 0 < row["ssim"] < 1 and 0 < row["psnr"] < 30
    assert "the ground truth ends after 4 of 8 frames; only those were compared" in report["metrics"]["notes"]


@pytest.mark.parametrize("case", ["missing photo", "not an image", "silent music", "no face", "bad alpha",
                                  "bad unet batch", "missing ground truth", "output fps below fps",
                                  "zero output fps"])
def test_cli_bad_input_one_line_exit_2_no_output(tmp_path, drum_music, case):
    photo, music, extra = ASTRONAUT, drum_music, []
    if case == "missing photo":
        photo = tmp_path / "nope.jpg"
    elif case == "not an image":
        photo = tmp_path / "notes.png"
        photo.write_text("just text")
    elif case == "silent music":
        music = tmp_path / "silence.wav"
        sf.write(music, np.zeros(22050 * 3, dtype=np.float32), 22050)
    elif case == "no face":
        photo = tmp_path / "wall.png"
        Image.new("RGB", (200, 200), (90, 120, 150)).save(photo)
    elif case == "bad alpha":
        extra = ["--alpha", "-3"]
    elif case == "missing ground truth":
        extra = ["--ground-truth", tmp_path / "nope.mp4"]
    elif case == "output fps below fps":
        extra = ["--fps", "12", "--output-fps", "8"]
    elif case == "zero output fps":
        extra = ["--output-fps", "0"]
    else:
        extra = ["--unet-batch", "0"]
    out = tmp_path / "out"
    proc = run_cli("--photo", photo, "--music", music, "--out", out, "--seconds", 2, "--steps", 1, *extra)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert not out.exists()
    if "output fps" in case:
        assert lines[0].startswith("error: output fps must be")


def test_the_dancegen_console_script_is_installed():
    script = Path(sys.executable).parent / "dancegen"
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "generate" in proc.stdout and "serve" in proc.stdout


def test_our_own_bug_is_logged_with_an_id_and_reported_as_ours(tmp_path, drum_music, monkeypatch, capsys):
    """A ValueError deep inside the pipeline (the VAE decoder) is not bad input: status 1, one line naming the log,
    the traceback in the log under that id, and no partial output."""
    import tempfile

    from diffusers import AutoencoderKLTemporalDecoder

    from dancegen.cli.generate import main

    def broken(self, *args, **kwargs):
        raise ValueError("operands could not be broadcast together with shapes (4,) (3,)")

    monkeypatch.setattr(AutoencoderKLTemporalDecoder, "decode", broken)  # a library fault, injected
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # stdlib's temp folder: where the log goes
    out = tmp_path / "out"
    status = main(["--photo", str(ASTRONAUT), "--music", str(drum_music), "--out", str(out), "--seconds", "2",
                   "--fps", "4", "--steps", "1"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert status == 1 and len(lines) == 1
    log = tmp_path / "dancegen-errors.log"
    assert lines[0].startswith("error: something went wrong on our side; it was logged as ") and str(log) in lines[0]
    error_id = lines[0].split("logged as ")[1].split()[0]
    text = log.read_text()
    assert error_id in text and "Traceback" in text and "broadcast" in text and "broadcast" not in lines[0]
    assert not out.exists()
