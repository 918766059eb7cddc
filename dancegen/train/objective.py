"""SVD's denoising objective as StableAnimator trains with it: noise levels, EDM preconditioning, the face-weighted
loss and conditioning dropout. Pure tensor functions, no models.

Facts from StableAnimator's ``train.py`` (repo Francis-Rings/StableAnimator at commit 020e7f2, read with the
search tools; no code copied):

* Noise levels: ``rand_cosine_interpolated`` from k-diffusion (simple diffusion's shifted cosine logSNR schedule,
  interpolated between two "noise resolutions"), with sigma_min 0.002, sigma_max 700, sigma_data 0.5, image_d 64,
  noise_d_low 32, noise_d_high 64; the uniform numbers are stratified over the batch. EDM's log-normal (mean 0.7,
  std 1.6) is the line left commented out beside it.
* Forward process: ``noisy = latents + sigma * noise`` on the VAE latents (sampled, times the scaling factor).
* Preconditioning (SVD's v-prediction with sigma_data 1, what diffusers' EulerDiscreteScheduler inverts at
  sampling): c_in = 1 / sqrt(sigma^2 + 1), c_noise = 0.25 * ln(sigma) (the UNet's timestep), c_out = -sigma /
  sqrt(sigma^2 + 1), c_skip = 1 / (sigma^2 + 1); denoised = c_out * prediction + c_skip * noisy.
* Loss: mean over all elements of ``(sigma^2 + 1) / sigma^2 * (denoised - latents)^2 * (1 + face_mask)`` per
  sample, then the mean over the batch; the face mask is 1 inside the faces' boxes (drawn per frame by
  ``face_mask_extraction.py``), resized to the latent grid with nearest-neighbour.
* Conditioning dropout (p = 0.1): one uniform r per sample; the CLIP token is zeroed when r < 2p and the reference
  latent when p <= r < 3p. The face encoder always sees the real CLIP token; face tokens and poses are never dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..config import SigmaSampling

# rand_cosine_interpolated's arguments in StableAnimator's train.py
SIGMA_MIN, SIGMA_MAX, SIGMA_DATA = 0.002, 700.0, 0.5
IMAGE_D, NOISE_D_LOW, NOISE_D_HIGH = 64.0, 32.0, 64.0
LOG_NORMAL_MEAN, LOG_NORMAL_STD = 0.7, 1.6  # the commented-out rand_log_normal(loc=0.7, scale=1.6)


def _shifted_cosine_logsnr(t: torch.Tensor, noise_d: float) -> torch.Tensor:
    """Simple diffusion's cosine logSNR schedule, shifted for a noise resolution: t in [0, 1] -> logSNR, from the
    most noise (sigma_max) at t = 0 to the least (sigma_min) at t = 1."""
    shift = 2.0 * math.log(noise_d / IMAGE_D)
    most = -2.0 * math.log(SIGMA_MAX / SIGMA_DATA) - shift  # logSNR at sigma_max, before the shift
    least = -2.0 * math.log(SIGMA_MIN / SIGMA_DATA) - shift
    start, end = math.atan(math.exp(-0.5 * most)), math.atan(math.exp(-0.5 * least))
    return -2.0 * torch.log(torch.tan(start + t * (end - start))) + shift


def cosine_interpolated_sigma(u: torch.Tensor) -> torch.Tensor:
    """Uniform numbers u in [0, 1] -> noise levels: the logSNR interpolated from the low to the high noise
    resolution's schedule by u itself, then sigma = sigma_data * exp(-logSNR / 2). Decreasing in u."""
    logsnr = torch.lerp(_shifted_cosine_logsnr(u, NOISE_D_LOW), _shifted_cosine_logsnr(u, NOISE_D_HIGH), u)
    return SIGMA_DATA * torch.exp(-logsnr / 2.0)


def sample_sigmas(uniform: torch.Tensor, normal: torch.Tensor, method: SigmaSampling | str, slot: torch.Tensor,
                  slots: int) -> torch.Tensor:
    """Noise levels [B] from each sample's own random numbers: uniform [B] in [0, 1), normal [B] standard normal.

    The cosine-interpolated levels are stratified over the ``slots`` samples of one optimiser update (every
    process, every accumulated micro-step): the sample in ``slot`` j [B] takes the uniform number (j + u) / slots."""
    if SigmaSampling(method) == SigmaSampling.LOG_NORMAL:
        return torch.exp(LOG_NORMAL_MEAN + LOG_NORMAL_STD * normal)
    return cosine_interpolated_sigma((slot.to(uniform.dtype) + uniform) / slots)


@dataclass(frozen=True)
class Preconditioning:
    """EDM's scalings for one batch, each [B, 1, 1, 1, 1] (broadcast over frames, channels and pixels)."""

    c_skip: torch.Tensor
    c_out: torch.Tensor
    c_in: torch.Tensor
    c_noise: torch.Tensor  # [B]: the UNet's timestep

    def denoised(self, prediction: torch.Tensor, noisy: torch.Tensor) -> torch.Tensor:
        return self.c_out * prediction + self.c_skip * noisy


def precondition(sigmas: torch.Tensor, prediction_type: str) -> Preconditioning:
    """sigmas [B] -> the scalings that turn the UNet's output into denoised latents, as the scheduler's
    ``prediction_type`` says (SVD: v_prediction; epsilon and sample as EulerDiscreteScheduler reads them). c_noise
    is SVD's continuous timestep 0.25 ln(sigma), what its UNet was trained on."""
    s = sigmas.reshape(-1, 1, 1, 1, 1)
    root = torch.sqrt(s**2 + 1.0)
    if prediction_type == "v_prediction":
        c_skip, c_out = 1.0 / (s**2 + 1.0), -s / root
    elif prediction_type == "epsilon":
        c_skip, c_out = torch.ones_like(s), -s
    elif prediction_type == "sample":
        c_skip, c_out = torch.zeros_like(s), torch.ones_like(s)
    else:
        raise ValueError(f"the scheduler's prediction_type {prediction_type!r} is not one the trainer knows")
    return Preconditioning(c_skip=c_skip, c_out=c_out, c_in=1.0 / root, c_noise=0.25 * torch.log(sigmas))


def face_weighted_loss(denoised: torch.Tensor, target: torch.Tensor, sigmas: torch.Tensor,
                       face_mask: torch.Tensor | None, face_weight: float = 1.0) -> torch.Tensor:
    """Per-sample loss [B]: mean of (sigma^2 + 1) / sigma^2 * (denoised - target)^2 * (1 + w * mask).

    denoised, target: [B, F, C, h, w]; face_mask: [B, F, 1, h, w] in {0, 1} on the latent grid, or None (weight
    1 everywhere). Computed in float32."""
    weight = ((sigmas.float() ** 2 + 1.0) / sigmas.float() ** 2).reshape(-1, 1, 1, 1, 1)
    error = weight * (denoised.float() - target.float()) ** 2  # [B, F, C, h, w]
    if face_mask is not None:
        error = error * (1.0 + face_weight * face_mask.float())
    return error.flatten(1).mean(dim=1)


def dropout_masks(uniform: torch.Tensor, p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """One uniform number per sample [B] -> (keep the CLIP token [B], keep the reference latent [B]) as 0/1 floats:
    the CLIP token goes when r < 2p, the reference latent when p <= r < 3p (StableAnimator's scheme)."""
    keep_clip = (uniform >= 2 * p).float()
    keep_reference = 1.0 - ((uniform >= p) & (uniform < 3 * p)).float()
    return keep_clip, keep_reference
