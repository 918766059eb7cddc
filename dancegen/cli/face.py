"""``dancegen face PHOTO``: the largest face of a photo, its box and score, and its aligned crop and preview."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from PIL import Image

from ..errors import UserError
from ..face.analyser import FaceAnalyser, FaceAnalyserConfig, faces_note
from ..face.models import SOURCES
from ..onnxrt import default_providers
from . import ArgumentParser, run


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="dancegen face", description="Detect, align and embed the largest face of a photo.")
    p.add_argument("photo", help="the reference photo (JPEG, PNG, WebP, ...)")
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    p.add_argument("--source", choices=SOURCES, default="offline", help="face models to use (default: offline)")
    p.add_argument("--model-dir", default=None, help="antelopev2: its folder, or a checkpoints folder holding it")
    p.add_argument("--crop-out", default=None, metavar="FILE", help="write the aligned 112x112 face crop here")
    p.add_argument("--preview-out", default=None, metavar="FILE", help="write the annotated preview here")
    p.add_argument("--cuda", action="store_true", help="use CUDA when this onnxruntime build offers it")
    return p


def _save(image: Image.Image, path: str, what: str) -> None:
    try:
        image.save(path)
    except (OSError, ValueError) as exc:
        raise UserError(f"could not write the {what} to {path}: {exc}") from None


def _face(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    config = FaceAnalyserConfig(source=args.source, model_dir=args.model_dir,
                                providers=default_providers(cuda=args.cuda))
    result = FaceAnalyser(config).analyse(args.photo)
    if args.crop_out:
        _save(result.crop_image(), args.crop_out, "face crop")
    if args.preview_out:
        _save(result.preview, args.preview_out, "preview")
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    face = result.largest
    x1, y1, x2, y2 = face.bbox
    print(f"{args.photo}: {result.notes[0] if result.notes else faces_note(result.num_faces)}")
    print(f"  largest face: box ({x1:.0f}, {y1:.0f})-({x2:.0f}, {y2:.0f}), score {face.score:.2f}")
    print(f"  embedding: {result.embedding.shape[0]} values, norm {result.embedding_norm:.2f} "
          f"({result.source} models, raw)")
    for note in result.notes[1:]:
        print(f"  note: {note}")
    if args.crop_out:
        print(f"  aligned crop written to {args.crop_out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``dancegen face PHOTO [--json] ...``: status 0, or 2 with a one-line error on stderr."""
    return run(lambda: _face(sys.argv[1:] if argv is None else argv), "dancegen face")
