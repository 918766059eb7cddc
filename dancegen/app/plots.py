"""Tables behind the app's two plots: the music's energy, onsets and beats, and face similarity per frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..music import MusicAnalysis
from . import text as T

PLOT_POINTS = 400  # envelope points drawn in the music plot at most
# Series colours, named in the plots' labels (text.py) instead of a legend, which Gradio's plot clips.
MUSIC_COLORS = {T.CURVE_ENERGY: "#4c78a8", T.CURVE_ONSETS: "#f58518", T.CURVE_BEATS: "#e45756"}
SIMILARITY_COLORS = {"baseline": "#4c78a8", "identity": "#e45756"}


def music_plot_table(analysis: MusicAnalysis, max_points: int = PLOT_POINTS) -> pd.DataFrame:
    """Long table (time, level, curve) of the energy and onset envelopes and a spike per beat (taller downbeats)."""
    times = np.asarray(analysis.frame_times_s, dtype=float)  # [N]
    keep = np.unique(np.linspace(0, len(times) - 1, num=min(max_points, len(times))).round().astype(int))
    rows: list[tuple[float, float, str]] = []
    for name, curve in ((T.CURVE_ENERGY, analysis.rms), (T.CURVE_ONSETS, analysis.onset_strength)):
        values = np.asarray(curve, dtype=float)[keep]  # [<= max_points]
        rows += [(float(t), float(v), name) for t, v in zip(times[keep], values)]
    downbeats = np.asarray(analysis.downbeats_s, dtype=float)
    eps = 0.01  # s: half-width of a beat spike
    spikes = [(0.0, 0.0)]
    for beat in np.asarray(analysis.beats_s, dtype=float):
        height = 1.0 if downbeats.size and np.abs(downbeats - beat).min() < 1e-6 else 0.6
        spikes += [(beat - eps, 0.0), (beat, height), (beat + eps, 0.0)]
    spikes.append((float(analysis.duration_s), 0.0))
    rows += [(max(0.0, t), h, T.CURVE_BEATS) for t, h in spikes]
    return pd.DataFrame(rows, columns=[T.PLOT_TIME, T.PLOT_LEVEL, T.PLOT_CURVE])


def similarity_view(similarity: dict) -> tuple[pd.DataFrame | None, str]:
    """Report's identity_similarity -> (long table frame/similarity/video or None when no frame had a face, text)."""
    rows: list[tuple[int, float, str]] = []
    parts: list[str] = []
    for name in ("baseline", "identity"):
        score = similarity.get(name)
        if not score:
            continue
        if score.get("mean") is None:
            parts.append(T.SIMILARITY_NO_FACE_PART.format(name=name))
            continue
        rows += [(int(i), float(s), name) for i, s in zip(score["frame_index"], score["similarity"]) if s is not None]
        parts.append(T.SIMILARITY_PART.format(name=name, mean=score["mean"], found=score.get("face_found", 0.0)))
    if not rows:
        return None, T.NO_FACE_IN_GENERATED
    table = pd.DataFrame(rows, columns=[T.SIMILARITY_FRAME, T.SIMILARITY_VALUE, T.SIMILARITY_VIDEO])
    return table, T.SIMILARITY_MEANS.format(parts="; ".join(parts))


