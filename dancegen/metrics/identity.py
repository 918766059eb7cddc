"""Identity metrics of generated videos: per-frame face similarity to the reference photo (CSIM) and the
frame-to-frame similarity of the faces (stability, i.e. drift over time).

Any :class:`~dancegen.face.FaceAnalyser` can judge: the offline models (MobileFaceNet ``w600k_mbf``, always) and, on
the real path, antelopev2 (``glintr100``) too. Both videos of an A/B pair are measured the same way, by the same
models, whichever generator made them. A sampled frame without a face counts as a miss (``face_found``), never
dropped silently.
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


def _check_source(analyser: FaceAnalyser, reference: FaceResult) -> None:
    if reference.source != analyser.source:
        raise ValueError(f"the reference embedding comes from the '{reference.source}' models but the analyser uses "
                         f"'{analyser.source}'; embeddings of different models cannot be compared")


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
        _check_source(analyser, reference)
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
    model: str  # the recognition model that judged, e.g. "w600k_mbf" (offline) or "glintr100" (antelopev2)
    frame_index: list[int]  # frames that were scored (evenly spaced)
    similarity: list[float | None]  # cosine similarity per scored frame; None where no face was found
    mean: float | None  # mean over frames with a face; None when no frame had one
    face_found: float  # fraction of scored frames with a face (frames without one count, as misses)
    stability: list[float | None]  # cosine of the face embeddings of scored frames k and k + 1; None unless both
    # have a face (len(frame_index) - 1 values)
    stability_mean: float | None  # mean over the pairs with two faces; None when there is no such pair

    def to_dict(self) -> dict:
        return {"model": self.model, "frame_index": self.frame_index, "similarity": self.similarity,
                "mean": self.mean, "face_found": self.face_found, "stability": self.stability,
                "stability_mean": self.stability_mean}


def sampled_frames(n_frames: int, max_frames: int = 32) -> np.ndarray:
    """Indices of up to ``max_frames`` evenly spaced frames of an ``n_frames``-frame video, first and last included."""
    return np.unique(np.linspace(0, n_frames - 1, num=min(max_frames, n_frames)).round().astype(int))


def _rounded(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), 4) for v in values]


def _mean(values: np.ndarray) -> float | None:
    found = values[~np.isnan(values)]
    return round(float(found.mean()), 4) if found.size else None


class IdentityMeter:
    """The identity similarity (CSIM) and stability of one video, measured by one recognition model on the sampled
    frames as they pass, chunk by chunk, so the video is never held whole (only the sampled frames' embeddings,
    [n <= max_frames, 512], are kept). ``add(start, chunk)`` with consecutive chunks [n, H, W, 3]; then
    ``score()``."""

    def __init__(self, analyser: FaceAnalyser, reference: FaceResult, n_frames: int, max_frames: int = 32):
        _check_source(analyser, reference)
        self.analyser, self.reference = analyser, reference
        self.index = sampled_frames(n_frames, max_frames)  # [n] frames to score
        self.embeddings = np.full((len(self.index), len(reference.embedding)), np.nan, np.float32)  # [n, 512]
        self.sims = np.full(len(self.index), np.nan)  # [n] NaN = no face (or not seen yet)

    def add(self, start: int, frames: np.ndarray) -> None:
        """Score the sampled frames among ``frames`` [n, H, W, 3], which are frames start .. start + n - 1."""
        for k in np.flatnonzero((self.index >= start) & (self.index < start + len(frames))):
            embedding = self.analyser.embed(frames[self.index[k] - start])  # [512] or None
            if embedding is not None:
                self.embeddings[k] = embedding
                self.sims[k] = cosine_similarity(embedding, self.reference.embedding)

    def score(self) -> IdentityScore:
        found = ~np.isnan(self.sims)
        pairs = np.array([cosine_similarity(a, b) if ok_a and ok_b else np.nan for a, b, ok_a, ok_b
                          in zip(self.embeddings[:-1], self.embeddings[1:], found[:-1], found[1:])])  # [n - 1]
        return IdentityScore(
            model=self.analyser.recognizer,
            frame_index=self.index.tolist(),
            similarity=_rounded(self.sims),
            mean=_mean(self.sims),
            face_found=round(float(found.mean()), 4),
            stability=_rounded(pairs),
            stability_mean=_mean(pairs),
        )


def identity_similarity(analyser: FaceAnalyser, frames: np.ndarray, reference: FaceResult,
                        max_frames: int = 32) -> IdentityScore:
    """Similarity of the largest face in up to ``max_frames`` evenly spaced frames [T, H, W, 3] to ``reference``."""
    meter = IdentityMeter(analyser, reference, len(frames), max_frames)
    meter.add(0, frames)
    return meter.score()
