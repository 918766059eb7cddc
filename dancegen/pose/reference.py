"""The reference on the canvas: which part of the photo the video shows, so nothing is ever stretched.

The canvas has its own shape (portrait, square or landscape: :func:`photo_shape` picks it from the photo); the
photo is **cropped** to the canvas's aspect around the person, never resized to another aspect. :func:`crop_around`
chooses the crop box from the person's frame-0 body in photo pixels (detected keypoints, or a body built from the face
box with :mod:`.layout`'s proportions): as much of the photo as the aspect allows, centred on the person's midline,
with room above the head. Where the photo lacks room for the aspect around the head (a face that fills the photo, a
size chosen against the photo's shape) the box reaches outside the photo and :meth:`ReferenceCrop.apply` fills that
part with a blurred extension of the photo's edges.

Coordinates: the box is ``(x1, y1, x2, y2)`` in pixels of the upright photo, integers, ``x2 - x1`` by ``y2 - y1``
having the canvas's aspect to a pixel. The *reference* is the box's content, its top-left at (0, 0); the canvas is
the reference resized to W x H (what the pipeline's VAE sees). :meth:`ReferenceCrop.to_reference` maps photo pixels
into the reference, so the body layout (:mod:`.layout`, given the reference's size) places the skeleton with the very
transform the pixels went through, and frame 0 lies on the person.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from .layout import DEFAULT_PROPORTIONS
from .topology import J

# A photo whose long side is at most this many times its short side gets the square canvas (4:5 and 5:4 included);
# longer ones get the portrait or landscape canvas (3:4 and 4:3 phone photos included). See the README.
NEAR_SQUARE = 1.25
SHAPES = ("portrait", "square", "landscape")
HEAD_ROOM = 0.25  # head heights kept above the crown when the photo has room
HEAD_WIDTH = 0.45  # head heights either side of the nose that must stay in the crop (ears at 0.33, plus hair)
BLUR_SIDE = 256  # the padding's blur is computed on a copy whose long side is this many px
BLUR_RADIUS = 0.03  # the padding's blur radius, as a fraction of the reference's long side


def photo_shape(width: float, height: float, near_square: float = NEAR_SQUARE) -> str:
    """"portrait", "square" or "landscape": the canvas shape for a photo of this size."""
    if max(width, height) <= near_square * min(width, height):
        return "square"
    return "portrait" if height > width else "landscape"


@dataclass(frozen=True)
class ReferenceCrop:
    """The part of the photo the video shows, and the transform from photo pixels into it."""

    box: tuple[int, int, int, int]  # (x1, y1, x2, y2) in upright-photo px; may reach outside the photo (padded)
    photo_size: tuple[int, int]  # (width, height) of the upright photo
    canvas: tuple[int, int]  # (W, H) of the generation canvas, whose aspect the box has (to a pixel)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the reference, px of the photo."""
        x1, y1, x2, y2 = self.box
        return x2 - x1, y2 - y1

    @property
    def padding(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom): px of the reference outside the photo on each side."""
        x1, y1, x2, y2 = self.box
        w, h = self.photo_size
        return max(0, -x1), max(0, -y1), max(0, x2 - w), max(0, y2 - h)

    @property
    def padded(self) -> bool:
        return any(self.padding)

    def to_reference(self, points: Sequence[float] | np.ndarray) -> np.ndarray:
        """Photo px -> reference px: [..., 2] points, or [4] boxes (x1, y1, x2, y2)."""
        pts = np.asarray(points, dtype=np.float64)
        origin = np.array(self.box[:2], dtype=np.float64)
        return pts - (np.tile(origin, 2) if pts.shape == (4,) else origin)

    def apply(self, image: Image.Image) -> Image.Image:
        """The reference: the photo's pixels inside the box (the photo itself when the box is all of it), with any
        part outside the photo filled by a blurred extension of its edges. RGB, :attr:`size`."""
        if image.size != tuple(self.photo_size):
            raise ValueError(f"the crop was made for a {self.photo_size} photo, not {image.size}")
        x1, y1, x2, y2 = self.box
        w, h = self.photo_size
        if (x1, y1, x2, y2) == (0, 0, w, h):
            return image
        inner = image.crop((max(x1, 0), max(y1, 0), min(x2, w), min(y2, h)))
        if not self.padded:
            return inner
        left, top, right, bottom = self.padding
        edges = np.pad(np.asarray(inner), ((top, bottom), (left, right), (0, 0)), mode="edge")  # [H', W', 3]
        extended = Image.fromarray(edges)
        k = min(1.0, BLUR_SIDE / max(extended.size))
        small = extended.resize((max(1, round(extended.width * k)), max(1, round(extended.height * k))),
                                Image.Resampling.BILINEAR)
        radius = BLUR_RADIUS * max(small.size)
        out = small.filter(ImageFilter.GaussianBlur(radius)).resize(extended.size, Image.Resampling.BILINEAR)
        out.paste(inner, (left, top))
        return out

    def notices(self) -> tuple[str, ...]:
        if not self.padded:
            return ()
        sides = [name for name, px in zip(("left", "top", "right", "bottom"), self.padding) if px]
        which = ", ".join(sides[:-1]) + " and " + sides[-1] if len(sides) > 1 else sides[0]
        w, h = self.canvas
        return (f"the photo has no room for a {w}x{h} frame around the person, so it was extended at the {which} "
                "with a blurred copy of its edges",)


def segment_start(length: float, photo: float, need_lo: float, need_hi: float, target: float) -> float:
    """Where a segment of ``length`` starts: as near ``target`` as it can while it holds [need_lo, need_hi] and stays
    inside [0, photo] (or, when longer than the photo, covers all of it). One axis of a crop box (photos here,
    training frames in :mod:`dancegen.train.crop`)."""
    lo, hi = (0.0, photo - length) if length <= photo else (photo - length, 0.0)
    lo, hi = max(lo, need_hi - length), min(hi, need_lo)
    return min(max(target, lo), hi)


def crop_around(keypoints: np.ndarray, head_height: float, photo_size: Sequence[int], canvas: Sequence[int]
                ) -> ReferenceCrop:
    """The crop box of the canvas's aspect around a person whose frame-0 body is ``keypoints`` [18, 2] (photo px,
    OpenPose-18; joints may lie outside the photo) with a head ``head_height`` px tall (crown to chin).

    The box is the largest of the aspect inside the photo, grown (past the photo) only when the head would not fit;
    across, it is centred on the person's neck; down, it centres the part of the person the photo shows but keeps
    :data:`HEAD_ROOM` above the crown; it never leaves the head out, and never leaves the photo where it need not."""
    pw, ph = (int(v) for v in photo_size)
    cw, ch = (int(v) for v in canvas)
    aspect = cw / ch
    pts = np.asarray(keypoints, dtype=np.float64)
    head = float(head_height)
    if pts.shape != (18, 2) or not np.isfinite(pts).all() or not (math.isfinite(head) and head > 0):
        raise ValueError("the body must be 18 finite (x, y) joints with a positive head height")
    nose = pts[J["Nose"]]
    crown = nose[1] - DEFAULT_PROPORTIONS.nose[1] * head
    # the head, which must be in the picture, as far as the photo shows it
    need = np.array([nose[0] - HEAD_WIDTH * head, crown, nose[0] + HEAD_WIDTH * head, crown + head])
    need = np.clip(need, 0, [pw, ph, pw, ph])
    need_w, need_h = max(need[2] - need[0], 0.0), max(need[3] - need[1], 0.0)
    width = max(min(pw, ph * aspect), need_w, need_h * aspect)
    w, h = round(width), round(width / aspect)
    # the part of the person the photo shows, head room included
    shown = np.clip(pts, 0, [pw, ph])
    top = max(0.0, crown - HEAD_ROOM * head)
    bottom = max(float(shown[:, 1].max()), need[3])
    x = segment_start(w, pw, need[0], need[2], pts[J["Neck"], 0] - w / 2)
    y = segment_start(h, ph, need[1], need[3], min((top + bottom) / 2 - h / 2, crown - HEAD_ROOM * head))
    x1, y1 = round(x), round(y)
    return ReferenceCrop(box=(x1, y1, x1 + w, y1 + h), photo_size=(pw, ph), canvas=(cw, ch))
