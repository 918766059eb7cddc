"""A generation's videos from its final latents: decoded chunk by chunk straight into every mp4, each video's
metrics measured as the frames pass (:class:`~dancegen.metrics.report.GenerationMetrics`), and one clear line when
the device runs out of memory or the ground-truth video cannot be read."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import PIL.Image
import torch

from ..errors import GroundTruthError, NoFaceError, OutOfMemory
from ..face import FaceAnalyser, FaceResult
from ..io import interpolate, read, streams
from ..io.video import VideoError
from ..metrics.report import GenerationMetrics
from ..pipeline import DancePipelineOutput
from ..pose.detect import BodyDetector
from ..pose.render import SkeletonFrames

if TYPE_CHECKING:
    from .studio import Prepared


def write_videos(job: Prepared, output: DancePipelineOutput, folder: Path, report: Callable[..., None],
                 decode: Callable[[torch.Tensor], Iterator[np.ndarray]], skeleton_min_px: int,
                 judges: list[tuple[FaceAnalyser, FaceResult | None]], body_detector: BodyDetector | None = None,
                 truth: read.FrameSampler | None = None) -> tuple[dict[str, Path], dict]:
    """Decode the latents chunk by chunk (``decode``: one video's latents -> its chunks [n, H, W, 3] uint8) into
    every mp4 at once (baseline, identity, side by side, skeleton drawn with a short side of at least
    ``skeleton_min_px``), at the output rate (frames in between interpolated), measuring the generated frames (and
    the output's flicker) as they pass; only chunks of frames are ever in memory. -> (paths, the metrics)."""
    s, music, n = job.settings, job.music, len(job.skeletons)
    k = max(1, math.ceil(skeleton_min_px / min(job.skeletons.width, job.skeletons.height)))
    drawn = SkeletonFrames(job.skeletons.poses * k, job.skeletons.width * k, job.skeletons.height * k)
    names = list(output.latents)
    labels = ("baseline (alpha 0)", f"identity (alpha {s.alpha:g}, {output.id_tokens} tokens)")
    with streams.OutputVideos(folder, names, s.fps, s.output_fps, n, music.duration_s,
                              lambda at: np.stack(list(SkeletonFrames(  # poses linear between frames
                                  interpolate.sample_linear(drawn.poses, at), drawn.width, drawn.height))),
                              music.samples, music.sr,
                              labels if len(names) == 2 else None) as videos:
        meters = GenerationMetrics(names, n, s.fps, (job.skeletons.width, job.skeletons.height),
                                   music.beats_s, job.skeletons.poses, judges, skeleton_scale=k,
                                   body_detector=body_detector, ground_truth=truth is not None)

        def measure(start: int, frames: dict[str, np.ndarray], shown: dict[str, np.ndarray],
                    shown_skeletons: np.ndarray) -> None:
            count = len(frames[names[0]])
            skeletons = np.stack([drawn[i] for i in range(start, start + count)])  # [n, kH, kW, 3]
            times = music.offset_s + np.arange(start, start + count) / s.fps  # s, on the music's clock
            with ground_truth_errors():
                seen = list(truth.at(times)) if truth is not None else []
            meters.add(start, frames, skeletons, np.stack(seen) if seen else None)
            meters.add_output(shown, shown_skeletons)

        timings = streams.write_chunks(videos, {name: decode(output.latents[name]) for name in names}, measure,
                                       lambda done: report("writing", done, n, f"{done}/{n} frames"))
    job.timings.update({key: round(value, 3) for key, value in timings.items()})
    return videos.paths, meters.report()


def judges(preview_faces: FaceAnalyser, identity_faces: FaceAnalyser, face: FaceResult | None,
           image: PIL.Image.Image) -> list[tuple[FaceAnalyser, FaceResult | None]]:
    """Who judges identity: the offline models (``preview_faces``, which found ``face``) always, and the encoder's
    own models too when they are others (antelopev2 on the real path: the encoder's model is never the only judge);
    each with the photo's face as it sees it (None: no face for it)."""
    found: list[tuple[FaceAnalyser, FaceResult | None]] = [(preview_faces, face)]
    if identity_faces is not preview_faces:
        try:
            theirs = identity_faces.analyse(image) if face is not None else None  # cached
        except NoFaceError:
            theirs = None
        found.append((identity_faces, theirs))
    return found


@contextlib.contextmanager
def ground_truth_errors() -> Iterator[None]:
    """A ground-truth video that cannot be read (at the start or half-way) is the user's to fix."""
    try:
        yield
    except VideoError as exc:
        raise GroundTruthError(f"the ground-truth video cannot be used: {exc}") from None


@contextlib.contextmanager
def memory_limit(device: torch.device, frames: int, width: int, height: int) -> Iterator[None]:
    """Running out of device memory (denoising or decoding ``frames`` frames of ``width`` x ``height``) becomes one
    clear line with what to try, and the failed run's memory is given back, so the next request starts clean."""
    try:
        yield
    except torch.OutOfMemoryError:
        if device.type == "cuda":
            torch.cuda.empty_cache()
        where = "GPU" if device.type == "cuda" else "computer"
        raise OutOfMemory(f"the {where} ran out of memory for {frames} frames at {width}x{height}: "
                          "try a smaller size, or run with --unet-batch 1 or --cpu-offload") from None
