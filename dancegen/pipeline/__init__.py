"""Pipeline stage: the reference photo, skeleton frames and a face embedding in; dance frames (or latents) out.

:class:`DancePipeline` (a diffusers ``DiffusionPipeline``) samples StableAnimator's way: CLIP token then identity
tokens, the reference latent beside the noise, pose features after ``conv_in``, classifier-free guidance, and
overlapping temporal windows (:mod:`.windows`). An A/B run denoises the baseline and the identity sample in one
batch from the same noise.
"""

from .pipeline import DancePipeline, DancePipelineOutput, clip_input
from .windows import temporal_windows, window_weights

__all__ = ["DancePipeline", "DancePipelineOutput", "clip_input", "temporal_windows", "window_weights"]
