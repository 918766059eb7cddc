"""One training micro-step: encode a batch with the frozen VAE and CLIP encoder, noise it, run the networks being
trained and return the loss (:mod:`.objective` has the formulas and where they come from).

Conditioning as StableAnimator's ``train.py`` assembles it (and as our pipeline samples): the CLIP token of the
reference followed by the identity tokens the face encoder makes from the reference's face embedding and that CLIP
token; the reference's VAE latent (noise-augmented by 0.02, sampled, unscaled) beside the noisy latents; pose-net
features after ``conv_in``; added_time_ids [6, 127, 0.02] (fps id, motion bucket, noise augmentation). Alpha is 1,
as StableAnimator's processor scale.

Every random number of a sample comes from its own generator (seeded by the run's seed and the sample's position),
so the numbers do not depend on how the global batch is split over processes or on where a run was resumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import SigmaSampling
from ..models.build import DanceModels
from ..models.identity import pack_conditioning
from ..pipeline import clip_input
from .objective import dropout_masks, face_weighted_loss, precondition, sample_sigmas

FPS_ID, MOTION_BUCKET, NOISE_AUG = 6, 127, 0.02  # StableAnimator's training values
VAE_CHUNK = 8  # frames per VAE encoder call


class Denoiser(nn.Module):
    """The networks one step trains, as one module (what DistributedDataParallel wraps): face encoder -> identity
    tokens, pose net -> pose features, and the UNet with the identity processors. Frozen parameters stay inside
    and are simply not updated."""

    def __init__(self, unet: nn.Module, face_encoder: nn.Module, pose_net: nn.Module):
        super().__init__()
        self.unet, self.face_encoder, self.pose_net = unet, face_encoder, pose_net

    def forward(self, noisy_in: torch.Tensor, c_noise: torch.Tensor, reference_latents: torch.Tensor,
                poses: torch.Tensor, clip: torch.Tensor, embedding: torch.Tensor, keep_clip: torch.Tensor
                ) -> torch.Tensor:
        """noisy_in [B, F, 4, h, w] (already times c_in); c_noise [B]; reference_latents [B, 4, h, w] (dropped ones
        zeroed); poses [B, F, 3, H, W] in [-1, 1]; clip [B, 1, C]; embedding [B, 512]; keep_clip [B] 0/1.
        -> the UNet's prediction [B, F, 4, h, w]."""
        batch, frames = noisy_in.shape[:2]
        id_tokens = self.face_encoder(embedding.to(clip.dtype), clip)  # [B, N, C]: from the real CLIP token
        context = clip * keep_clip.to(clip.dtype).view(-1, 1, 1)  # [B, 1, C]: conditioning dropout
        states = pack_conditioning(context, id_tokens, 1.0)  # [B, 1 + N, C + 1]
        pose = self.pose_net(poses.flatten(0, 1)).unflatten(0, (batch, frames))  # [B, F, C0, h, w]
        reference = reference_latents[:, None].expand(-1, frames, -1, -1, -1)  # [B, F, 4, h, w]
        unet_in = torch.cat([noisy_in, reference.to(noisy_in.dtype), pose.to(noisy_in.dtype)], dim=2)
        times = torch.tensor([[FPS_ID, MOTION_BUCKET, NOISE_AUG]], device=clip.device, dtype=clip.dtype)
        return self.unet(unet_in, c_noise, encoder_hidden_states=states,
                         added_time_ids=times.expand(batch, -1)).sample


@dataclass
class Randomness:
    """One sample's random numbers, drawn in a fixed order from its own generator (CPU, float32)."""

    sigma_uniform: torch.Tensor  # [] in [0, 1)
    sigma_normal: torch.Tensor  # [] standard normal
    dropout: torch.Tensor  # [] in [0, 1)
    reference_aug: torch.Tensor  # [3, H, W] noise augmentation of the reference pixels
    reference_sample: torch.Tensor  # [4, h, w] the reference latent's draw from the VAE posterior
    latent_sample: torch.Tensor  # [F, 4, h, w] the frames' draws from the VAE posterior
    noise: torch.Tensor  # [F, 4, h, w] the diffusion noise

    @classmethod
    def draw(cls, seed: int, frames: int, size: tuple[int, int], factor: int) -> Randomness:
        g = torch.Generator().manual_seed(int(seed))
        width, height = size
        latent = (4, height // factor, width // factor)
        return cls(torch.rand((), generator=g), torch.randn((), generator=g), torch.rand((), generator=g),
                   torch.randn((3, height, width), generator=g), torch.randn(latent, generator=g),
                   torch.randn((frames, *latent), generator=g), torch.randn((frames, *latent), generator=g))


def _stack(draws: list[Randomness], name: str, device: torch.device) -> torch.Tensor:
    return torch.stack([getattr(d, name) for d in draws]).to(device)


@torch.no_grad()
def _encode(vae: nn.Module, pixels: torch.Tensor, draw: torch.Tensor) -> torch.Tensor:
    """Pixels [N, 3, H, W] in [-1, 1] -> a draw from the VAE posterior [N, 4, h, w]: mean + std * ``draw``."""
    out = []
    for start in range(0, pixels.shape[0], VAE_CHUNK):
        chunk = pixels[start : start + VAE_CHUNK].to(vae.dtype)
        posterior = vae.encode(chunk).latent_dist
        out.append(posterior.mean.float() + posterior.std.float() * draw[start : start + VAE_CHUNK])
    return torch.cat(out)


def micro_step_loss(denoiser: nn.Module, models: DanceModels, batch: dict[str, torch.Tensor], *, slots: int,
                    sigma_sampling: SigmaSampling, dropout: float, face_weight: float, device: torch.device,
                    dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """The loss of one batch (a process's part of a micro-step) -> (mean loss [], sigmas [B]).

    batch: :class:`~dancegen.train.data.ClipDataset` samples, collated; slots: samples per optimiser update (all
    processes and accumulated micro-steps), over which the noise levels are stratified;
    dtype: what the frozen networks hold (the inputs are cast to it)."""
    pixels = batch["pixels"].to(device)  # [B, F, 3, H, W]
    batch_size, frames = pixels.shape[:2]
    height, width = pixels.shape[-2:]
    vae, image_encoder = models.vae, models.image_encoder
    factor = 2 ** (len(vae.config.block_out_channels) - 1)
    draws = [Randomness.draw(int(s), frames, (width, height), factor) for s in batch["seed"]]

    # frozen encoders: target latents (scaled), reference latent (noise-augmented, unscaled), CLIP token
    latents = _encode(vae, pixels.flatten(0, 1), _stack(draws, "latent_sample", device).flatten(0, 1))
    latents = latents.unflatten(0, (batch_size, frames)) * vae.config.scaling_factor  # [B, F, 4, h, w]
    reference = batch["reference"].to(device)  # [B, 3, H, W]
    augmented = reference + NOISE_AUG * _stack(draws, "reference_aug", device)
    reference_latents = _encode(vae, augmented, _stack(draws, "reference_sample", device))  # [B, 4, h, w]
    with torch.no_grad():
        clip_pixels = clip_input(reference.float(), image_encoder.config.image_size).to(image_encoder.dtype)
        clip = image_encoder(clip_pixels).image_embeds[:, None]  # [B, 1, C]

    # noise level, forward process, preconditioning, dropout
    slot = batch["position"] % slots
    sigmas = sample_sigmas(_stack(draws, "sigma_uniform", device), _stack(draws, "sigma_normal", device),
                           sigma_sampling, slot.to(device), slots)  # [B]
    noisy = latents + _stack(draws, "noise", device) * sigmas.view(-1, 1, 1, 1, 1)  # [B, F, 4, h, w]
    scalings = precondition(sigmas, models.scheduler.config.prediction_type)
    keep_clip, keep_reference = dropout_masks(_stack(draws, "dropout", device), dropout)
    reference_latents = reference_latents * keep_reference.view(-1, 1, 1, 1)

    prediction = denoiser(noisy_in=(noisy * scalings.c_in).to(dtype), c_noise=scalings.c_noise,
                          reference_latents=reference_latents.to(dtype), poses=batch["poses"].to(device, dtype),
                          clip=clip.to(dtype),
                          embedding=batch["embedding"].to(device), keep_clip=keep_clip)
    denoised = scalings.denoised(prediction.float(), noisy)
    mask = batch["face_mask"].to(device).flatten(0, 1)  # [B*F, 1, H, W]
    mask = F.interpolate(mask, size=latents.shape[-2:], mode="nearest").unflatten(0, (batch_size, frames))
    losses = face_weighted_loss(denoised, latents, sigmas, mask, face_weight)  # [B]
    return losses.mean(), sigmas
