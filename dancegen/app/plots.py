"""Tables behind the app's two plots (the music's energy, onsets and beats; face similarity per frame) and the table of
every video's metrics."""

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


def similarity_view(metrics: dict) -> tuple[pd.DataFrame | None, str]:
    """Report's metrics -> (long table frame/similarity/video of the first face model's per-frame similarity, or
    None when no frame had a face; the text: mean similarities, the metrics table and the notes)."""
    models = metrics.get("face_models") or []
    videos = metrics.get("videos") or {}
    rows: list[tuple[int, float, str]] = []
    parts: list[str] = []
    model = models[0] if models else None
    for name in ("baseline", "identity"):
        row = videos.get(name)
        if model is None or row is None:
            continue
        if row.get(f"csim_{model}") is None:
            parts.append(T.SIMILARITY_NO_FACE_PART.format(name=name))
            continue
        sims = metrics["per_frame"][name][f"csim_{model}"]
        rows += [(int(i), float(s), name) for i, s in zip(metrics["scored_frames"], sims) if s is not None]
        parts.append(T.SIMILARITY_PART.format(name=name, mean=row[f"csim_{model}"],
                                              found=row.get(f"face_rate_{model}") or 0.0))
    text = "\n\n".join([T.SIMILARITY_MEANS.format(model=model, parts="; ".join(parts)) if rows
                         else T.NO_FACE_IN_GENERATED, metrics_table(metrics)])
    if not rows:
        return None, text
    table = pd.DataFrame(rows, columns=[T.SIMILARITY_FRAME, T.SIMILARITY_VALUE, T.SIMILARITY_VIDEO])
    return table, text


def metrics_table(metrics: dict) -> str:
    """Report's metrics -> a Markdown table, one column per video (baseline first), one row per metric that was
    measured for some video (identity rows always), then the notes on what was not measured and why."""
    videos = dict(metrics.get("videos") or {})
    names = sorted(videos, key=lambda n: (n != "baseline", n))
    lines = [T.METRICS_HEADER.format(videos=" | ".join(names)), "|---" * (len(names) + 1) + "|"]
    for key, label, fmt in T.METRIC_ROWS:
        keys = [(key.format(model=m), label.format(model=m)) for m in metrics.get("face_models") or []] \
            if "{model}" in key else [(key, label)]
        for k, text in keys:
            values = [videos[name].get(k) for name in names]
            if all(v is None for v in values) and "{model}" not in key:
                continue
            cells = [T.METRICS_MISSING if v is None else fmt.format(v) for v in values]
            lines.append(f"| {text} | " + " | ".join(cells) + " |")
    notes = [T.METRICS_NOTE.format(text=note) for note in metrics.get("notes") or []]
    return "\n".join(lines) + ("\n\n" + "<br>".join(notes) if notes else "")
