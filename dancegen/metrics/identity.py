"""Identity metrics of generated videos: per-frame face similarity to the reference photo.

Scored with the offline face models (the same analyser as the face-crop preview), so both videos of an A/B pair
are measured the same way whichever generator made them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..face.analyser import FaceAnalyser, FaceResult


def cosine_similarity(a: np.ndarray | Sequence[float], b: np.ndarray | Sequence[float]) -> float:
    """Cosine of the angle between two embeddings (any scale); NaN if either is all zeros."""
    va = np.asarray(a, dtype=np.float64).reshape(-1)
    vb = np.asarray(b, dtype=np.float64).reshape(-1)
    if va.shape != vb.shape:
        raise ValueError(f"embeddings differ in length: {va.shape[0]} vs {vb.shape[0]}")
    na, nb = np.linalg.norm(va), np.linalg.norm(vb)
    if na == 0.0 or nb == 0.0:
        return float("nan")
    return float(np.dot(va, vb) / (na * nb))


def frame_similarities(
    analyser: FaceAnalyser,
    frames: Iterable[np.ndarray | Image.Image],
    reference: FaceResult | np.ndarray,
) -> np.ndarray:
    """Per-frame cosine similarity of each frame's largest face to the reference identity, float64 [N].

    Frames are RGB (uint8 arrays [H, W, 3] or PIL images); NaN where a frame has no face. A FaceResult
    reference must come from the same model source as the analyser (embeddings of different models are not
    comparable).
    """
    if isinstance(reference, FaceResult):
        if reference.source != analyser.source:
            raise ValueError(
                f"the reference embedding comes from the '{reference.source}' models but the analyser uses "
                f"'{analyser.source}'; embeddings of different models cannot be compared"
            )
        ref = reference.embedding
    else:
        ref = np.asarray(reference, dtype=np.float32).reshape(-1)
    out = []
    for frame in frames:
        emb = analyser.embed(frame)
        out.append(float("nan") if emb is None else cosine_similarity(emb, ref))
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class IdentityScore:
    frame_index: list[int]  # frames that were scored (evenly spaced)
    similarity: list[float | None]  # cosine similarity per scored frame; None where no face was found
    mean: float | None  # mean over frames with a face; None when no frame had one
    face_found: float  # fraction of scored frames with a face

    def to_dict(self) -> dict:
        return {"frame_index": self.frame_index, "similarity": self.similarity, "mean": self.mean,
                "face_found": self.face_found}


def sampled_frames(n_frames: int, max_frames: int = 32) -> np.ndarray:
    """Indices of up to ``max_frames`` evenly spaced frames of an ``n_frames``-frame video, first and last included."""
    return np.unique(np.linspace(0, n_frames - 1, num=min(max_frames, n_frames)).round().astype(int))


class IdentityMeter:
    """The identity similarity of one video, measured on its sampled frames as they pass, chunk by chunk, so the
    video is never held whole. ``add(start, chunk)`` with consecutive chunks [n, H, W, 3]; then ``score()``."""

    def __init__(self, analyser: FaceAnalyser, reference: FaceResult, n_frames: int, max_frames: int = 32):
        if reference.source != analyser.source:
            raise ValueError(f"the reference embedding comes from the '{reference.source}' models but the analyser "
                             f"uses '{analyser.source}'; embeddings of different models cannot be compared")
        self.analyser, self.reference = analyser, reference
        self.index = sampled_frames(n_frames, max_frames)  # [n] frames to score
        self.sims = np.full(len(self.index), np.nan)  # [n] NaN = no face (or not seen yet)

    def add(self, start: int, frames: np.ndarray) -> None:
        """Score the sampled frames among ``frames`` [n, H, W, 3], which are frames start .. start + n - 1."""
        for k in np.flatnonzero((self.index >= start) & (self.index < start + len(frames))):
            self.sims[k] = frame_similarities(self.analyser, [frames[self.index[k] - start]], self.reference)[0]

    def score(self) -> IdentityScore:
        found = ~np.isnan(self.sims)
        return IdentityScore(
            frame_index=self.index.tolist(),
            similarity=[round(float(s), 4) if ok else None for s, ok in zip(self.sims, found)],
            mean=round(float(self.sims[found].mean()), 4) if found.any() else None,
            face_found=round(float(found.mean()), 4),
        )


def identity_similarity(analyser: FaceAnalyser, frames: np.ndarray, reference: FaceResult,
                        max_frames: int = 32) -> IdentityScore:
    """Similarity of the largest face in up to ``max_frames`` evenly spaced frames [T, H, W, 3] to ``reference``."""
    meter = IdentityMeter(analyser, reference, len(frames), max_frames)
    meter.add(0, frames)
    return meter.score()
