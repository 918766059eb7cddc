"""Resumable checkpoints of a training run, written atomically.

``OUT/checkpoints/step-00000500/`` is a trained folder (:mod:`dancegen.models.trained`: manifest, face_encoder.pth,
unet_trained.pth, pose_net.pth when trained, so ``--weights`` loads it as it is) plus what resuming needs:

    optimizer.pt   the optimiser's state_dict (AdamW moments and step counts, per parameter group)
    scheduler.pt   the learning-rate schedule's state_dict
    scaler.pt      the fp16 gradient scaler's state_dict (fp16 runs only)
    state.json     step, data position (micro-steps and samples drawn), processes, the settings

A checkpoint is written into a hidden ``.step-N.partial-*`` folder and renamed into place when complete, so a run
killed while saving leaves no checkpoint that looks whole; such leftovers are removed at the next save. Only the
newest ``keep`` checkpoints are kept.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..errors import SettingsError, WeightsError
from ..io.files import temporary_folder
from ..models.build import DanceModels
from ..models.trained import MANIFEST, read_trained, write_trained

CHECKPOINTS = "checkpoints"
STATE = "state.json"
PREFIX = "step-"
# settings a resumed run must share with the run it continues (the sample stream and what is trained depend on them)
SAME_ON_RESUME = ("preset", "train_pose_net", "train_unet_attention", "seed", "frames", "size", "frame_stride",
                  "grad_accum")


@dataclass(frozen=True)
class ResumeState:
    """What state.json records."""

    folder: Path  # the checkpoint
    step: int  # optimiser steps done
    micro_steps: int  # micro-steps done (the data position: the next one draws from here)
    samples: int  # samples drawn, all processes together
    processes: int  # processes of the run that saved it
    batch: int  # clips per process and micro-step
    settings: dict[str, Any]  # the training settings


def checkpoint_folder(out: Path, step: int) -> Path:
    return Path(out) / CHECKPOINTS / f"{PREFIX}{step:08d}"


def latest_checkpoint(out: str | os.PathLike) -> Path | None:
    """The newest complete checkpoint under ``out``, or None."""
    root = Path(out) / CHECKPOINTS
    if not root.is_dir():
        return None
    done = [p for p in root.iterdir() if p.name.startswith(PREFIX) and (p / STATE).is_file()
            and (p / MANIFEST).is_file()]
    return max(done, key=lambda p: int(p.name[len(PREFIX):]), default=None)


def save_checkpoint(out: Path, step: int, models: DanceModels, parts: list[str], base: dict[str, Any],
                    settings: dict[str, Any], states: dict[str, Callable[[], dict]], micro_steps: int, samples: int,
                    processes: int, batch: int, keep: int) -> Path:
    """Write checkpoint ``step`` (see the module docstring); ``states`` maps file stem -> state_dict getter
    (optimizer, scheduler, scaler). -> its folder."""
    root = Path(out) / CHECKPOINTS
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(".*.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    final = checkpoint_folder(out, step)
    work = temporary_folder(root, f".{final.name}.partial-")
    try:
        write_trained(work, models, parts, base, step, settings)
        for stem, state in states.items():
            torch.save(state(), work / f"{stem}.pt")
        record = {"step": step, "micro_steps": micro_steps, "samples": samples, "processes": processes,
                  "batch": batch, "settings": settings}
        (work / STATE).write_text(json.dumps(record, indent=2))
        if final.exists():  # the same step saved again (a resumed run that had nothing left to do)
            old = final.with_name(f".{final.name}.partial-old")
            os.replace(final, old)
            shutil.rmtree(old)
        os.replace(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    done = sorted((p for p in root.iterdir() if p.name.startswith(PREFIX)), key=lambda p: int(p.name[len(PREFIX):]))
    for old in done[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def read_state(folder: Path) -> ResumeState:
    try:
        data = json.loads((folder / STATE).read_text())
        return ResumeState(folder=folder, step=int(data["step"]), micro_steps=int(data["micro_steps"]),
                           samples=int(data["samples"]), processes=int(data["processes"]), batch=int(data["batch"]),
                           settings=dict(data["settings"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WeightsError(f"checkpoint {folder} cannot be resumed: {folder / STATE} is unreadable ({exc})") from None


def check_resumable(saved: ResumeState, settings: dict[str, Any], processes: int, batch: int) -> None:
    """SettingsError naming what differs when this run cannot continue ``saved`` exactly."""
    different = [f"{key} {saved.settings.get(key)!r} -> {settings.get(key)!r}" for key in SAME_ON_RESUME
                 if _plain(saved.settings.get(key)) != _plain(settings.get(key))]
    if saved.processes * saved.batch != processes * batch:
        different.append(f"clips per micro-step {saved.processes} x {saved.batch} -> {processes} x {batch}")
    if different:
        raise SettingsError(f"cannot resume {saved.folder}: it was trained with other settings ("
                            + "; ".join(different) + "); use a new --out, or the same settings")


def _describe(base: dict[str, Any]) -> str:
    if base.get("kind") == "random":
        return f"the tiny preset's random networks (seed {base.get('seed', 0)})"
    return f"StableAnimator's weights in {base.get('folder')}"


def _same_folder(a: Any, b: Any) -> bool:
    return a is not None and b is not None and Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def resumed_base(checkpoint: Path, init: str | None, base_weights: str | None) -> str | None:
    """A resumed run's base is the one recorded in ``checkpoint``'s manifest, whatever the command line says; a
    SettingsError (one line) when ``--init`` or ``--base-weights`` names another one. ``--base-weights`` may still
    name a copy of StableAnimator's weights when the recorded folder is no longer there: -> the folder to load the
    base from instead of the recorded one (None: the recorded one)."""
    trained = read_trained(checkpoint)
    if trained is None:
        raise WeightsError(f"checkpoint {checkpoint} cannot be resumed: it has no {MANIFEST}")
    base = trained.base
    recorded = base.get("folder") if base.get("kind") == "stableanimator" else None
    missing = recorded is not None and not Path(recorded).is_dir()
    named: list[tuple[str, dict[str, Any]]] = []  # (option, the base it names)
    if base_weights is not None:
        named.append(("--base-weights", {"kind": "stableanimator", "folder": base_weights}))
    if init is not None:
        earlier = read_trained(init)
        if earlier is not None:
            if base_weights is None:
                named.append(("--init", earlier.base))
        else:
            named.append(("--init", {"kind": "stableanimator", "folder": init}))
    for option, other in named:
        if other.get("kind") != base.get("kind"):
            same = False
        elif other.get("kind") == "random":
            same = int(other.get("seed", 0)) == int(base.get("seed", 0))
        elif option == "--base-weights" and missing:
            same = True  # a copy of the recorded base, which has moved
        else:
            same = _same_folder(other.get("folder"), recorded)
        if not same:
            raise SettingsError(f"--resume continues {checkpoint.name} on the base it was trained on, "
                                f"{_describe(base)}, but {option} names {_describe(other)}: drop {option}, or "
                                "start a new run in a new --out")
    return base_weights if missing else None


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def load_states(folder: Path, targets: dict[str, Any]) -> None:
    """Load ``folder/<stem>.pt`` into each target's ``load_state_dict`` (optimizer, scheduler, scaler)."""
    for stem, target in targets.items():
        path = folder / f"{stem}.pt"
        if not path.is_file():
            raise WeightsError(f"checkpoint {folder} cannot be resumed: {path.name} is missing")
        target.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
