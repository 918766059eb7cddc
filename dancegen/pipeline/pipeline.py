"""The video diffusion pipeline: reference image + skeleton frames + face embedding -> dance frames.

StableAnimator's conditioning and sampling (see tests/fixtures/STABLEANIMATOR_FACTS.md, sections 3 and 4) on top
of diffusers' pieces: the CLIP token of the reference followed by N face tokens, the reference VAE latent
concatenated to the noisy latents, pose features added after ``conv_in``, classifier-free guidance with zeroed
image embedding, face tokens, reference latents and pose for the unconditional half, and overlapping temporal
windows whose noise predictions are blended, so the UNet's memory does not grow with the video's length.

A/B in one run: the baseline (alpha 0) and identity samples share the initial noise, the poses and the
conditioning and are denoised in one batch with per-sample alpha, so any difference is the identity branch. The
baseline comes first, so the identity sample is the last of every UNet call that holds it and the identity
attention runs on its rows alone (see :func:`~dancegen.models.identity.pack_conditioning`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import PIL.Image
import torch
from diffusers import DiffusionPipeline, EulerDiscreteScheduler
from diffusers.image_processor import VaeImageProcessor
from diffusers.models.autoencoders.vae import DiagonalGaussianDistribution
# diffusers' SVD module imports transformers' CLIPImageProcessor, whose fallback without torchvision logs a warning on
# stderr (we use neither). Only that logger is quieted, only for this import, and put back as it was: no lasting
# change to logging and no environment variable, so a library user keeps transformers' other messages.
_TRANSFORMERS_IMPORTS = logging.getLogger("transformers.utils.import_utils")
_LEVEL = _TRANSFORMERS_IMPORTS.level
_TRANSFORMERS_IMPORTS.setLevel(logging.ERROR)
try:
    from diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion import _resize_with_antialiasing
finally:
    _TRANSFORMERS_IMPORTS.setLevel(_LEVEL)
from diffusers.utils import BaseOutput
from diffusers.utils.torch_utils import randn_tensor
from torch.func import functional_call

from ..models.build import DanceModels
from ..models.identity import check_identity_processors, pack_conditioning
from .windows import temporal_windows, window_weights

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
# mode -> videos, baseline first (the identity sample must come last in each UNet call: see _conditioning)
SAMPLES = {"ab": ("baseline", "identity"), "baseline": ("baseline",), "identity": ("identity",)}


def clip_input(pixels: torch.Tensor, size: int) -> torch.Tensor:
    """Images [B, 3, H, W] in [-1, 1] -> the CLIP image encoder's input [B, 3, size, size], as SVD prepares it: an
    antialiased resize, back to [0, 1] without a clamp (the resize's overshoot reaches CLIP as it is), CLIP's mean
    and std."""
    pixels = (_resize_with_antialiasing(pixels, (size, size)) + 1) / 2
    mean = torch.tensor(CLIP_MEAN, device=pixels.device).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD, device=pixels.device).view(1, 3, 1, 1)
    return (pixels - mean) / std


@dataclass
class DancePipelineOutput(BaseOutput):
    videos: dict[str, np.ndarray]  # "baseline" / "identity" -> [T, H, W, 3] uint8 RGB (empty for output_type "latent")
    latents: dict[str, torch.Tensor]  # the same names -> final latents [T, 4, h, w] (output_type "latent" only)
    alpha: float  # identity weight of the identity video
    id_tokens: int  # identity tokens N used
    timings_s: dict[str, float] = field(default_factory=dict)  # encode / denoise / decode seconds


def _float32_state(module: torch.nn.Module, device) -> dict[str, torch.Tensor]:
    """A float32 copy of a module's parameters and buffers on ``device`` (for torch.func.functional_call)."""
    state = dict(module.named_parameters())
    state.update(module.named_buffers())
    return {k: v.to(device=device, dtype=torch.float32) for k, v in state.items()}


@dataclass
class _Conditioning:
    """What every window's UNet calls share (B = 2S with guidance, S samples without)."""

    # Per UNet call (at most unet_batch_size samples each): its samples, and their encoder_hidden_states, the CLIP
    # token [b, 1, C] or, when one of them has a non-zero alpha, packed with the identity tokens [b, 1 + N, C + E]
    calls: list[tuple[slice, torch.Tensor]]
    ref_latents: torch.Tensor  # [B, 4, h, w]: zeros for the unconditional half
    added_time_ids: torch.Tensor  # [B, 3]: fps id, motion bucket, noise augmentation
    guidance: torch.Tensor | None  # [T] guidance scale per frame; None without guidance


class _PoseFeatures:
    """Pose-net features of any window: encoded once for all frames when they fit the budget, else per call."""

    def __init__(self, pipe: DancePipeline, frames: Sequence[np.ndarray], chunk: int, budget_mb: float,
                 latent_hw: tuple[int, int], device, dtype):
        self.pipe, self.frames, self.device, self.dtype = pipe, frames, device, dtype
        channels = pipe.pose_net.final_proj.out_channels
        size_mb = len(frames) * channels * latent_hw[0] * latent_hw[1] * torch.finfo(dtype).bits / 8 / 2**20
        self.cache = None
        if size_mb <= budget_mb:
            self.cache = torch.empty((len(frames), channels, *latent_hw), device=device, dtype=dtype)  # [T, C0, h, w]
            for start in range(0, len(frames), chunk):
                index = list(range(start, min(start + chunk, len(frames))))
                self.cache[index[0] : index[-1] + 1] = pipe.encode_poses(frames, index, device, dtype)

    def __getitem__(self, window: list[int]) -> torch.Tensor:
        """Features of the frames in ``window``: [F, C0, h, w]."""
        if self.cache is not None:
            return self.cache[window]
        return self.pipe.encode_poses(self.frames, window, self.device, self.dtype)


class DancePipeline(DiffusionPipeline):
    # Offload hooks: each model, when it runs, sends the one before it back to the CPU. The pose net always runs
    # before the UNet, so the CLIP encoder leaves the GPU even when the face encoder does not run (baseline only).
    model_cpu_offload_seq = "face_encoder->image_encoder->pose_net->unet->vae"
    _callback_tensor_inputs = ["latents"]

    def __init__(self, unet, vae, image_encoder, face_encoder, pose_net, scheduler: EulerDiscreteScheduler):
        super().__init__()
        self.register_modules(unet=unet, vae=vae, image_encoder=image_encoder, face_encoder=face_encoder,
                              pose_net=pose_net, scheduler=scheduler)
        self.vae_scale_factor = 2 ** (len(vae.config.block_out_channels) - 1) if vae is not None else 8
        self.image_processor = VaeImageProcessor(vae_scale_factor=self.vae_scale_factor)

    @classmethod
    def from_models(cls, models: DanceModels) -> DancePipeline:
        return cls(models.unet, models.vae, models.image_encoder, models.face_encoder, models.pose_net,
                   models.scheduler)

    @property
    def num_id_tokens(self) -> int:
        return self.face_encoder.cfg.num_tokens

    # ----------------------------------------------------------------------------------------- conditioning

    def encode_clip(self, image: PIL.Image.Image, device, dtype) -> torch.Tensor:
        """Reference -> CLIP image embedding token. [1, 1, C]"""
        pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]  # [1,3,H,W]
        pixels = clip_input(pixels * 2 - 1, self.image_encoder.config.image_size).to(device=device, dtype=dtype)
        return self.image_encoder(pixels).image_embeds[:, None]  # [1, 1, C]

    def encode_reference_latent(self, image: PIL.Image.Image, width: int, height: int, noise_aug: float,
                                generator: torch.Generator | None, device, dtype) -> torch.Tensor:
        """Reference (already of the canvas's aspect) resized to the canvas, noise-augmented, VAE mode (unscaled, as
        SVD). [1, 4, h, w]

        A half-precision VAE with ``force_upcast`` encodes in float32, as diffusers' SVD pipeline (and so
        StableAnimator) does, but through a float32 copy of the encoder weights for this one call: the shared model
        is never cast back and forth, which concurrent requests could not survive."""
        pixels = self.image_processor.preprocess(image, height=height, width=width)  # [1, 3, H, W] in [-1, 1]
        noise = randn_tensor(pixels.shape, generator=generator, device=pixels.device, dtype=pixels.dtype)
        pixels = (pixels + noise_aug * noise).to(device)
        if self.vae.dtype == torch.float32 or not self.vae.config.get("force_upcast", False):
            return self.vae.encode(pixels.to(self.vae.dtype)).latent_dist.mode().to(dtype)
        h = functional_call(self.vae.encoder, _float32_state(self.vae.encoder, device), (pixels,))
        moments = functional_call(self.vae.quant_conv, _float32_state(self.vae.quant_conv, device), (h,))
        return DiagonalGaussianDistribution(moments).mode().to(dtype)  # [1, 4, h, w]

    def encode_poses(self, frames: Sequence[np.ndarray], index: list[int], device, dtype) -> torch.Tensor:
        """Skeleton frames (uint8 RGB) at ``index`` -> pose-net features. [F, C0, h, w]"""
        batch = np.stack([np.asarray(frames[i]) for i in index])  # [F, H, W, 3] uint8
        poses = (torch.from_numpy(batch).permute(0, 3, 1, 2).to(device).float() / 127.5 - 1).to(dtype)  # in fp32
        return self.pose_net(poses)

    def _conditioning(self, reference, face_embedding, alphas, n_tokens, do_cfg, unet_batch_size, fps_id,
                      motion_bucket_id, noise_aug_strength, width, height, generator, device, dtype
                      ) -> tuple[_Conditioning, torch.Tensor]:
        """Encode the reference (CLIP token, identity tokens, reference latent) for S samples with these Python
        alphas. -> (conditioning without guidance filled in, reference latent [1, 4, h, w])"""
        samples = len(alphas)
        clip = self.encode_clip(reference, device, dtype)  # [1, 1, C]
        ref_latent = self.encode_reference_latent(reference, width, height, noise_aug_strength, generator,
                                                  device, dtype)  # [1, 4, h, w]
        clip_rows, id_rows, row_alphas = clip.expand(samples, -1, -1), None, list(alphas)  # [S, 1, C]
        if face_embedding is not None:
            face = torch.as_tensor(np.asarray(face_embedding, dtype=np.float32)).reshape(1, -1)
            id_tok = self.face_encoder(face.to(device=device, dtype=dtype), clip)[:, :n_tokens]  # [1, N, C]
            id_rows = id_tok.expand(samples, -1, -1)  # [S, N, C]
        if do_cfg:
            # [uncond S | cond S]. The unconditional half zeroes the CLIP and face tokens, so there the main output h
            # is exactly 0 and the branch adds alpha * mean_h = 0: alpha 0 skips that work without changing a bit
            # (tests/models/test_identity.py::test_unconditional_pass_is_the_same_with_and_without_the_branch).
            clip_rows = torch.cat([torch.zeros_like(clip_rows), clip_rows])  # [2S, 1, C]
            id_rows = None if id_rows is None else torch.cat([torch.zeros_like(id_rows), id_rows])  # [2S, N, C]
            row_alphas = [0.0] * samples + row_alphas
        batch = len(row_alphas)
        step = unet_batch_size or batch
        calls = [(slice(i, i + step),
                  pack_conditioning(clip_rows[i : i + step], None if id_rows is None else id_rows[i : i + step],
                                    row_alphas[i : i + step]))
                 for i in range(0, batch, step)]
        ref_latents = ref_latent.expand(samples, -1, -1, -1)  # [S, 4, h, w]
        if do_cfg:
            ref_latents = torch.cat([torch.zeros_like(ref_latents), ref_latents])  # [2S, 4, h, w]
        added_time_ids = torch.tensor([[fps_id, motion_bucket_id, noise_aug_strength]], device=device, dtype=dtype)
        added_time_ids = added_time_ids.repeat(batch, 1)  # [B, 3]
        return _Conditioning(calls, ref_latents, added_time_ids, None), ref_latent

    # ----------------------------------------------------------------------------------------------- call

    @torch.no_grad()
    def __call__(
        self,
        reference: PIL.Image.Image,
        pose_frames: Sequence[np.ndarray],
        face_embedding: np.ndarray | torch.Tensor | None,
        alpha: float = 1.0,
        id_tokens: int | None = None,
        mode: str = "ab",
        num_inference_steps: int = 25,
        min_guidance_scale: float = 3.0,
        max_guidance_scale: float = 3.0,
        fps_id: int = 6,
        motion_bucket_id: int = 127,
        noise_aug_strength: float = 0.02,
        tile_frames: int = 16,
        tile_overlap: int = 4,
        decode_chunk_size: int = 4,
        unet_batch_size: int | None = None,
        pose_cache_mb: float = 512.0,
        generator: torch.Generator | None = None,
        latents: torch.Tensor | None = None,
        output_type: str = "np",
        callback_on_step_end: Callable[[DancePipeline, int, Any, dict], dict] | None = None,
        callback_on_step_end_tensor_inputs: Sequence[str] = ("latents",),
        callback_on_window_end: Callable[[DancePipeline, int, int, int], None] | None = None,
    ) -> DancePipelineOutput:
        """Generate the dance.

        reference: RGB PIL image of the skeleton canvas's aspect (any size: CLIP sees it whole, the VAE resized to the
            canvas, so another aspect would be stretched; the studio crops the photo to it, see
            :mod:`dancegen.pose.reference`).
        pose_frames: T skeleton frames, each [H, W, 3] uint8 RGB (a sequence; indexed lazily per window).
        face_embedding: [512] raw face embedding, or None to generate without the identity branch (baseline only).
        alpha: identity weight of the identity sample; id_tokens: N identity tokens (1..num tokens; default all).
        mode: "ab" (baseline + identity in one batch), "baseline" or "identity".
        fps_id: the fps conditioning id (StableAnimator trained with 6); motion_bucket_id, noise_aug_strength: SVD's.
        pose_cache_mb: pose features of all frames are computed once and kept when they fit in this many MiB;
            longer videos recompute them per window, so memory stays bounded.
        unet_batch_size: most samples per UNet call (None: the whole guided A/B batch of 4 at once); 1 or 2 trades
            speed for memory on small GPUs.
        generator: the one source of randomness (reference noise augmentation, then the initial noise); a CPU
            generator gives the same video on any device.
        latents: initial noise [1 or S, T, 4, h, w] (unit variance, shared by every sample when the batch is 1);
            default: one tile of noise from ``generator`` repeated along time.
        output_type: "np" (decoded frames in ``videos``) or "latent" (final latents in ``latents``, nothing decoded;
            :meth:`decode_latents` streams them to frames).
        callback_on_step_end(pipe, step, timestep, kwargs) runs after every denoising step with the tensors named in
            ``callback_on_step_end_tensor_inputs``; the dict it returns may replace them. It may raise (for example
            :class:`~dancegen.errors.GenerationCancelled`) to end the run.
        callback_on_window_end(pipe, step, window, num_windows), our addition, runs after every temporal window of
            every step (a step of a long video is many windows: progress that moves, Stop that answers sooner).
        """
        # 1. Check inputs
        if mode not in SAMPLES:
            raise ValueError(f"mode must be one of {tuple(SAMPLES)}, got {mode!r}")
        if face_embedding is None and mode != "baseline":
            raise ValueError("no face embedding: only mode='baseline' can run without the identity branch")
        if output_type not in ("np", "latent"):
            raise ValueError(f"output_type must be 'np' or 'latent', got {output_type!r}")
        if any(name not in self._callback_tensor_inputs for name in callback_on_step_end_tensor_inputs):
            raise ValueError(f"callback tensors must be among {self._callback_tensor_inputs}")
        num_frames = len(pose_frames)
        if num_frames < 1:
            raise ValueError("at least one pose frame is needed")
        height, width = np.asarray(pose_frames[0]).shape[:2]
        factor = self.vae_scale_factor
        if height % factor or width % factor:
            raise ValueError(f"the canvas must be a multiple of {factor} pixels, got {width}x{height}")
        n_tokens = self.num_id_tokens if id_tokens is None else int(id_tokens)
        if not 1 <= n_tokens <= self.num_id_tokens:
            raise ValueError(f"id_tokens must be between 1 and {self.num_id_tokens}, got {n_tokens}")
        device, dtype = self._execution_device, self.unet.dtype
        scheduler = EulerDiscreteScheduler.from_config(self.scheduler.config)  # per call: schedulers keep state
        do_cfg = max_guidance_scale > 1.0
        names = SAMPLES[mode]
        alphas = [0.0 if n == "baseline" else float(alpha) for n in names]  # per sample, on the host
        timings: dict[str, float] = {}

        # 2. Encode the reference (CLIP token, identity tokens, reference latent) and, within budget, all poses
        start = time.perf_counter()
        cond, ref_latent = self._conditioning(reference, face_embedding, alphas, n_tokens, do_cfg, unet_batch_size,
                                              fps_id, motion_bucket_id, noise_aug_strength, width, height,
                                              generator, device, dtype)
        if any(states.shape[-1] > self.unet.config.cross_attention_dim for _, states in cond.calls):
            check_identity_processors(self.unet)  # packed identity tokens need our processors in every attn2
        poses = _PoseFeatures(self, pose_frames, tile_frames, pose_cache_mb, tuple(ref_latent.shape[-2:]), device,
                              dtype)
        timings["encode"] = time.perf_counter() - start

        # 3. Initial noise: by default one tile of noise repeated along time, shared by every sample
        scheduler.set_timesteps(num_inference_steps, device=device)
        latent_hw = (height // factor, width // factor)
        if latents is None:
            tile_shape = (1, min(tile_frames, num_frames), ref_latent.shape[1], *latent_hw)
            noise = randn_tensor(tile_shape, generator=generator, device=torch.device("cpu"), dtype=torch.float32)
            reps = math.ceil(num_frames / tile_shape[1])
            latents = noise.to(device).repeat(1, reps, 1, 1, 1)[:, :num_frames]  # [1, T, 4, h, w]
        expected = (num_frames, ref_latent.shape[1], *latent_hw)
        if latents.ndim != 5 or tuple(latents.shape[1:]) != expected or latents.shape[0] not in (1, len(names)):
            raise ValueError(f"latents must be [1 or {len(names)}, {', '.join(map(str, expected))}], "
                             f"got {list(latents.shape)}")
        latents = latents.to(device=device, dtype=torch.float32).expand(len(names), -1, -1, -1, -1).clone()
        latents = latents * scheduler.init_noise_sigma  # [S, T, 4, h, w] float32
        if do_cfg:
            cond.guidance = torch.linspace(min_guidance_scale, max_guidance_scale, num_frames, device=device)  # [T]
        windows = temporal_windows(num_frames, tile_frames, tile_overlap)
        weights = window_weights(len(windows[0])).to(device)  # [F]: every window has the same length
        weight_sum = torch.zeros(num_frames, device=device)  # [T]: blending weights per frame, same every step
        for window in windows:
            weight_sum[window] += weights

        # 4. Denoise: every step blends the windows' guided noise predictions, then one Euler step on all frames
        start = time.perf_counter()
        for step, t in enumerate(self.progress_bar(scheduler.timesteps)):
            pred_sum = torch.zeros_like(latents)  # [S, T, 4, h, w]
            for w, window in enumerate(windows):
                pred = self._predict_window(latents[:, window], t, scheduler, cond, poses, window)
                pred_sum[:, window] += pred * weights.view(1, -1, 1, 1, 1)
                if callback_on_window_end is not None:
                    callback_on_window_end(self, step, w, len(windows))
            noise_pred = pred_sum / weight_sum.view(1, -1, 1, 1, 1)
            latents = scheduler.step(noise_pred, t, latents).prev_sample
            if callback_on_step_end is not None:
                tensors = {"latents": latents}
                returned = callback_on_step_end(self, step, t, {k: tensors[k] for k in
                                                                callback_on_step_end_tensor_inputs}) or {}
                latents = returned.get("latents", latents)
        timings["denoise"] = time.perf_counter() - start

        # 5. Decode in chunks (or hand the latents back)
        start = time.perf_counter()
        final = {name: latents[s] for s, name in enumerate(names)}  # [T, 4, h, w] each
        videos = {} if output_type == "latent" else {n: self.decode(z, decode_chunk_size) for n, z in final.items()}
        timings["decode"] = time.perf_counter() - start
        self.maybe_free_model_hooks()
        return DancePipelineOutput(videos=videos, latents=final if output_type == "latent" else {},
                                   alpha=float(alpha), id_tokens=n_tokens, timings_s=timings)

    def _predict_window(self, latents: torch.Tensor, t, scheduler, cond: _Conditioning, poses: _PoseFeatures,
                        window: list[int]) -> torch.Tensor:
        """Guided noise prediction for one window. latents [S, F, 4, h, w] -> [S, F, 4, h, w]"""
        dtype = self.unet.dtype
        frames = len(window)
        do_cfg = cond.guidance is not None
        model_in = scheduler.scale_model_input(latents, t)
        if do_cfg:
            model_in = torch.cat([model_in, model_in])  # [2S, F, 4, h, w]
        ref = cond.ref_latents[:, None].expand(-1, frames, -1, -1, -1)  # [2S, F, 4, h, w]
        pose = poses[window][None].expand(latents.shape[0], -1, -1, -1, -1)  # [S, F, C0, h, w]
        if do_cfg:
            pose = torch.cat([torch.zeros_like(pose), pose])  # the unconditional half gets no pose
        # PoseConvIn adds the trailing channels after conv_in: [2S, F, 4 + 4 + C0, h, w]
        unet_in = torch.cat([model_in.to(dtype), ref.to(dtype), pose], dim=2)
        pred = torch.cat([
            self.unet(unet_in[samples], t, encoder_hidden_states=states,
                      added_time_ids=cond.added_time_ids[samples]).sample
            for samples, states in cond.calls
        ]).float()  # [2S, F, 4, h, w]
        if not do_cfg:
            return pred
        uncond, guided = pred.chunk(2)
        return uncond + cond.guidance[window].view(1, -1, 1, 1, 1) * (guided - uncond)

    # --------------------------------------------------------------------------------------------- decoding

    @torch.no_grad()
    def decode_latents(self, latents: torch.Tensor, chunk: int) -> Iterator[np.ndarray]:
        """Latents of one video [T, 4, h, w] -> frames, ``chunk`` at a time: yields [n, H, W, 3] uint8 RGB."""
        scale = self.vae.config.scaling_factor
        for i in range(0, latents.shape[0], chunk):
            z = latents[i : i + chunk].to(self.vae.dtype) / scale
            images = self.vae.decode(z, num_frames=z.shape[0]).sample  # [n, 3, H, W] in [-1, 1]
            images = ((images.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
            yield images.cpu().numpy()

    def decode(self, latents: torch.Tensor, chunk: int) -> np.ndarray:
        """Latents of one video [T, 4, h, w] -> all its frames [T, H, W, 3] uint8 (filled in place, chunk by chunk)."""
        frames = None
        done = 0
        for images in self.decode_latents(latents, chunk):
            if frames is None:
                frames = np.empty((latents.shape[0], *images.shape[1:]), dtype=np.uint8)  # [T, H, W, 3]
            frames[done : done + len(images)] = images
            done += len(images)
        return frames
