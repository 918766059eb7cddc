"""--resume takes the base weights from the checkpoint's manifest: an --init or --base-weights naming another base
is one clear SettingsError, and a stableanimator run resumes without --init."""

from __future__ import annotations

import json
import shutil

import pytest
from support.clips import make_clip

from dancegen.config import TrainSettings
from dancegen.errors import SettingsError, WeightsError
from dancegen.train.checkpoint import resumed_base
from dancegen.train.trainer import train

TINY = dict(frames=4, size=(64, 64), workers=0, device="cpu")


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """Two steps of the tiny preset (random base, seed 0) with a checkpoint at step 2."""
    root = tmp_path_factory.mktemp("resume-base")
    clips = root / "clips"
    make_clip(clips / "dancer", frames=10)
    out = root / "out"
    train(TrainSettings(steps=2, checkpoint_every=2, **TINY), clips, out, say=lambda line: None)
    return clips, out


def with_base(folder, base, **changes):
    """Rewrite ``folder``'s manifest with another ``base`` (and other fields); its state.json's settings too."""
    manifest = folder / "dancegen_weights.json"
    data = json.loads(manifest.read_text())
    data.update(base=base, **changes)
    manifest.write_text(json.dumps(data))
    if (folder / "state.json").is_file():
        state = json.loads((folder / "state.json").read_text())
        state["settings"].update({k: v for k, v in changes.items() if k == "preset"})
        (folder / "state.json").write_text(json.dumps(state))
    return folder


def test_an_init_naming_another_tiny_base_is_refused(first_run, tmp_path):
    clips, out = first_run
    other = with_base(shutil.copytree(out, tmp_path / "seed1", ignore=shutil.ignore_patterns("checkpoints")),
                      {"kind": "random", "seed": 1})
    with pytest.raises(SettingsError) as caught:
        train(TrainSettings(steps=2, resume=True, init=str(other), **TINY), clips, out)
    message = str(caught.value)
    assert "\n" not in message and "random networks (seed 0)" in message and "--init names" in message
    assert "(seed 1)" in message
    # the same base named again is fine: the run goes on (here: nothing left to do)
    result = train(TrainSettings(steps=2, resume=True, init=str(out), **TINY), clips, out, say=lambda line: None)
    assert result.step == 2


def test_the_checkpoints_stableanimator_base_wins_over_the_command_line(first_run, tmp_path):
    checkpoint = shutil.copytree(first_run[1] / "checkpoints" / "step-00000002", tmp_path / "step-00000002")
    recorded, other = tmp_path / "SA", tmp_path / "elsewhere"
    recorded.mkdir(), other.mkdir()
    with_base(checkpoint, {"kind": "stableanimator", "folder": str(recorded)})
    assert resumed_base(checkpoint, None, None) is None
    assert resumed_base(checkpoint, str(recorded), str(tmp_path / "." / "SA")) is None  # the same folder
    for init, base_weights, option in ((None, str(other), "--base-weights"), (str(other), None, "--init")):
        with pytest.raises(SettingsError, match=f"{option} names StableAnimator's weights in .*elsewhere"):
            resumed_base(checkpoint, init, base_weights)
    # the tiny preset's base named against a StableAnimator one
    with pytest.raises(SettingsError, match="--init names the tiny preset's random networks"):
        resumed_base(checkpoint, str(first_run[1]), None)
    # a moved base: --base-weights names its copy, which is where the base is loaded from
    recorded.rmdir()
    assert resumed_base(checkpoint, None, str(other)) == str(other)


def test_a_stableanimator_run_resumes_without_init(first_run, tmp_path):
    clips, out = first_run
    resumed = tmp_path / "sa-run"
    checkpoint = shutil.copytree(out / "checkpoints" / "step-00000002", resumed / "checkpoints" / "step-00000002")
    with_base(checkpoint, {"kind": "stableanimator", "folder": str(tmp_path / "gone")}, preset="stableanimator")
    # not "pass --init": the checkpoint names its base, which is missing here
    with pytest.raises(WeightsError, match="base weights of .* are not there"):
        train(TrainSettings(steps=2, resume=True, preset="stableanimator", **TINY), clips, resumed)
