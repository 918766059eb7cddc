"""Make assets/sample_music.wav: a 30 s demo groove (116 BPM, 4/4) synthesised from scratch.

    python assets/make_sample_music.py [--out assets/sample_music.wav]

Deterministic (fixed seed, no external samples): the same bytes on every run. Arrangement, 14 bars:
bar 0 an intro (pad, hats, bass), bars 1-12 the groove (kick / snare / hats, bass line, pad chords
Am - F - C - G, a plucked arpeggio with a stereo echo), bar 13 a final chord that rings out. Stereo,
22.05 kHz, 16-bit PCM (about 2.6 MB). Beat k is at k * 60 / 116 s from the start; bars start every 4 beats.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SR = 22050  # output sample rate (Hz)
BPM = 116.0  # tempo
BEAT = 60.0 / BPM  # seconds per beat
BARS = 14  # intro + 12 groove bars + ending
SECONDS = 30.0  # output length (s)
SEED = 7  # noise generator seed (drums)

# one chord per bar, MIDI notes: Am, F, C, G; bass roots an octave or two below
CHORDS = ((57, 60, 64), (53, 57, 60), (48, 52, 55), (55, 59, 62))
ROOTS = (45, 41, 48, 43)
# arpeggio pattern: chord-tone index per eighth note (3 = the root an octave up)
ARP = (0, 1, 2, 3, 2, 1, 2, 3)


def hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def t_axis(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * SR)) / SR


def kick() -> np.ndarray:
    t = t_axis(0.4)
    freq = 48.0 + 90.0 * np.exp(-t / 0.025)
    body = np.sin(2 * np.pi * np.cumsum(freq) / SR) * np.exp(-t / 0.16)
    click = np.sin(2 * np.pi * 1800.0 * t) * np.exp(-t / 0.003)
    return np.tanh(1.5 * body) + 0.2 * click


def snare(rng: np.random.Generator) -> np.ndarray:
    t = t_axis(0.25)
    noise = rng.standard_normal(len(t))
    noise = noise - 0.6 * np.concatenate([[0.0], noise[:-1]])  # gentle high-pass
    tone = np.sin(2 * np.pi * 185.0 * t) + 0.5 * np.sin(2 * np.pi * 330.0 * t)
    return 0.55 * noise * np.exp(-t / 0.07) + 0.45 * tone * np.exp(-t / 0.04)


def hat(rng: np.random.Generator, length: float) -> np.ndarray:
    t = t_axis(length)
    noise = rng.standard_normal(len(t))
    for _ in range(2):  # strong high-pass
        noise = noise - np.concatenate([[0.0], noise[:-1]])
    return 0.25 * noise * np.exp(-t / (length / 5))


def pluck(note: float, seconds: float, brightness: float = 6) -> np.ndarray:
    """A plucked string-like note: harmonics that decay faster the higher they are."""
    t = t_axis(seconds)
    f0 = hz(note)
    out = np.zeros_like(t)
    for k in range(1, int(brightness) + 1):
        if f0 * k < SR / 2:
            out += np.sin(2 * np.pi * f0 * k * t) * np.exp(-t * (3.0 + 2.5 * k)) / k
    return out * np.minimum(1.0, t / 0.003)


def pad(notes: tuple[int, ...], seconds: float, detune_cents: float) -> np.ndarray:
    """A soft sustained chord: a few harmonics per note, slow attack and release."""
    t = t_axis(seconds)
    out = np.zeros_like(t)
    for note in notes:
        f0 = hz(note) * 2.0 ** (detune_cents / 1200.0)
        for k in range(1, 6):
            out += np.sin(2 * np.pi * f0 * k * t + 0.7 * k) / k**1.7
    attack, release = 0.12, 0.25
    env = np.minimum(1.0, t / attack) * np.clip((seconds - t) / release, 0.0, 1.0)
    return out * env / len(notes)


def bass_note(note: float, seconds: float) -> np.ndarray:
    t = t_axis(seconds)
    f0 = hz(note)
    wave = np.sin(2 * np.pi * f0 * t) + 0.35 * np.sin(2 * np.pi * 2 * f0 * t) + 0.12 * np.sin(2 * np.pi * 3 * f0 * t)
    env = np.minimum(1.0, t / 0.004) * np.exp(-t / 0.35) * np.clip((seconds - t) / 0.02, 0.0, 1.0)
    return np.tanh(1.3 * wave) * env


class Stereo:
    def __init__(self, seconds: float):
        self.buf = np.zeros((2, int(seconds * SR)))  # [2 channels, n]

    def add(self, t: float, sound: np.ndarray, gain: float, pan: float = 0.0) -> None:
        """Add ``sound`` at time ``t`` (s); pan -1 (left) .. 1 (right), constant power."""
        start = int(round(t * SR))
        end = min(self.buf.shape[1], start + len(sound))
        if start >= end:
            return
        angle = (pan + 1.0) * np.pi / 4
        self.buf[0, start:end] += gain * np.cos(angle) * sound[: end - start]
        self.buf[1, start:end] += gain * np.sin(angle) * sound[: end - start]


def render() -> np.ndarray:
    """The whole track as [n, 2] float32 in -1..1."""
    rng = np.random.default_rng(SEED)
    mix = Stereo(SECONDS)
    for bar in range(BARS):
        t0 = bar * 4 * BEAT
        chord, root = CHORDS[bar % 4], ROOTS[bar % 4]
        last = bar == BARS - 1
        if last:  # ending: one hit and a ringing chord
            mix.add(t0, kick(), 0.9)
            mix.add(t0, hat(rng, 1.2), 0.35, 0.2)
            mix.add(t0, bass_note(root - 12, 1.6), 0.55)
            mix.add(t0, pad(chord + (chord[0] + 12,), SECONDS - t0, -6), 0.3, -0.5)
            mix.add(t0, pad(chord + (chord[0] + 12,), SECONDS - t0, 6), 0.3, 0.5)
            mix.add(t0, pluck(chord[0] + 24, 1.5), 0.25, -0.3)
            continue
        # pad chord, slightly detuned left / right for width
        mix.add(t0, pad(chord, 4 * BEAT, -5), 0.22, -0.6)
        mix.add(t0, pad(chord, 4 * BEAT, 5), 0.22, 0.6)
        for eighth in range(8):
            t = t0 + eighth * BEAT / 2
            beat, off = divmod(eighth, 2)
            # hats: closed on eighths, open on the "and" of 4
            if eighth == 7 and bar > 0:
                mix.add(t, hat(rng, 0.22), 0.2, 0.35)
            else:
                mix.add(t, hat(rng, 0.05), 0.22 if off == 0 else 0.14, 0.35)
            # bass: root on the beat, octave jumps on some off-beats
            if bar > 0 or beat >= 2:
                note = root + (12 if eighth in (3, 6) else 0)
                mix.add(t, bass_note(note - 12, BEAT / 2 * 0.9), 0.5 if off == 0 else 0.35)
            if bar == 0:
                continue
            # drums
            if eighth in (0, 4) or (eighth == 5 and bar % 2 == 1):
                mix.add(t, kick(), 0.95 if eighth == 0 else 0.8)
            if eighth in (2, 6):
                mix.add(t, snare(rng), 0.55, -0.1)
            # plucked arpeggio with a dotted-eighth echo on the other side
            tones = chord + (chord[0] + 12,)
            note = tones[ARP[eighth]] + 12
            mix.add(t, pluck(note, 0.6), 0.2, -0.45)
            mix.add(t + 0.75 * BEAT, pluck(note, 0.6), 0.09, 0.55)
        if bar % 4 == 1:  # crash at the start of each 4-bar phrase
            mix.add(t0, hat(rng, 1.5), 0.3, 0.2)
    out = mix.buf
    fade = np.clip((SECONDS - t_axis(SECONDS)) / 1.0, 0.0, 1.0)  # 1 s fade-out at the very end
    out = np.tanh(1.2 * out) * fade[None, :]
    out *= 0.89 / np.abs(out).max()  # peak at -1 dBFS
    return out.T.astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).with_name("sample_music.wav")), help="output WAV path")
    args = parser.parse_args(argv)
    import soundfile as sf

    audio = render()
    sf.write(args.out, audio, SR, subtype="PCM_16")
    print(f"wrote {args.out}: {len(audio) / SR:.1f} s, {BPM:g} BPM, stereo {SR} Hz 16-bit")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
