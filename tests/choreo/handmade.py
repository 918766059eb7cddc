"""Hand-built analysed music for the choreographer's tests (no audio analysis: fast)."""

from __future__ import annotations

import numpy as np

from dancegen.music import MusicAnalysis

SR = 22050
FPS = 24.0


def hand_music(beats, duration: float, bpb: int = 4, rms=None, onset=None, downbeat_offset: int = 0,
               sections=()) -> MusicAnalysis:
    """A MusicAnalysis from a beat grid; rms(t) / onset(t) -> 0..1 envelopes (default: loud, no onsets)."""
    beats = np.asarray(beats, dtype=np.float64)
    frames = np.arange(0.0, duration, 512 / SR)
    env = np.full(frames.shape, 0.8) if rms is None else np.asarray(rms(frames), dtype=np.float64)
    ons = np.zeros(frames.shape) if onset is None else np.asarray(onset(frames), dtype=np.float64)
    index = (np.arange(beats.size) - downbeat_offset) % bpb
    return MusicAnalysis(
        path="", sr=SR, samples=np.zeros(int(duration * SR), np.float32), offset_s=0.0, duration_s=float(duration),
        tempo_bpm=60.0 / float(np.median(np.diff(beats))) if beats.size > 1 else 0.0, beats_s=beats,
        downbeats_s=beats[index == 0], beats_per_bar=bpb, beat_index_in_bar=index.astype(np.int64),
        frame_times_s=frames, onset_strength=ons.astype(np.float32), rms=env.astype(np.float32),
        local_tempo_bpm=np.zeros(frames.shape, np.float32), sections=tuple(sections))
