"""Synthesised music with known beats, for tests (no audio files, no randomness beyond ``seed``).

Public API (kept stable; other test files import it)::

    synth_track(bpm, seconds, sr=22050, meter=4, style="clicks", seed=0, pickup=0)
        -> (samples, beat_times, downbeat_times)

    bpm        float, or a tempo map [(start_s, bpm), ...] sorted by start_s with the first start at 0.0:
               the tempo switches at the first beat on or after each start_s (e.g. [(0.0, 100), (15.0, 130)]).
    seconds    length of the returned audio in seconds.
    sr         sample rate of the returned audio.
    meter      beats per bar: 3 or 4.
    style      "clicks": a click on every beat (higher and louder on the downbeat) plus a bass note per bar;
               "drums":  kick / snare / eighth-note hi-hats with a syncopated kick, a bass line and a crash
                         cymbal on the first beat of every 4th bar;
               "chords": sustained chords that change every bar over a kick on every beat (accented on
                         the downbeat) and a quiet shaker on the off-beats.
    seed       seeds the small velocity / noise variations, so the same call returns the same samples.
    pickup     number of beats before the first downbeat (an anacrusis), 0 .. meter-1, so the first beat
               is not always a bar start.

    samples         np.ndarray [n] float32 mono waveform, peak 0.9, n = round(seconds * sr)
    beat_times      np.ndarray [B] float64 seconds of every beat in the track, increasing, first at 0.0
    downbeat_times  np.ndarray [D] float64 seconds of every bar start (a subset of beat_times)

``beat_grid(bpm, seconds)`` returns just the beat times [B] (float64 s) of a tempo or tempo map.
``write_wav(path, samples, sr)`` writes mono [n] or [n, channels] samples as 16-bit PCM WAV.

Example::

    samples, beats, downbeats = synth_track([(0.0, 100.0), (15.0, 130.0)], 30.0, style="drums", pickup=1)
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np

STYLES = ("clicks", "drums", "chords")

# Chord progression I - V - vi - IV in C major as MIDI note numbers (one chord per bar) and the bass root.
_CHORDS = ((60, 64, 67), (59, 62, 67), (57, 60, 64), (57, 60, 65))
_BASS = (36, 43, 45, 41)


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def _tempo_map(bpm: float | Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    if np.isscalar(bpm):
        segments = [(0.0, float(bpm))]
    else:
        segments = [(float(start), float(value)) for start, value in bpm]
    if not segments or segments[0][0] != 0.0:
        raise ValueError("a tempo map must start at 0.0 s")
    if any(b[0] <= a[0] for a, b in pairwise(segments)):
        raise ValueError("tempo map start times must increase")
    if any(not 20.0 <= value <= 400.0 for _, value in segments):
        raise ValueError("tempo must be within 20..400 BPM")
    return segments


def beat_grid(bpm: float | Sequence[tuple[float, float]], seconds: float) -> np.ndarray:
    """Beat times [B] in seconds (first at 0.0) for a constant tempo or a tempo map, up to ``seconds``."""
    segments = _tempo_map(bpm)
    beats = []
    t = 0.0
    while t < seconds - 1e-9:
        beats.append(t)
        current = [value for start, value in segments if start <= t + 1e-9][-1]
        t += 60.0 / current
    return np.asarray(beats, dtype=np.float64)


class _Mixer:
    """Adds short sounds into a mono buffer at given times."""

    def __init__(self, seconds: float, sr: int, rng: np.random.Generator):
        self.sr = sr
        self.rng = rng
        self.buf = np.zeros(int(round(seconds * sr)), dtype=np.float64)  # [n]

    def add(self, t: float, sound: np.ndarray, gain: float = 1.0) -> None:
        start = int(round(t * self.sr))
        if start >= len(self.buf) or start < 0:
            return
        end = min(len(self.buf), start + len(sound))
        self.buf[start:end] += gain * sound[: end - start]

    # -- instruments (each returns a mono sound [m] with peak about 1) --

    def _t(self, seconds: float) -> np.ndarray:
        return np.arange(int(seconds * self.sr)) / self.sr

    def click(self, freq: float) -> np.ndarray:
        t = self._t(0.04)
        return np.sin(2 * np.pi * freq * t) * np.exp(-t / 0.008)

    def kick(self) -> np.ndarray:
        t = self._t(0.35)
        freq = 45.0 + 85.0 * np.exp(-t / 0.03)  # pitch sweep 130 -> 45 Hz
        phase = 2 * np.pi * np.cumsum(freq) / self.sr
        beater = self.rng.standard_normal(len(t)) * np.exp(-t / 0.004)  # short broadband click
        return np.sin(phase) * np.exp(-t / 0.12) + 0.25 * beater

    def snare(self) -> np.ndarray:
        t = self._t(0.2)
        noise = self.rng.standard_normal(len(t))
        noise = np.diff(noise, prepend=0.0) * 0.5  # tilt towards high frequencies
        body = np.sin(2 * np.pi * 190.0 * t) * np.exp(-t / 0.03)
        return 0.6 * noise * np.exp(-t / 0.05) + 0.5 * body

    def hat(self, length: float = 0.06) -> np.ndarray:
        t = self._t(length)
        noise = self.rng.standard_normal(len(t))
        noise = np.diff(np.diff(noise, prepend=0.0), prepend=0.0) * 0.25  # strongly high-passed
        return noise * np.exp(-t / (length / 4))

    def tone(self, note: float, seconds: float, harmonics: int = 4, attack: float = 0.005,
             decay: float | None = None) -> np.ndarray:
        """A note with a few harmonics; exponential decay if ``decay`` else sustained with a release."""
        t = self._t(seconds)
        f0 = _midi_hz(note)
        wave = sum(np.sin(2 * np.pi * f0 * k * t) / k ** 1.5 for k in range(1, harmonics + 1) if f0 * k < self.sr / 2)
        env = np.minimum(1.0, t / attack)
        if decay is not None:
            env = env * np.exp(-t / decay)
        else:
            release = min(0.08, seconds / 4)
            env = env * np.clip((seconds - t) / release, 0.0, 1.0)
        return wave * env


def synth_track(
    bpm: float | Sequence[tuple[float, float]],
    seconds: float,
    sr: int = 22050,
    meter: int = 4,
    style: str = "clicks",
    seed: int = 0,
    pickup: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Music with known beats; see the module docstring for the arguments and the returned arrays."""
    if meter not in (3, 4):
        raise ValueError("meter must be 3 or 4")
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}")
    if not 0 <= pickup < meter:
        raise ValueError("pickup must be within 0 .. meter-1")
    rng = np.random.default_rng(seed)
    mix = _Mixer(seconds, sr, rng)
    beats = beat_grid(bpm, seconds)  # [B]
    # bar position of every beat: beat `pickup` is the first downbeat
    position = (np.arange(len(beats)) - pickup) % meter  # [B]
    bar = (np.arange(len(beats)) - pickup) // meter  # [B] (negative for the pick-up beats)
    # beat lengths (the last one repeats the previous spacing)
    spacing = np.diff(beats, append=beats[-1] + (beats[-1] - beats[-2] if len(beats) > 1 else 0.5))  # [B]

    def vel() -> float:  # small humanised velocity change
        return 1.0 + 0.08 * rng.standard_normal()

    for i, (t, pos, b, dt) in enumerate(zip(beats, position, bar, spacing)):
        chord = _CHORDS[b % len(_CHORDS)]
        root = _BASS[b % len(_BASS)]
        bar_len = dt * meter
        if style == "clicks":
            mix.add(t, mix.click(1600.0 if pos == 0 else 1000.0), (1.0 if pos == 0 else 0.55) * vel())
            if pos == 0:
                mix.add(t, mix.tone(root, min(bar_len, 2.0), harmonics=3, attack=0.004, decay=0.5), 0.5)
        elif style == "drums":
            # kick on the bar start and the middle of a 4/4 bar plus a syncopated kick on "and of 2";
            # waltz: kick on 1, snare on 2 and 3
            if pos == 0:
                mix.add(t, mix.kick(), 1.0 * vel())
                mix.add(t, mix.tone(root, bar_len * 0.45, harmonics=5, attack=0.004, decay=0.35), 0.45)
                if b % 4 == 0:
                    mix.add(t, mix.hat(0.8), 0.5)
            elif meter == 4 and pos == 2:
                mix.add(t, mix.kick(), 0.8 * vel())
                mix.add(t, mix.tone(root + 7, bar_len * 0.2, harmonics=5, attack=0.004, decay=0.25), 0.3)
            if meter == 4 and pos == 1:
                mix.add(t + dt / 2, mix.kick(), 0.55 * vel())
            if (meter == 4 and pos in (1, 3)) or (meter == 3 and pos in (1, 2)):
                mix.add(t, mix.snare(), (0.7 if meter == 4 else 0.45) * vel())
            mix.add(t, mix.hat(), 0.35 * vel())
            mix.add(t + dt / 2, mix.hat(), 0.2 * vel())
        else:  # chords
            mix.add(t, mix.kick(), (1.0 if pos == 0 else 0.6) * vel())
            mix.add(t + dt / 2, mix.hat(0.04), 0.06 * vel())
            if pos == 0 or i == 0:
                length = bar_len * (meter - pos) / meter
                for note in chord:
                    mix.add(t, mix.tone(note, length, harmonics=4, attack=0.03), 0.22)
                mix.add(t, mix.tone(root, length, harmonics=3, attack=0.01), 0.3)

    samples = mix.buf
    samples = 0.9 * samples / max(np.abs(samples).max(), 1e-9)
    downbeats = beats[position == 0]
    return samples.astype(np.float32), beats, downbeats


def write_wav(path, samples: np.ndarray, sr: int) -> None:
    """Write mono or [n, channels] float samples in -1..1 as 16-bit PCM WAV."""
    import soundfile as sf

    sf.write(str(path), np.asarray(samples, dtype=np.float32), sr, subtype="PCM_16")


def drums_wav(folder, name: str, bpm: float, seconds: float, seed: int, sr: int = 22050):
    """A drum track (:func:`synth_track`, style "drums") written as ``folder / name`` -> that path."""
    samples, _, _ = synth_track(bpm, seconds, sr=sr, style="drums", seed=seed)
    path = Path(folder) / name
    write_wav(path, samples, sr)
    return path
