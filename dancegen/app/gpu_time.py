"""ZeroGPU time: how much one run asks for, and what to tell a visitor whose quota refuses it.

On a Hugging Face Space generation runs inside ``spaces.GPU(duration=...)``; the duration is asked before the run
and charged to the visitor's daily quota whole, so it is sized from the run itself: the photo's real canvas
(:meth:`DanceStudio.canvas`), the frames the music segment gives, the denoising steps and the frames interpolated
in between (:func:`gpu_request`). The rates are :class:`~dancegen.config.ServeConfig`'s ``gpu_s_*`` settings:
generous guesses, replaced at start-up by the rates ``bench/gpu.py`` measured on the Space's GPU when its
gpu_bench.json is given (``gpu_bench``, :func:`with_measured_rates`).

When the quota refuses, ``spaces`` raises a ``gr.Error`` titled "ZeroGPU quota exceeded" ("You have exceeded your
free GPU quota (305s requested vs. 120s left). Try again in 13:02:11.") or "ZeroGPU illegal duration" ("The
requested GPU duration (305s) is larger than the maximum allowed"); :func:`quota_refusal` turns it into one
sentence saying how long a dance fits.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import re
from pathlib import Path

from ..config import GenerationSettings, ServeConfig
from ..errors import ResourceLimit, SettingsError, UserError
from ..studio import DanceStudio
from . import text as T

MIN_MUSIC_S = 2.0  # the music stage refuses shorter segments
MEASURED_MARGIN = 1.5  # measured GPU rates are asked for with this headroom (another GPU's load, the first call)
_ASKED_LEFT = re.compile(r"(\d+(?:\.\d+)?)\s*s\s+requested\s+vs\.?\s+(\d+(?:\.\d+)?)\s*s\s+left", re.IGNORECASE)
_RETRY = re.compile(r"try again in\s+([\d:]+)", re.IGNORECASE)


class GpuQuotaRefused(ResourceLimit):
    """ZeroGPU would not run this request for this visitor; the message says what to shorten."""


@dataclasses.dataclass(frozen=True)
class GpuRequest:
    """What one run asks ZeroGPU for."""

    seconds: int  # the duration asked (at most gpu_s_max)
    fixed_s: float  # the part that does not grow with the dance's length
    per_music_s: float  # the part per second of music danced


def music_seconds(studio: DanceStudio, music, settings: GenerationSettings) -> float:
    """How much music the run dances: the segment the music file gives (it may end before the length asked),
    else the length asked, else the longest allowed."""
    limit = float(studio.config.max_music_s)
    seconds = limit if settings.seconds is None else min(settings.seconds, limit)
    if isinstance(music, str):
        with contextlib.suppress(UserError, OSError):
            seconds = studio.analyse_music(music, settings.music_offset_s, settings.seconds).duration_s
    return seconds


def canvas_of(studio: DanceStudio, photo, settings: GenerationSettings) -> tuple[int, int]:
    """The (width, height) the run generates at: the settings' size, else the photo's shape at the model's sizes;
    the largest (portrait) canvas when the photo cannot be read here."""
    if settings.size is None and photo is not None:
        with contextlib.suppress(UserError, OSError):
            return studio.canvas(settings, studio.photo_size(photo))
    width, height = settings.size or studio.preset.portrait
    return int(width), int(height)


def gpu_request(studio: DanceStudio, config: ServeConfig, photo, music, settings: GenerationSettings) -> GpuRequest:
    """The ZeroGPU time one run of ``settings`` on this photo and music asks for (:func:`request_for` at the
    photo's canvas and the music's length)."""
    return request_for(config, canvas_of(studio, photo, settings), settings, settings.steps or studio.preset.steps,
                       music_seconds(studio, music, settings))


def request_for(config: ServeConfig, canvas: tuple[int, int], settings: GenerationSettings, steps: int,
                seconds: float) -> GpuRequest:
    """The ZeroGPU time of ``seconds`` of dance at the settings' fps and output fps on a ``canvas`` (W, H): a base,
    then per generated frame its denoising ``steps`` (scaled by the canvas's pixels over 512 x 512) and its
    decoding, and per frame written in between its interpolation. Rounded up, at most ``config.gpu_s_max``."""
    scale = canvas[0] * canvas[1] / (512 * 512)
    fps, output_fps = settings.fps, settings.output_fps
    per_frame = steps * scale * config.gpu_s_per_frame_step + config.gpu_s_per_frame
    between = max(0.0, output_fps - fps) * scale * config.gpu_s_per_output_frame
    per_music_s = fps * per_frame + between
    frames = max(1, round(seconds * fps))
    estimate = config.gpu_s_base + frames * per_frame + seconds * between
    return GpuRequest(int(min(config.gpu_s_max, math.ceil(estimate))), config.gpu_s_base, per_music_s)


def rates_from_bench(result: dict, margin: float = MEASURED_MARGIN) -> dict[str, float]:
    """ServeConfig's ``gpu_s_per_frame_step`` and ``gpu_s_per_frame`` from a ``bench/gpu.py`` result (its
    gpu_bench.json): per frame and step at 512 x 512, the A/B pipeline's measured seconds per step over its frames
    and pixels; per frame, what the run spent besides its steps (encoding, decoding) over its frames; the largest
    over the sizes measured, times ``margin``. SettingsError (one line) when it holds no A/B pipeline run."""
    try:
        frames = int(result["meta"]["frames"])
        runs = [r for r in result["measurements"] if r.get("section") == "pipeline" and r.get("variant") == "ab"
                and "error" not in r and r.get("step_s")]
        per_step, per_frame = [], []
        for r in runs:
            width, height = (int(v) for v in str(r["size"]).split("x"))
            per_step.append(r["step_s"] / frames / (width * height / (512 * 512)))
            per_frame.append(max(0.0, r["seconds"] - r["steps"] * r["step_s"]) / frames)
    except (KeyError, TypeError, ValueError) as exc:
        raise SettingsError(f"the GPU benchmark result is not bench/gpu.py's gpu_bench.json ({exc})") from None
    if not runs:
        raise SettingsError("the GPU benchmark result has no A/B pipeline run to take the rates from")
    return {"gpu_s_per_frame_step": margin * max(per_step), "gpu_s_per_frame": margin * max(per_frame)}


def with_measured_rates(config: ServeConfig) -> ServeConfig:
    """``config`` with the rates of its ``gpu_bench`` file (:func:`rates_from_bench`; the per-frame rate never
    below the configured one, which also covers writing and metrics); unchanged without one. SettingsError (one
    line) for a file that cannot be read."""
    if config.gpu_bench is None:
        return config
    try:
        result = json.loads(Path(config.gpu_bench).read_text())
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read the GPU benchmark result {config.gpu_bench}: {exc}") from None
    rates = rates_from_bench(result)
    rates["gpu_s_per_frame"] = max(rates["gpu_s_per_frame"], config.gpu_s_per_frame)
    return dataclasses.replace(config, **rates)


def fitting_seconds(request: GpuRequest, budget_s: float) -> float | None:
    """The longest dance (in half seconds, at least MIN_MUSIC_S) whose request fits ``budget_s``; None when even
    the shortest does not."""
    seconds = math.floor(2 * (budget_s - request.fixed_s) / request.per_music_s) / 2 if request.per_music_s else 0
    return seconds if seconds >= MIN_MUSIC_S else None


def quota_refusal(exc: BaseException, request: GpuRequest) -> GpuQuotaRefused | None:
    """ZeroGPU's refusal of ``request`` (a gr.Error raised by ``spaces``) as a sentence for the visitor, or None
    when ``exc`` is something else."""
    title = str(getattr(exc, "title", "") or "")
    message = str(getattr(exc, "message", None) or exc)
    words = f"{title} {message}".lower()
    if "illegal duration" in words or "larger than the maximum allowed" in words:
        return GpuQuotaRefused(T.GPU_TOO_LONG.format(asked=request.seconds, per_second=math.ceil(request.per_music_s)))
    if "quota" not in words and "gpu limit" not in words:
        return None
    found, retry = _ASKED_LEFT.search(message), _RETRY.search(message)
    left = float(found.group(2)) if found else 0.0
    fits = fitting_seconds(request, left)
    advice = T.GPU_QUOTA_SHORTEN.format(seconds=fits) if fits is not None else T.GPU_QUOTA_WAIT
    return GpuQuotaRefused(T.GPU_QUOTA.format(asked=request.seconds, left=f"{left:g}",
                                              retry=T.GPU_QUOTA_RETRY.format(when=retry.group(1)) if retry else "",
                                              advice=advice))
