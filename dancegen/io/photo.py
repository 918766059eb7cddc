"""Photo input: a path, bytes, PIL image or numpy array -> an upright 8-bit RGB picture, or one clear refusal.

JPEG, PNG, WebP, GIF, BMP, TIFF and AVIF (Pillow's own readers) and HEIC / HEIF (pillow-heif, registered with Pillow
the first time such a file is decoded, not at import) are read. EXIF orientation is applied (libheif applies a HEIF
file's own rotation itself); transparency is composited on white; grayscale, CMYK, 16-bit and floating-point
pictures are converted (one conversion routine for images and arrays); of an animated GIF, WebP or PNG, or a HEIF
file holding several pictures, the first is used, with a note. Empty, damaged, non-image, SVG, too small and too
large inputs raise :class:`~dancegen.errors.PhotoError` with one line a person understands.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import PhotoError

DEFAULT_MAX_PIXELS = 80_000_000  # decompression-bomb guard (below Pillow's own 89.5 MP warning)
DEFAULT_MIN_SIDE = 64  # photos with a shorter side are refused
MAX_FILE_BYTES = 256 * 1024 * 1024  # files larger than this are refused before reading

PhotoSource = Union[str, os.PathLike, bytes, bytearray, memoryview, Image.Image, np.ndarray]


@dataclasses.dataclass(frozen=True)
class Photo:
    image: Image.Image  # upright RGB photo
    notes: tuple[str, ...]  # remarks about conversions that were made, for the person


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


def _is_iso_media(data: bytes) -> bool:
    """True when the bytes start with an ISO base media 'ftyp' box: HEIC / HEIF, AVIF (and MP4, MOV)."""
    return data[4:8] == b"ftyp"


def _has_image_signature(data: bytes) -> bool:
    """True when the bytes start like a JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC / HEIF or AVIF file."""
    return (
        data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*"))
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
        or (_is_iso_media(data) and data[8:12] in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1",
                                                  b"msf1", b"avif", b"avis"))
    )


def use_heif() -> None:
    """Let Pillow open HEIC / HEIF files (pillow-heif's opener); idempotent: registers it only while Pillow lacks it."""
    if "HEIF" not in Image.OPEN:
        import pillow_heif

        pillow_heif.register_heif_opener()


def _looks_like_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<svg") or (
        (head.startswith(b"<?xml") or head.startswith(b"<!doctype")) and b"<svg" in data[:8192].lower()
    )


def _read_path(path: Path) -> bytes:
    if not path.exists():
        raise PhotoError(f"photo not found: {path}")
    if path.is_dir():
        raise PhotoError(f"expected a photo file but got a folder: {path}")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PhotoError(
                f"the photo file is {size / 2**20:.0f} MB, more than the {MAX_FILE_BYTES // 2**20} MB limit"
            )
        return path.read_bytes()
    except OSError as exc:
        raise PhotoError(f"could not read the photo file {path}: {exc.strerror or exc}") from None


def _check_size(width: int, height: int, max_pixels: int, min_side: int) -> None:
    if width * height > max_pixels:
        raise PhotoError(
            f"the photo is too large ({width}x{height} px = {width * height / 1e6:.0f} megapixels, limit "
            f"{max_pixels / 1e6:.0f}); downscale it and try again"
        )
    if min(width, height) < min_side:
        raise PhotoError(
            f"the photo is too small ({width}x{height} px); use a photo at least {min_side} px on each side"
        )


def _to_8bit(arr: np.ndarray, sixteen_bit: bool = False) -> tuple[np.ndarray, str | None]:
    """Integer or float pixels -> (uint8 pixels of the same shape, a conversion note or None).

    Floats in [0, 1] are scaled by 255 (larger floats are taken as 0..255); integers above 255 (or any value when
    ``sixteen_bit``) are read as 16-bit and divided by 257; everything is clipped and rounded."""
    if arr.dtype == np.uint8:
        return arr, None
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255, None
    if np.issubdtype(arr.dtype, np.floating):
        values = arr.astype(np.float64)
        if not np.all(np.isfinite(values)):
            raise PhotoError("the photo holds invalid (NaN or infinite) pixel values")
        scale = 255.0 if values.max(initial=0.0) <= 1.0 else 1.0
        return np.clip(values * scale, 0, 255).round().astype(np.uint8), "floating-point image converted to 8-bit"
    if np.issubdtype(arr.dtype, np.integer):
        wide = arr.astype(np.int64)
        if sixteen_bit or wide.max(initial=0) > 255:
            return (np.clip(wide, 0, 65535) / 257.0).round().astype(np.uint8), "16-bit image converted to 8-bit"
        return np.clip(wide, 0, 255).astype(np.uint8), None
    raise PhotoError(f"unsupported photo array dtype {arr.dtype}")


def to_rgb(im: Image.Image) -> tuple[Image.Image, list[str]]:
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
        arr8, note = _to_8bit(np.asarray(im), sixteen_bit=mode.startswith("I;16"))
        notes += [note] if note else []
        notes.append("grayscale photo")
        return Image.fromarray(arr8).convert("RGB"), notes  # arr8: uint8 [H, W] -> mode L
    if mode == "CMYK":
        notes.append("converted from CMYK to RGB")
    elif mode in ("L", "1"):
        notes.append("grayscale photo")
    try:
        return im.convert("RGB"), notes
    except (ValueError, OSError):
        raise PhotoError(f"unsupported colour mode '{mode}'; save the photo as an ordinary RGB JPEG or PNG") from None


def array_to_image(arr: np.ndarray) -> Image.Image:
    """numpy photo (RGB order) -> Pillow image in a mode :func:`to_rgb` understands."""
    if not isinstance(arr, np.ndarray) or arr.size == 0:
        raise PhotoError("the photo array is empty")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise PhotoError(f"a photo array must be HxW, HxWx1, HxWx3 (RGB) or HxWx4 (RGBA); got shape {arr.shape}")
    arr8, _ = _to_8bit(arr)
    return Image.fromarray(np.ascontiguousarray(arr8))  # mode L for [H, W], RGB for [H, W, 3], RGBA for [H, W, 4]


def finish_image(im: Image.Image, max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int = DEFAULT_MIN_SIDE) -> Photo:
    """An opened picture -> :class:`Photo`: checks frames and size, decodes, honours EXIF orientation, makes RGB."""
    notes: list[str] = []
    try:
        frames = int(getattr(im, "n_frames", 1) or 1)
        if frames > 1:
            im.seek(0)
    except Exception:  # Pillow raises many types while scanning a broken animation
        raise PhotoError("could not decode the photo; the file is corrupt or truncated") from None
    if frames > 1:
        what = "holds" if im.format == "HEIF" else "is animated, with"
        notes.append(f"the image {what} {frames} pictures; the first is used")
    _check_size(im.width, im.height, max_pixels, 1)
    try:
        im.load()
    except Image.DecompressionBombError:
        raise PhotoError("the photo is too large to decode safely; downscale it and try again") from None
    except Exception:  # truncated or corrupt data surfaces as OSError, SyntaxError, ValueError, EOFError ...
        raise PhotoError("could not decode the photo; the file is corrupt or truncated") from None
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
    rgb, mode_notes = to_rgb(im)
    notes.extend(mode_notes)
    _check_size(rgb.width, rgb.height, max_pixels, min_side)
    return Photo(rgb, tuple(notes))


def decode_bytes(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int = DEFAULT_MIN_SIDE) -> Photo:
    """A photo file's bytes -> :class:`Photo`, or PhotoError."""
    if not data:
        raise PhotoError("the photo file is empty")
    if _looks_like_svg(data):
        raise PhotoError("SVG (vector) images are not supported; export the photo as JPEG or PNG")
    if _is_iso_media(data):
        use_heif()
    try:
        with warnings.catch_warnings():
            # Our own pixel limit applies; Pillow's warning about 89+ MP images would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise PhotoError(
            f"the photo is too large to decode safely (limit {max_pixels / 1e6:.0f} megapixels); downscale it"
        ) from None
    except UnidentifiedImageError:
        if _has_image_signature(data):
            raise PhotoError("could not decode the photo; the file is corrupt or truncated") from None
        if _is_textlike(data):
            raise PhotoError("the file is not an image (it looks like text); upload a JPEG or PNG photo") from None
        raise PhotoError("the file is not a recognised image format; upload a JPEG, PNG, HEIC or WebP photo") from None
    except Exception:
        raise PhotoError("could not decode the photo; the file is corrupt or truncated") from None
    return finish_image(im, max_pixels, min_side)


def read_source(src: PhotoSource) -> tuple[bytes | None, Image.Image | None]:
    """(file bytes, None) for paths and bytes; (None, image) for in-memory pictures."""
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src), None
    if isinstance(src, (str, os.PathLike)):
        return _read_path(Path(src)), None
    if isinstance(src, Image.Image):
        return None, src
    if isinstance(src, np.ndarray):
        return None, array_to_image(src)
    raise PhotoError(f"unsupported photo input of type {type(src).__name__}; pass a path, bytes, PIL image or array")


def read_photo(src: PhotoSource, *, max_pixels: int = DEFAULT_MAX_PIXELS, min_side: int = DEFAULT_MIN_SIDE) -> Photo:
    """Any :data:`PhotoSource` -> :class:`Photo` (upright RGB with conversion notes), or PhotoError."""
    data, image = read_source(src)
    if data is not None:
        return decode_bytes(data, max_pixels, min_side)
    return finish_image(image, max_pixels, min_side)


def load_photo(src: PhotoSource, *, max_pixels: int = DEFAULT_MAX_PIXELS,
               min_side: int = DEFAULT_MIN_SIDE) -> Image.Image:
    """Any :data:`PhotoSource` -> upright RGB PIL image (see :func:`read_photo`)."""
    return read_photo(src, max_pixels=max_pixels, min_side=min_side).image


def pixel_hash(image: Image.Image) -> str:
    """SHA-256 of an image's size and pixels: the same picture gives the same hash whatever file it came in."""
    h = hashlib.sha256(f"{image.width}x{image.height}:".encode())
    h.update(image.tobytes())
    return h.hexdigest()
