"""The frames of a short A/B generation and the poses of recorded dances, as they were recorded.

* Dances (every machine): the poses of 30-s dances in every style on hand-built music (an exact beat grid, so no
  audio analysis that could round differently) at whole-body framing, one at the photo's scale and one in triple
  meter, are stored in ``tests/fixtures/golden_dances.npz`` (float32) and must match to 1e-3 px everywhere.
* A/B video (``golden_ab.json`` + ``golden_ab_64x64.npz``): the poses, skeleton images and both videos of a 2 s
  A/B run at 64 x 64 on the tiny preset, one CPU thread. On the machine kind it was recorded on (same CPU
  features, torch and numpy) the hashes must match exactly; elsewhere the poses must agree to 1e-3 px and the
  frames to one grey level on at most 1 % of the values.

Both were recorded with the sectioned choreographer (dancegen.choreo.planner, plan document version 1). To record
them again after a deliberate change of the dance, run ``python tests/test_same_frames.py --record`` from the
repository root (about a minute on a CPU) and commit the three fixture files.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

if __name__ == "__main__":  # run as a script (--record): the repository and tests/ as pytest would set them
    sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from choreo.handmade import hand_music  # noqa: E402
from support.paths import ASTRONAUT, FIXTURES, SAMPLE_MUSIC  # noqa: E402

from dancegen.choreo import STYLES, ProceduralChoreographer  # noqa: E402
from dancegen.config import GenerationSettings, StudioConfig  # noqa: E402
from dancegen.pose.layout import body_from_face  # noqa: E402
from dancegen.studio import DanceStudio  # noqa: E402

AB_JSON = FIXTURES / "golden_ab.json"
AB_NPZ = FIXTURES / "golden_ab_64x64.npz"
DANCES_NPZ = FIXTURES / "golden_dances.npz"
AB_SETTINGS = {"seconds": 2.0, "steps": 2, "fps": 8.0, "seed": 1234, "alpha": 1.0, "size": [64, 64]}


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


def _music(meter: int):
    """30 s of hand-built music: 4/4 at 120 BPM with a pick-up beat and a quiet verse / loud chorus / verse form,
    or 3/4 at 90 BPM."""
    from dancegen.music import Section

    if meter == 3:
        return hand_music((2 / 3) * np.arange(1, 45), 30.0, 3)
    beats = 0.5 + 0.5 * np.arange(62)
    loud = lambda t: np.where((t >= 9.0) & (t < 17.0), 0.9, 0.45)  # noqa: E731
    accents = lambda t: 0.9 * (np.abs((t - 1.0) % 2.0) < 0.03)  # noqa: E731
    return hand_music(beats, 30.0, 4, rms=loud, onset=accents, downbeat_offset=1,
                      sections=(Section("A", 0.0, 9.0), Section("B", 9.0, 17.0), Section("A", 17.0, 30.0)))


def dances() -> dict[str, np.ndarray]:
    """The recorded dances: name -> poses [360, 18, 2] float32 (30 s at 12 fps)."""
    whole = body_from_face((70, 45, 84, 62), (160, 288), (160, 288))
    photo = body_from_face((90, 30, 136, 90), (256, 256), (128, 128), fit="clip")
    ch = ProceduralChoreographer()
    out = {f"{s}-whole": ch(_music(4), 12.0, 7, whole, 360, style=s) for s in STYLES}
    out["pop-photo"] = ch(_music(4), 12.0, 7, photo, 360, style="pop")
    out["triple-whole"] = ch(_music(3), 12.0, 7, whole, 360)
    return out


@pytest.fixture(scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # thread count changes the reduction order of CPU kernels
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def studio(tmp_path_factory, one_thread):
    return DanceStudio(StudioConfig(preset="tiny", output_root=str(tmp_path_factory.mktemp("out")), progress_bar=False))


def _ab_run(studio: DanceStudio) -> dict:
    job = studio.prepare(ASTRONAUT, SAMPLE_MUSIC, GenerationSettings(**AB_SETTINGS))
    output = studio.diffuse(job)
    skeletons = np.stack([job.skeletons[i] for i in range(len(job.skeletons))])
    return {"poses": job.skeletons.poses, "skeleton": skeletons, "baseline": output.videos["baseline"],
            "identity": output.videos["identity"]}


def test_short_ab_generation_gives_the_recorded_frames(studio):
    record = json.loads(AB_JSON.read_text())
    got = _ab_run(studio)
    assert list(got["poses"].shape) == record["poses_shape"]
    if machine() == record["machine"]:
        assert {k: sha256(v) for k, v in got.items()} == record["hashes"]
        return
    recorded = np.load(AB_NPZ)
    np.testing.assert_allclose(got["poses"], recorded["poses"], atol=1e-3)
    for name in ("baseline", "identity"):
        diff = np.abs(got[name].astype(int) - recorded[name].astype(int))
        assert diff.max() <= 1 and (diff > 0).mean() <= 0.01, name


def test_dances_give_the_recorded_poses():
    recorded = np.load(DANCES_NPZ)
    got = dances()
    assert sorted(got) == sorted(recorded.files)
    for name, poses in got.items():
        assert poses.shape == recorded[name].shape, name
        np.testing.assert_array_equal(np.isnan(poses), np.isnan(recorded[name]), err_msg=name)
        np.testing.assert_allclose(poses, recorded[name], atol=1e-3, err_msg=name)


def _record() -> None:
    """Record the fixtures again (see the module docstring)."""
    torch.set_num_threads(1)
    np.savez_compressed(DANCES_NPZ, **dances())
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        got = _ab_run(DanceStudio(StudioConfig(preset="tiny", output_root=out, progress_bar=False)))
    np.savez_compressed(AB_NPZ, poses=got["poses"], baseline=got["baseline"], identity=got["identity"])
    AB_JSON.write_text(json.dumps({
        "recorded_with": "the sectioned choreographer (plan document version 1), tiny preset, "
                         "torch.set_num_threads(1)",
        "machine": machine(), "settings": AB_SETTINGS, "poses_shape": list(got["poses"].shape),
        "hashes": {k: sha256(v) for k, v in got.items()}}, indent=1) + "\n")


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    _record()
