"""The face-crop preview: the photo with every face boxed (the one used in green, labelled) and the aligned crop."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .models import CROP_SIZE

_GREEN = (40, 200, 70)
_ORANGE = (255, 160, 0)
_PANEL = (32, 32, 36)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: fixed bitmap font
        return ImageFont.load_default()


def _label(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, fill, font) -> None:
    left, top, right, bottom = draw.textbbox(xy, text, font=font)
    draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=(0, 0, 0))
    draw.text(xy, text, fill=fill, font=font)


def draw_preview(image: Image.Image, faces: Sequence, crop: np.ndarray, max_side: int,
                 origin: tuple[float, float] = (0.0, 0.0)) -> Image.Image:
    """The photo (at most max_side px) with all boxes of ``faces`` (DetectedFace, the used one first) and the aligned
    crop [112, 112, 3] uint8 RGB beside it. ``image`` may be a part of the photo whose top-left is the photo's pixel
    ``origin`` (the faces stay in the photo's pixels)."""
    scale = min(1.0, max_side / max(image.size))
    ox, oy = origin
    shown = image if scale == 1.0 else image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS
    )
    shown = shown.copy()
    draw = ImageDraw.Draw(shown)
    line = max(2, round(max(shown.size) / 300))
    font = _font(max(12, round(max(shown.size) / 45)))
    for face in reversed(faces):  # the used face last, so it is drawn on top
        box = [(v - o) * scale for v, o in zip(face.bbox, (ox, oy, ox, oy))]
        used = face is faces[0]
        draw.rectangle(box, outline=_GREEN if used else _ORANGE, width=line + (1 if used else 0))
        if used:
            r = max(1.5, line * 0.8)
            for x, y in face.landmarks:
                x, y = (x - ox) * scale, (y - oy) * scale
                draw.ellipse((x - r, y - r, x + r, y + r), fill=_GREEN)
    top = faces[0]
    x1, y1 = (top.bbox[0] - ox) * scale, (top.bbox[1] - oy) * scale
    text = f"used: largest face, score {top.score:.2f}"
    text_h = draw.textbbox((0, 0), text, font=font)[3]
    above = y1 - text_h - 6
    label_y = above if above > 2 else (top.bbox[3] - oy) * scale + 4  # below the box when there is no room above
    _label(draw, (max(2.0, x1), label_y), text, _GREEN, font)

    panel = max(CROP_SIZE, min(2 * CROP_SIZE, shown.height - 40))
    pad = 12
    canvas = Image.new("RGB", (shown.width + panel + 2 * pad, max(shown.height, panel + 40)), _PANEL)
    canvas.paste(shown, (0, 0))
    face_crop = Image.fromarray(np.ascontiguousarray(crop, dtype=np.uint8))
    face_crop = face_crop.resize((panel, panel), Image.Resampling.LANCZOS)
    canvas.paste(face_crop, (shown.width + pad, pad))
    caption_xy = (shown.width + pad, pad + panel + 6)
    ImageDraw.Draw(canvas).text(caption_xy, "aligned 112x112 crop", fill=(230, 230, 230), font=_font(12))
    return canvas
