"""Identity metrics of generated videos: per-frame face similarity to the reference photo.

Scored with the offline face models (the same analyser as the face-crop preview), so both videos of an A/B pair
are measured the same way whichever generator made them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .face import FaceAnalyser, FaceResult, frame_similarities


@dataclass(frozen=True)
class IdentityScore:
    frame_index: list[int]  # frames that were scored (evenly spaced)
    similarity: list[float | None]  # cosine similarity per scored frame; None where no face was found
    mean: float | None  # mean over frames with a face; None when no frame had one
    face_found: float  # fraction of scored frames with a face

    def to_dict(self) -> dict:
        return {"frame_index": self.frame_index, "similarity": self.similarity, "mean": self.mean,
                "face_found": self.face_found}


def identity_similarity(analyser: FaceAnalyser, frames: np.ndarray, reference: FaceResult,
                        max_frames: int = 32) -> IdentityScore:
    """Similarity of the largest face in up to ``max_frames`` evenly spaced frames [T, H, W, 3] to ``reference``."""
    index = np.unique(np.linspace(0, len(frames) - 1, num=min(max_frames, len(frames))).round().astype(int))
    sims = frame_similarities(analyser, (frames[i] for i in index), reference)  # [n], NaN = no face
    found = ~np.isnan(sims)
    return IdentityScore(
        frame_index=index.tolist(),
        similarity=[round(float(s), 4) if ok else None for s, ok in zip(sims, found)],
        mean=round(float(sims[found].mean()), 4) if found.any() else None,
        face_found=round(float(found.mean()), 4),
    )
