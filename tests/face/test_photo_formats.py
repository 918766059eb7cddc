"""Photos as people take them, through the real face models: HEIC (with its own rotation), AVIF, an animated GIF, a
face that fills the frame, and a photo too big to detect on at full size (the face still comes from its pixels)."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings

import numpy as np
import pytest
from PIL import Image
from support.paths import REPO

from dancegen.errors import PhotoError
from dancegen.face import FaceAnalyser
from dancegen.io.photo import read_photo
from dancegen.metrics.identity import cosine_similarity


def iou(a, b) -> float:
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def encoded(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    if fmt == "HEIF":  # written with pillow-heif's own API: only dancegen registers its reader with Pillow
        import pillow_heif

        pillow_heif.from_pillow(image).save(buf, **kw)
    else:
        image.save(buf, fmt, **kw)
    return buf.getvalue()


def test_importing_dancegen_registers_no_heif_reader():
    code = ("import dancegen.io.photo as p, dancegen.face; from PIL import Image; "
            "p.read_photo('assets/astronaut.png'); print('HEIF' in Image.OPEN)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr[-1000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


def astronaut_box_in(k: float = 1.0, dx: float = 0.0, dy: float = 0.0):
    """Where the astronaut's face (box of astro_ref) lands in a photo made of the astronaut scaled by k, shifted."""
    def box(ref):
        x1, y1, x2, y2 = ref.largest.bbox
        return (x1 * k + dx, y1 * k + dy, x2 * k + dx, y2 * k + dy)
    return box


def heic_turned(astronaut: Image.Image) -> tuple[bytes, tuple]:
    """A HEIC whose pixels are stored turned a quarter, with an EXIF orientation of 6 (pillow-heif writes it as
    HEIF's own rotation, which libheif undoes when reading): upright, it is the 3:4 portrait crop of the astronaut."""
    upright = astronaut.crop((34, 0, 418, 512))
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    return encoded(stored, "HEIF", quality=90, exif=exif.tobytes()), (384, 512)


def animated_gif(astronaut: Image.Image) -> bytes:
    frames = [astronaut, Image.new("RGB", astronaut.size, (30, 30, 200))]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


@pytest.mark.parametrize("kind", ["heic", "avif", "gif"])
def test_phone_and_web_formats_give_the_right_face(analyser, astronaut, astro_ref, kind):
    if kind == "heic":
        data, size = heic_turned(astronaut)
        expected = astronaut_box_in(dx=-34)(astro_ref)
    elif kind == "avif":
        data, size, expected = encoded(astronaut, "AVIF", quality=90), (512, 512), astro_ref.largest.bbox
    else:
        data, size, expected = animated_gif(astronaut), (512, 512), astro_ref.largest.bbox
    photo = read_photo(data)
    assert photo.image.size == size and photo.image.mode == "RGB"
    result = analyser.analyse(data)
    assert result.image_size == size and result.num_faces == 1
    assert iou(result.largest.bbox, expected) > 0.85
    assert cosine_similarity(result.embedding, astro_ref.embedding) > 0.6
    if kind == "gif":  # (said by the decoder: the face results are cached by pixels, whatever file they came in)
        assert "the image is animated, with 2 pictures; the first is used" in photo.notes
    if kind == "heic":  # stored turned: unless the rotation is applied the photo is 512 x 384
        assert read_photo(encoded(astronaut.crop((34, 0, 418, 512)).transpose(Image.Transpose.ROTATE_90),
                                  "HEIF", quality=90)).image.size == (512, 384)


def test_a_damaged_heic_is_one_clear_line(astronaut):
    data, _ = heic_turned(astronaut)
    with pytest.raises(PhotoError) as info:
        read_photo(data[: len(data) // 3])
    assert "corrupt or truncated" in str(info.value) and "\n" not in str(info.value)


def face_filling_the_frame(astronaut: Image.Image, bbox) -> tuple[Image.Image, tuple[float, float, int]]:
    """The astronaut's face box shrunk by 8 px on every side (so the face runs past all four borders), scaled x3.3.
    -> (photo, (left, top, scale)) to map the astronaut's coordinates into it."""
    x1, y1, x2, y2 = (int(v) for v in bbox)
    box = (x1 + 8, y1 + 8, x2 - 8, y2 - 8)
    k = 3.3
    photo = astronaut.crop(box).resize((round((box[2] - box[0]) * k), round((box[3] - box[1]) * k)),
                                       Image.Resampling.LANCZOS)
    return photo, (box[0], box[1], k)


def test_a_face_that_fills_the_frame_is_found_on_an_extended_copy(analyser, astronaut, astro_ref):
    photo, (left, top, k) = face_filling_the_frame(astronaut, astro_ref.largest.bbox)
    result = analyser.analyse(photo)
    assert any("fills the photo" in n for n in result.notes)
    box = result.largest.bbox  # in the photo's own pixels, reaching past its borders where the face does
    x1, y1, x2, y2 = ((v - o) * k for v, o in zip(astro_ref.largest.bbox, (left, top, left, top)))
    assert box[0] < 8 * k and box[2] > photo.width - 8 * k and box[3] > photo.height - 8 * k
    assert iou(box, (x1, y1, x2, y2)) > 0.6  # the detector's box is tighter on a face it sees this close
    for (px, py), (ax, ay) in zip(result.largest.landmarks, astro_ref.largest.landmarks):  # eyes, nose, mouth
        assert abs(px - (ax - left) * k) < 0.05 * photo.width and abs(py - (ay - top) * k) < 0.05 * photo.width
    assert cosine_similarity(result.embedding, astro_ref.embedding) > 0.5
    no_retry = FaceAnalyser(border_pad=0.0)
    with pytest.raises(PhotoError, match="no face"):  # NoFaceError: the extension is what finds it
        no_retry.analyse(photo)


def test_a_big_photo_is_embedded_from_its_own_pixels(analyser, astronaut, astro_ref):
    """Past max_detect_side the faces are found on a smaller copy, but the aligned crop (and so the embedding)
    is warped from the original pixels, as insightface's FaceAnalysis does: fine detail (here, noise) survives."""
    from insightface.utils.face_align import norm_crop

    rng = np.random.default_rng(0)
    big = np.asarray(astronaut.resize((2200, 2200), Image.Resampling.LANCZOS)).astype(np.int16)
    big = np.clip(big + rng.integers(-40, 41, big.shape, dtype=np.int16), 0, 255).astype(np.uint8)
    result = analyser.analyse(big)
    assert any("2048x2048 copy" in n and "original" in n for n in result.notes)
    landmarks = np.array(result.largest.landmarks)
    copy = np.asarray(Image.fromarray(big).resize((2048, 2048), Image.Resampling.LANCZOS, reducing_gap=3.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        original = norm_crop(big, landmark=landmarks, image_size=112).astype(int)
        from_copy = norm_crop(copy, landmark=landmarks * 2048 / 2200, image_size=112).astype(int)
    crop = result.crop.astype(int)
    assert np.abs(crop - original).max() <= 1 and (crop != original).mean() < 0.01
    assert np.abs(crop - from_copy).mean() > 3  # what the downscaled copy would have given
    assert cosine_similarity(result.embedding, astro_ref.embedding) > 0.6
