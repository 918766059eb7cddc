"""The dance without the video: photo (or none) + music -> a plan, its poses and its files; no video model loaded.

:class:`DanceDesk` is what the studio holds for the choreography (and what ``dancegen choreograph`` uses on its
own, so torch is never imported there): it places the body as the studio does (:func:`place_body`), plans the
dance or replays a plan (:class:`~dancegen.choreo.DancePlan`), measures it (:func:`dancegen.metrics.dance
.dance_metrics`) and writes it:

    poses.npy          [T, 18, 2] float32 canvas px (NaN: a joint not seen), frame t at music offset + t / fps:
                       the training clips' pose format (dancegen.train.data)
    choreography.json  the plan (dancegen.choreo.document: music identity, style, seed, sections, phrases)
    counts.md          the plan as a count sheet (dancegen.choreo.countsheet)
    skeleton.mp4       the poses drawn, with the music
    report.json        the settings, the music's identity, style, seed and the dance metrics
    motion_source.mp4  (a dance whose motion comes from a file, ``motion``) the source skeleton beside the fitted one

With ``motion`` (a video, OpenPose JSON files or a poses.npy: :mod:`dancegen.motion`) the poses are that motion,
fitted to the photo's body and put on the song's clock, instead of planned moves; without music the dance video's
own sound is the music.

Every file is written in a hidden work folder and renamed into place when all are complete; our files from an
earlier run that this one did not make are removed (nothing else in the folder is touched; see
:mod:`dancegen.io.outputs`).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import PIL.Image

from .choreo import (ChoreographyPlanError, DancePlan, MusicRef, ProceduralChoreographer, count_sheet, load_plan)
from .config import Framing, GenerationSettings, check_seconds
from .errors import NoFaceError
from .face import FaceAnalyser, FaceResult
from .io import interpolate, video
from .io.files import file_sha256
from .io.outputs import move_into_place, work_folder
from .io.photo import PhotoSource, load_photo
from .metrics.dance import BEAT_ALIGNMENT_NOTE, dance_metrics
# the app reads motion files through this desk (read_motion), and takes the motion stage's MOTION_FPS, VIDEO_SUFFIXES,
# MotionClip and MotionError from here
from .motion.errors import MotionError, NoPoseDetector
from .motion.plan import MotionDance, as_clip, check_replay, dance_motion, music_for, write_motion_preview
from .motion.sources import DEFAULT_FPS as MOTION_FPS
from .motion.sources import VIDEO_SUFFIXES, WEIGHTS_HINT, MotionClip, read_motion
from .music import MusicAnalysis, MusicLibrary
from .pose.detect import BodyDetector
from .pose.layout import BodyLayout, body_from_face, body_from_keypoints
from .pose.reference import ReferenceCrop, crop_around
from .pose.render import SkeletonFrames

# GenerationSettings.framing -> the body layout's fit mode
FIT = {Framing.PHOTO: "clip", Framing.WHOLE_BODY: "scale"}
PLAN_FILE, COUNTS_FILE, POSES_FILE = "choreography.json", "counts.md", "poses.npy"
# what ``dancegen choreograph`` writes (a new run's files replace these, and those it did not make go)
MOTION_PREVIEW = "motion_source.mp4"
DANCE_FILES = (POSES_FILE, PLAN_FILE, COUNTS_FILE, "skeleton.mp4", "report.json", MOTION_PREVIEW)
DEFAULT_CANVAS = (512, 512)  # (W, H) of a dance without a photo and without a size


@dataclass
class PlannedDance:
    """A planned dance and everything needed to show it: made by :meth:`DanceDesk.plan_dance`."""

    plan: DancePlan  # what is danced (its music, style, seed, sections, phrases)
    poses: np.ndarray  # [T, 18, 2] float32 canvas px, frame t at t / fps; NaN: a joint not seen
    fps: float  # frames per second of the poses
    size: tuple[int, int]  # canvas (W, H) px
    music: MusicAnalysis  # the analysed music segment
    body: BodyLayout  # the frame-0 body on the canvas
    metrics: dict  # dance_metrics of the poses (dancegen.metrics.dance)
    settings: GenerationSettings = field(default_factory=GenerationSettings)  # the request
    warnings: list[str] = field(default_factory=list)  # things the person should know, in order
    motion: MotionDance | None = None  # the motion file it dances (None: planned moves)


def place_body(face: FaceResult | None, image: PIL.Image.Image, canvas: tuple[int, int],
               framing: Framing = Framing.PHOTO, detector: BodyDetector | None = None
               ) -> tuple[ReferenceCrop, BodyLayout]:
    """The crop of the photo the canvas shows and the frame-0 body on the canvas, both from one body in the photo:
    DWPose keypoints when ``detector`` is given and sees enough of the body, else the face box and standard
    proportions, else (no face) a whole body standing in the middle. The skeleton goes through the crop exactly as
    the pixels do, so it lies on the person."""
    fit = FIT[Framing(framing)]
    size = image.size
    if detector is not None:
        body = detector.detect(np.asarray(image))
        if body is not None and int((body.scores > 0.3).sum()) >= 8:
            seen = body_from_keypoints(body.keypoints, body.scores, size, size, fit="clip")  # photo px
            crop = crop_around(seen.keypoints, seen.head_height, size, canvas)
            return crop, body_from_keypoints(crop.to_reference(body.keypoints), body.scores, crop.size, canvas,
                                             fit=fit)
    if face is not None:
        box = face.largest.bbox
    else:
        box, fit = middle_face_box(size), "scale"
    seen = body_from_face(box, size, size, fit="clip")  # photo px
    crop = crop_around(seen.keypoints, seen.head_height, size, canvas)
    return crop, body_from_face(crop.to_reference(box), crop.size, canvas, fit=fit)


def middle_face_box(size: tuple[int, int]) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of the face of a person standing in the middle of a picture of ``size`` (W, H)."""
    w, h = size
    side = min(w, h) / 9
    return (w / 2 - side / 2, h * 0.06, w / 2 + side / 2, h * 0.06 + side * 1.2)


def standard_body(canvas: tuple[int, int]) -> BodyLayout:
    """The body of a dance without a photo: a whole body standing in the middle of the canvas, facing front."""
    return body_from_face(middle_face_box(canvas), canvas, canvas, fit="scale")


def music_ref(music_path: str | os.PathLike, music: MusicAnalysis) -> MusicRef:
    """The identity of the music a plan is made for: the file's sha256 and the analysed segment."""
    return MusicRef(file_sha256(music_path), float(music.offset_s), float(music.duration_s))


def read_plan(path: str | os.PathLike, music_path: str | os.PathLike | None = None) -> DancePlan:
    """A ``choreography.json`` file, checked (:func:`~dancegen.choreo.load_plan`); with ``music_path``, also that
    it was made for that file (its segment is checked once the music is analysed). ChoreographyPlanError (one
    line) when it cannot be used."""
    plan = load_plan(Path(path))
    if music_path is not None and plan.music.sha256 != file_sha256(music_path):
        raise ChoreographyPlanError("this choreography was made for other music (its sha256 differs)")
    return plan


def segment(settings: GenerationSettings, plan: DancePlan | None) -> tuple[float, float | None]:
    """(offset, seconds) of the music to analyse: the settings', but a replayed plan without a length asked
    dances its own segment (its offset too, unless another offset is asked)."""
    if plan is None or settings.seconds is not None:
        return settings.music_offset_s, settings.seconds
    offset = settings.music_offset_s or plan.music.offset_s
    return offset, plan.music.seconds


def move_names(plan: DancePlan) -> list[str] | None:
    """The moves danced in the plan, in order (not the pick-up groove nor the finishing pose); None for a motion
    from a file (no moves)."""
    if plan.motion is not None:
        return None
    return [m.move for p in plan.phrases if p.kind == "dance" for m in p.moves]


class DanceDesk:
    """Plans, replays, measures and writes dances (see the module docstring). Holds no state of a request."""

    def __init__(self, faces: FaceAnalyser, music: MusicLibrary,
                 choreographer: ProceduralChoreographer | None = None, detector: BodyDetector | None = None,
                 refuse_no_face: bool = False, skeleton_min_px: int = 256):
        self.faces = faces  # face detector used to place the body (the studio's offline models)
        self.music = music  # analysed music, cached by content
        self.choreographer = choreographer or ProceduralChoreographer()
        self.detector = detector  # DWPose, when its weights are loaded (places the body from its joints)
        self.refuse_no_face = refuse_no_face  # a photo without a face: NoFaceError (else the body in the middle)
        self.skeleton_min_px = skeleton_min_px  # skeleton.mp4 is drawn at a whole multiple with this short side

    # ------------------------------------------------------------------------------------------------ planning

    def face_or_none(self, image: PIL.Image.Image, warnings: list[str]) -> FaceResult | None:
        """The photo's face; None (with a warning) when there is none and that is allowed."""
        try:
            return self.faces.analyse(image)
        except NoFaceError:
            if self.refuse_no_face:
                raise
            warnings.append("no face was found in the photo, so the dancer stands in the middle of it")
            return None

    def dance(self, music: MusicAnalysis, body: BodyLayout, fps: float, seed: int, style: str | None = None,
              ref: MusicRef | None = None, keep: tuple[DancePlan, list[int]] | None = None,
              plan: DancePlan | None = None) -> tuple[DancePlan, np.ndarray]:
        """(the plan, poses [T, 18, 2] float32 canvas px), T = round(duration * fps): ``plan`` checked against
        ``ref`` and replayed, else a new plan of ``style`` (None: from the music) keeping ``keep``'s phrases.
        ChoreographyPlanError for a plan that does not fit this music."""
        frames = max(1, round(music.duration_s * fps))
        if plan is not None:
            check_replay(plan, None)  # a plan of a motion file needs that file (MotionError)
            if ref is not None:  # the same checks as a file, against this music
                plan = load_plan(plan.to_json(), ref)
            return plan, self.choreographer.poses(plan, music, body, fps, frames)
        plan = self.choreographer.plan(music, int(seed), body, (frames - 1) / fps, style, ref, keep)
        return plan, self.choreographer.poses(plan, music, body, fps, frames)

    def read_motion(self, source: str | os.PathLike, fps: float = MOTION_FPS) -> MotionClip:
        """The motion of a file (:func:`dancegen.motion.sources.read_motion`; ``fps``: the rate of pose files), a
        video's poses found by this desk's DWPose. MotionError (one line) for a source that cannot be used, or a
        video when no DWPose is loaded."""
        def no_detector():
            raise NoPoseDetector(WEIGHTS_HINT)

        return read_motion(source, fps, detector=self.detector, detector_factory=no_detector)

    def motion_music(self, music_path: str | os.PathLike | None, motion: MotionClip | str | os.PathLike | None
                     ) -> tuple[MotionClip | None, Path, bool]:
        """(the motion read (a path is read now, DWPose for a video being this desk's detector) or None, the music
        to dance to, whether that is the dance video's own sound). MotionError for a motion that cannot be used or
        one without sound and no music."""
        clip = None if motion is None else as_clip(motion, self.detector)
        return clip, music_for(music_path, clip), music_path is None

    def dance_motion(self, clip: MotionClip, music: MusicAnalysis, body: BodyLayout, fps: float, seed: int,
                     ref: MusicRef, plan: DancePlan | None, own_sound: bool) -> tuple[DancePlan, np.ndarray,
                                                                                    MotionDance]:
        """(the plan, poses [T, 18, 2] float32 canvas px, the MotionDance) of a motion file on this music (see
        :func:`dancegen.motion.plan.dance_motion`); ``plan``: a motion plan to replay, its music checked."""
        if plan is not None:
            check_replay(plan, clip)
            plan = load_plan(plan.to_json(), ref)
        frames = max(1, round(music.duration_s * fps))
        return dance_motion(clip, music, body, fps, frames, ref, seed, plan, own_sound)

    def measure(self, plan: DancePlan, poses: np.ndarray, fps: float, music: MusicAnalysis,
                body: BodyLayout) -> dict:
        """dance_metrics of the poses (dancegen.metrics.dance), the plan's sections and moves."""
        return dance_metrics(poses, fps, music.beats_s, body.canvas_w, body.canvas_h, plan.sections,
                             move_names(plan), body.y_stretch)

    def plan_dance(self, photo: PhotoSource | None, music_path: str | os.PathLike | None,
                   settings: GenerationSettings = GenerationSettings(), canvas: tuple[int, int] | None = None,
                   keep: tuple[DancePlan, list[int]] | None = None, plan: DancePlan | None = None,
                   max_music_s: float | None = None, motion: MotionClip | str | os.PathLike | None = None
                   ) -> PlannedDance:
        """Photo (None: a standard body) + music -> a :class:`PlannedDance`; writes nothing. ``canvas`` (W, H):
        the settings' size, else this, else 512 x 512. With ``plan`` it is replayed (ChoreographyPlanError when it
        was made for other music or does not fit it). With ``motion`` the dance is that motion (``music_path``
        None: the dance video's own sound; MotionError when it has none)."""
        if max_music_s is not None:
            check_seconds(settings, max_music_s)
        clip, music_path, own_sound = self.motion_music(music_path, motion)
        if plan is not None:
            check_replay(plan, clip)
        warnings: list[str] = []
        size = tuple(settings.size or canvas or DEFAULT_CANVAS)
        offset, seconds = segment(settings, plan)
        music = self.music.analyse(music_path, offset, seconds)
        warnings += list(music.notices)
        if photo is None:
            body = standard_body(size)
        else:
            image = load_photo(photo)
            face = self.face_or_none(image, warnings)
            crop, body = place_body(face, image, size, settings.framing, self.detector)
            warnings += list(crop.notices()) + list(body.notices)
        moved = None
        if clip is None:
            plan, poses = self.dance(music, body, settings.fps, settings.seed, settings.style,
                                     music_ref(music_path, music), keep, plan)
        else:
            plan, poses, moved = self.dance_motion(clip, music, body, settings.fps, settings.seed,
                                                   music_ref(music_path, music), plan, own_sound)
        return PlannedDance(plan=plan, poses=poses, fps=float(settings.fps), size=(int(size[0]), int(size[1])),
                            music=music, body=body, metrics=self.measure(plan, poses, settings.fps, music, body),
                            settings=settings, warnings=warnings, motion=moved)

    # ------------------------------------------------------------------------------------------------- writing

    def skeleton_video(self, poses: np.ndarray, size: tuple[int, int], fps: float, music: MusicAnalysis,
                       path: Path, out_fps: float | None = None) -> Path:
        """Poses [T, 18, 2] at ``fps`` drawn (at a whole multiple of the canvas, see ``skeleton_min_px``) at
        ``out_fps`` (default ``fps``; poses linear between frames), with the music -> path."""
        k = max(1, math.ceil(self.skeleton_min_px / min(size)))
        at = interpolate.output_positions(len(poses), fps, out_fps or fps, music.duration_s)
        frames = SkeletonFrames(interpolate.sample_linear(poses * k, at), size[0] * k, size[1] * k)
        return video.write_mp4(iter(frames), out_fps or fps, path, audio=music.samples, sr=music.sr)

    @staticmethod
    def write_plan(plan: DancePlan, folder: Path, motion: tuple[MotionDance, np.ndarray, float, tuple[int, int]]
                   | None = None) -> dict[str, Path]:
        """choreography.json and counts.md of ``plan`` into ``folder`` -> {"choreography", "counts"}: path; with
        ``motion`` = (the MotionDance, its poses [T, 18, 2], fps, canvas (W, H)) also motion_source.mp4
        ("motion_source")."""
        files = {"choreography": plan.save(Path(folder) / PLAN_FILE),
                 "counts": _write_text(Path(folder) / COUNTS_FILE, count_sheet(plan))}
        if motion is not None:
            moved, poses, fps, size = motion
            files["motion_source"] = write_motion_preview(moved, fps, len(poses), size, poses,
                                                          Path(folder) / MOTION_PREVIEW)
        return files

    def write_dance(self, planned: PlannedDance, out_dir: str | os.PathLike) -> dict[str, Path]:
        """The files of the module docstring into ``out_dir`` (made), all complete or none; our files of an
        earlier run that this one did not make go. -> {"poses", "choreography", "counts", "skeleton", "report"}:
        path. OutputError (one line) for a folder we cannot write."""
        with work_folder(out_dir) as (final_dir, work):
            np.save(work / POSES_FILE, np.asarray(planned.poses, dtype=np.float32))
            motion = None if planned.motion is None else (planned.motion, planned.poses, planned.fps, planned.size)
            self.write_plan(planned.plan, work, motion)
            self.skeleton_video(planned.poses, planned.size, planned.fps, planned.music, work / "skeleton.mp4",
                                planned.settings.output_fps)
            _write_text(work / "report.json", json.dumps(dance_report(planned), indent=2))
            move_into_place(work, final_dir, DANCE_FILES + OTHER_OUTPUTS)
        names = {"poses": POSES_FILE, "choreography": PLAN_FILE, "counts": COUNTS_FILE, "skeleton": "skeleton.mp4",
                 "report": "report.json", **({} if planned.motion is None else {"motion_source": MOTION_PREVIEW})}
        return {key: final_dir / name for key, name in names.items()}


# the studio's video files: a dance written into a generation's folder replaces them (they show another dance)
OTHER_OUTPUTS = ("baseline.mp4", "identity.mp4", "side_by_side.mp4")


def dance_report(planned: PlannedDance) -> dict:
    """report.json of a dance: the request, the music's identity, style, seed and the dance metrics."""
    s, music, plan, body = planned.settings, planned.music, planned.plan, planned.body
    frames = int(planned.poses.shape[0])
    return {
        "style": plan.style, "seed": plan.seed, "fps": planned.fps, "frames": frames,
        "seconds": round(frames / planned.fps, 3), "width": planned.size[0], "height": planned.size[1],
        "framing": str(s.framing), "body": body.source,
        "music": {"sha256": plan.music.sha256, "offset_s": music.offset_s, "duration_s": round(music.duration_s, 3),
                  "tempo_bpm": round(music.tempo_bpm, 2), "beats": int(len(music.beats_s)),
                  "meter": plan.meter},
        "phrases": len(plan.phrases),
        **({} if planned.motion is None else {"motion": planned.motion.report()}),
        "dance": planned.metrics,
        "notes": [BEAT_ALIGNMENT_NOTE],
        "warnings": planned.warnings,
    }


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
