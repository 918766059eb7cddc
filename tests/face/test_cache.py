"""The face cache on its own (no models): a repeated file is answered before it is decoded, the same pixels in
another container hit too, a photo without a face is remembered, and size 0 keeps nothing."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dancegen.errors import NoFaceError, PhotoError
from dancegen.face.cache import FaceCache


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def pixels() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (80, 96, 3), dtype=np.uint8)  # [H, W, 3]


class Counting:
    """An analysis that counts its calls and returns (pixel hash, photo size), or finds no face."""

    def __init__(self, face: bool = True):
        self.calls, self.face = 0, face

    def __call__(self, photo, key: str, decode_ms: float):
        self.calls += 1
        assert decode_ms >= 0
        if not self.face:
            raise NoFaceError("no face here")
        return key, photo.image.size


def test_a_repeated_file_is_answered_without_decoding_it_again(pixels):
    cache, analyse = FaceCache(4), Counting()
    data = png(pixels)
    first = cache.analyse(data, analyse, max_pixels=10**6, min_side=64)
    assert first[1] == (96, 80)
    # decoding under these limits would refuse the photo: only the file index can answer
    assert cache.analyse(data, analyse, max_pixels=10, min_side=64) == first
    assert analyse.calls == 1 and cache.info(0).hits == 1 and cache.info(0).misses == 1
    with pytest.raises(PhotoError):  # other bytes of the same size are decoded, and refused
        cache.analyse(png(pixels[::-1].copy()), analyse, max_pixels=10, min_side=64)


def test_the_same_pixels_in_another_container_hit_and_no_face_is_remembered(pixels):
    cache, analyse = FaceCache(4), Counting()
    key = cache.analyse(png(pixels), analyse, 10**6, 64)[0]
    assert cache.analyse(Image.fromarray(pixels), analyse, 10**6, 64)[0] == key and analyse.calls == 1
    blank, none = FaceCache(4), Counting(face=False)
    for _ in range(2):
        with pytest.raises(NoFaceError, match="no face here"):
            blank.analyse(pixels, none, 10**6, 64)
    assert none.calls == 1
    blank.clear()
    with pytest.raises(NoFaceError):
        blank.analyse(pixels, none, 10**6, 64)
    assert none.calls == 2 and blank.info(7) == (1, 2, 7, 1, 4)


def test_size_zero_keeps_nothing(pixels):
    cache, analyse = FaceCache(0), Counting()
    data = png(pixels)
    cache.analyse(data, analyse, 10**6, 64)
    cache.analyse(data, analyse, 10**6, 64)
    assert analyse.calls == 2 and cache.info(0).size == 0
