"""The studio: one photo and one music file in; the A/B dance videos, a skeleton preview and a report out.

:class:`DanceStudio` loads everything once (models, face analysers, choreographer) and then, per request, runs the
stages in order; it holds no logic of its own beyond calling them:

    photo -> face (largest face, crop, embedding) ─> the canvas's crop of the photo ──────────────┐
    music -> beats ─> choreography (poses on that crop) ─> skeletons ─> pipeline (baseline + identity) ─> mp4s

The app (:mod:`dancegen.app`) and the command line (:mod:`dancegen.cli`) only talk to this class. What a
configuration loads is :mod:`.loading`; writing the videos with their metrics is :mod:`.videos`.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import PIL.Image
import torch

from ..choreo import DancePlan, ProceduralChoreographer
from ..config import Framing, GenerationSettings, Mode, NoFace, StudioConfig, check_seconds
from ..dance import DanceDesk, MotionDance, PlannedDance, music_ref, place_body, segment
from ..errors import GenerationCancelled, NoFaceError, SettingsError
from ..face import FaceResult, require_antelopev2
from ..face.preview import draw_preview
from ..io import interpolate, outputs, read
from ..io.outputs import move_into_place
from ..io.photo import PhotoSource, load_photo
from ..metrics.report import generation_report
from ..music import MusicAnalysis, MusicLibrary
from ..pipeline import DancePipeline, DancePipelineOutput, temporal_windows
from ..pose.layout import BodyLayout
from ..pose.reference import ReferenceCrop, photo_shape
from ..pose.render import SkeletonFrames
from ..timing import Progress, RunTimer, Work
from . import loading
from .calibration import calibration_runs
from .videos import ground_truth_errors, judges, memory_limit, write_videos

# seconds per unit of work (timing.Work) before calibrate() or a run has measured this machine: the tiny preset on
# the 2-core development VM
DEFAULT_RATES = {"preparing": 1.0, "encoding": 0.4, "denoising": 0.22, "writing": 1.9}
# every file a generation can write into its folder; a new run's files replace these, and those it did not make go
OUTPUT_FILES = ("baseline.mp4", "identity.mp4", "side_by_side.mp4", "skeleton.mp4", "report.json",
                "choreography.json", "counts.md", "poses.npy", "motion_source.mp4")


@dataclass
class Prepared:
    """Everything a generation needs before the diffusion: made by :meth:`DanceStudio.prepare`."""

    settings: GenerationSettings  # the request
    image: PIL.Image.Image  # the upright RGB photo
    crop: ReferenceCrop  # the part of the photo the canvas shows (the canvas's aspect, padded where it must be)
    reference: PIL.Image.Image  # that part: what the pipeline is given (the canvas's aspect, the photo's pixels)
    face: FaceResult | None  # the face used (offline models; None without one)
    embedding: np.ndarray | None  # [512] float32 for the face encoder (None: baseline only)
    mode: Mode  # what is made (the baseline only when there is no face)
    music: MusicAnalysis  # the analysed music segment
    body: BodyLayout  # where the dancer stands at frame 0
    skeletons: SkeletonFrames  # the dance: poses [T, 18, 2] and their skeleton images, drawn on demand
    plan: DancePlan  # what is danced (written as choreography.json and counts.md)
    steps: int  # denoising steps
    guidance: float  # classifier-free guidance
    warnings: list[str]  # things the person should know, in order
    timings: dict[str, float]  # seconds per stage so far
    motion: MotionDance | None = None  # the motion file danced (None: planned moves)


@dataclass
class GenerationResult:
    out_dir: Path  # the request's folder
    videos: dict[str, Path]  # "baseline" / "identity" / "side_by_side" / "skeleton" -> mp4 (those made)
    report: dict  # what report.json holds
    face: FaceResult | None  # the face used (None when generating without one)
    warnings: list[str] = field(default_factory=list)  # things the user should know


class DanceStudio:
    """Everything loaded once; :meth:`generate` per request. Safe to share between requests of a queue."""

    def __init__(self, config: StudioConfig = StudioConfig()):
        self.config = config
        loaded = loading.load(config)  # the models, face analysers and DWPose (see .loading)
        self.preset, self.device, self.dtype = loaded.preset, loaded.device, loaded.dtype
        self.warnings: list[str] = loaded.warnings  # start-up warnings, shown with every result
        self.preview_faces = loaded.preview_faces  # offline face models: the face-crop preview and identity metrics
        self.identity_faces = loaded.identity_faces  # the face encoder's models (the offline ones when untrained)
        self.body_detector = loaded.body_detector  # DWPose, when its weights are there (real path)
        self.models, self.pipe = loaded.models, loaded.pipe
        # With offload the hooks move shared models between devices, so generations take turns (whatever the
        # serving concurrency; on the CPU the moves change nothing, but the turns are kept, so it behaves the same).
        self._pipe_lock = threading.RLock() if config.cpu_offload else contextlib.nullcontext()
        self.choreographer = ProceduralChoreographer()
        self.outputs = outputs.OutputDir(config.output_root, config.output_max_age_s)
        self.music = MusicLibrary(config.max_music_s)  # analysed music, cached by content
        self.dance = DanceDesk(self.preview_faces, self.music, self.choreographer, self.body_detector,
                               config.on_no_face == NoFace.REFUSE, config.skeleton_video_min_px)
        self.timer = RunTimer(dict(DEFAULT_RATES))  # seconds per unit of work here; see calibrate()

    # ------------------------------------------------------------------------------------------- description

    @property
    def num_id_tokens(self) -> int:
        return self.preset.num_id_tokens

    def describe(self) -> dict:
        return loading.describe(self.preset, self.models.weights, self.device, self.dtype)

    def banner(self) -> str:
        return loading.banner(self.describe(), self.warnings)

    # ---------------------------------------------------------------------------------------------- timing

    def work(self, settings: GenerationSettings, frames: int, mode: Mode | str, music_s: float,
             canvas: tuple[int, int] | None = None) -> Work:
        """How much work a generation of ``frames`` frames on ``canvas`` (default: the settings' size or the
        preset's square one) is (see :mod:`dancegen.timing`)."""
        width, height = canvas or settings.size or self.preset.size
        guidance = self.preset.guidance if settings.guidance is None else settings.guidance
        windows = temporal_windows(max(1, frames), self.preset.tile_frames, self.preset.tile_overlap)
        return Work.of(frames=max(1, frames), steps=settings.steps or self.preset.steps,
                       videos=2 if Mode(mode) == Mode.AB else 1, guided=guidance > 1.0, width=width, height=height,
                       music_s=music_s, windows=len(windows), window_frames=len(windows[0]))

    def estimate(self, settings: GenerationSettings, music_s: float,
                 photo_size: tuple[int, int] | None = None) -> dict[str, float]:
        """Estimated seconds of each stage of a generation from ``music_s`` seconds of music on this machine (on
        the canvas of a photo of ``photo_size``, when it is known)."""
        frames = max(1, round(music_s * settings.fps))
        canvas = self.canvas(settings, photo_size) if photo_size is not None else None
        return self.timer.estimate(self.work(settings, frames, settings.mode, music_s, canvas))

    def calibrate(self) -> dict[str, float]:
        """Measure this machine's rates with the studio's own models on one window at the preset's size (a second
        or two on a GPU or with the tiny preset; the full-size model on a CPU takes minutes: run it off the
        request path). -> the new rates."""
        with torch.no_grad(), self._pipe_lock:
            return self.timer.calibrate(calibration_runs(self.pipe, self.preset))

    # ------------------------------------------------------------------------------------------------ stages

    def analyse_face(self, photo: PhotoSource) -> FaceResult:
        """Face-crop preview (offline models, cached by image content). Raises PhotoError / NoFaceError."""
        return self.preview_faces.analyse(photo)

    @staticmethod
    def photo_size(photo: PhotoSource) -> tuple[int, int]:
        """(width, height) of the upright photo. Raises PhotoError."""
        return load_photo(photo).size

    def face_preview(self, photo: PhotoSource, settings: GenerationSettings = GenerationSettings()
                     ) -> tuple[PIL.Image.Image, FaceResult, ReferenceCrop]:
        """The photo as the video will frame it (the canvas's crop, padding included) with the faces boxed and the
        aligned face crop beside it; the face and the crop. Raises PhotoError / NoFaceError."""
        image = load_photo(photo)
        face = self.analyse_face(image)
        crop, _ = self.place(face, image, self.canvas(settings, image.size), settings.framing)
        preview = draw_preview(crop.apply(image), face.faces, face.crop, self.preview_faces.config.preview_max_side,
                               origin=crop.box[:2])
        return preview, face, crop

    def analyse_music(self, path: str | os.PathLike, offset_s: float = 0.0, seconds: float | None = None
                      ) -> MusicAnalysis:
        """Beats, tempo and energy of a music segment, cached (see :class:`~dancegen.music.MusicLibrary`)."""
        return self.music.analyse(path, offset_s, seconds)

    def canvas(self, settings: GenerationSettings, photo_size: tuple[int, int]) -> tuple[int, int]:
        """The generation (width, height): the settings' size, else the preset's canvas for the photo's shape
        (portrait, square or landscape; :func:`~dancegen.pose.reference.photo_shape`)."""
        if settings.id_tokens is not None and settings.id_tokens > self.num_id_tokens:
            raise SettingsError(f"identity tokens must be between 1 and {self.num_id_tokens}, "
                                f"got {settings.id_tokens}")
        width, height = settings.size or self.preset.canvas(photo_shape(*photo_size))
        return int(width), int(height)

    def place(self, face: FaceResult | None, image: PIL.Image.Image, canvas: tuple[int, int],
              framing: Framing = Framing.PHOTO) -> tuple[ReferenceCrop, BodyLayout]:
        """The crop of the photo the canvas shows and the frame-0 body on the canvas (:func:`dancegen.dance
        .place_body`: DWPose's joints, else the face box, else a body standing in the middle)."""
        return place_body(face, image, canvas, framing, self.body_detector)

    def body_layout(self, face: FaceResult | None, image: PIL.Image.Image, size: tuple[int, int],
                    framing: Framing = Framing.PHOTO) -> BodyLayout:
        """Frame-0 body on a ``size`` canvas, placed on the person in the canvas's crop of the photo (see
        :meth:`place`)."""
        return self.place(face, image, size, framing)[1]

    def choreograph(self, music: MusicAnalysis, body: BodyLayout, fps: float, seed: int) -> np.ndarray:
        """Poses [T, 18, 2] on the canvas, T = round(duration * fps)."""
        return self.dance.dance(music, body, fps, seed)[1]

    def plan_dance(self, photo: PhotoSource, music_path: str | os.PathLike | None,
                   settings: GenerationSettings = GenerationSettings(),
                   keep: tuple[DancePlan, list[int]] | None = None, plan: DancePlan | None = None,
                   motion=None) -> PlannedDance:
        """The dance a generation would make (or ``plan`` replayed), its poses and metrics; writes nothing (see
        :meth:`dancegen.dance.DanceDesk.plan_dance`; ChoreographyPlanError for a plan that does not fit;
        ``motion``: a motion file or a read MotionClip to dance instead of planned moves)."""
        canvas = self.canvas(settings, self.photo_size(photo)) if photo is not None else None
        return self.dance.plan_dance(photo, music_path, settings, canvas, keep, plan, self.config.max_music_s,
                                     motion)

    def write_dance(self, planned: PlannedDance, out_dir: str | os.PathLike) -> dict[str, Path]:
        """poses.npy, choreography.json, counts.md, skeleton.mp4 and report.json of a planned dance."""
        return self.dance.write_dance(planned, out_dir)

    def skeleton_preview(self, photo: PhotoSource, music_path: str | os.PathLike,
                         settings: GenerationSettings = GenerationSettings(), plan: DancePlan | None = None) -> Path:
        """The dance as a skeleton video with the music (no diffusion): quick feedback after an upload."""
        planned = self.plan_dance(photo, music_path, settings, plan=plan)
        path = self.outputs.create() / "skeleton.mp4"
        return self.dance.skeleton_video(planned.poses, planned.size, planned.fps, planned.music, path,
                                         settings.output_fps)

    # ---------------------------------------------------------------------------------------------- generate

    def _face_or_none(self, image: PIL.Image.Image, warnings: list[str]) -> FaceResult | None:
        try:
            return self.analyse_face(image)
        except NoFaceError:
            if self.config.on_no_face == NoFace.REFUSE:
                raise
            warnings.append("no face was found in the photo, so only the baseline (no identity branch) was made")
            return None

    def prepare(self, photo: PhotoSource, music_path: str | os.PathLike | None,
                settings: GenerationSettings = GenerationSettings(), plan: DancePlan | None = None,
                motion=None) -> Prepared:
        """Steps 1-3 of a generation: the face, the music and the dance (``plan`` replayed when given; ``motion``: a
        motion file or MotionClip danced instead of planned moves, its video's sound the music without
        ``music_path``), everything the diffusion needs."""
        warnings = list(self.warnings)
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = round(now - clock, 3)
            clock = now

        # 1. Face: preview result (offline models) and the embedding for the face encoder
        check_seconds(settings, self.config.max_music_s)
        clip, music_path, own_sound = self.dance.motion_music(music_path, motion)
        image = load_photo(photo)
        size = self.canvas(settings, image.size)
        face = self._face_or_none(image, warnings)
        mode, embedding = settings.mode, None
        if face is None:
            mode = Mode.BASELINE
        elif mode != Mode.BASELINE:
            embedding = (require_antelopev2(self.identity_faces.analyse(image)) if self.preset.trained
                         else np.array(face.embedding, dtype=np.float32))
        warnings += list(face.notes) if face is not None else []
        lap("face")

        # 2. Music
        music = self.analyse_music(music_path, *segment(settings, plan))
        warnings += list(music.notices)
        lap("music")

        # 3. The canvas's crop of the photo, and the choreography from the person in it
        crop, body = self.place(face, image, size, settings.framing)
        warnings += list(crop.notices()) + list(body.notices) + self._framing_notices(body)
        moved = None
        if clip is None:
            plan, poses = self.dance.dance(music, body, settings.fps, settings.seed, settings.style,
                                           music_ref(music_path, music), plan=plan)  # poses [T, 18, 2]
        else:
            plan, poses, moved = self.dance.dance_motion(clip, music, body, settings.fps, settings.seed,
                                                         music_ref(music_path, music), plan, own_sound)
        lap("choreography")
        return Prepared(settings=settings, image=image, crop=crop, reference=crop.apply(image), face=face,
                        embedding=embedding, mode=mode, music=music, body=body, skeletons=SkeletonFrames(poses, *size),
                        plan=plan, steps=settings.steps or self.preset.steps,
                        guidance=self.preset.guidance if settings.guidance is None else settings.guidance,
                        warnings=warnings, timings=timings, motion=moved)

    def generate(self, photo: PhotoSource, music_path: str | os.PathLike | None,
                 settings: GenerationSettings = GenerationSettings(),
                 progress: Callable[[Progress], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 out_dir: Path | None = None, ground_truth: str | os.PathLike | None = None,
                 plan: DancePlan | None = None, motion=None) -> GenerationResult:
        """Photo + music -> baseline.mp4, identity.mp4, side_by_side.mp4, skeleton.mp4, choreography.json, counts.md
        and report.json; ``plan``: the dance to replay (else planned with ``settings.style``); ``motion``: a motion
        file or MotionClip to dance (see :meth:`prepare`; motion_source.mp4 is written too).

        progress(Progress) runs as every stage moves (each denoising window, each decoded chunk) with the fraction
        done and the time left; should_stop() is checked before the diffusion and after every window
        (GenerationCancelled when it says so). ``ground_truth``: a video to compare every frame with (PSNR, SSIM,
        LPIPS): frame t is compared with the ground truth's frame at music time offset + t / fps on its own clock,
        cropped and resized as the photo is (the photo's crop box, scaled to the ground truth's frames: a video of the
        photo's scene lines up with the generated one; GroundTruthError, before any work, when it cannot be read)."""
        started = time.perf_counter()
        with ground_truth_errors():
            truth = read.FrameSampler(ground_truth) if ground_truth is not None else None
        try:
            return self._generate(photo, music_path, settings, progress, should_stop, out_dir, truth, started,
                                  plan, motion)
        finally:
            if truth is not None:
                truth.close()

    def _generate(self, photo: PhotoSource, music_path: str | os.PathLike, settings: GenerationSettings,
                  progress: Callable[[Progress], None] | None, should_stop: Callable[[], bool] | None,
                  out_dir: Path | None, truth: read.FrameSampler | None, started: float,
                  plan: DancePlan | None = None, motion=None) -> GenerationResult:
        # 1-3. Face, music, choreography
        job = self.prepare(photo, music_path, settings, plan, motion)
        if truth is not None:  # the ground truth goes through the photo's crop
            truth.view((job.skeletons.width, job.skeletons.height), job.crop.box, job.crop.photo_size)
        timings = job.timings
        work = self.work(settings, len(job.skeletons), job.mode, job.music.duration_s,
                         (job.skeletons.width, job.skeletons.height))
        estimate = self.timer.estimate(work)

        def report(stage: str, done: int, total: int, detail: str = "") -> None:
            if progress is not None:
                progress(self.timer.progress(estimate, stage, done, total, time.perf_counter() - started, detail))

        report("preparing", 1, 1)
        with self.outputs.place(out_dir) as (final_dir, work_dir):
            with self._pipe_lock, self._memory_limit(job):  # with offload the VAE decoding moves models too
                # 4. Diffusion: the final latents of each video (encoding and denoising are timed inside)
                output = self.diffuse(job, report, should_stop, output_type="latent")
                timings["encoding"] = round(output.timings_s["encode"], 3)
                timings["denoising"] = round(output.timings_s["denoise"], 3)

                # 5-6. Videos with the music, decoded chunk by chunk straight into the writers; every video's
                # metrics as the frames pass. Nothing is renamed into place until all is complete.
                videos, metrics = self._write_streams(job, output, work_dir, report, truth)

            # 7. Report, then everything into place, and an earlier run's files that this one did not make away
            summary = self._report(job, output, metrics)
            (work_dir / "report.json").write_text(json.dumps(summary, indent=2))
            self.dance.write_plan(job.plan, work_dir, None if job.motion is None else (  # choreography.json, counts.md
                job.motion, job.skeletons.poses, settings.fps, (job.skeletons.width, job.skeletons.height)))
            move_into_place(work_dir, final_dir, OUTPUT_FILES)
        self.timer.learn(work, {"preparing": sum(timings[k] for k in ("face", "music", "choreography")),
                                "encoding": timings["encoding"], "denoising": timings["denoising"],
                                "writing": sum(timings[k] for k in ("decoding", "muxing", "metrics"))})
        videos = {k: final_dir / v.name for k, v in videos.items()}
        return GenerationResult(out_dir=final_dir, videos=videos, report=summary, face=job.face,
                                warnings=job.warnings)

    def _write_streams(self, job: Prepared, output: DancePipelineOutput, folder: Path, report: Callable[..., None],
                       truth: read.FrameSampler | None = None) -> tuple[dict[str, Path], dict]:
        """Every mp4 with the music and every video's metrics, decoded chunk by chunk (see
        :func:`.videos.write_videos`). -> (paths, the metrics)."""
        return write_videos(job, output, folder, report,
                            lambda latents: self.pipe.decode_latents(latents, self.preset.decode_chunk),
                            self.config.skeleton_video_min_px,
                            judges(self.preview_faces, self.identity_faces, job.face, job.image), self.body_detector,
                            truth)

    @staticmethod
    def _framing_notices(body: BodyLayout) -> list[str]:
        if body.fit_scale < 0.98:
            return ["to keep the skeleton on the person instead, choose the photo's scale as framing "
                    "(--framing photo)"]
        if not body.joints_in_frame().all():
            return ["the photo shows part of the body, so the dance is a close-up at the photo's scale; "
                    "the whole-body framing (--framing whole_body) shrinks all of the body into the frame"]
        return []

    def diffuse(self, job: Prepared, report: Callable[..., None] | None = None,
                should_stop: Callable[[], bool] | None = None, output_type: str = "np") -> DancePipelineOutput:
        """Step 4: the pipeline call, with progress, Stop, and a clear message when the device runs out of memory.

        report(stage, done, total, detail) is told where the run is; output_type "np" decodes the whole videos
        into arrays (short clips, tests); "latent" returns the final latents, which :meth:`generate` decodes chunk
        by chunk into the video files."""
        settings, steps = job.settings, job.steps

        def on_window(pipe: DancePipeline, step: int, window: int, windows: int) -> None:
            if report is not None:
                report("denoising", step * windows + window + 1, steps * windows,
                       f"step {step + 1}/{steps}, window {window + 1}/{windows}")
            if should_stop is not None and should_stop():
                raise GenerationCancelled("generation cancelled")

        if should_stop is not None and should_stop():
            raise GenerationCancelled("stopped before it started")
        if report is not None:
            report("encoding", 0, 1)
        with self._pipe_lock, self._memory_limit(job):
            return self.pipe(
                job.reference, job.skeletons, job.embedding, alpha=settings.alpha, id_tokens=settings.id_tokens,
                mode=str(job.mode), num_inference_steps=steps, min_guidance_scale=job.guidance,
                max_guidance_scale=job.guidance, tile_frames=self.preset.tile_frames,
                tile_overlap=self.preset.tile_overlap, decode_chunk_size=self.preset.decode_chunk,
                unet_batch_size=self.config.unet_batch_size,
                generator=torch.Generator().manual_seed(settings.seed), output_type=output_type,
                callback_on_window_end=on_window)

    def _memory_limit(self, job: Prepared) -> contextlib.AbstractContextManager[None]:
        """Running out of device memory becomes one clear line (see :func:`.videos.memory_limit`)."""
        return memory_limit(self.device, len(job.skeletons), job.skeletons.width, job.skeletons.height)

    def _report(self, job: Prepared, output: DancePipelineOutput, metrics: dict) -> dict:
        s, frames = job.settings, len(job.skeletons)
        return generation_report(
            self.describe(), s, mode=str(job.mode), id_tokens=output.id_tokens, frames=frames,
            output_frames=interpolate.output_count(frames, s.fps, s.output_fps, job.music.duration_s),
            size=(job.skeletons.width, job.skeletons.height), crop_box=job.crop.box, photo_size=job.image.size,
            steps=job.steps, guidance=job.guidance, music=job.music, music_sha256=job.plan.music.sha256,
            style=job.plan.style, motion=None if job.motion is None else job.motion.report(),
            dance=self.dance.measure(job.plan, job.skeletons.poses, s.fps, job.music, job.body),
            face=job.face, metrics=metrics, timings=job.timings, warnings=job.warnings)
