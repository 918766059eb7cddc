"""A motion source -> :class:`MotionClip`: one person's poses through the frames, as read (not yet cleaned).

Sources, told apart by what the path is:

* a video (``.mp4 .mov .webm .mkv .avi .m4v``): DWPose (:class:`~dancegen.pose.detect.BodyDetector`) on every
  k-th frame, k = ceil(fps / 45), so the motion is read at 45 fps at most; its weights are
  DWPose's two ONNX files (``--weights DIR`` holding ``DWPose/``, or ``--download``);
* a folder or a ``.zip`` of OpenPose JSON files, one per frame (:mod:`.openpose`; BODY_25 or COCO-18);
* a ``.npy`` of poses [T, 18, 2] (NaN: not seen) or [T, 18, 3] with confidences, as ``dancegen prepare`` writes
  them; their rate is given (``--motion-fps``, default 30).

With several people in the frames, one is followed (:mod:`.track`). Everything that cannot be used is one line:
:class:`~.errors.MotionError`.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..choreo.document import MotionRef
from ..io import read, video
from ..io.files import file_sha256
from ..onnxrt import default_providers
from ..pose.detect import DETECTOR_FILE, POSE_FILE, BodyDetector, BodyDetectorConfig, dwpose_folder
from .errors import MotionError, NoPoseDetector
from .openpose import People, read_openpose
from .track import track

VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v")
DEFAULT_FPS = 30.0  # the rate of a bare pose array unless told
MAX_FPS = 45.0  # a faster video is read at every k-th frame, so the motion stays at or below this rate
MAX_POSE_FPS = 240.0  # the fastest rate accepted for pose files (a high-speed camera's)
WEIGHTS_HINT = (f"reading poses from a video needs DWPose's weights (DWPose/{DETECTOR_FILE} and DWPose/{POSE_FILE},"
                " as in StableAnimator's checkpoints): pass --weights DIR with them, or --download; or give the "
                "poses themselves (OpenPose JSON files or a poses.npy)")


@dataclass(frozen=True, eq=False)
class MotionClip:
    """One person's motion as read from a source."""

    path: Path  # the source
    ref: MotionRef  # its identity, frames and rate
    poses: np.ndarray  # [T, 18, 2] float64 source px; NaN: not seen (or nobody followed in that frame)
    scores: np.ndarray  # [T, 18] float64 confidences (0: not seen)
    found: np.ndarray  # [T] bool: the followed person is in that frame
    size: tuple[int, int] | None  # the source's frame (W, H) px when known (videos)
    has_audio: bool  # a video with a sound track (it can be the music)
    most_people: int  # the most people seen in one frame

    @property
    def seconds(self) -> float:
        return len(self.poses) / self.ref.fps


def source_kind(path: Path) -> str:
    """"video", "openpose" or "poses" for a source path; MotionError for anything else."""
    if path.is_dir() or path.suffix.lower() == ".zip":
        return "openpose"
    if path.suffix.lower() == ".npy":
        return "poses"
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return "video"
    raise MotionError(f"--motion must be a video ({', '.join(VIDEO_SUFFIXES)}), a folder or .zip of OpenPose JSON "
                      f"files, or a poses .npy; got {path.name}")


def source_sha256(path: Path) -> str:
    """sha256 of a file, or of a folder's JSON files (their names and digests, in name order)."""
    if not path.is_dir():
        return file_sha256(path)
    h = hashlib.sha256()
    for p in sorted(q for q in path.rglob("*.json") if q.is_file()):
        h.update(f"{p.relative_to(path).as_posix()}\0{file_sha256(p)}\n".encode())
    return h.hexdigest()


def read_pose_array(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A poses .npy -> (poses [T, 18, 2] NaN where not seen, confidences [T, 18]); MotionError for another shape."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise MotionError(f"{path.name} is not a numpy array file: {exc}") from None
    if arr.ndim != 3 or arr.shape[1:] not in ((18, 2), (18, 3)) or arr.shape[0] < 1 or arr.dtype.kind not in "fiu":
        raise MotionError(f"{path.name} must hold poses [T, 18, 2] or [T, 18, 3] (x, y, confidence), got "
                          f"{arr.dtype} {list(arr.shape)}")
    arr = arr.astype(np.float64)
    kps = arr[..., :2]
    conf = arr[..., 2] if arr.shape[2] == 3 else np.where(np.isfinite(kps).all(axis=-1), 1.0, 0.0)
    return kps, np.where(np.isfinite(conf), conf, 0.0)


def load_detector(weights_dir: str | os.PathLike | None, download: bool = False) -> BodyDetector:
    """DWPose from ``weights_dir`` (or the hub with ``download``), on CUDA when this onnxruntime build offers it
    (onnxruntime-gpu on a GPU host), else the CPU; MotionError saying how to get it otherwise."""
    folder = dwpose_folder(weights_dir, download=download)
    if folder is None:
        raise NoPoseDetector(WEIGHTS_HINT)
    return BodyDetector.from_folder(folder, BodyDetectorConfig(providers=default_providers()))


def video_people(path: Path, detector: BodyDetector, stride: int) -> Iterator[People]:
    """Every ``stride``-th frame of a video -> its people ([N, 18, 2], [N, 18])."""
    for i, frame in enumerate(read.iter_frames(path)):
        if i % stride:
            continue
        bodies = detector.detect_all(frame)
        if not bodies:
            yield np.zeros((0, 18, 2)), np.zeros((0, 18))
            continue
        yield np.stack([b.keypoints for b in bodies]), np.stack([b.scores for b in bodies])


def pose_fps(fps) -> float:
    """The frame rate given for pose files, checked: a number above 0 and at most MAX_POSE_FPS, else MotionError."""
    try:
        value = float(fps)
    except (TypeError, ValueError):
        value = math.nan
    if not (0.0 < value <= MAX_POSE_FPS):
        raise MotionError(f"the pose files' frame rate must be a number above 0 and at most {MAX_POSE_FPS:g} "
                          f"frames a second, got {fps}")
    return value


def read_motion(source: str | os.PathLike, fps: float = DEFAULT_FPS, detector: BodyDetector | None = None,
                detector_factory: Callable[[], BodyDetector] | None = None) -> MotionClip:
    """The motion of ``source`` (see the module docstring); ``fps``: the rate of a pose array (videos and OpenPose
    folders of a video's frames: the video's own rate, or ``fps`` for OpenPose files, which do not say).
    ``detector`` (or ``detector_factory``, called only for a video): DWPose for a video. MotionError (one line)
    for a source that cannot be used."""
    path = Path(source)
    if not path.exists():
        raise MotionError(f"motion file not found: {path}")
    kind = source_kind(path)
    if kind != "video":  # a video says its own rate
        fps = pose_fps(fps)
    size, has_audio = None, False
    if kind == "video":
        try:
            info = read.probe(path)
        except video.VideoError as exc:
            raise MotionError(f"the dance video {path.name} cannot be read: {exc}") from None
        if detector is None:
            detector = detector_factory() if detector_factory is not None else load_detector(None)
        stride = max(1, int(np.ceil(info.fps / MAX_FPS - 1e-9))) if info.fps > 0 else 1
        fps = info.fps / stride if info.fps > 0 else fps
        size, has_audio = (info.width, info.height), info.audio_codec is not None
        try:
            tracked = track(list(video_people(path, detector, stride)))
        except video.VideoError as exc:
            raise MotionError(f"the dance video {path.name} cannot be read: {exc}") from None
    elif kind == "openpose":
        tracked = track(read_openpose(path))
    else:
        kps, conf = read_pose_array(path)
        tracked = track([(k[None], c[None]) for k, c in zip(kps, conf)])
    if not tracked.found.any():
        raise MotionError(f"nobody was found in any frame of {path.name}")
    ref = MotionRef(name=path.name, sha256=source_sha256(path), frames=len(tracked.poses), fps=float(fps), kind=kind)
    return MotionClip(path=path, ref=ref, poses=tracked.poses, scores=tracked.scores, found=tracked.found, size=size,
                      has_audio=has_audio, most_people=tracked.most_people)


__all__ = ["MotionClip", "MotionRef", "read_motion"]
