"""Photo decoding without the face models: refusals and conversions."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, features

from dancegen.io.photo import load_photo, read_photo


def png_bytes(image: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", **kw)
    return buf.getvalue()


def _animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (96, 96), c) for c in ((200, 30, 30), (30, 30, 200))]
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["WEBP", "PNG", "GIF"])
def test_an_animated_image_gives_its_first_frame_with_a_note(fmt):
    if fmt == "WEBP" and not features.check("webp"):
        pytest.skip("Pillow built without WebP")
    data = _animated(fmt)
    with Image.open(io.BytesIO(data)) as im:
        assert im.n_frames == 2
    photo = read_photo(data)
    assert photo.image.size == (96, 96) and photo.image.mode == "RGB"
    assert np.abs(np.asarray(photo.image, dtype=int) - (200, 30, 30)).max() <= 8  # the red frame, not the blue one
    assert "the image is animated, with 2 pictures; the first is used" in photo.notes


def test_conversion_notes_and_white_background(astronaut):
    rgba = astronaut.convert("RGBA")
    alpha = np.full((512, 512), 255, np.uint8)
    alpha[:, :60] = 0
    rgba.putalpha(Image.fromarray(alpha))
    image = load_photo(png_bytes(rgba))
    assert np.all(np.asarray(image)[:, :60] == 255)  # composited on white
    assert np.array_equal(np.asarray(image)[:, 60:], np.asarray(astronaut)[:, 60:])
    sixteen = np.asarray(astronaut.convert("L")).astype(np.uint16) * 257
    assert np.array_equal(np.asarray(load_photo(sixteen))[:, :, 0], np.asarray(astronaut.convert("L")))
