"""What a studio configuration loads (preset, device, models, pipeline, face analysers, body detector) and the
banner that says what runs where.

Loading is the slow part of starting a studio: once per :class:`~dancegen.studio.DanceStudio`, never per request.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import StudioConfig
from ..face import FaceAnalyser, FaceAnalyserConfig, antelopev2_folder
from ..models import DanceModels, Preset, get_preset, load_models, pick_device, pick_dtype, resolve_models
from ..pipeline import DancePipeline
from ..pose.detect import BodyDetector, BodyDetectorConfig, dwpose_folder

NO_DWPOSE = "DWPose weights not found: the dancer is placed from the face box alone"
FULL_MODEL_ON_CPU = "the full-size model is running on the CPU: expect hours per video"
BF16_HINT = " (--dtype bfloat16 is about twice as fast on CPUs with bf16 support)"
RUNNING = "Running {label} on {where} ({dtype})."
OFFLINE_DEMO = ("Offline demo: {label}, on {where}. Face detection, music analysis, choreography, the skeleton video "
                "and the whole diffusion pipeline really run, but the network has never been trained, so its videos "
                "are noise-like. Start with --preset stableanimator and the StableAnimator weights for real dance "
                "videos.")


@dataclass
class Loaded:
    """Everything a configuration loads: made by :func:`load`."""

    preset: Preset  # the model preset (sizes, steps, trained or not)
    device: torch.device  # where the models run
    dtype: torch.dtype  # their weights' type
    preview_faces: FaceAnalyser  # offline face models: the face-crop preview and the identity metrics
    identity_faces: FaceAnalyser  # the face encoder's models (antelopev2 when trained; else the offline ones)
    body_detector: BodyDetector | None  # DWPose, when its weights are there (real path)
    models: DanceModels  # the networks
    pipe: DancePipeline  # the diffusion pipeline over them
    warnings: list[str]  # start-up warnings, shown with every result


def load(config: StudioConfig) -> Loaded:
    """The preset's models on the configured device (on the CPU first with offload), the face analysers for the
    preview and the encoder, DWPose when it is there, and the pipeline (offload hooks on when configured)."""
    preset = get_preset(config.preset)
    device = pick_device(config.device)
    dtype = pick_dtype(config.dtype, device)
    warnings: list[str] = []
    cuda = device.type == "cuda"
    providers = ("CUDAExecutionProvider", "CPUExecutionProvider") if cuda else ("CPUExecutionProvider",)
    offload = config.cpu_offload and cuda  # the offload hooks then move each model in turn
    # Offline face models: the face-crop preview and the identity metrics, for every preset.
    preview_faces = FaceAnalyser(FaceAnalyserConfig(source="offline"))
    body_detector: BodyDetector | None = None
    # --weights: StableAnimator's checkpoints, or a folder written by `dancegen train` over its base
    source = resolve_models(preset, config.weights_dir, config.base_weights, config.download, config.tiny_seed)
    if preset.trained:
        paths = source.paths
        # The trained face encoder only understands antelopev2 (glintr100) embeddings.
        antelope = antelopev2_folder(paths.root, download=config.download)
        identity_faces = FaceAnalyser(FaceAnalyserConfig(source="antelopev2", model_dir=str(antelope),
                                                         providers=providers))
        dwpose = dwpose_folder(paths.root, download=config.download)
        if dwpose is not None:
            body_detector = BodyDetector.from_folder(dwpose, BodyDetectorConfig(providers=providers))
        else:
            warnings.append(NO_DWPOSE)
        models = load_models(source, torch.device("cpu") if offload else device, dtype)
        if not cuda:
            warnings.append(FULL_MODEL_ON_CPU + (BF16_HINT if dtype == torch.float32 else ""))
    else:
        models = load_models(source, device, dtype)
        # Random encoder: any embedding is as (un)meaningful as another, so the offline one is used.
        identity_faces = preview_faces
    pipe = DancePipeline.from_models(models)
    pipe.set_progress_bar_config(disable=not config.progress_bar)
    if config.cpu_offload:  # on the CPU the hooks' moves are no-ops, but the same hooks run as on a GPU
        pipe.enable_model_cpu_offload(device=device)
    return Loaded(preset=preset, device=device, dtype=dtype, preview_faces=preview_faces,
                  identity_faces=identity_faces, body_detector=body_detector, models=models, pipe=pipe,
                  warnings=warnings)


def describe(preset: Preset, weights, device: torch.device, dtype: torch.dtype) -> dict:
    """What runs where: preset, trained or not, its label, the weights, device, dtype and the GPU's name."""
    return {"preset": str(preset.name), "trained": preset.trained, "label": preset.label, "weights": weights,
            "device": str(device), "dtype": str(dtype).split(".")[-1], "gpu": gpu_name(device)}


def gpu_name(device: torch.device) -> str | None:
    """The GPU's name (None on the CPU)."""
    if device.type != "cuda":
        return None
    try:  # on ZeroGPU the device only exists inside a GPU slot
        return torch.cuda.get_device_name(device)
    except RuntimeError:
        return "CUDA GPU"


def banner(description: dict, warnings: list[str]) -> str:
    """One paragraph for the top of the app and the command line: what runs where (``description``, see
    :func:`describe`), then the start-up warnings."""
    where = description["gpu"] or "CPU"
    template = RUNNING if description["trained"] else OFFLINE_DEMO
    text = template.format(label=description["label"], where=where, dtype=description["dtype"])
    return " ".join([text, *warnings])
