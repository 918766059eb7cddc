"""Small clips and tones with known content, and decoding a file's audio, for the video tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np

FPS = 8
T, H, W = 20, 48, 64
SR = 22050
LABELS = ("baseline (alpha 0)", "identity (alpha 1.0, 4 tokens)")


def moving_squares(t: int = T, h: int = H, w: int = W) -> np.ndarray:
    """[t, h, w, 3] uint8: a red square moving right and a blue one moving down on a grey background."""
    frames = np.full((t, h, w, 3), 60, np.uint8)
    for i in range(t):
        frames[i, 8:24, 2 * i:2 * i + 16] = (220, 40, 30)
        frames[i, i:i + 12, w - 20:w - 8] = (30, 60, 220)
    return frames


def tone(seconds: float, sr: int = SR, freq: float = 440.0) -> np.ndarray:
    """[n] float32 sine at 0.5 amplitude."""
    n = int(round(seconds * sr))
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(n) / sr)).astype(np.float32)


def decoded_audio(path: Path, sr: int = SR) -> np.ndarray:
    """The file's audio decoded to mono float32 at ``sr`` by ffmpeg."""
    proc = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1",
         "-ar", str(sr), "-f", "f32le", "pipe:1"],
        capture_output=True, check=True,
    )
    return np.frombuffer(proc.stdout, np.float32)


def moov_before_mdat(path: Path) -> bool:
    """True when the mp4's index ('moov' box) comes before its media data ('mdat'): a browser can start playing
    while the file downloads. Walks the top-level ISO-BMFF boxes (a test oracle independent of the writer)."""
    size_total = path.stat().st_size
    with path.open("rb") as fh:
        pos = 0
        while pos + 8 <= size_total:
            fh.seek(pos)
            header = fh.read(16)
            size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if size == 1 and len(header) == 16:  # 64-bit box size follows the type
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:  # box runs to the end of the file
                size = size_total - pos
            if kind == b"moov":
                return True
            if kind == b"mdat" or size < 8:
                return False
            pos += size
    return False
