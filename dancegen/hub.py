"""Fetching model files from the Hugging Face hub, only when asked (``--download``): one helper for every stage.

Each stage names its own files (the models their checkpoints, the face stage antelopev2, the pose stage DWPose);
files of one repository land in one snapshot folder of the hub cache, so a stage can look for its files there
exactly as in a local checkpoints folder.
"""

from __future__ import annotations

from pathlib import Path

from .errors import WeightsError

STABLEANIMATOR_REPO = "FrancisRing/StableAnimator"  # Animation/*.pth, antelopev2/*.onnx, DWPose/*.onnx
SVD_REPO = "stabilityai/stable-video-diffusion-img2vid-xt"  # vae/, image_encoder/, scheduler/ (gated on the hub)


def fetch(repo_id: str, patterns: list[str], cache_dir: str | Path | None = None) -> Path:
    """Download the files of ``repo_id`` matching ``patterns`` (unless cached) -> the snapshot folder."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, allow_patterns=patterns, cache_dir=cache_dir))
    except Exception as exc:  # offline mode, network, a gated repo without a token, a missing file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"could not download {', '.join(patterns)} from the hub repo {repo_id}: {reason}") from None
