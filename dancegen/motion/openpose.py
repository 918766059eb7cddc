"""OpenPose JSON files -> the people of each frame, as OpenPose's ``--write_json`` writes them: one file per frame
(``<name>_000000000012_keypoints.json``), a folder of them or a ``.zip`` of that folder.

Each file is ``{"people": [{"pose_keypoints_2d": [x0, y0, c0, x1, y1, c1, ...]}, ...]}`` in image px, in one of
two layouts, told apart by the list's length: BODY_25 (75 numbers; its MidHip and the six foot points are
dropped) or COCO-18 (54 numbers: already OpenPose-18, our :data:`~dancegen.pose.topology.JOINTS` order). A joint
with confidence 0 (OpenPose writes 0, 0, 0) is not seen. Files are taken in the order of the frame numbers in their
names (the last run of digits), so ``_9`` comes before ``_10``.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .errors import MotionError

# OpenPose-18 joint j <- BODY_25 keypoint BODY25_FOR_18[j] (BODY_25 inserts MidHip at 8 and adds feet at 19..24)
BODY25_FOR_18 = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
LAYOUTS = {75: BODY25_FOR_18, 54: tuple(range(18))}  # numbers per person -> the joints kept, in our order

People = tuple[np.ndarray, np.ndarray]  # ([N, 18, 2] float64 image px, NaN: not seen; [N, 18] float64 confidences)


def frame_key(name: str) -> tuple[int, str]:
    """Sort key of a frame file: the last number in its name, then the name."""
    numbers = re.findall(r"\d+", Path(name).stem)
    return (int(numbers[-1]) if numbers else -1, name)


def people_of(obj, where: str) -> People:
    """One OpenPose frame object -> its people ([N, 18, 2], [N, 18]); MotionError naming ``where`` when it is not
    an OpenPose frame."""
    if not isinstance(obj, dict) or not isinstance(obj.get("people"), list):
        raise MotionError(f"{where} is not an OpenPose frame (no \"people\" list)")
    kps, conf = [], []
    for person in obj["people"]:
        flat = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
        if not isinstance(flat, list) or len(flat) not in LAYOUTS:
            size = len(flat) if isinstance(flat, list) else "no"
            raise MotionError(f"{where}: pose_keypoints_2d must hold 75 (BODY_25) or 54 (COCO-18) numbers, got "
                              f"{size}")
        try:
            values = np.asarray(flat, dtype=np.float64).reshape(-1, 3)[list(LAYOUTS[len(flat)])]
        except (TypeError, ValueError):
            raise MotionError(f"{where}: pose_keypoints_2d must hold numbers only") from None
        ok = np.isfinite(values).all(axis=1) & (values[:, 2] > 0)
        kps.append(np.where(ok[:, None], values[:, :2], np.nan))
        conf.append(np.where(ok, values[:, 2], 0.0))
    if not kps:
        return np.zeros((0, 18, 2)), np.zeros((0, 18))
    return np.stack(kps), np.stack(conf)


def _texts(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every .json frame file of a folder or a zip, in frame order."""
    if path.is_dir():
        files = sorted((p for p in path.rglob("*.json") if p.is_file()), key=lambda p: frame_key(p.name))
        for p in files:
            yield p.name, p.read_bytes()
        return
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".json") and not n.startswith("__MACOSX")
                     and not n.endswith("/")]
            for n in sorted(names, key=lambda n: frame_key(Path(n).name)):
                yield Path(n).name, archive.read(n)
    except (zipfile.BadZipFile, OSError) as exc:
        raise MotionError(f"the zip {path.name} cannot be read: {exc}") from None


def read_openpose(path: str | Path) -> list[People]:
    """The people of every frame of an OpenPose folder or zip, in frame order. MotionError (one line) for a folder
    without JSON files, a file that is not JSON or not an OpenPose frame."""
    path = Path(path)
    frames = []
    for name, data in _texts(path):
        try:
            obj = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MotionError(f"{name} in {path.name} is not JSON: {exc}") from None
        frames.append(people_of(obj, f"{name} in {path.name}"))
    if not frames:
        raise MotionError(f"no OpenPose JSON files (one per frame, *.json) in {path.name}")
    return frames
