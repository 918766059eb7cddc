"""Every setting, declared once: type, default, help text, allowed values and environment variable.

Three groups, each a frozen dataclass whose fields are declared with :func:`setting`:

* :class:`StudioConfig`: which model the studio loads and how it runs (``app.py`` flags, ``generate`` flags, API);
* :class:`ServeConfig`: how the web app serves (``app.py`` flags only);
* :class:`GenerationSettings`: one request (``generate`` flags, the app's controls and its API).

:func:`add_arguments` (:mod:`dancegen.spec`, with :func:`setting` and its checks) turns a group's fields into argparse flags (an environment variable, where one is named, gives
the default) and :func:`from_arguments` turns the parsed flags back into the dataclass. Every value is checked when
the dataclass is made (:class:`~dancegen.errors.SettingsError`, one line), so the command line, the app and direct
calls share one set of checks, and the app's sliders take their ranges from :func:`spec`.

Light on purpose (no torch, no gradio), so ``python app.py --help`` answers at once.
"""

from __future__ import annotations

import dataclasses
import enum

from .errors import SettingsError
from .spec import Spec, add_arguments, check, flag_of, from_arguments, setting, spec  # noqa: F401 (re-exported)

# ------------------------------------------------------------------------------------------------ choices


class PresetName(enum.StrEnum):
    TINY = "tiny"  # random, untrained weights at toy widths: the whole pipeline runs offline on a CPU
    STABLEANIMATOR = "stableanimator"  # StableAnimator's trained weights on SVD img2vid-xt


class DType(enum.StrEnum):
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"
    FLOAT32 = "float32"


class Mode(enum.StrEnum):
    AB = "ab"  # baseline and identity videos in one batch, from the same noise
    IDENTITY = "identity"  # the identity video only
    BASELINE = "baseline"  # the baseline (alpha 0) only


class Framing(enum.StrEnum):
    PHOTO = "photo"  # the photo's scale: the first pose lies on the person; a close photo gives a close-up dance
    WHOLE_BODY = "whole_body"  # shrunk until all of the body fits the frame


class MixedPrecision(enum.StrEnum):
    NO = "no"  # float32 throughout
    FP16 = "fp16"  # autocast to float16 with a gradient scaler (CUDA)
    BF16 = "bf16"  # autocast to bfloat16


class SigmaSampling(enum.StrEnum):
    COSINE_INTERPOLATED = "cosine_interpolated"  # StableAnimator's train.py: simple diffusion's shifted cosine
    LOG_NORMAL = "log_normal"  # EDM's log-normal (the line StableAnimator left commented out: mean 0.7, std 1.6)


class LRSchedule(enum.StrEnum):
    CONSTANT = "constant"  # StableAnimator's default
    CONSTANT_WITH_WARMUP = "constant_with_warmup"
    LINEAR = "linear"
    COSINE = "cosine"


# the dance styles (dancegen.choreo.STYLES; this stage may not import it, a test keeps the two the same)
STYLE_NAMES = ("pop", "hiphop", "korean")


class NoFace(enum.StrEnum):
    REFUSE = "refuse"  # a photo without a face is refused with a message
    BASELINE = "baseline"  # make the baseline only (no identity branch) and say so


# ------------------------------------------------------------------------------------------------ settings


@dataclasses.dataclass(frozen=True)
class StudioConfig:
    """What the studio loads and how it runs; shared by every request."""

    preset: PresetName = setting(PresetName.TINY, "model: tiny (offline, untrained) or stableanimator (trained "
                                 "weights)", env="DANCEGEN_PRESET")
    weights_dir: str | None = setting(None, "StableAnimator checkpoints folder (Animation/, SVD/, antelopev2/), or "
                                      "a folder written by dancegen train (its trained parts over its base)",
                                      env="DANCEGEN_WEIGHTS", flag="--weights", metavar="DIR")
    base_weights: str | None = setting(None, "StableAnimator checkpoints under trained --weights (default: the "
                                       "folder their manifest names)", env="DANCEGEN_BASE_WEIGHTS", metavar="DIR")
    download: bool = setting(False, "fetch the weights from the Hugging Face hub when no folder is given",
                             env="DANCEGEN_DOWNLOAD")
    device: str | None = setting(None, "cuda or cpu (default: cuda when available)", env="DANCEGEN_DEVICE")
    dtype: DType | None = setting(None, "model precision (default: float16 on CUDA, float32 on the CPU)",
                                  env="DANCEGEN_DTYPE")
    cpu_offload: bool = setting(False, "keep the models in CPU memory, each on the GPU only while it runs (small "
                                "GPUs; generations then run one at a time)", env="DANCEGEN_CPU_OFFLOAD")
    unet_batch_size: int | None = setting(None, "samples per UNet call (default: all 4 of an A/B step; 1 or 2 for "
                                          "small GPUs)", env="DANCEGEN_UNET_BATCH", flag="--unet-batch", low=1)
    max_music_s: float = setting(60.0, "longest stretch of music made into one video, seconds; longer music is "
                                 "trimmed", env="DANCEGEN_MAX_MUSIC_S", low=2.0)
    on_no_face: NoFace = setting(NoFace.REFUSE, "a photo without a face: refuse it, or make the baseline only",
                                 env="DANCEGEN_NO_FACE", flag="--no-face")
    output_root: str | None = setting(None, "parent of the per-request folders (default: the system temp folder)",
                                      flag="")
    output_max_age_s: float = setting(3600.0, "request folders unchanged for longer are deleted when the next "
                                      "request makes its folder, seconds", flag="", low=0.0)
    tiny_seed: int = setting(0, "seed of the tiny preset's random weights", flag="", low=0)
    progress_bar: bool = setting(True, "a tqdm bar per denoising step on stderr (the app shows its own)", flag="")
    skeleton_video_min_px: int = setting(256, "skeleton.mp4 is drawn at a whole multiple of the canvas whose short "
                                         "side is at least this, so thin lines survive compression", flag="", low=8)

    def __post_init__(self) -> None:
        check(self)


@dataclasses.dataclass(frozen=True)
class ServeConfig:
    """How the web app serves the studio."""

    host: str | None = setting(None, "address to serve on (default: GRADIO_SERVER_NAME or 127.0.0.1)")
    port: int | None = setting(None, "port (default: GRADIO_SERVER_PORT or 7860)", low=1, high=65535)
    share: bool = setting(False, "also open a public gradio.live link")
    concurrency: int = setting(1, "generation jobs running at once; the others wait in the queue",
                               env="DANCEGEN_CONCURRENCY", low=1)
    preview_concurrency: int = setting(2, "face, music and skeleton previews running at once", flag="", low=1)
    max_queue: int | None = setting(32, "waiting requests beyond this are turned away", flag="", low=1)
    max_file_size: str = setting("20mb", "largest upload accepted (photo or music)", flag="")
    examples_dir: str | None = setting(None, "folder with the example photo and music (default: assets/)", flag="")
    default_seconds: float = setting(6.0, "preselected dance length, seconds (capped at max_music_s)", flag="",
                                     low=2.0)
    zero_gpu: bool | None = setting(None, "run generation inside spaces.GPU (default: on a Space with `spaces`)",
                                    flag="")
    space: bool | None = setting(None, "a Hugging Face Space's page: the visitor's banner and the space_* defaults "
                                 "(default: when SPACE_ID is set)", flag="")
    # On a Space each visitor has a few minutes of ZeroGPU time a day (about 2 min signed out, 3.5 signed in), and
    # every run is charged the time it asks for: the page preselects a short, quick run.
    space_seconds: float = setting(4.0, "preselected dance length on a Space, seconds (capped at max_music_s)",
                                   flag="", low=2.0)
    space_steps: int | None = setting(20, "preselected denoising steps on a Space (None: the model's)", flag="",
                                      low=1)
    gpu_s_per_frame_step: float = setting(0.1, "ZeroGPU time asked per frame and denoising step at 512x512, s",
                                          flag="", low=0.0)
    gpu_s_per_frame: float = setting(0.3, "ZeroGPU time asked per frame for decoding, writing and metrics, s",
                                     flag="", low=0.0)
    gpu_s_per_output_frame: float = setting(0.02, "ZeroGPU time asked per frame written in between the generated "
                                            "ones (interpolation and encoding) at 512x512, s", flag="", low=0.0)
    gpu_s_base: float = setting(20.0, "ZeroGPU time asked once per run (encoding, face, music), s", flag="",
                                low=0.0)
    gpu_s_max: float = setting(900.0, "most ZeroGPU time asked for one run, s", flag="", low=1.0)
    gpu_bench: str | None = setting(None, "gpu_bench.json of bench/gpu.py on this GPU: the ZeroGPU rates per step and "
                                    "frame are its measured ones x1.5", env="DANCEGEN_GPU_BENCH", metavar="FILE")
    review: str | None = setting(None, "a study folder (dancegen eval --out) whose pairs the app offers for blind A/B "
                                 "review in a tab", env="DANCEGEN_REVIEW", metavar="DIR")

    def __post_init__(self) -> None:
        check(self)


DEFAULT_OUTPUT_FPS = 24.0  # the videos' frame rate unless asked (or the generation rate, when higher)


@dataclasses.dataclass(frozen=True)
class GenerationSettings:
    """One request: what to make from the photo and the music."""

    alpha: float = setting(1.0, "identity strength of the identity video (the baseline always has 0)",
                           low=0.0, high=2.0, step=0.05)
    id_tokens: int | None = setting(None, "identity tokens N the identity video uses (default: all the face "
                                    "encoder makes)", low=1)
    seed: int = setting(23123134, "seed of the dance and of the diffusion noise", low=0, high=2**63 - 1)
    steps: int | None = setting(None, "denoising steps (default: the model's)", low=1, high=100, step=1)
    guidance: float | None = setting(None, "classifier-free guidance (default: the model's)", low=1.0, high=20.0,
                                     step=0.5)
    fps: float = setting(8.0, "generation frame rate: the video model makes frame t at music offset + t / fps",
                         low=1.0, high=30.0, step=1.0)
    output_fps: float | None = setting(None, "frame rate of the videos written, at least --fps: the frames in "
                                       "between the generated ones are interpolated along the motion; equal to --fps: "
                                       "none (default: 24, or --fps when that is higher)", low=1.0, high=60.0,
                                       step=1.0)
    size: tuple[int, int] | None = setting(None, "video size in px, multiples of 64 (default: the photo's shape, "
                                           "portrait, square or landscape, at the model's sizes)",
                                           low=64, high=1024, step=64, multiple_of=64, metavar=("W", "H"))
    music_offset_s: float = setting(0.0, "where in the music the dance starts, seconds", flag="--offset", low=0.0,
                                    step=0.5)
    seconds: float | None = setting(None, "how much music to dance to, seconds (default: all of it, up to the "
                                    "longest allowed)", low=2.0, step=0.5)
    mode: Mode = setting(Mode.AB, "ab: baseline and identity from the same noise; or one of them")
    framing: Framing = setting(Framing.PHOTO, "photo: the photo's scale, the skeleton lies on the person (a close "
                               "photo gives a close-up dance); whole_body: shrunk until all of the body fits")
    style: str | None = setting(None, "dance style: pop, hiphop or korean (default: chosen from the music)",
                                choices=STYLE_NAMES)

    def __post_init__(self) -> None:
        check(self)
        if self.output_fps is None:  # the smooth default, never below the generation rate
            object.__setattr__(self, "output_fps", max(DEFAULT_OUTPUT_FPS, self.fps))
        if self.output_fps < self.fps:
            raise SettingsError(f"output fps must be at least fps ({self.fps:g}, the rate the frames are generated "
                                f"at), got {self.output_fps:g}")


def check_seconds(settings: GenerationSettings, max_music_s: float) -> None:
    """One range for the length (issue 14): the app's slider stops at the studio's max_music_s, and so do the
    studio and the command line. A length asked beyond it is a SettingsError naming --max-music-s (a song longer
    than the limit, with no length asked, is still trimmed to it, with a note)."""
    if settings.seconds is not None and settings.seconds > max_music_s:
        raise SettingsError(f"seconds must be at most {max_music_s:g}, the longest music allowed (raise it with "
                            f"--max-music-s), got {settings.seconds:g}")


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """One training run (``dancegen train``): what is trained, on what, and how."""

    preset: PresetName = setting(PresetName.TINY, "model sizes: tiny (random seeded base) or stableanimator")
    init: str | None = setting(None, "start from: StableAnimator's checkpoints folder (the stableanimator base) or "
                               "a folder written by dancegen train (default: the tiny preset's random networks)",
                               metavar="DIR")
    base_weights: str | None = setting(None, "StableAnimator checkpoints under a trained --init (default: the "
                                       "folder its manifest names; with --resume only a copy of the checkpoint's "
                                       "base, which is always the one used)", metavar="DIR")
    download: bool = setting(False, "fetch the stableanimator base from the Hugging Face hub when no --init is given")
    tiny_seed: int = setting(0, "seed of the tiny preset's random base", flag="", low=0)
    steps: int = setting(1000, "optimiser steps to train to (with --resume: in total)", low=1)
    lr: float = setting(1e-5, "learning rate (StableAnimator trained with 1e-5)", low=0.0)
    lr_schedule: LRSchedule = setting(LRSchedule.CONSTANT, "learning-rate schedule after the warm-up")
    lr_warmup: int = setting(0, "warm-up steps of the schedules that have one", low=0)
    weight_decay: float = setting(1e-2, "AdamW weight decay", low=0.0)
    max_grad_norm: float = setting(1.0, "gradients are clipped to this norm (0: not clipped)", low=0.0)
    batch: int = setting(1, "clips per process and micro-step", low=1)
    grad_accum: int = setting(1, "micro-steps per optimiser step (gradient accumulation)", low=1)
    frames: int | None = setting(None, "frames per training clip (default: the preset's window, 16 or 8)", low=1)
    size: tuple[int, int] | None = setting(None, "training size in px, multiples of 64 (default: the model's)",
                                           low=64, high=2048, multiple_of=64, metavar=("W", "H"))
    frame_stride: int = setting(4, "take every k-th frame of a clip, less when it is too short (StableAnimator: 4)",
                                low=1)
    mixed_precision: MixedPrecision = setting(MixedPrecision.NO, "autocast the forward pass: no, fp16 or bf16")
    gradient_checkpointing: bool = setting(False, "recompute the UNet's activations in the backward pass (much "
                                           "less memory, slower steps)")
    train_pose_net: bool = setting(False, "also train the pose net")
    train_unet_attention: bool = setting(False, "also train every parameter of the UNet's spatio-temporal "
                                         "transformers: attention, norms, feed-forwards, temporal blocks, time "
                                         "mixer (half the UNet; not its ResNets; StableAnimator's choice)")
    conditioning_dropout: float = setting(0.1, "p: the CLIP token is dropped with probability 2p and the reference "
                                          "latent with 2p, both with p (StableAnimator's scheme)", low=0.0,
                                          high=1.0 / 3.0)
    sigma_sampling: SigmaSampling = setting(SigmaSampling.COSINE_INTERPOLATED, "noise levels drawn as StableAnimator "
                                            "(cosine_interpolated) or EDM's log-normal")
    face_weight: float = setting(1.0, "loss weight 1 + w inside the face boxes (StableAnimator: 1)", low=0.0)
    checkpoint_every: int = setting(500, "save a resumable checkpoint every this many steps (and at the end)",
                                    low=1)
    keep_checkpoints: int = setting(3, "checkpoints kept; older ones are deleted", low=1)
    seed: int = setting(0, "seed of the data order, noise levels, noise and dropout", low=0, high=2**63 - 1)
    resume: bool = setting(False, "continue from the newest checkpoint in --out (same step, optimiser, data)")
    workers: int = setting(2, "data-loading worker processes per training process", low=0)
    device: str | None = setting(None, "cuda or cpu (default: cuda when available)")

    def __post_init__(self) -> None:
        check(self)


@dataclasses.dataclass(frozen=True)
class PrepareSettings:
    """Turning raw dance videos into training clips (``dancegen prepare``)."""

    preset: PresetName = setting(PresetName.TINY, "which face embedding to cache: offline models (tiny) or "
                                 "antelopev2 (stableanimator)")
    weights_dir: str | None = setting(None, "folder holding DWPose/ (yolox_l.onnx, dw-ll_ucoco_384.onnx) and "
                                      "antelopev2/, e.g. StableAnimator's checkpoints", flag="--weights",
                                      metavar="DIR")
    download: bool = setting(False, "fetch DWPose and antelopev2 from StableAnimator's hub repo")
    max_frames: int = setting(900, "frames kept from each video (the first ones)", low=1)
    max_side: int = setting(1024, "frames are shrunk so their longer side is at most this, px", low=64)
    min_body_joints: int = setting(8, "a frame counts as showing the dancer with this many joints seen", low=1,
                                   high=18)
    min_body_frames: float = setting(0.9, "a video is skipped when fewer of its frames show the dancer", low=0.0,
                                     high=1.0)

    def __post_init__(self) -> None:
        check(self)
