"""Host memory stays flat in the song's length: frames go from the VAE straight into the video writers.

A generation where whole videos held as arrays would dominate (the tiny preset, 1 denoising step, 20 frames a
second: 1200 frames for 60 s of music, ~250 MB of frames for the two videos and the side-by-side clip) is run in a
fresh process for 10 s and for 60 s of music; the peak resident memory of the two must be within 15 %. The videos
are written at the generation rate (no frames in between; the interpolator keeps one frame,
tests/io/test_interpolate.py), which keeps this, the suite's longest test, at a few minutes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import soundfile as sf
from support.audio_synth import synth_track
from support.paths import ASTRONAUT, REPO

SCRIPT = """
import json, resource, sys, tempfile
from dancegen.config import GenerationSettings, StudioConfig
from dancegen.studio import DanceStudio
seconds, music, photo = float(sys.argv[1]), sys.argv[2], sys.argv[3]
with tempfile.TemporaryDirectory() as tmp:
    studio = DanceStudio(StudioConfig(preset="tiny", output_root=tmp, progress_bar=False))
    result = studio.generate(photo, music, GenerationSettings(seconds=seconds, steps=1, fps=20.0, output_fps=20.0))
    print(json.dumps({"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "frames": result.report["frames"]}))
"""


@pytest.fixture(scope="module")
def minute_of_music(tmp_path_factory):
    samples, _, _ = synth_track(118.0, 61.0, sr=22050, style="drums", seed=2)
    path = tmp_path_factory.mktemp("music") / "minute.wav"
    sf.write(path, samples, 22050)
    return path


def peak(seconds: float, music) -> dict:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(seconds), str(music), str(ASTRONAUT)], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_peak_memory_of_60_seconds_is_within_15_percent_of_10_seconds(minute_of_music):
    short, long = peak(10.0, minute_of_music), peak(60.0, minute_of_music)
    assert (short["frames"], long["frames"]) == (200, 1200)
    ratio = long["peak_mib"] / short["peak_mib"]
    assert ratio <= 1.15, f"10 s: {short['peak_mib']:.0f} MiB, 60 s: {long['peak_mib']:.0f} MiB (x{ratio:.2f})"
