"""dancegen train on the tiny preset, on clips made here: the loss falls, only the chosen parameters learn, a
checkpoint resumes exactly, the result loads strictly into generation, and two processes train as one."""

import csv
import json
import os
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest
import torch
from support.clips import make_clip
from support.paths import ASTRONAUT, REPO
from torch.utils.data import default_collate

from dancegen import models
from dancegen.config import TrainSettings
from dancegen.errors import SettingsError
from dancegen.models.trained import part_keys
from dancegen.train.checkpoint import latest_checkpoint
from dancegen.train.data import ClipDataset, scan_clips
from dancegen.train.step import Denoiser, micro_step_loss
from dancegen.train.trainer import select_trainable, setup_networks, train

TINY = dict(frames=4, size=(64, 64), workers=0, device="cpu")
STEPS, LR = 16, 1e-2


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips")
    for i in range(3):
        make_clip(root / f"dancer{i}", frames=10, seed=i)
    return root


@pytest.fixture(scope="module")
def run(clips, tmp_path_factory):
    """16 steps of the default parts (face encoder, identity projections), a checkpoint every 4, the data loaded
    in a worker process (the other runs load it in the main one: the samples must not change)."""
    out = tmp_path_factory.mktemp("run") / "out"
    said = []
    settings = TrainSettings(steps=STEPS, lr=LR, checkpoint_every=4, keep_checkpoints=2, **{**TINY, "workers": 1})
    result = train(settings, clips, out, say=said.append)
    return out, result, said


def weights_of(folder):
    return {f.name: torch.load(f, weights_only=True) for f in sorted(folder.glob("*.pth"))}


def untrained_losses(clips, analyser, positions):
    """The loss of the untrained networks on the samples and noise the run drew at ``positions``."""
    base = models.build("tiny", seed=0)
    data = ClipDataset(scan_clips(clips, 4, analyser)[0], 4, (64, 64), stride=4, seed=0)
    denoiser = Denoiser(base.unet, base.face_encoder, base.pose_net)
    with torch.no_grad():
        return [float(micro_step_loss(denoiser, base, default_collate([data[p]]), slots=1,
                                      sigma_sampling="cosine_interpolated", dropout=0.1, face_weight=1.0,
                                      device=torch.device("cpu"), dtype=torch.float32)[0]) for p in positions]


def test_the_loss_falls(run, clips, analyser):
    """Paired with the untrained networks on exactly the samples, noise levels and noise each step drew (the noise
    level alone moves a step's loss by a factor of ten, so a run's own first and last steps are not comparable):
    equal at step 1, lower and lower after."""
    out, result, said = run
    with (out / "train_log.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == list(range(1, STEPS + 1))
    assert [float(r["lr"]) for r in rows] == [LR] * STEPS and int(rows[-1]["samples"]) == STEPS
    losses = np.array([float(r["loss"]) for r in rows])
    assert np.allclose(losses, result.losses, rtol=1e-5)
    control = np.array(untrained_losses(clips, analyser, range(STEPS)))
    assert losses[0] == pytest.approx(control[0], rel=1e-4)
    gain = 1 - losses / control  # [STEPS]: how much lower than untrained, per step
    assert gain[-8:].mean() > 0.03 and gain[-8:].mean() > gain[:4].mean() + 0.02, gain.round(3)
    assert any("training on 3 clip(s)" in line for line in said)


def test_only_the_chosen_parameters_change(run):
    out, result, _ = run
    assert result.parts == ["face_encoder", "identity"]
    trained = models.load_models(models.resolve_models(models.get_preset("tiny"), out))
    base = models.build("tiny", seed=0)
    chosen = part_keys(base, result.parts)
    for name in ("unet", "face_encoder", "pose_net", "vae", "image_encoder"):
        after, before = getattr(trained, name).state_dict(), getattr(base, name).state_dict()
        changed = {k for k in after if not torch.equal(after[k], before[k])}
        assert changed == set(chosen.get(name, [])), name


def test_optional_parts_get_gradients_and_nothing_else_does(clips, analyser):
    tiny = models.build("tiny", seed=0)
    chosen = dict(select_trainable(tiny, ["face_encoder", "identity", "unet_attention", "pose_net"]))
    data = ClipDataset(scan_clips(clips, 4, analyser)[0], 4, (64, 64), stride=4, seed=0)
    loss, _ = micro_step_loss(Denoiser(tiny.unet, tiny.face_encoder, tiny.pose_net), tiny, default_collate([data[0]]),
                              slots=1, sigma_sampling="log_normal", dropout=0.0, face_weight=1.0,
                              device=torch.device("cpu"), dtype=torch.float32)
    loss.backward()
    with_grad = {f"{m}.{k}" for m, module in tiny.modules().items() for k, p in module.named_parameters()
                 if p.grad is not None}
    assert with_grad == set(chosen)
    assert any(".temporal_transformer_blocks." in k for k in chosen) and any(k.startswith("pose_net.") for k in chosen)
    assert not any(".resnets." in k or "conv_in" in k for k in chosen)
    assert sum(float(p.grad.abs().sum()) > 0 for p in chosen.values()) > 0.9 * len(chosen)


def test_gradient_checkpointing_gives_the_same_gradients(clips, analyser):
    data = ClipDataset(scan_clips(clips, 4, analyser)[0], 4, (64, 64), stride=4, seed=0)
    batch = default_collate([data[1]])
    grads = []
    for checkpointing in (False, True):
        tiny = models.build("tiny", seed=0)
        settings = TrainSettings(gradient_checkpointing=checkpointing, **TINY)
        trainable, dtype, denoiser = setup_networks(tiny, settings)
        loss, _ = micro_step_loss(denoiser, tiny, batch, slots=1, sigma_sampling="cosine_interpolated", dropout=0.1,
                                  face_weight=1.0, device=torch.device("cpu"), dtype=dtype)
        loss.backward()
        grads.append({name: p.grad for name, p in trainable})
        assert tiny.unet.is_gradient_checkpointing == checkpointing
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        assert torch.allclose(grads[0][name], grads[1][name], rtol=1e-4, atol=1e-7), name


def test_a_checkpoint_resumes_to_the_same_step_optimiser_and_data(run, clips, tmp_path):
    out, result, _ = run
    kept = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert kept == ["step-00000012", "step-00000016"]  # a checkpoint every 4 steps, the newest 2 kept
    state = json.loads((out / "checkpoints" / "step-00000012" / "state.json").read_text())
    assert (state["step"], state["micro_steps"], state["samples"], state["processes"]) == (12, 12, 12, 1)
    # a run stopped after step 12 (and one that died while saving step 16) goes on from step 12
    resumed = tmp_path / "resumed"
    shutil.copytree(out / "checkpoints" / "step-00000012", resumed / "checkpoints" / "step-00000012")
    half = shutil.copytree(out / "checkpoints" / "step-00000016", resumed / "checkpoints" / ".step-00000016.partial-x")
    assert latest_checkpoint(resumed).name == "step-00000012"
    said = []
    again = train(TrainSettings(steps=STEPS, lr=LR, checkpoint_every=4, keep_checkpoints=2, resume=True, **TINY),
                  clips, resumed, say=said.append)
    assert any("resuming step-00000012: step 12, 12 samples drawn" in line for line in said)
    assert np.allclose(again.losses, result.losses[12:], rtol=1e-6, atol=0)
    ours, theirs = weights_of(resumed), weights_of(out)
    assert ours.keys() == theirs.keys() == {"face_encoder.pth", "unet_trained.pth"}
    for name in ours:
        for key in ours[name]:
            assert torch.allclose(ours[name][key], theirs[name][key], rtol=0, atol=1e-6), (name, key)
    a, b = (torch.load(d / "checkpoints" / "step-00000016" / "optimizer.pt", weights_only=True) for d in (resumed, out))
    assert a["state"].keys() == b["state"].keys() and int(a["state"][0]["step"]) == STEPS
    for i in a["state"]:
        assert torch.allclose(a["state"][i]["exp_avg_sq"], b["state"][i]["exp_avg_sq"], rtol=1e-5, atol=1e-12)
    assert not half.exists()  # the half-written checkpoint was cleared away
    with pytest.raises(SettingsError, match="seed 0 -> 1"):
        train(TrainSettings(steps=STEPS, seed=1, resume=True, **TINY), clips, resumed)


def test_runs_that_would_mix_or_miss_their_weights_are_refused(run, clips, tmp_path):
    out = run[0]
    with pytest.raises(SettingsError, match="already holds a training run"):
        train(TrainSettings(steps=1, **TINY), clips, out)
    with pytest.raises(SettingsError, match="not a folder written by dancegen train"):
        train(TrainSettings(steps=1, init=str(tmp_path), **TINY), clips, tmp_path / "new")
    with pytest.raises(SettingsError, match="--init CHECKPOINTS"):
        train(TrainSettings(steps=1, preset="stableanimator", **TINY), clips, tmp_path / "new")


def test_generate_loads_the_trained_weights(run, tmp_path, drum_music):
    from dancegen.cli.generate import main

    out = run[0]
    video = tmp_path / "video"
    status = main(["--photo", str(ASTRONAUT), "--music", str(drum_music), "--out", str(video), "--preset", "tiny",
                   "--weights", str(out), "--seconds", "2", "--fps", "4", "--steps", "1", "--size", "64", "64"])
    assert status == 0
    weights = json.loads((video / "report.json").read_text())["weights"]
    assert weights == f"random (seed 0) + trained face_encoder, identity from {out} (step {STEPS})"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_and_accumulation_train_like_one_with_twice_the_batch(clips, tmp_path):
    """accelerate launch, two CPU processes with one clip each: the same samples and noise as one process with two
    clips, and the gradients averaged over both, so the same loss and the same update (Adam's first step moves a
    weight by about the learning rate, 1e-2, in the direction of its gradient's sign; float rounding moves it by
    far less). Gradient accumulation over two micro-steps of one clip gives the same too."""
    two = tmp_path / "two"
    flags = ["--steps", "1", "--lr", str(LR), "--frames", "4", "--size", "64", "64", "--workers", "0",
             "--device", "cpu"]
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port",
           str(free_port()), "-m", "dancegen", "train", "--data", str(clips), "--out", str(two), *flags]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = json.loads((two / "checkpoints" / "step-00000001" / "state.json").read_text())
    assert (state["processes"], state["batch"], state["samples"]) == (2, 1, 2)
    one = train(TrainSettings(steps=1, lr=LR, batch=2, **TINY), clips, tmp_path / "one", say=lambda line: None)
    # and one process accumulating the gradients of two micro-steps of one clip does the same
    accumulated = train(TrainSettings(steps=1, lr=LR, grad_accum=2, **TINY), clips, tmp_path / "accumulated",
                        say=lambda line: None)
    with (two / "train_log.csv").open() as fh:
        losses = [float(row["loss"]) for row in csv.DictReader(fh)]
    assert losses == pytest.approx(one.losses, rel=1e-5) and accumulated.losses == pytest.approx(one.losses, rel=1e-5)
    theirs = weights_of(tmp_path / "one")
    start = models.build("tiny", seed=0).face_encoder.state_dict()
    for folder in (two, tmp_path / "accumulated"):
        ours = weights_of(folder)
        for name in ours:
            for key in ours[name]:
                assert torch.allclose(ours[name][key], theirs[name][key], rtol=0, atol=1e-3), (folder, name, key)
        moved = torch.cat([(ours["face_encoder.pth"][k] - start[k]).abs().flatten() for k in start])
        assert float(moved.median()) > 5e-3  # it did learn: most weights moved by about one learning rate
