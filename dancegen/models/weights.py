"""StableAnimator's published weights, loaded strictly (no key missing or left over) into our modules.

Layout of a checkpoints folder, as StableAnimator's README gives it (``huggingface-cli download
FrancisRing/StableAnimator``): ``Animation/{unet,face_encoder,pose_net}.pth`` and
``SVD/stable-video-diffusion-img2vid-xt/{vae,image_encoder,scheduler}/`` (or ``SVD/``); antelopev2 and DWPose are
found there by their own stages. With ``download``, only the needed files are fetched with huggingface_hub (SVD-xt is
gated: a token with access must be configured) and laid out the same way in the hub cache.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch
from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler
from torch import nn
from transformers import CLIPVisionModelWithProjection

from .. import hub
from ..config import PresetName
from ..errors import WeightsError
from .build import DanceModels, build, cast

CHECKPOINT_FILES = {"unet": "Animation/unet.pth", "face_encoder": "Animation/face_encoder.pth",
                    "pose_net": "Animation/pose_net.pth"}
# the SVD-xt files the pipeline reads (the hub's fp16 variant; a local folder may hold either variant)
SVD_FILES = ["scheduler/*", "vae/config.json", "vae/diffusion_pytorch_model.fp16.safetensors",
             "image_encoder/config.json", "image_encoder/model.fp16.safetensors"]


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a checkpoint: safetensors when the file is one, else ``torch.load(weights_only=True)`` (memory-mapped)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        try:  # memory-map zip checkpoints (the default torch.save format); legacy pickles cannot be mapped
            state = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # unreadable, truncated or not a checkpoint
        raise WeightsError(f"could not read weights file {path}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path} is not a plain state_dict of tensors")
    return state


def load_strict(module: nn.Module, state: dict[str, torch.Tensor], source: str,
                keys: list[str] | None = None) -> None:
    """Load every key, or raise a WeightsError naming the source and the first offending keys. Never partial.

    ``keys``: the state holds exactly these keys of the module (a trained subset, e.g. the identity projections)
    instead of all of them; the others keep their values."""
    expected = module.state_dict()
    if keys is not None:
        strangers = [k for k in keys if k not in expected]
        if strangers or not keys:
            what = f"keys {type(module).__name__} does not have (first: {', '.join(strangers[:3])})" if strangers \
                else "no weights at all"
            raise WeightsError(f"{source} was to load {what}")
        expected = {k: expected[k] for k in keys}
    if not state:
        raise WeightsError(f"{source} holds no weights")
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [f"{k} {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
                  for k in expected if k in state and state[k].shape != expected[k].shape]
    problems = []
    for label, found in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", mismatched)):
        if found:
            problems.append(f"{len(found)} {label} (first: {', '.join(found[:3])})")
    if problems:
        raise WeightsError(f"{source} does not fit {type(module).__name__}: " + "; ".join(problems))
    on_meta = any(p.is_meta for p in module.parameters())
    target = next(iter(expected.values()))
    if on_meta and keys is None:  # assign the loaded tensors, cast to the model's dtype
        state = {k: v.to(dtype=target.dtype) for k, v in state.items()}
    elif on_meta:
        raise WeightsError(f"{source} holds part of {type(module).__name__}, which has no weights yet")
    module.load_state_dict(state, strict=keys is None, assign=on_meta)


@dataclass(frozen=True)
class WeightPaths:
    root: Path  # the checkpoints folder (antelopev2 and DWPose are looked for here too)
    unet: Path  # Animation/unet.pth
    face_encoder: Path  # Animation/face_encoder.pth
    pose_net: Path  # Animation/pose_net.pth
    svd: Path  # folder with vae/, image_encoder/, scheduler/


def resolve_weights(weights_dir: str | Path | None = None, download: bool = False,
                    cache_dir: str | Path | None = None) -> WeightPaths:
    """StableAnimator + SVD weights in a local checkpoints folder, or (``download``, no folder) from the hub."""
    if weights_dir is not None:
        root = Path(weights_dir).expanduser()
        if not root.is_dir():
            raise WeightsError(f"weights folder not found: {root}")
        svd = next((p for p in (root / "SVD" / "stable-video-diffusion-img2vid-xt", root / "SVD", root)
                    if (p / "vae").is_dir()), root / "SVD" / "stable-video-diffusion-img2vid-xt")
    elif download:
        root = hub.fetch(hub.STABLEANIMATOR_REPO, list(CHECKPOINT_FILES.values()), cache_dir)
        svd = hub.fetch(hub.SVD_REPO, SVD_FILES, cache_dir)
    else:
        raise WeightsError("no weights folder given and downloading is off: pass --weights DIR or allow download")
    paths = WeightPaths(root, *(root / CHECKPOINT_FILES[k] for k in ("unet", "face_encoder", "pose_net")), svd)
    for path in (paths.unet, paths.face_encoder, paths.pose_net):
        if not path.is_file():
            raise WeightsError(f"weights file not found: {path}")
    for sub in ("vae", "image_encoder"):
        if not (paths.svd / sub).is_dir():
            raise WeightsError(f"SVD {sub} folder not found under {paths.svd}")
    return paths


def load_stableanimator(paths: WeightPaths, device: str | torch.device = "cuda",
                        dtype: torch.dtype = torch.float16) -> DanceModels:
    """Build the "stableanimator" preset on the meta device and fill it strictly from the published files."""
    models = build(PresetName.STABLEANIMATOR, device="meta", with_vae=False, with_image_encoder=False)
    for name in ("unet", "face_encoder", "pose_net"):
        module = cast(getattr(models, name), dtype)
        load_strict(module, read_state_dict(getattr(paths, name)), str(getattr(paths, name)))
        module.to(device)
    variant = "fp16" if any(paths.svd.glob("vae/*.fp16.safetensors")) else None
    try:
        models.vae = AutoencoderKLTemporalDecoder.from_pretrained(paths.svd, subfolder="vae", variant=variant,
                                                                  torch_dtype=dtype).to(device)
        models.image_encoder = CLIPVisionModelWithProjection.from_pretrained(
            paths.svd / "image_encoder", variant=variant, dtype=dtype).to(device)
        if (paths.svd / "scheduler").is_dir():
            models.scheduler = EulerDiscreteScheduler.from_pretrained(paths.svd, subfolder="scheduler")
    except OSError as exc:
        raise WeightsError(f"could not load SVD weights from {paths.svd}: {exc}") from exc
    for module in (models.vae, models.image_encoder):
        module.eval().requires_grad_(False)
    return replace(models, weights=f"StableAnimator ({paths.root})")
