"""The product pipeline: a photo and a music file in, the A/B dance videos, a skeleton preview and a report out.

:class:`DanceStudio` loads everything once (models, face analysers, choreographer) and then runs, per request,

    photo -> face (largest face, crop, embedding) ─┐
    music -> beats ─> choreography (poses) ─> skeleton frames ─> diffusion (baseline + identity) ─> mp4s -> metrics

The app and the CLI (``python -m dancegen generate``) only talk to this class.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import PIL.Image
import torch

from . import music as music_mod
from . import video
from .cli import ArgumentParser, UsageError
from .body import BodyDetector, BodyDetectorConfig
from .choreo import BodyLayout, ProceduralChoreographer, body_from_face, body_from_keypoints
from .face import FaceAnalyser, FaceAnalyserConfig, FaceResult, NoFaceError, load_photo, require_antelopev2
from .metrics import identity_similarity
from .models import WeightsError, build, get_preset, load_stableanimator, resolve_weights
from .pipeline import DancePipeline, GenerationCancelled
from .skeleton import render_whole_body

logger = logging.getLogger(__name__)

NO_FACE_CHOICES = ("refuse", "baseline")


@dataclass(frozen=True)
class StudioConfig:
    preset: str = "tiny"  # "tiny" (random weights, offline) or "stableanimator" (trained weights)
    weights_dir: str | None = None  # StableAnimator checkpoints folder (Animation/, SVD/..., antelopev2/)
    download: bool = False  # fetch the weights from the hub when no folder is given (e.g. on a Space)
    device: str | None = None  # "cuda" or "cpu"; None: CUDA when available
    dtype: str | None = None  # "float16", "bfloat16" or "float32"; None: float16 on CUDA, float32 on the CPU
    cpu_offload: bool = False  # diffusers' model CPU offload, for GPUs with little memory
    unet_batch_size: int | None = None  # samples per UNet call (None: all 4 of a guided A/B step; 1 saves memory)
    max_music_s: float = 60.0  # longest music segment turned into one video (longer music is trimmed)
    on_no_face: str = "refuse"  # no face in the photo: "refuse", or "baseline" (no identity branch, with a warning)
    output_root: str | None = None  # parent of the per-request folders (None: the system temp folder)
    output_max_age_s: float = 3600.0  # request folders older than this are deleted when a new one is made
    seed: int = 0  # seed of the tiny preset's random weights
    progress_bar: bool = True  # tqdm bar per denoising step on stderr (the app shows its own)
    # skeleton.mp4 is drawn at an integer multiple of the canvas whose shorter side is at least this many px, so the
    # thin DWPose lines survive video compression on small canvases (the diffusion always gets canvas-size drawings)
    skeleton_video_min_px: int = 256


@dataclass(frozen=True)
class GenerationSettings:
    alpha: float = 1.0  # identity weight of the identity video (the baseline is always alpha 0)
    id_tokens: int | None = None  # identity tokens N (None: all the face encoder makes)
    seed: int = 23123134  # seed of the diffusion noise and of the choreography
    steps: int | None = None  # denoising steps (None: the preset's default)
    guidance: float | None = None  # classifier-free guidance, same for every frame (None: the preset's default)
    fps: float = 8.0  # output frame rate: frame t shows music time offset + t / fps
    size: tuple[int, int] | None = None  # (width, height), multiples of 64 (None: the preset's default)
    music_offset_s: float = 0.0  # where in the music file the dance starts
    seconds: float | None = None  # how much music to use (None: all of it, up to StudioConfig.max_music_s)
    mode: str = "ab"  # "ab" (baseline + identity in one run), "identity" or "baseline"
    # "photo": always the photo's scale, so the first pose lies on the person as StableAnimator expects (parts
    # outside the frame are not drawn: a head-and-shoulders photo gives a close-up dance, face large);
    # "whole_body": the photo's scale when all of the body fits the frame, else shrunk until it does (a full
    # dance, but on a close photo the skeleton is then smaller than the person in it)
    framing: str = "photo"


# GenerationSettings.framing -> the choreographer's fit mode
FRAMINGS = {"photo": "clip", "whole_body": "scale"}


@dataclass
class GenerationResult:
    out_dir: Path  # the request's folder
    videos: dict[str, Path]  # "baseline" / "identity" / "side_by_side" / "skeleton" -> mp4 (those made)
    report: dict  # what report.json holds
    face: FaceResult | None  # the face used (None when generating without one)
    warnings: list[str] = field(default_factory=list)  # things the user should know


class SkeletonFrames(Sequence):
    """Skeleton images rendered on demand (so a long video never holds all of them). Item: [H, W, 3] uint8.

    Body, hands and face, as StableAnimator's DWPose training skeletons (hands and face synthesised from the body).
    """

    def __init__(self, poses: np.ndarray, width: int, height: int):
        self.poses, self.width, self.height = poses, width, height  # poses: [T, 18, 2] canvas px

    def __len__(self) -> int:
        return len(self.poses)

    def __getitem__(self, index: int) -> np.ndarray:
        return render_whole_body(self.poses[index], self.width, self.height)


def pick_device(requested: str | None) -> torch.device:
    if requested:
        device = torch.device(requested)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("CUDA was requested but no CUDA GPU is available")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}


class OutOfMemory(ValueError):
    """The device ran out of memory for this request (one line with what to try; the studio stays usable)."""


def pick_dtype(requested: str | None, device: torch.device) -> torch.dtype:
    """The models' dtype: as requested, else float16 on CUDA (as StableAnimator runs) and float32 on the CPU."""
    if requested is None:
        return torch.float16 if device.type == "cuda" else torch.float32
    if requested not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {requested!r}")
    return DTYPES[requested]


class DanceStudio:
    """Everything loaded once; :meth:`generate` per request. Safe to share between requests of a queue."""

    def __init__(self, config: StudioConfig = StudioConfig()):
        if config.on_no_face not in NO_FACE_CHOICES:
            raise ValueError(f"on_no_face must be one of {NO_FACE_CHOICES}")
        self.config = config
        self.preset = get_preset(config.preset)
        self.device = pick_device(config.device)
        self.dtype = pick_dtype(config.dtype, self.device)
        self.warnings: list[str] = []  # start-up warnings, shown with every result
        providers = (("CUDAExecutionProvider", "CPUExecutionProvider") if self.device.type == "cuda"
                     else ("CPUExecutionProvider",))
        # Offline face models: the face-crop preview and the identity metrics, for every preset.
        self.preview_faces = FaceAnalyser(FaceAnalyserConfig(source="offline"))
        self.body_detector: BodyDetector | None = None  # DWPose, when its weights are there (real path)
        if self.preset.trained:
            paths = resolve_weights(config.weights_dir, download=config.download)
            offload = config.cpu_offload and self.device.type == "cuda"  # then the hooks move each model in turn
            models = load_stableanimator(paths, torch.device("cpu") if offload else self.device, self.dtype)
            if paths.antelopev2 is None:
                raise WeightsError("the antelopev2 face models were not found beside the StableAnimator weights; "
                                   "the trained face encoder needs them (put them in <weights>/antelopev2)")
            # The trained face encoder only understands antelopev2 (glintr100) embeddings.
            self.identity_faces = FaceAnalyser(FaceAnalyserConfig(source="antelopev2", model_dir=str(paths.antelopev2),
                                                                  providers=providers))
            if paths.dwpose is not None:
                self.body_detector = BodyDetector.from_folder(paths.dwpose, BodyDetectorConfig(providers=providers))
            else:
                self.warnings.append("DWPose weights not found: the dancer is placed from the face box alone")
            if self.device.type == "cpu":
                self.warnings.append("the full-size model is running on the CPU: expect hours per video"
                                     + (" (--dtype bfloat16 is about twice as fast on CPUs with bf16 support)"
                                        if self.dtype == torch.float32 else ""))
        else:
            models = build(self.preset, self.device, self.dtype, seed=config.seed)
            # Random encoder: any embedding is as (un)meaningful as another, so the offline one is used.
            self.identity_faces = self.preview_faces
        self.models = models
        self.pipe = DancePipeline.from_models(models)
        self.pipe.set_progress_bar_config(disable=not config.progress_bar)
        if config.cpu_offload and self.device.type == "cuda":
            self.pipe.enable_model_cpu_offload(device=self.device)
        self.choreographer = ProceduralChoreographer()
        self.outputs = video.OutputDir(config.output_root, config.output_max_age_s)
        self._music_cache: OrderedDict[tuple, music_mod.MusicAnalysis] = OrderedDict()
        self._music_lock = threading.Lock()

    # ------------------------------------------------------------------------------------------- description

    @property
    def num_id_tokens(self) -> int:
        return self.preset.num_id_tokens

    def describe(self) -> dict:
        return {"preset": self.preset.name, "trained": self.preset.trained, "label": self.preset.label,
                "weights": self.models.weights, "device": str(self.device), "dtype": str(self.dtype).split(".")[-1],
                "gpu": self._gpu_name()}

    def _gpu_name(self) -> str | None:
        if self.device.type != "cuda":
            return None
        try:  # on ZeroGPU the device only exists inside a GPU slot
            return torch.cuda.get_device_name(self.device)
        except RuntimeError:
            return "CUDA GPU"

    def banner(self) -> str:
        d = self.describe()
        where = d["gpu"] or "CPU"
        if self.preset.trained:
            text = f"Running {d['label']} on {where} ({d['dtype']})."
        else:
            text = (f"Offline demo: {d['label']}, on {where}. Face detection, music analysis, choreography, the "
                    "skeleton video and the whole diffusion pipeline really run, but the network has never been "
                    "trained, so its videos are noise-like. Start with --preset stableanimator and the "
                    "StableAnimator weights for real dance videos.")
        return " ".join([text, *self.warnings])

    # ------------------------------------------------------------------------------------------------ stages

    def analyse_face(self, photo) -> FaceResult:
        """Face-crop preview (offline models, cached by image content). Raises FaceError/NoFaceError."""
        return self.preview_faces.analyse(photo)

    def analyse_music(self, path, offset_s: float = 0.0, seconds: float | None = None) -> music_mod.MusicAnalysis:
        """Beats, tempo and energy of a music segment (cached by file content and segment)."""
        path = Path(path)
        if not path.is_file():
            raise music_mod.MusicError(f"music file not found: {path.name}")
        digest = hashlib.sha1()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        key = (digest.hexdigest(), float(offset_s), None if seconds is None else float(seconds))
        with self._music_lock:
            if key in self._music_cache:
                self._music_cache.move_to_end(key)
                return self._music_cache[key]
        analysis = music_mod.analyse(path, offset_s=offset_s, duration_s=seconds, max_seconds=self.config.max_music_s)
        with self._music_lock:
            self._music_cache[key] = analysis
            while len(self._music_cache) > 8:
                self._music_cache.popitem(last=False)
        return analysis

    def body_layout(self, face: FaceResult | None, image: PIL.Image.Image, size: tuple[int, int],
                    framing: str = "photo") -> BodyLayout:
        """Frame-0 body placed on the person in the photo: from DWPose keypoints when the detector is loaded and
        sees enough of the body, else from the face box, else (no face) a whole body standing in the middle.
        ``framing`` as in :class:`GenerationSettings`."""
        fit = FRAMINGS[framing]
        if self.body_detector is not None:
            body = self.body_detector.detect(np.asarray(image))
            if body is not None and int((body.scores > 0.3).sum()) >= 8:
                return body_from_keypoints(body.keypoints, body.scores, image.size, size, fit=fit)
        if face is not None:
            return body_from_face(face.largest.bbox, face.image_size, size, fit=fit)
        w, h = image.size
        side = min(w, h) / 9  # a face box of a person standing in the middle of the photo
        return body_from_face((w / 2 - side / 2, h * 0.06, w / 2 + side / 2, h * 0.06 + side * 1.2), image.size, size)

    def choreograph(self, music: music_mod.MusicAnalysis, body: BodyLayout, fps: float, seed: int) -> np.ndarray:
        """Poses [T, 18, 2] on the canvas, T = round(duration * fps)."""
        frames = max(1, round(music.duration_s * fps))
        return self.choreographer(music, fps, seed, body, n_frames=frames)

    def write_skeleton_video(self, poses: np.ndarray, size: tuple[int, int], fps: float,
                             music: music_mod.MusicAnalysis, path: Path) -> Path:
        k = max(1, math.ceil(self.config.skeleton_video_min_px / min(size)))  # drawing scale
        frames = SkeletonFrames(poses * k, size[0] * k, size[1] * k)
        return video.write_mp4(iter(frames), fps, path, audio=music.samples, sr=music.sr)

    def skeleton_preview(self, photo, music_path, settings: GenerationSettings = GenerationSettings()) -> Path:
        """The dance as a skeleton video with the music (no diffusion): quick feedback after an upload."""
        self._check(settings)
        size = self._size(settings)
        image = load_photo(photo)
        face = self._face_or_none(image, [])
        music = self.analyse_music(music_path, settings.music_offset_s, settings.seconds)
        poses = self.choreograph(music, self.body_layout(face, image, size, settings.framing), settings.fps,
                                 settings.seed)
        out_dir = self.outputs.create()
        return self.write_skeleton_video(poses, size, settings.fps, music, out_dir / "skeleton.mp4")

    # ---------------------------------------------------------------------------------------------- generate

    def _size(self, settings: GenerationSettings) -> tuple[int, int]:
        width, height = settings.size or self.preset.size
        if width % 64 or height % 64 or not (64 <= width <= 1024 and 64 <= height <= 1024):
            raise ValueError(f"video size must be multiples of 64 between 64 and 1024 px, got {width}x{height}")
        return int(width), int(height)

    def _face_or_none(self, image: PIL.Image.Image, warnings: list[str]) -> FaceResult | None:
        try:
            return self.analyse_face(image)
        except NoFaceError:
            if self.config.on_no_face == "refuse":
                raise
            warnings.append("no face was found in the photo, so only the baseline (no identity branch) was made")
            return None

    def _check(self, settings: GenerationSettings) -> None:
        if settings.mode not in ("ab", "identity", "baseline"):
            raise ValueError(f"mode must be 'ab', 'identity' or 'baseline', got {settings.mode!r}")
        if not (math.isfinite(settings.alpha) and 0.0 <= settings.alpha <= 4.0):
            raise ValueError(f"alpha must be between 0 and 4, got {settings.alpha}")
        if settings.id_tokens is not None and not 1 <= settings.id_tokens <= self.num_id_tokens:
            raise ValueError(f"identity tokens must be between 1 and {self.num_id_tokens}, got {settings.id_tokens}")
        if not (math.isfinite(settings.fps) and 1 <= settings.fps <= 30):
            raise ValueError(f"fps must be between 1 and 30, got {settings.fps}")
        if settings.steps is not None and not 1 <= settings.steps <= 100:
            raise ValueError(f"steps must be between 1 and 100, got {settings.steps}")
        if settings.guidance is not None and not (math.isfinite(settings.guidance) and 1.0 <= settings.guidance <= 20):
            raise ValueError(f"guidance must be between 1 and 20, got {settings.guidance}")
        if settings.framing not in FRAMINGS:
            raise ValueError(f"framing must be 'photo' or 'whole_body', got {settings.framing!r}")

    def generate(self, photo, music_path, settings: GenerationSettings = GenerationSettings(),
                 progress: Callable[[int, int], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 out_dir: Path | None = None) -> GenerationResult:
        """Photo + music -> baseline.mp4, identity.mp4, side_by_side.mp4, skeleton.mp4 and report.json."""
        self._check(settings)
        size = self._size(settings)
        warnings = list(self.warnings)
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = round(now - clock, 3)
            clock = now

        # 1. Face: preview result (offline models) and the embedding for the face encoder
        image = load_photo(photo)
        face = self._face_or_none(image, warnings)
        mode, embedding = settings.mode, None
        if face is None:
            mode = "baseline"
        elif mode != "baseline":
            if self.preset.trained:
                embedding = require_antelopev2(self.identity_faces.analyse(image))
            else:
                embedding = np.array(face.embedding, dtype=np.float32)
        warnings += list(face.notes) if face is not None else []
        lap("face")

        # 2. Music
        music = self.analyse_music(music_path, settings.music_offset_s, settings.seconds)
        warnings += list(music.notices)
        lap("music")

        # 3. Choreography, aligned to the person in the photo
        body = self.body_layout(face, image, size, settings.framing)
        warnings += list(body.notices)
        if body.fit_scale < 0.98:
            warnings.append("to keep the skeleton on the person instead, choose the photo's scale as framing "
                            "(--framing photo)")
        elif not body.joints_in_frame().all():
            warnings.append("the photo shows part of the body, so the dance is a close-up at the photo's scale; "
                            "the whole-body framing (--framing whole_body) shrinks all of the body into the frame")
        poses = self.choreograph(music, body, settings.fps, settings.seed)  # [T, 18, 2]
        skeletons = SkeletonFrames(poses, *size)
        lap("choreography")

        # 4. Diffusion (encoding, denoising and decoding are timed inside)
        steps = settings.steps or self.preset.steps
        guidance = self.preset.guidance if settings.guidance is None else settings.guidance
        try:
            output = self.pipe(
                image, skeletons, embedding, alpha=settings.alpha, id_tokens=settings.id_tokens, mode=mode,
                num_inference_steps=steps, min_guidance_scale=guidance, max_guidance_scale=guidance,
                tile_frames=self.preset.tile_frames, tile_overlap=self.preset.tile_overlap,
                decode_chunk_size=self.preset.decode_chunk, unet_batch_size=self.config.unet_batch_size,
                seed=settings.seed, callback=progress, should_stop=should_stop)
        except torch.OutOfMemoryError:
            if self.device.type == "cuda":
                torch.cuda.empty_cache()  # give the failed run's blocks back, so the next request starts clean
            where = "GPU" if self.device.type == "cuda" else "computer"
            raise OutOfMemory(f"the {where} ran out of memory for {len(skeletons)} frames at {size[0]}x{size[1]}: "
                              "try a smaller size, or run with --unet-batch 1 or --cpu-offload") from None
        for stage, key in (("encode", "encoding"), ("denoise", "denoising"), ("decode", "decoding")):
            timings[key] = round(output.timings_s[stage], 3)
        clock = time.perf_counter()

        # 5. Videos with the music, written to a fresh folder (renamed into place only when complete)
        final_dir = Path(out_dir) if out_dir is not None else self.outputs.create()
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".partial-", dir=final_dir.parent if out_dir else final_dir))
        try:
            videos = self._write_videos(output.videos, skeletons, music, settings, output.id_tokens, work)
            lap("muxing")

            # 6. Identity metrics on both videos (offline face models)
            similarity = {}
            if face is not None:
                similarity = {name: identity_similarity(self.preview_faces, frames, face).to_dict()
                              for name, frames in output.videos.items()}
            lap("metrics")

            report = self._report(settings, mode, size, steps, guidance, music, face, output, timings, similarity,
                                  warnings)
            (work / "report.json").write_text(json.dumps(report, indent=2))
            final_dir.mkdir(parents=True, exist_ok=True)
            for item in work.iterdir():
                os.replace(item, final_dir / item.name)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        videos = {k: final_dir / v.name for k, v in videos.items()}
        return GenerationResult(out_dir=final_dir, videos=videos, report=report, face=face, warnings=warnings)

    def _write_videos(self, frames: dict[str, np.ndarray], skeletons: SkeletonFrames,
                      music: music_mod.MusicAnalysis, settings: GenerationSettings, id_tokens: int,
                      folder: Path) -> dict[str, Path]:
        audio = dict(audio=music.samples, sr=music.sr)
        paths = {name: video.write_mp4(clip, settings.fps, folder / f"{name}.mp4", **audio)
                 for name, clip in frames.items()}
        if {"baseline", "identity"} <= frames.keys():
            labels = ("baseline (alpha 0)", f"identity (alpha {settings.alpha:g}, {id_tokens} tokens)")
            both = video.side_by_side(frames["baseline"], frames["identity"], labels)
            paths["side_by_side"] = video.write_mp4(both, settings.fps, folder / "side_by_side.mp4", **audio)
        paths["skeleton"] = self.write_skeleton_video(skeletons.poses, (skeletons.width, skeletons.height),
                                                      settings.fps, music, folder / "skeleton.mp4")
        return paths

    def _report(self, settings, mode, size, steps, guidance, music, face, output, timings, similarity,
                warnings) -> dict:
        frames = len(next(iter(output.videos.values())))
        return {
            **self.describe(),
            "mode": mode, "framing": settings.framing, "alpha": settings.alpha, "id_tokens": output.id_tokens,
            "seed": settings.seed,
            "fps": settings.fps, "frames": frames, "seconds": round(frames / settings.fps, 3),
            "width": size[0], "height": size[1], "steps": steps, "guidance": guidance,
            "music": {"offset_s": music.offset_s, "duration_s": round(music.duration_s, 3),
                      "tempo_bpm": round(music.tempo_bpm, 2), "beats": int(len(music.beats_s))},
            "face": face.to_dict() if face is not None else None,
            "identity_similarity": similarity,
            "timings_s": timings,
            "warnings": warnings,
        }


# ------------------------------------------------------------------------------------------------------ CLI


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python -m dancegen generate",
                       description="photo + music -> baseline.mp4, identity.mp4, side_by_side.mp4, report.json")
    p.add_argument("--photo", required=True, help="reference photo (one person, face visible)")
    p.add_argument("--music", required=True, help="music file (wav, mp3, ogg, flac, m4a)")
    p.add_argument("--out", required=True, help="output folder (created; only our files are written)")
    p.add_argument("--preset", default="tiny", choices=["tiny", "stableanimator"])
    p.add_argument("--weights", default=None, help="StableAnimator checkpoints folder (preset stableanimator)")
    p.add_argument("--download", action="store_true", help="fetch the weights from the hub if no folder is given")
    p.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    p.add_argument("--dtype", default=None, choices=list(DTYPES),
                   help="model precision (default: float16 on CUDA, float32 on the CPU)")
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--id-tokens", type=int, default=None)
    p.add_argument("--seconds", type=float, default=None, help="how much music to use (default: all, up to 60 s)")
    p.add_argument("--offset", type=float, default=0.0, help="start time in the music, seconds")
    p.add_argument("--fps", type=float, default=8.0)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--guidance", type=float, default=None)
    p.add_argument("--size", type=int, nargs=2, default=None, metavar=("W", "H"))
    p.add_argument("--mode", default="ab", choices=["ab", "identity", "baseline"])
    p.add_argument("--framing", default="photo", choices=list(FRAMINGS),
                   help="photo (default): the photo's scale, so the skeleton lies on the person (a close photo "
                        "gives a close-up dance); whole_body: shrunk if it must, so all of the body fits the frame")
    p.add_argument("--seed", type=int, default=23123134)
    p.add_argument("--no-face", default="refuse", choices=list(NO_FACE_CHOICES),
                   help="when the photo has no face: refuse, or make the baseline only")
    p.add_argument("--unet-batch", type=int, default=None,
                   help="samples per UNet call (default all 4 of an A/B step; 1 or 2 for small GPUs)")
    p.add_argument("--cpu-offload", action="store_true",
                   help="keep models in CPU memory, each on the GPU only while it runs (small GPUs)")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    for label, value in (("photo", args.photo), ("music", args.music)):
        if not Path(value).is_file():
            print(f"error: {label} file not found: {value}", file=sys.stderr)
            return 2
    settings = GenerationSettings(alpha=args.alpha, id_tokens=args.id_tokens, seed=args.seed, steps=args.steps,
                                  guidance=args.guidance, fps=args.fps, music_offset_s=args.offset,
                                  seconds=args.seconds, mode=args.mode, framing=args.framing,
                                  size=tuple(args.size) if args.size else None)
    if args.unet_batch is not None and args.unet_batch < 1:
        print("error: --unet-batch must be at least 1", file=sys.stderr)
        return 2
    config = StudioConfig(preset=args.preset, weights_dir=args.weights, download=args.download, device=args.device,
                          dtype=args.dtype, on_no_face=args.no_face, unet_batch_size=args.unet_batch,
                          cpu_offload=args.cpu_offload)
    created = not out.exists()
    try:
        studio = DanceStudio(config)
        print(studio.banner(), file=sys.stderr)
        result = studio.generate(args.photo, args.music, settings, out_dir=out)
    except (ValueError, GenerationCancelled) as exc:  # FaceError, MusicError, VideoError, WeightsError, ...
        if created and out.exists() and not any(out.iterdir()):
            out.rmdir()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, path in result.videos.items():
        print(f"{name}: {path}")
    print(f"report: {result.out_dir / 'report.json'}")
    for warning in result.warnings:
        print(f"note: {warning}", file=sys.stderr)
    return 0
