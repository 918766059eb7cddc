"""The counts a dance is danced on, from the analysed music: beats (gaps filled, extended past both ends), counts
(a beat, or two beats above ``half_time_above_bpm`` in duple meter), bar starts, and loudness and onsets at them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..music import MusicAnalysis


@dataclass(frozen=True, eq=False)
class CountGrid:
    times: np.ndarray  # [C] count times (s), increasing, past the end of the dance
    downbeat: np.ndarray  # [C] bool: the count starts a bar
    meter: int  # counts per bar (3, 4, or 2 when a count is two beats of 4/4)
    beats: np.ndarray  # [B] every beat time (s)

    def index(self, t: float) -> int:
        """The count nearest to time t."""
        return int(np.argmin(np.abs(self.times - t)))


def beat_grid(music: MusicAnalysis, t_end: float, default_bpm: float = 100.0) -> tuple[np.ndarray, np.ndarray, int]:
    """Analysed beats extended over gaps and to cover [0, t_end + 2 s]: (times [B], bar position [B], beats per
    bar)."""
    beats = np.asarray(music.beats_s, dtype=np.float64).reshape(-1)
    pos_in = np.asarray(music.beat_index_in_bar, dtype=np.int64).reshape(-1)
    bpb = int(music.beats_per_bar or 4)
    bpb = bpb if 2 <= bpb <= 12 else 4
    keep = np.isfinite(beats)
    beats, pos_in = beats[keep], (pos_in[keep] if pos_in.shape == keep.shape else np.zeros(keep.sum(), np.int64))
    order = np.argsort(beats, kind="stable")
    beats, pos_in = beats[order], pos_in[order]
    if beats.size:
        ok = np.concatenate([[True], np.diff(beats) > 0.15])  # drop near-duplicates
        beats, pos_in = beats[ok], pos_in[ok]
    horizon = t_end + 2.0
    if beats.size < 2:
        tempo = float(music.tempo_bpm or 0.0)
        period = 60.0 / (tempo if 40.0 <= tempo <= 240.0 else default_bpm)
        start = beats[0] if beats.size else period
        times = start + period * np.arange(0, int((horizon - start) / period) + 3)
        before = times[0] - period * np.arange(int(times[0] / period), 0, -1)
        times = np.concatenate([before, times])
        return times, (np.arange(times.size) - before.size) % bpb, bpb
    times, pos = [beats[0]], [int(pos_in[0]) % bpb]
    for i in range(1, beats.size):
        gap = beats[i] - beats[i - 1]
        local = np.median(np.diff(beats[max(0, i - 4): i + 4]))
        n_fill = int(round(gap / local)) - 1 if gap > 1.6 * local else 0
        for k in range(1, n_fill + 1):
            times.append(beats[i - 1] + gap * k / (n_fill + 1))
            pos.append((pos[-1] + 1) % bpb)
        times.append(beats[i])
        pos.append(int(pos_in[i]) % bpb)
    times_a, pos_a = np.array(times), np.array(pos)
    p_first = float(np.median(np.diff(times_a[:5])))
    p_last = float(np.median(np.diff(times_a[-5:])))
    n_before = int((times_a[0] - 0.05) // p_first) if times_a[0] > 0.05 + p_first else 0
    before = times_a[0] - p_first * np.arange(n_before, 0, -1)
    n_after = max(0, int(math.ceil((horizon - times_a[-1]) / p_last)) + 1)
    after = times_a[-1] + p_last * np.arange(1, n_after + 1)
    pos_b = (pos_a[0] - np.arange(n_before, 0, -1)) % bpb
    pos_c = (pos_a[-1] + np.arange(1, n_after + 1)) % bpb
    return (np.concatenate([before, times_a, after]), np.concatenate([pos_b, pos_a, pos_c]).astype(np.int64), bpb)


def count_grid(music: MusicAnalysis, t_end: float, half_time_above_bpm: float = 140.0,
               default_bpm: float = 100.0) -> CountGrid:
    """The counts of a dance of ``t_end`` seconds (see the module docstring)."""
    beats, pos, bpb = beat_grid(music, t_end, default_bpm)
    analysed = np.asarray(music.beats_s, dtype=np.float64).reshape(-1)  # not the extension: t_end must not matter
    analysed = analysed[np.isfinite(analysed)]
    period = float(np.median(np.diff(np.sort(analysed)))) if analysed.size > 2 else float(beats[1] - beats[0])
    if bpb % 2 == 0 and 60.0 / period > half_time_above_bpm:
        sel = pos % 2 == 0
        return CountGrid(beats[sel], pos[sel] == 0, bpb // 2, beats)
    return CountGrid(beats, pos == 0, bpb, beats)


def mean_rms(music: MusicAnalysis, t0: float, t1: float) -> float:
    """Mean RMS (0..1) over [t0, t1); 0.7 when the music has no envelope."""
    ft = np.asarray(music.frame_times_s, dtype=np.float64).reshape(-1)
    rms = np.asarray(music.rms, dtype=np.float64).reshape(-1)
    if ft.size < 2 or rms.size != ft.size or not np.isfinite(rms).all():
        return 0.7
    sel = (ft >= t0) & (ft < t1)
    if not sel.any():
        sel = np.zeros(ft.size, bool)
        sel[min(int(np.searchsorted(ft, t0)), ft.size - 1)] = True
    return float(rms[sel].mean())


def song_rms_reference(music: MusicAnalysis) -> float:
    """The loud level of a song: 90th percentile of its RMS envelope smoothed over ~2 s."""
    rms = np.asarray(music.rms, dtype=np.float64).reshape(-1)
    if rms.size < 2 or not np.isfinite(rms).all():
        return 0.7
    k = max(1, min(rms.size, 86))
    smooth = np.convolve(rms, np.ones(k) / k, mode="same")
    return max(float(np.percentile(smooth, 90)), 1e-6)


def onsets_at(music: MusicAnalysis, times: np.ndarray) -> np.ndarray:
    """Onset strength (0..1) at each time [C]: the max within +-2 envelope frames."""
    ft = np.asarray(music.frame_times_s, dtype=np.float64).reshape(-1)
    env = np.asarray(music.onset_strength, dtype=np.float64).reshape(-1)
    if ft.size < 2 or env.size != ft.size:
        return np.zeros(len(times))
    i = np.clip(np.searchsorted(ft, times), 0, ft.size - 1)
    idx = np.clip(i[:, None] + np.arange(-2, 3)[None], 0, ft.size - 1)
    return np.nan_to_num(env[idx].max(axis=1))
