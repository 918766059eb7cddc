"""Training data: a folder of clips -> checked clips -> training samples, in an order fixed by the seed.

A clip is a folder holding

    video.mp4  (or frames/ with one image per frame, sorted by the numbers in their names)
    poses.npy  [T, 18, 2] OpenPose-18 joints in the frames' pixels (x right, y down; NaN: not seen), or
               [T, 18, 3] with DWPose-style confidences; one pose per frame
    reference.png   optional: the person's picture (default: frame 0, which is then left out of the windows)
    face_boxes.npy  optional: [T, 4] the face's box per frame (x0, y0, x1, y1 px; NaN rows: no face), for the
                    face-weighted loss (StableAnimator weighs the loss 1 + 1 inside the face boxes)
    face.<source>.npy  the reference's face embedding, cached here on first use (source: offline or antelopev2)

:func:`scan_clips` checks every clip once (files, shapes, frame counts, a face in the reference) and reports each
clip it leaves out, naming it. A sample is a window of ``frames`` frames taken every ``frame_stride`` frames (closer
together when the clip is short), like StableAnimator's dataset: the frames and the reference cropped to the
training size's aspect around the dancer and resized, never stretched (:mod:`.crop`), the skeletons drawn from the
poses in the cropped coordinates exactly as inference draws them (:func:`dancegen.pose.render.render_whole_body`),
the face mask through the same crop, and the embedding.

Sample ``g`` (the g-th sample the whole run draws, over every process) is a pure function of the seed and g: the
clip order of each pass over the data is a seeded permutation and the window is drawn from a generator seeded by
(seed, g). So a resumed run draws exactly the samples an uninterrupted one would, and two processes with batch 1
draw what one process with batch 2 does.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import PIL.Image
import torch
from torch.utils.data import Dataset, Sampler

from ..errors import NoFaceError, PhotoError, UserError
from ..face import FaceAnalyser, require_antelopev2
from ..io.files import write_atomic
from ..io.photo import load_photo
from ..io.read import VideoError, count_frames, read_frames
from ..pose.reference import ReferenceCrop
from ..pose.render import render_whole_body
from .crop import centre_crop, cropped, sample_crop, to_sample

VIDEO, FRAMES, POSES, REFERENCE, FACE_BOXES = "video.mp4", "frames", "poses.npy", "reference.png", "face_boxes.npy"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}


class DataError(UserError):
    """Training data that cannot be used (no usable clip at all, or a clip that broke while training)."""


def face_cache_name(source: str) -> str:
    return f"face.{source}.npy"


@dataclass(frozen=True, eq=False)
class Clip:
    """One checked clip."""

    folder: Path  # the clip's folder (its name is the clip's name in messages)
    n_frames: int  # T
    size: tuple[int, int]  # the frames' (width, height) px
    video: Path | None  # video.mp4, or None when the frames are images
    frame_files: tuple[Path, ...]  # frames/ images in order (empty with a video)
    poses: np.ndarray  # [T, 18, 2 or 3] float32 frame px (+ confidence)
    face_boxes: np.ndarray | None  # [T, 4] float32 frame px, NaN rows without a face; None without the file
    embedding: np.ndarray  # [512] float32 face embedding of the reference
    reference: Path | None  # reference.png, or None: frame 0 is the reference

    @property
    def first(self) -> int:
        """First frame windows may use: 1 when frame 0 is the reference and the rest still fill a window."""
        return 0 if self.reference is not None else 1

    def frames(self, indices: list[int]) -> list[np.ndarray]:
        """The frames at ``indices`` (increasing) as [H, W, 3] uint8 RGB."""
        if self.video is None:
            try:
                images = [load_photo(self.frame_files[i]) for i in indices]
            except PhotoError as exc:
                raise DataError(f"clip {self.folder.name}: a frame in {FRAMES}/ cannot be read ({exc})") from None
            for i, image in zip(indices, images):
                if image.size != self.size:
                    raise DataError(f"clip {self.folder.name}: {FRAMES}/{self.frame_files[i].name} is "
                                    f"{image.width}x{image.height}, but the first frame is {self.size[0]}x"
                                    f"{self.size[1]}; all frames need one size")
            return [np.asarray(image) for image in images]
        try:
            return read_frames(self.video, indices)  # seeks: the work does not grow with the clip's length
        except VideoError as exc:
            raise DataError(f"clip {self.folder.name}: {exc}; its poses say it has {self.n_frames} frames") from None

    def reference_image(self) -> PIL.Image.Image:
        if self.reference is not None:
            try:
                return load_photo(self.reference)
            except PhotoError as exc:
                raise DataError(f"clip {self.folder.name}: {REFERENCE} cannot be read ({exc})") from None
        return PIL.Image.fromarray(self.frames([0])[0])


def _natural_key(path: Path) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path.name))


def _load_array(path: Path, what: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{what} cannot be read ({type(exc).__name__})") from None


def _embedding(folder: Path, reference: Callable[[], PIL.Image.Image], source: Path,
               faces: FaceAnalyser) -> np.ndarray:
    """The reference's face embedding for ``faces``' source: cached in the clip folder (unless the cache is older
    than the ``source`` file of the reference), else detected and cached."""
    cache = folder / face_cache_name(faces.source)
    if cache.is_file() and cache.stat().st_mtime >= source.stat().st_mtime:
        value = _load_array(cache, cache.name).astype(np.float32).reshape(-1)
        if value.shape == (512,) and np.isfinite(value).all():
            return value
    try:
        result = faces.analyse(reference())
    except NoFaceError:
        raise ValueError("no face found in the reference (reference.png, or frame 0)") from None
    except PhotoError as exc:
        raise ValueError(f"the reference cannot be used: {exc}") from None
    value = require_antelopev2(result) if faces.source == "antelopev2" else np.array(result.embedding, np.float32)
    save_array(cache, value)
    return value


def save_array(path: Path, value: np.ndarray) -> None:
    """np.save, whole or not at all (silently skipped in a folder we cannot write: the cache is only a cache)."""
    with contextlib.suppress(PermissionError, OSError):
        write_atomic(path, lambda tmp: np.save(tmp.open("wb"), value))


def check_clip(folder: Path, frames_needed: int, faces: FaceAnalyser) -> Clip:
    """One clip, checked; ValueError with the reason (without the clip's name) when it cannot be used."""
    video = folder / VIDEO
    frame_dir = folder / FRAMES
    frame_files: tuple[Path, ...] = ()
    if video.is_file():
        try:
            n_frames, width, height = count_frames(video)
        except VideoError as exc:
            raise ValueError(f"{VIDEO} cannot be read ({exc})") from None
    elif frame_dir.is_dir():
        video = None
        frame_files = tuple(sorted((p for p in frame_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                                   key=_natural_key))
        if not frame_files:
            raise ValueError(f"{FRAMES}/ holds no images")
        n_frames = len(frame_files)
        try:
            width, height = load_photo(frame_files[0]).size
        except PhotoError as exc:
            raise ValueError(f"{FRAMES}/{frame_files[0].name} cannot be read ({exc})") from None
    else:
        raise ValueError(f"no {VIDEO} and no {FRAMES}/ folder")
    if n_frames == 0:
        raise ValueError(f"{VIDEO} holds no frames")
    if video is not None:  # packets were counted; a damaged stream shows only when decoded: the last frame, by seeking
        try:
            read_frames(video, [n_frames - 1])
        except VideoError as exc:
            raise ValueError(f"{VIDEO} does not decode to its last frame ({exc})") from None
    if not (folder / POSES).is_file():
        raise ValueError(f"missing {POSES} (one [18, 2] pose per frame; dancegen prepare makes it)")
    poses = _load_array(folder / POSES, POSES)
    if poses.ndim != 3 or poses.shape[1:] not in ((18, 2), (18, 3)) or poses.dtype.kind not in "fiu":
        raise ValueError(f"{POSES} has shape {list(poses.shape)}; expected [T, 18, 2] or [T, 18, 3] numbers")
    if len(poses) != n_frames:
        source = VIDEO if video is not None else f"{FRAMES}/"
        raise ValueError(f"frame count mismatch: {POSES} has {len(poses)} poses but {source} has {n_frames} frames")
    boxes = None
    if (folder / FACE_BOXES).is_file():
        boxes = _load_array(folder / FACE_BOXES, FACE_BOXES)
        if boxes.shape != (n_frames, 4):
            raise ValueError(f"{FACE_BOXES} has shape {list(boxes.shape)}; expected [{n_frames}, 4]")
        boxes = boxes.astype(np.float32)
    reference = folder / REFERENCE if (folder / REFERENCE).is_file() else None
    if n_frames < frames_needed:
        raise ValueError(f"only {n_frames} frames; a training window needs {frames_needed}")
    clip = Clip(folder=folder, n_frames=n_frames, size=(int(width), int(height)), video=video,
                frame_files=frame_files, poses=poses.astype(np.float32), face_boxes=boxes,
                embedding=np.zeros(512, np.float32), reference=reference)

    def picture() -> PIL.Image.Image:  # the reference (PhotoError / VideoError: it cannot be read)
        if reference is not None or video is None:
            return load_photo(reference or frame_files[0])
        return PIL.Image.fromarray(read_frames(video, [0])[0])

    try:
        embedding = _embedding(folder, picture, reference or video or frame_files[0], faces)
    except VideoError as exc:
        raise ValueError(f"the reference frame cannot be decoded ({exc})") from None
    return replace(clip, embedding=embedding)


def scan_clips(root: str | os.PathLike, frames_needed: int, faces: FaceAnalyser) -> tuple[list[Clip], list[str]]:
    """Every clip folder under ``root`` (sorted by name), checked. -> (usable clips, "name: reason" per clip left
    out). DataError when ``root`` is missing or no clip is usable."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"training data folder not found: {root}")
    clips, skipped = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            clips.append(check_clip(folder, frames_needed, faces))
        except ValueError as exc:
            skipped.append(f"{folder.name}: {exc}")
    if not clips:
        reasons = "; ".join(skipped[:3]) if skipped else "it holds no clip folders"
        raise DataError(f"no usable training clips in {root}: {reasons}")
    return clips, skipped


# ------------------------------------------------------------------------------------------------- samples


def sample_seed(seed: int, position: int, purpose: int) -> int:
    """A 63-bit seed for sample ``position`` and one ``purpose`` (window, objective noise), from the run's seed."""
    return int(np.random.SeedSequence([seed, purpose, position]).generate_state(1, np.uint64)[0] >> np.uint64(1))


WINDOW, NOISE = 1, 2  # sample_seed purposes


def window_indices(clip: Clip, frames: int, stride: int, rng: np.random.Generator) -> list[int]:
    """``frames`` increasing frame indices: a random stretch of (frames - 1) * stride + 1 frames (shorter when the
    clip is), sampled evenly (StableAnimator's dataset)."""
    first = clip.first if clip.n_frames - clip.first >= frames else 0
    available = clip.n_frames - first
    length = min(available, (frames - 1) * stride + 1)
    start = first + int(rng.integers(0, available - length + 1))
    return np.linspace(start, start + length - 1, frames).astype(int).tolist()


def _to_unit(images: np.ndarray) -> torch.Tensor:
    """[N, H, W, 3] uint8 -> [N, 3, H, W] float32 in [-1, 1] (x / 127.5 - 1, as StableAnimator)."""
    return torch.from_numpy(np.array(images, dtype=np.uint8)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def face_mask(boxes: np.ndarray | None, indices: list[int], crop: ReferenceCrop) -> torch.Tensor:
    """1 inside each frame's face box (through the sample's crop, at the training size), else 0: [F, 1, H, W]."""
    width, height = crop.canvas
    mask = torch.zeros((len(indices), 1, height, width))
    if boxes is None:
        return mask
    for k, i in enumerate(indices):
        box = boxes[i]
        if not np.isfinite(box).all():
            continue
        x0, y0, x1, y1 = to_sample(crop, box)
        x0, x1 = (int(round(np.clip(v, 0, width))) for v in (x0, x1))
        y0, y1 = (int(round(np.clip(v, 0, height))) for v in (y0, y1))
        mask[k, 0, y0:y1, x0:x1] = 1.0
    return mask


class ClipDataset(Dataset):
    """Sample ``g`` -> dict of tensors (see :meth:`__getitem__`); any non-negative g (an endless stream)."""

    def __init__(self, clips: list[Clip], frames: int, size: tuple[int, int], stride: int, seed: int):
        self.clips, self.frames, self.size, self.stride, self.seed = clips, frames, size, stride, seed

    def __len__(self) -> int:
        return len(self.clips)

    def clip_of(self, position: int) -> Clip:
        """Pass p = g // n over the data visits the clips in a seeded permutation of its own."""
        n = len(self.clips)
        return self.clips[int(_order(self.seed, position // n, n)[position % n])]

    def window(self, position: int) -> tuple[Clip, list[int], ReferenceCrop]:
        """Sample ``g``'s clip, frame indices and crop (:func:`.crop.sample_crop` of the window's poses)."""
        clip = self.clip_of(position)
        rng = np.random.default_rng(sample_seed(self.seed, position, WINDOW))
        indices = window_indices(clip, self.frames, self.stride, rng)
        return clip, indices, sample_crop(clip.poses[indices], clip.size, self.size)

    def __getitem__(self, position: int) -> dict[str, torch.Tensor]:
        """pixels [F, 3, H, W] and reference [3, H, W] in [-1, 1]; poses [F, 3, H, W] skeletons in [-1, 1];
        face_mask [F, 1, H, W] in {0, 1}; embedding [512]; position (g) and seed (of the objective's noise).

        The frames, skeletons and face mask go through one crop of the training size's aspect around the dancer
        (:mod:`.crop`: never stretched); so does the reference when it is frame 0 or a reference.png of the frames'
        size, while one of another size is cropped around its own centre."""
        clip, indices, crop = self.window(position)
        width, height = self.size
        frames = np.stack([cropped(crop, f) for f in clip.frames(indices)])
        picture = clip.reference_image()
        own = crop if picture.size == clip.size else centre_crop(picture.size, self.size)
        reference = cropped(own, picture)[None]
        skeletons = []
        for i in indices:
            pose = clip.poses[i]
            scores = pose[:, 2] if pose.shape[1] == 3 else None
            skeletons.append(render_whole_body(to_sample(crop, pose[:, :2]), width, height, scores))
        return {"pixels": _to_unit(frames), "reference": _to_unit(reference)[0], "poses": _to_unit(np.stack(skeletons)),
                "face_mask": face_mask(clip.face_boxes, indices, crop),
                "embedding": torch.from_numpy(clip.embedding.copy()),
                "position": torch.tensor(position), "seed": torch.tensor(sample_seed(self.seed, position, NOISE))}


def batches(loader: Iterable[dict[str, torch.Tensor]]) -> Iterator[dict[str, torch.Tensor]]:
    """The ``loader``'s batches. A clip that breaks in a worker process raises DataError there, which the DataLoader
    raises again here with the worker's whole traceback as its message; it comes out as the clip's own line."""
    iterator = iter(loader)
    while True:
        try:
            batch = next(iterator)
        except StopIteration:
            return
        except DataError as exc:
            raise DataError(worker_message(str(exc))) from None
        yield batch


def worker_message(text: str) -> str:
    """The DataError's own message in the text a DataLoader worker's error comes back with (the traceback ends with
    ``dancegen.train.data.DataError: <message>``); the text itself when it holds no such line."""
    prefix = f"{DataError.__module__}.{DataError.__qualname__}: "
    own = [line[len(prefix):] for line in text.splitlines() if line.startswith(prefix)]
    return own[-1] if own else text


@lru_cache(maxsize=8)
def _order(seed: int, epoch: int, n: int) -> np.ndarray:
    return np.random.default_rng([seed, 0, epoch]).permutation(n)


class PositionSampler(Sampler[int]):
    """The sample positions one process draws, endlessly: micro-step m of the run gives process r of W the
    positions (m * W + r) * B ... + B - 1, so a global batch is W * B consecutive positions."""

    def __init__(self, start_micro_step: int, batch: int, rank: int, world: int):
        self.start, self.batch, self.rank, self.world = start_micro_step, batch, rank, world

    def __iter__(self) -> Iterator[int]:
        step = self.start
        while True:
            first = (step * self.world + self.rank) * self.batch
            yield from range(first, first + self.batch)
            step += 1
