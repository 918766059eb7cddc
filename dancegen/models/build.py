"""Building the networks of a preset: the video UNet (diffusers' ``UNetSpatioTemporalConditionModel`` with
identity processors and a pose-aware ``conv_in``), the face encoder, the pose net, the VAE, the CLIP image encoder
and the scheduler, with random weights (:func:`build`) or StableAnimator's (:mod:`.weights`).

Nothing here touches the network or the disk at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler, UNetSpatioTemporalConditionModel
from torch import nn
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

from ..config import DType
from ..errors import SettingsError
from .face_encoder import FaceEncoder
from .identity import install_identity_processors
from .pose_net import PoseConvIn, PoseNet
from .presets import SVD_SCHEDULER, Preset, get_preset


@dataclass
class DanceModels:
    preset: Preset  # which sizes these are
    unet: UNetSpatioTemporalConditionModel  # identity processors installed, conv_in = PoseConvIn
    face_encoder: FaceEncoder  # face embedding -> identity tokens
    pose_net: PoseNet  # skeleton images -> conv_in residual
    vae: AutoencoderKLTemporalDecoder | None  # image <-> latents (None only when built without it)
    image_encoder: CLIPVisionModelWithProjection | None  # reference image -> CLIP token
    scheduler: EulerDiscreteScheduler  # sampler
    weights: str = "random"  # where the weights came from (for banners and reports)

    def modules(self) -> dict[str, nn.Module]:
        mods = {"unet": self.unet, "face_encoder": self.face_encoder, "pose_net": self.pose_net,
                "vae": self.vae, "image_encoder": self.image_encoder}
        return {k: v for k, v in mods.items() if v is not None}


def build_unet(preset: Preset) -> UNetSpatioTemporalConditionModel:
    """The video UNet of a preset, with identity processors and the pose-aware conv_in (random weights)."""
    unet = UNetSpatioTemporalConditionModel(**preset.unet)
    install_identity_processors(unet, num_clip_tokens=1)
    unet.conv_in = PoseConvIn.replace(unet.conv_in)
    return unet


def build(preset: str | Preset = "tiny", device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
          seed: int = 0, with_vae: bool = True, with_image_encoder: bool = True) -> DanceModels:
    """Build a preset's models with random weights (seeded; the global RNG is left untouched).

    On ``device="meta"`` nothing is allocated: use it to check structure, or before :func:`load_stableanimator`.
    """
    preset = get_preset(preset) if isinstance(preset, str) else preset
    device = torch.device(device)

    def ready(module: nn.Module) -> nn.Module:
        # Built in float32 and cast at once, one module at a time, so only one float32 copy exists at a time.
        module.eval().requires_grad_(False)
        return cast(module, dtype) if device.type != "meta" else module

    with torch.random.fork_rng(devices=[]), torch.device(device):
        torch.manual_seed(seed)
        unet = ready(build_unet(preset))
        face_encoder = ready(FaceEncoder(preset.face))
        pose_net = ready(PoseNet(out_channels=preset.unet["block_out_channels"][0]))
        vae = ready(AutoencoderKLTemporalDecoder(**preset.vae)) if with_vae else None
        image_encoder = (ready(CLIPVisionModelWithProjection(CLIPVisionConfig(**preset.clip)))
                         if with_image_encoder else None)
    return DanceModels(preset=preset, unet=unet, face_encoder=face_encoder, pose_net=pose_net, vae=vae,
                       image_encoder=image_encoder, scheduler=EulerDiscreteScheduler(**SVD_SCHEDULER),
                       weights="random")


def cast(module: nn.Module, dtype: torch.dtype) -> nn.Module:
    """Cast a module's floating-point parameters to ``dtype`` in place (returns the module).

    Calls ``nn.Module.to`` directly: diffusers' ``ModelMixin.to`` (0.42) logs a "modules that should be kept in
    float32: []" warning on every dtype cast, even for models that keep none in float32, as these do not.
    """
    return nn.Module.to(module, dtype=dtype)


def pick_device(requested: str | None) -> torch.device:
    """The device to run on: as requested (SettingsError for CUDA without a GPU), else CUDA when there is one."""
    if requested:
        try:
            device = torch.device(requested)
        except RuntimeError:
            raise SettingsError(f"unknown device {requested!r}; use cuda, cuda:N or cpu") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise SettingsError("CUDA was requested but no CUDA GPU is available")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def pick_dtype(requested: str | None, device: torch.device) -> torch.dtype:
    """The models' dtype: as requested, else float16 on CUDA (as StableAnimator runs) and float32 on the CPU."""
    if requested is None:
        return torch.float16 if device.type == "cuda" else torch.float32
    return getattr(torch, DType(requested).value)
