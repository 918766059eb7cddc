"""Weights written by ``dancegen train``: the trained parts of the networks over a named base, loaded strictly.

A trained folder (what ``dancegen train --out`` writes, and each of its ``checkpoints/step-N/``) holds:

    dancegen_weights.json   the manifest: preset, base, trained parts, files (with sha256), step, settings
    face_encoder.pth        the whole face encoder, with the keys of StableAnimator's face_encoder.pth
    unet_trained.pth        the trained UNet keys only, named as in StableAnimator's unet.pth: the identity
                            projections (``...attn2.processor.id_to_k.weight`` / ``id_to_v``), or every key with
                            "attentions" in its name when the UNet's attention layers were trained too
    pose_net.pth            the whole pose net, with pose_net.pth's keys (only when it was trained)

The base is named in the manifest: ``{"kind": "random", "seed": S}`` (the tiny preset's seeded random networks) or
``{"kind": "stableanimator", "folder": DIR}`` (StableAnimator's checkpoints folder the training started from;
another copy can be named with ``--base-weights``). Loading builds or loads the base as usual, then loads each file
strictly into its module: every key the manifest's parts imply must be there with its shape, and nothing else.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from ..errors import WeightsError
from ..io.files import file_sha256, write_atomic, write_text_atomic
from .build import DanceModels, build
from .presets import Preset
from .weights import WeightPaths, load_stableanimator, load_strict, read_state_dict, resolve_weights

MANIFEST = "dancegen_weights.json"
FORMAT = "dancegen-trained-weights"
VERSION = 1
IDENTITY_KEY = re.compile(r"\.attn2\.processor\.id_to_[kv]\.weight$")


def _everything(key: str) -> bool:
    return True


# trainable part -> (module of DanceModels, which of its state_dict keys). "unet_attention" is StableAnimator's own
# selection (train.py trains every UNet parameter whose name contains "attentions"; the identity keys among them).
PARTS: dict[str, tuple[str, Callable[[str], bool]]] = {
    "face_encoder": ("face_encoder", _everything),
    "identity": ("unet", lambda key: bool(IDENTITY_KEY.search(key))),
    "unet_attention": ("unet", lambda key: "attentions" in key),
    "pose_net": ("pose_net", _everything),
}
FILES = {"face_encoder": "face_encoder.pth", "unet": "unet_trained.pth", "pose_net": "pose_net.pth"}


def part_keys(models: DanceModels, parts: Iterable[str]) -> dict[str, list[str]]:
    """Module name -> its keys that ``parts`` cover, in state_dict order (modules no part covers are left out)."""
    parts = list(parts)
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise WeightsError(f"unknown trained part(s) {', '.join(unknown)}; known: {', '.join(PARTS)}")
    out: dict[str, list[str]] = {}
    for module_name in FILES:
        tests = [PARTS[p][1] for p in parts if PARTS[p][0] == module_name]
        if tests:
            keys = getattr(models, module_name).state_dict().keys()
            out[module_name] = [k for k in keys if any(t(k) for t in tests)]
    return out


@dataclass(frozen=True)
class TrainedWeights:
    """A trained folder's manifest, read and checked (:func:`read_trained`)."""

    folder: Path  # where the files are
    preset: str  # the preset the parts were trained on
    base: dict[str, Any]  # {"kind": "random", "seed": S} or {"kind": "stableanimator", "folder": DIR}
    parts: tuple[str, ...]  # trained parts (keys of PARTS)
    files: dict[str, dict[str, str]]  # module name -> {"file": name, "sha256": hex}
    step: int  # optimiser steps behind these weights
    settings: dict[str, Any]  # the training settings (for the record)

    def describe_base(self) -> str:
        if self.base.get("kind") == "random":
            return f"random (seed {self.base.get('seed', 0)})"
        return f"StableAnimator ({self.base.get('folder')})"


def read_trained(folder: str | os.PathLike | None) -> TrainedWeights | None:
    """The manifest of a trained folder; None when ``folder`` is not one (no manifest). WeightsError when broken."""
    if folder is None:
        return None
    folder = Path(folder).expanduser()
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT or int(data.get("version", 0)) > VERSION:
            raise ValueError(f"not a {FORMAT} manifest of version {VERSION} or older")
        trained = TrainedWeights(folder=folder, preset=str(data["preset"]), base=dict(data["base"]),
                                 parts=tuple(data["parts"]), files={k: dict(v) for k, v in data["files"].items()},
                                 step=int(data["step"]), settings=dict(data.get("settings", {})))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WeightsError(f"{path} is not a readable trained-weights manifest: {exc}") from None
    unknown = [p for p in trained.parts if p not in PARTS]
    if unknown or not trained.parts:
        raise WeightsError(f"{path} names unknown trained parts: {', '.join(unknown) or 'none at all'}")
    return trained


def write_trained(folder: str | os.PathLike, models: DanceModels, parts: Iterable[str], base: dict[str, Any],
                  step: int, settings: dict[str, Any] | None = None) -> Path:
    """Write the trained parts of ``models`` and their manifest into ``folder`` (made if needed).

    Each file is written under a temporary name and renamed into place, the manifest last, and the manifest holds
    every file's sha256: a reader never takes a half-written or mismatched file for a good one."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    parts = list(parts)
    files = {}
    for module_name, keys in part_keys(models, parts).items():
        module_state = getattr(models, module_name).state_dict()
        state = {k: module_state[k].detach().to("cpu", copy=True).contiguous() for k in keys}
        target = folder / FILES[module_name]
        write_atomic(target, lambda tmp: torch.save(state, tmp))
        files[module_name] = {"file": target.name, "sha256": file_sha256(target)}
    manifest = {"format": FORMAT, "version": VERSION, "preset": str(models.preset.name), "base": base,
                "parts": parts, "files": files, "step": int(step), "settings": settings or {}}
    write_text_atomic(folder / MANIFEST, json.dumps(manifest, indent=2))
    return folder


def apply_trained(models: DanceModels, trained: TrainedWeights) -> DanceModels:
    """Load a trained folder's files strictly into ``models`` (in place); -> the models, ``weights`` naming them."""
    if trained.preset != str(models.preset.name):
        raise WeightsError(f"{trained.folder} holds weights trained on the {trained.preset} preset, not "
                           f"{models.preset.name}; run with --preset {trained.preset}")
    expected = part_keys(models, trained.parts)
    if set(trained.files) != set(expected):
        raise WeightsError(f"{trained.folder / MANIFEST} lists files for {', '.join(sorted(trained.files))}, but "
                           f"its parts ({', '.join(trained.parts)}) need {', '.join(sorted(expected))}")
    for module_name, keys in expected.items():
        entry = trained.files[module_name]
        path = trained.folder / entry["file"]
        if not path.is_file():
            raise WeightsError(f"weights file not found: {path}")
        if file_sha256(path) != entry.get("sha256"):
            raise WeightsError(f"{path} does not match its manifest (changed or half-written); train again or "
                               "take a complete checkpoint from checkpoints/")
        load_strict(getattr(models, module_name), read_state_dict(path), str(path), keys=keys)
    label = (f"{models.weights} + trained {', '.join(trained.parts)} from {trained.folder} "
             f"(step {trained.step})")
    return replace(models, weights=label)


# ---------------------------------------------------------------------------------------- whole model loading


@dataclass(frozen=True)
class ModelSource:
    """Where a preset's networks come from: :func:`resolve_models` finds the files, :func:`load_models` loads them."""

    preset: Preset  # the sizes
    paths: WeightPaths | None  # StableAnimator's files (the stableanimator preset; None for tiny)
    seed: int  # the tiny preset's random seed
    trained: TrainedWeights | None  # trained parts loaded over the base, if any

    def base(self) -> dict[str, Any]:
        """The base as a trained folder's manifest names it."""
        if self.paths is None:
            return {"kind": "random", "seed": self.seed}
        return {"kind": "stableanimator", "folder": str(self.paths.root.resolve())}


def resolve_models(preset: Preset, weights_dir: str | os.PathLike | None = None,
                   base_weights: str | os.PathLike | None = None, download: bool = False,
                   tiny_seed: int = 0) -> ModelSource:
    """``weights_dir``: StableAnimator's checkpoints folder (stableanimator preset; ignored by tiny), or a trained
    folder, whose base is its manifest's unless ``base_weights`` names another StableAnimator folder. Checks that
    the files exist; loads nothing."""
    trained = read_trained(weights_dir)
    if trained is not None and trained.preset != str(preset.name):
        raise WeightsError(f"{trained.folder} holds weights trained on the {trained.preset} preset; run with "
                           f"--preset {trained.preset}")
    paths = None
    seed = tiny_seed
    if preset.trained:
        folder = weights_dir
        if trained is not None:
            folder = base_weights if base_weights is not None else trained.base.get("folder")
            if folder is not None and not Path(folder).is_dir() and base_weights is None:
                raise WeightsError(f"the base weights of {trained.folder} ({folder}) are not there; name a copy of "
                                   "StableAnimator's checkpoints with --base-weights DIR")
        paths = resolve_weights(folder, download=download)
    elif trained is not None:
        if trained.base.get("kind") != "random":
            raise WeightsError(f"{trained.folder / MANIFEST} names a base the tiny preset cannot build: "
                               f"{trained.base}")
        seed = int(trained.base.get("seed", 0))
    return ModelSource(preset=preset, paths=paths, seed=seed, trained=trained)


def load_models(source: ModelSource, device: str | torch.device = "cpu",
                dtype: torch.dtype = torch.float32) -> DanceModels:
    """The networks of ``source``: the base (StableAnimator's files or the seeded random networks), then the
    trained parts over it, every file loaded strictly."""
    if source.paths is not None:
        models = load_stableanimator(source.paths, device, dtype)
    else:
        models = build(source.preset, device, dtype, seed=source.seed)
        models = replace(models, weights=f"random (seed {source.seed})")
    if source.trained is not None:
        models = apply_trained(models, source.trained)
    return models
