"""Raw dance videos -> training clip folders (:mod:`.data`'s format), skipping what cannot be used and saying why.

Per video (``.mp4 .mov .mkv .webm .avi .m4v`` in the input folder): the first ``max_frames`` frames, shrunk so the
longer side is at most ``max_side`` (and even), are written to ``<out>/<video name>/video.mp4`` (videos
that share a name, a.mp4 and a.mov, go to ``a-mp4/`` and ``a-mov/``) with a keyframe a second; DWPose gives each
frame's OpenPose-18 body with confidences (``poses.npy`` [T, 18, 3]; a frame without a person gets NaN joints with
confidence 0); the face detector gives each frame's largest face box (``face_boxes.npy`` [T, 4], NaN without a face),
as StableAnimator's ``face_mask_extraction.py`` does per frame; and the face embedding of frame 0 (the clip's
reference) is cached as ``face.<source>.npy`` (antelopev2 for the stableanimator preset, the offline models for
tiny), so the trainer never detects it again. Each clip is written in a hidden folder and renamed into place when
complete; a clip folder that already exists is left alone.

DWPose's weights (``yolox_l.onnx``, ``dw-ll_ucoco_384.onnx``) are needed to find the poses; without them every video
is skipped with that reason. Clips whose poses come from elsewhere need no detector: write ``poses.npy`` beside the
video yourself (:mod:`.data`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import PIL.Image

from ..config import PrepareSettings, PresetName
from ..errors import PhotoError, UserError
from ..face import FaceAnalyser, FaceAnalyserConfig, antelopev2_folder
from ..io.files import temporary_folder
from ..io.read import iter_frames
from ..io.video import VideoError, VideoWriter
from ..pose.detect import BodyDetector, BodyDetectorConfig, dwpose_folder
from .crop import JOINT_SEEN
from .data import FACE_BOXES, POSES, VIDEO, face_cache_name, save_array

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"}
FPS = 30  # the clips' frame rate in video.mp4 (the trainer reads frames, not times)
KEYINT = FPS  # a keyframe every second: a training window is read by seeking and decoding at most this far


@dataclass
class PrepareReport:
    prepared: list[Path] = field(default_factory=list)  # clip folders written
    skipped: list[str] = field(default_factory=list)  # "video name: reason"
    existing: list[Path] = field(default_factory=list)  # clip folders already there (left alone)


def _shrunk(frame: np.ndarray, max_side: int) -> np.ndarray:
    """[H, W, 3] -> the frame shrunk to a longer side <= max_side, both sides even."""
    h, w = frame.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    new_w, new_h = max(2, int(w * scale) // 2 * 2), max(2, int(h * scale) // 2 * 2)
    if (new_w, new_h) == (w, h):
        return frame
    return np.asarray(PIL.Image.fromarray(frame).resize((new_w, new_h), PIL.Image.Resampling.LANCZOS))


def clip_names(videos: list[Path]) -> dict[Path, str]:
    """Each video's clip folder name: its stem, or ``<stem>-<suffix>`` (a-mp4, a-mov) where two videos share a stem
    (compared without case), with a number added should even that repeat. Distinct for every video."""
    stems: dict[str, int] = {}
    for video in videos:
        stems[video.stem.lower()] = stems.get(video.stem.lower(), 0) + 1
    names: dict[Path, str] = {}
    taken: set[str] = set()
    for video in videos:
        name = video.stem if stems[video.stem.lower()] == 1 else f"{video.stem}-{video.suffix[1:].lower()}"
        unique, k = name, 2
        while unique.lower() in taken or (unique != video.stem and unique.lower() in stems):
            unique, k = f"{name}-{k}", k + 1
        taken.add(unique.lower())
        names[video] = unique
    return names


def prepare_video(video: Path, out: Path, settings: PrepareSettings, detector: BodyDetector,
                  identity_faces: FaceAnalyser, box_faces: FaceAnalyser, name: str | None = None) -> Path:
    """One video -> ``out/<name>/`` (default name: the video's stem). ValueError with the reason when the video
    cannot be used."""
    name = video.stem if name is None else name
    final = out / name
    work = temporary_folder(out, f".{name}.partial-")
    try:
        poses, boxes, first = [], [], None
        with VideoWriter(work / VIDEO, FPS, crf=16, keyint=KEYINT) as writer:
            frames: Iterator[np.ndarray] = iter_frames(video, stop=settings.max_frames)
            for frame in frames:
                frame = _shrunk(frame, settings.max_side)
                first = frame if first is None else first
                writer.write(frame)
                body = detector.detect(frame)
                if body is None:
                    poses.append(np.concatenate([np.full((18, 2), np.nan), np.zeros((18, 1))], axis=1))
                else:
                    poses.append(np.concatenate([body.keypoints, body.scores[:, None]], axis=1))
                try:
                    boxes.append(np.asarray(box_faces.analyse(frame).largest.bbox, dtype=np.float64))
                except PhotoError:  # no face in this frame (or a frame too small to look for one)
                    boxes.append(np.full(4, np.nan))
            if first is None:
                raise ValueError("no frame could be decoded")
            poses_arr = np.stack(poses).astype(np.float32)  # [T, 18, 3]
            seen = (poses_arr[:, :, 2] > JOINT_SEEN).sum(axis=1) >= settings.min_body_joints  # [T]
            if seen.mean() < settings.min_body_frames:
                raise ValueError(f"the dancer's body is found in {seen.mean():.0%} of the frames; at least "
                                 f"{settings.min_body_frames:.0%} needed")
            try:
                result = identity_faces.analyse(first)
            except PhotoError as exc:
                raise ValueError(f"the first frame (the clip's reference) has no usable face: {exc}") from None
        np.save(work / POSES, poses_arr)
        np.save(work / FACE_BOXES, np.stack(boxes).astype(np.float32))
        save_array(work / face_cache_name(identity_faces.source), np.asarray(result.embedding, np.float32))
        os.replace(work, final)
    except VideoError as exc:
        raise ValueError(f"the video cannot be read ({exc})") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def prepare(videos: str | os.PathLike, out: str | os.PathLike, settings: PrepareSettings = PrepareSettings(),
            detector: BodyDetector | None = None, say: Callable[[str], None] = print) -> PrepareReport:
    """Every video in ``videos`` -> a clip folder in ``out`` (see the module docstring). ``detector``: DWPose
    (default: from ``settings.weights_dir`` / ``--download``; without its weights every video is skipped)."""
    videos, out = Path(videos), Path(out)
    if not videos.is_dir():
        raise UserError(f"videos folder not found: {videos}")
    files = sorted(p for p in videos.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    if not files:
        raise UserError(f"no videos ({', '.join(sorted(VIDEO_SUFFIXES))}) in {videos}")
    report = PrepareReport()
    if detector is None:
        folder = dwpose_folder(settings.weights_dir, download=settings.download)
        if folder is None:
            reason = ("no DWPose weights (DWPose/yolox_l.onnx and DWPose/dw-ll_ucoco_384.onnx) "
                      + (f"in {settings.weights_dir}" if settings.weights_dir else "given")
                      + ": pass --weights DIR with them, or --download; or write poses.npy beside each video")
            report.skipped = [f"{f.name}: {reason}" for f in files]
            for line in report.skipped:
                say(f"skipped {line}")
            return report
        detector = BodyDetector.from_folder(folder, BodyDetectorConfig())
    box_faces = FaceAnalyser(FaceAnalyserConfig(source="offline", cache_size=0))
    identity_faces = box_faces
    if settings.preset == PresetName.STABLEANIMATOR:
        antelope = antelopev2_folder(settings.weights_dir, download=settings.download)
        identity_faces = FaceAnalyser(FaceAnalyserConfig(source="antelopev2", model_dir=str(antelope)))
    out.mkdir(parents=True, exist_ok=True)
    names = clip_names(files)
    for video in files:
        folder = out / names[video]
        if folder.exists():
            report.existing.append(folder)
            say(f"kept {video.name}: {folder} is already there")
            continue
        try:
            report.prepared.append(prepare_video(video, out, settings, detector, identity_faces, box_faces,
                                                 names[video]))
            say(f"prepared {video.name} -> {folder}")
        except ValueError as exc:
            report.skipped.append(f"{video.name}: {exc}")
            say(f"skipped {report.skipped[-1]}")
    return report
