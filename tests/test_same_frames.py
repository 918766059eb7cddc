"""The frames of a short A/B generation, bit for bit as they were before the code was reorganised into packages.

Recorded with the flat-module code (commit 25ddef6) on the tiny preset, one CPU thread: the poses, the skeleton
images and both videos of a 2 s A/B run at 64 x 64, and 30 s dances that use every one of the twelve moves. On the
machine kind it was recorded on (same CPU features, torch and numpy) everything must match exactly. Elsewhere float
kernels may round differently, so there the poses must agree to 1e-3 px and the frames to one grey level on at most
1 % of the values.
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

import numpy as np
import pytest
import torch
from support.audio_synth import synth_track
from support.paths import ASTRONAUT, FIXTURES, SAMPLE_MUSIC

from dancegen.choreo import ProceduralChoreographer
from dancegen.config import GenerationSettings, StudioConfig
from dancegen.music import analyse_samples
from dancegen.pose.layout import body_from_face
from dancegen.studio import DanceStudio

RECORD = json.loads((FIXTURES / "golden_ab.json").read_text())


def sha256(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def machine() -> str:
    """What decides float rounding here: CPU model and features, torch and numpy."""
    flags = model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "flags" and not flags:
                flags = " ".join(sorted(value.split()))
            elif key.strip() == "model name" and not model:
                model = value.strip()
    text = f"{platform.machine()}|{model}|{flags}|torch {torch.__version__}|numpy {np.__version__}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.fixture(scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # thread count changes the reduction order of CPU kernels
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def studio(tmp_path_factory, one_thread):
    return DanceStudio(StudioConfig(preset="tiny", output_root=str(tmp_path_factory.mktemp("out")), progress_bar=False))


def test_short_ab_generation_gives_the_recorded_frames(studio):
    settings = GenerationSettings(**RECORD["settings"])
    job = studio.prepare(ASTRONAUT, SAMPLE_MUSIC, settings)
    output = studio.diffuse(job)
    poses = job.skeletons.poses
    skeletons = np.stack([job.skeletons[i] for i in range(len(job.skeletons))])
    got = {"poses": sha256(poses), "skeleton": sha256(skeletons), "baseline": sha256(output.videos["baseline"]),
           "identity": sha256(output.videos["identity"])}
    assert list(poses.shape) == RECORD["poses_shape"]
    if machine() == RECORD["machine"]:
        assert got == RECORD["hashes"]
        return
    recorded = np.load(FIXTURES / "golden_ab_64x64.npz")
    np.testing.assert_allclose(poses, recorded["poses"], atol=1e-3)
    for name in ("baseline", "identity"):
        diff = np.abs(output.videos[name].astype(int) - recorded[name].astype(int))
        assert diff.max() <= 1 and (diff > 0).mean() <= 0.01, name


@pytest.mark.parametrize("framing", ["photo", "whole_body"])
def test_a_30_second_dance_gives_the_recorded_poses(studio, framing):
    settings = GenerationSettings(seconds=30.0, fps=12.0, seed=1234, framing=framing)
    job = studio.prepare(ASTRONAUT, SAMPLE_MUSIC, settings)
    poses = job.skeletons.poses
    assert list(poses.shape) == RECORD["dances"][framing + "_shape"]
    if machine() == RECORD["machine"]:
        assert sha256(poses) == RECORD["dances"][framing]


@pytest.mark.parametrize("song", ["96-3-chords", "150-4-drums"])
@pytest.mark.parametrize("fit", ["scale", "clip"])
def test_dances_with_every_move_give_the_recorded_poses(song, fit):
    """Quiet then loud synthetic songs with a pick-up beat: calm, medium and loud moves, mirrored and not."""
    bpm, meter, style = {"96-3-chords": (96.0, 3, "chords"), "150-4-drums": (150.0, 4, "drums")}[song]
    y, _, _ = synth_track(bpm, 30.0, sr=22050, meter=meter, style=style, seed=3, pickup=1)
    y = y * np.where(np.arange(y.size) / 22050 < 12.0, 0.15, 1.0).astype(np.float32)
    body = body_from_face((230, 60, 282, 122), (512, 512), (256, 256), fit=fit)
    poses = ProceduralChoreographer()(analyse_samples(y, 22050), 12.0, 7, body)
    if machine() == RECORD["machine"]:
        assert sha256(poses) == RECORD["synthetic_dances"][f"{song}-{fit}"]
