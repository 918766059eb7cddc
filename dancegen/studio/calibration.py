"""The runs that calibrate the run-time estimate on this machine: one window of each stage's work with the
studio's own models at the preset's size, for :meth:`~dancegen.timing.RunTimer.calibrate` to time."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from ..io import video
from ..models import Preset
from ..pipeline import DancePipeline


def calibration_runs(pipe: DancePipeline, preset: Preset) -> dict[str, tuple[Callable[[], object], float]]:
    """stage -> (a callable doing some of its work, how much work one call is, in the units of
    :class:`~dancegen.timing.Work`): the pose net on one window of poses ("encoding"), one guided UNet call on it
    ("denoising"), one chunk of latents decoded and written as an mp4 ("writing"). Their inputs are made here, on
    the pipeline's device: make and run them under ``torch.no_grad()``."""
    dtype, device = pipe.unet.dtype, pipe._execution_device
    width, height = preset.size
    frames, factor = preset.tile_frames, pipe.vae_scale_factor
    h, w = height // factor, width // factor
    mp = width * height / 1e6
    channels = pipe.pose_net.final_proj.out_channels
    poses = torch.zeros((frames, 3, height, width), device=device, dtype=dtype)
    states = torch.zeros((2, 1, pipe.unet.config.cross_attention_dim), device=device, dtype=dtype)
    sample = torch.zeros((2, frames, 8 + channels, h, w), device=device, dtype=dtype)
    times = torch.tensor([[6, 127, 0.02]] * 2, device=device, dtype=dtype)
    latents = torch.zeros((preset.decode_chunk, 4, h, w), device=device)

    def decode_and_write() -> None:
        chunk = next(pipe.decode_latents(latents, preset.decode_chunk))
        with tempfile.TemporaryDirectory() as tmp:
            video.write_mp4(chunk, 8, Path(tmp) / "calibration.mp4")

    return {"encoding": (lambda: pipe.pose_net(poses), frames * mp),
            "denoising": (lambda: pipe.unet(sample, 1.0, encoder_hidden_states=states, added_time_ids=times),
                          2 * frames * mp),
            "writing": (decode_and_write, preset.decode_chunk * mp)}
