"""The canvas's shape for a photo and the crop of the photo it shows: the aspect is kept, the head is never left
out, the photo is padded (blurred edges) only where it has no room."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dancegen.pose.layout import body_from_face
from dancegen.pose.reference import NEAR_SQUARE, crop_around, photo_shape


@pytest.mark.parametrize("size, shape", [
    ((3000, 4000), "portrait"), ((1080, 1920), "portrait"), ((2000, 3000), "portrait"),  # 3:4, 9:16, 2:3
    ((4000, 3000), "landscape"), ((1920, 1080), "landscape"),  # 4:3, 16:9
    ((1000, 1000), "square"), ((1080, 1350), "square"), ((1350, 1080), "square"),  # 1:1, 4:5, 5:4
])
def test_the_canvas_shape_follows_the_photo(size, shape):
    assert photo_shape(*size) == shape
    assert NEAR_SQUARE == 1.25  # the README documents this threshold


def crop_for(face_box, photo, canvas):
    seen = body_from_face(face_box, photo, photo, fit="clip")
    return crop_around(seen.keypoints, seen.head_height, photo, canvas)


def test_a_portrait_photo_is_cropped_to_the_canvas_aspect_around_the_person():
    photo, face = (3000, 4000), (1300, 800, 1900, 1550)  # a person right of the middle
    crop = crop_for(face, photo, (576, 1024))
    x1, y1, x2, y2 = crop.box
    assert (y1, y2) == (0, 4000) and abs((x2 - x1) - 4000 * 576 / 1024) <= 1  # all the height, 9:16
    assert 0 <= x1 and x2 <= 3000 and not crop.padded and crop.notices() == ()
    assert abs((x1 + x2) / 2 - 1600) < 1  # centred on the person's midline
    near_the_edge = crop_for((2300, 800, 2900, 1550), photo, (576, 1024))
    assert near_the_edge.box == (750, 0, 3000, 4000)  # as near the midline as the photo allows
    square = crop_for(face, photo, (512, 512))  # a size chosen against the photo's shape: still no stretching
    assert square.size == (3000, 3000) and square.box[1] <= 800 - 0.25 * 900  # room above the head kept


def test_a_photo_of_the_canvas_aspect_is_used_whole():
    crop = crop_for((180, 60, 272, 180), (512, 512), (128, 128))
    assert crop.box == (0, 0, 512, 512)
    image = Image.new("RGB", (512, 512), (10, 20, 30))
    assert crop.apply(image) is image


def test_a_face_that_fills_the_photo_is_padded_with_its_blurred_edges():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (400, 300, 3), dtype=np.uint8)
    pixels[:20, :150], pixels[:20, 150:] = (220, 40, 40), (40, 40, 220)  # top edge: red left, blue right
    photo = Image.fromarray(pixels)
    crop = crop_for((0, 20, 300, 420), (300, 400), (144, 256))  # a face box from the top edge past the bottom
    x1, y1, x2, y2 = crop.box
    # all the width and height of the photo, and room above the head: the 9:16 frame reaches above the photo
    assert (x1, x2, y2) == (0, 300, 400) and y1 < -100 and abs((y2 - y1) - 300 * 256 / 144) <= 1
    assert crop.padding == (0, -y1, 0, 0) and crop.padded
    assert crop.notices() == ("the photo has no room for a 144x256 frame around the person, so it was extended at "
                              "the top with a blurred copy of its edges",)
    out = np.asarray(crop.apply(photo)).astype(int)
    assert out.shape == (y2 - y1, 300, 3)
    assert np.array_equal(out[-y1:], pixels)  # the photo itself is not touched
    far = out[0]  # the row furthest from the photo: its edge's colours, blurred across the red-blue border
    assert np.abs(far[:100] - (220, 40, 40)).max() <= 10 and np.abs(far[200:] - (40, 40, 220)).max() <= 10
    assert np.abs(np.diff(far, axis=0)).max() < 40  # no hard step: blurred
    assert np.array_equal(crop.to_reference([10.0, 30.0, 110.0, 230.0]), [10.0, 30.0 - y1, 110.0, 230.0 - y1])
    with pytest.raises(ValueError, match="photo"):
        crop.apply(Image.new("RGB", (100, 100)))
