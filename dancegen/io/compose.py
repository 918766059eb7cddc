"""Side-by-side A/B clips: two videos next to each other under a label bar (the names of the two halves)."""

from __future__ import annotations

import contextlib
import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .video import VideoError, check_clip

_LABEL_BG = (24, 24, 24)  # label bar and gap colour (RGB)
_LABEL_FG = (245, 245, 245)  # label text colour (RGB)
# TrueType fonts looked up by file name in the system font folders (Pillow searches them), in order.
_SYSTEM_FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf", "arial.ttf", "Helvetica.ttc")


def _font_file() -> str | None:
    """DejaVu Sans from matplotlib when installed, else the first system TrueType font found, else None."""
    spec = importlib.util.find_spec("matplotlib")  # locates the package without importing it
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if bundled.is_file():
            return str(bundled)
    for name in _SYSTEM_FONTS:
        with contextlib.suppress(OSError):
            return ImageFont.truetype(name, 12).path  # Pillow resolves the name in the system font folders
    return None


def _font(file: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # without a TrueType file: Pillow's built-in font (scalable when Pillow has FreeType)
    return ImageFont.truetype(file, size) if file else ImageFont.load_default(size)


def _fit_text(draw: ImageDraw.ImageDraw, text: str, font, max_w: int) -> str:
    """``text``, shortened with an ellipsis until it is at most ``max_w`` pixels wide."""
    if draw.textlength(text, font=font) <= max_w:
        return text
    while text and draw.textlength(text + "\u2026", font=font) > max_w:
        text = text[:-1]
    return text.rstrip() + "\u2026"


def _label_bar(labels: tuple[str, str], left_w: int, right_w: int, gap: int, frame_h: int) -> np.ndarray:
    """Draw the [bar_h, left_w + gap + right_w, 3] uint8 label bar: each label centred above its half."""
    size = int(np.clip(round(frame_h * 0.045), 12, 40))
    pad = max(3, size // 3)
    widths = (left_w, right_w)
    # One font size for both labels: shrink until both fit their halves (down to 8 px), then shorten the text.
    file = _font_file()
    font = _font(file, size)
    probe_draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    while size > 8 and any(probe_draw.textlength(t, font=font) > w - 2 * pad for t, w in zip(labels, widths)):
        size -= 1
        font = _font(file, size)
    labels = tuple(_fit_text(probe_draw, t, font, w - 2 * pad) for t, w in zip(labels, widths))
    top, bottom = probe_draw.textbbox((0, 0), "Ag(|", font=font)[1::2]
    bar_h = (bottom - top) + 2 * pad
    bar = Image.new("RGB", (left_w + gap + right_w, bar_h), _LABEL_BG)
    for text, x0, w in zip(labels, (0, left_w + gap), widths):
        half = Image.new("RGB", (w, bar_h), _LABEL_BG)  # drawn per half so a long label never spills over
        draw = ImageDraw.Draw(half)
        text_l, _, text_r, _ = draw.textbbox((0, 0), text, font=font)
        draw.text((max(pad, (w - (text_r - text_l)) // 2) - text_l, pad - top), text, fill=_LABEL_FG, font=font)
        bar.paste(half, (x0, 0))
    return np.asarray(bar)


def _check_labels(labels) -> tuple[str, str]:
    if not isinstance(labels, (tuple, list)) or len(labels) != 2 or not all(isinstance(t, str) for t in labels):
        raise VideoError(f"labels must be two strings (left, right), got {labels!r}")
    return labels[0], labels[1]


def _resized_width(left_h: int, right_h: int, right_w: int) -> int:
    return right_w if right_h == left_h else max(1, round(right_w * left_h / right_h))


def _resize(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    if frame.shape[:2] == (height, width):
        return frame
    return np.asarray(Image.fromarray(frame).resize((width, height), Image.Resampling.BICUBIC))


class SideBySide:
    """Two clips next to each other under a label bar, chunk by chunk (the bar is drawn once).

    left_hw, right_hw: (height, width) of the two clips; the right one is resized to the left's height (aspect
    kept) when they differ. Calling it with chunks [n, H, W, 3] of both gives [n, bar_h + H, W_l + gap + W_r, 3]."""

    def __init__(self, left_hw: tuple[int, int], right_hw: tuple[int, int], labels: tuple[str, str], gap: int = 8):
        labels = _check_labels(labels)
        if isinstance(gap, bool) or not isinstance(gap, (int, np.integer)) or gap < 0:
            raise VideoError(f"gap must be a whole number of pixels >= 0, got {gap!r}")
        self.h, self.lw = (int(v) for v in left_hw)
        self.rw = _resized_width(self.h, int(right_hw[0]), int(right_hw[1]))
        self.gap = int(gap)
        self.bar = _label_bar(labels, self.lw, self.rw, self.gap, self.h)  # [bar_h, lw + gap + rw, 3]

    def __call__(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        left, right = check_clip(left, "left clip"), check_clip(right, "right clip")
        if len(left) != len(right):
            raise VideoError(f"the clips need the same number of frames, got {len(left)} (left) and {len(right)} "
                             "(right)")
        if left.shape[1:3] != (self.h, self.lw):
            raise VideoError(f"the left clip is {left.shape[2]}x{left.shape[1]}, not {self.lw}x{self.h}")
        bar_h, lw, gap = self.bar.shape[0], self.lw, self.gap
        out = np.empty((len(left), bar_h + self.h, lw + gap + self.rw, 3), np.uint8)
        out[:, :bar_h] = self.bar
        out[:, bar_h:, lw:lw + gap] = _LABEL_BG
        out[:, bar_h:, :lw] = left
        for i in range(len(left)):
            out[i, bar_h:, lw + gap:] = _resize(right[i], self.h, self.rw)
        return out


def side_by_side(left, right, labels: tuple[str, str], gap: int = 8) -> np.ndarray:
    """Put two whole clips [T, H, W, 3] next to each other under a label bar (see :class:`SideBySide`)."""
    left, right = check_clip(left, "left clip"), check_clip(right, "right clip")
    return SideBySide(left.shape[1:3], right.shape[1:3], labels, gap)(left, right)
