"""Model presets, construction and strict weight loading.

``build(preset, device, dtype)`` returns a :class:`DanceModels` with the video UNet (diffusers'
``UNetSpatioTemporalConditionModel`` with identity processors installed and a pose-aware ``conv_in``), the face
encoder, the pose net, the VAE, the CLIP image encoder and the scheduler.

Presets:
- ``"stableanimator"``: the real sizes (SVD img2vid-xt UNet, 4 identity tokens). Its state_dict keys and shapes
  equal StableAnimator's published checkpoints; :func:`load_stableanimator` fills it from a local folder or the hub.
- ``"tiny"``: the same architecture with small widths and random (seeded) weights, for tests and the offline demo.
  It is untrained: its videos are noise-like by design and say nothing about the method's quality.

Nothing here touches the network or the disk at import time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from diffusers import AutoencoderKLTemporalDecoder, EulerDiscreteScheduler, UNetSpatioTemporalConditionModel
from torch import nn
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

from .face_encoder import FaceEncoder, FaceEncoderConfig
from .identity import install_identity_processors
from .pose_net import PoseConvIn, PoseNet

logger = logging.getLogger(__name__)

STABLEANIMATOR_REPO = "FrancisRing/StableAnimator"  # Animation/{unet,face_encoder,pose_net}.pth, antelopev2/
SVD_REPO = "stabilityai/stable-video-diffusion-img2vid-xt"  # vae/, image_encoder/, scheduler/ (gated on the hub)
CHECKPOINT_FILES = {"unet": "Animation/unet.pth", "face_encoder": "Animation/face_encoder.pth",
                    "pose_net": "Animation/pose_net.pth"}

# SVD img2vid-xt's scheduler config (EulerDiscreteScheduler, v-prediction, Karras sigmas).
SVD_SCHEDULER = dict(
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", interpolation_type="linear",
    num_train_timesteps=1000, prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002, steps_offset=1,
    timestep_spacing="leading", timestep_type="continuous", use_karras_sigmas=True,
)


class WeightsError(ValueError):
    """Weights are missing, unreadable or do not fit the model (one human-readable line)."""


@dataclass(frozen=True)
class Preset:
    name: str  # "stableanimator" or "tiny"
    label: str  # one line for banners and reports
    trained: bool  # True when published weights exist for these shapes
    unet: dict  # UNetSpatioTemporalConditionModel config
    face: FaceEncoderConfig  # face encoder sizes (num_tokens = identity tokens N at most)
    vae: dict  # AutoencoderKLTemporalDecoder config (must downsample by 8, like the pose net)
    clip: dict  # CLIPVisionConfig kwargs
    size: tuple[int, int]  # default generation (width, height)
    steps: int  # default denoising steps
    guidance: float  # default classifier-free guidance (min = max)
    tile_frames: int  # frames per temporal window
    tile_overlap: int  # frames shared by neighbouring windows
    decode_chunk: int  # frames per VAE decode call

    @property
    def num_id_tokens(self) -> int:
        return self.face.num_tokens


_SVD_BLOCKS = dict(
    down_block_types=["CrossAttnDownBlockSpatioTemporal"] * 3 + ["DownBlockSpatioTemporal"],
    up_block_types=["UpBlockSpatioTemporal"] + ["CrossAttnUpBlockSpatioTemporal"] * 3,
)

PRESETS: dict[str, Preset] = {
    "stableanimator": Preset(
        name="stableanimator",
        label="StableAnimator (trained weights, SVD img2vid-xt UNet)",
        trained=True,
        unet=dict(sample_size=96, in_channels=8, out_channels=4, block_out_channels=[320, 640, 1280, 1280],
                  layers_per_block=2, cross_attention_dim=1024, num_attention_heads=[5, 10, 20, 20],
                  transformer_layers_per_block=1, addition_time_embed_dim=256,
                  projection_class_embeddings_input_dim=768, num_frames=25, **_SVD_BLOCKS),
        face=FaceEncoderConfig(),
        vae=dict(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 4,
                 block_out_channels=[128, 256, 512, 512], layers_per_block=2, latent_channels=4, sample_size=768),
        clip=dict(hidden_size=1280, intermediate_size=5120, num_attention_heads=16, num_hidden_layers=32,
                  patch_size=14, image_size=224, projection_dim=1024, hidden_act="gelu", layer_norm_eps=1e-5),
        size=(512, 512), steps=25, guidance=3.0, tile_frames=16, tile_overlap=4, decode_chunk=4,
    ),
    "tiny": Preset(
        name="tiny",
        label="tiny preset (random, untrained weights: shows the pipeline working, not the method's quality)",
        trained=False,
        unet=dict(sample_size=8, in_channels=8, out_channels=4, block_out_channels=[32, 64],
                  layers_per_block=1, cross_attention_dim=32, num_attention_heads=[2, 4],
                  transformer_layers_per_block=1, addition_time_embed_dim=32,
                  projection_class_embeddings_input_dim=96, num_frames=8,
                  down_block_types=["CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"],
                  up_block_types=["UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"]),
        face=FaceEncoderConfig(clip_dim=32, dim=32, num_tokens=4, depth=1, heads=2, dim_head=16, ff_mult=2),
        vae=dict(in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 4,
                 block_out_channels=[32, 32, 32, 32], layers_per_block=1, latent_channels=4, sample_size=64),
        clip=dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2, patch_size=8,
                  image_size=32, projection_dim=32, hidden_act="gelu", layer_norm_eps=1e-5),
        size=(128, 128), steps=4, guidance=3.0, tile_frames=8, tile_overlap=2, decode_chunk=8,
    ),
}


@dataclass
class DanceModels:
    preset: Preset  # which sizes these are
    unet: UNetSpatioTemporalConditionModel  # identity processors installed, conv_in = PoseConvIn
    face_encoder: FaceEncoder  # face embedding -> identity tokens
    pose_net: PoseNet  # skeleton images -> conv_in residual
    vae: AutoencoderKLTemporalDecoder | None  # image <-> latents (None only when built without it)
    image_encoder: CLIPVisionModelWithProjection | None  # reference image -> CLIP token
    scheduler: EulerDiscreteScheduler  # sampler
    weights: str = "random"  # where the weights came from (for banners and reports)
    identity_layers: list[str] = field(default_factory=list)  # processor names that carry the identity branch

    def modules(self) -> dict[str, nn.Module]:
        mods = {"unet": self.unet, "face_encoder": self.face_encoder, "pose_net": self.pose_net,
                "vae": self.vae, "image_encoder": self.image_encoder}
        return {k: v for k, v in mods.items() if v is not None}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]


def build_unet(preset: Preset) -> tuple[UNetSpatioTemporalConditionModel, list[str]]:
    """The video UNet of a preset, with identity processors and the pose-aware conv_in (random weights)."""
    unet = UNetSpatioTemporalConditionModel(**preset.unet)
    identity_layers = install_identity_processors(unet, num_clip_tokens=1)
    unet.conv_in = PoseConvIn.replace(unet.conv_in)
    return unet, identity_layers


def build(preset: str | Preset = "tiny", device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32,
          seed: int = 0, with_vae: bool = True, with_image_encoder: bool = True) -> DanceModels:
    """Build a preset's models with random weights (seeded; the global RNG is left untouched).

    On ``device="meta"`` nothing is allocated: use it to check structure, or before :func:`load_stableanimator`.
    """
    preset = get_preset(preset) if isinstance(preset, str) else preset
    device = torch.device(device)

    def ready(module: nn.Module) -> nn.Module:
        # Built in float32 and cast at once, one module at a time, so only one float32 copy exists at a time.
        module.eval().requires_grad_(False)
        return cast(module, dtype) if device.type != "meta" else module

    with torch.random.fork_rng(devices=[]), torch.device(device):
        torch.manual_seed(seed)
        unet, identity_layers = build_unet(preset)
        unet = ready(unet)
        face_encoder = ready(FaceEncoder(preset.face))
        pose_net = ready(PoseNet(out_channels=preset.unet["block_out_channels"][0]))
        vae = ready(AutoencoderKLTemporalDecoder(**preset.vae)) if with_vae else None
        image_encoder = (ready(CLIPVisionModelWithProjection(CLIPVisionConfig(**preset.clip)))
                         if with_image_encoder else None)
    return DanceModels(preset=preset, unet=unet, face_encoder=face_encoder, pose_net=pose_net, vae=vae,
                       image_encoder=image_encoder, scheduler=EulerDiscreteScheduler(**SVD_SCHEDULER),
                       weights="random", identity_layers=identity_layers)


def cast(module: nn.Module, dtype: torch.dtype) -> nn.Module:
    """Cast a module's floating-point parameters to ``dtype`` in place (returns the module).

    Calls ``nn.Module.to`` directly: diffusers' ``ModelMixin.to`` (0.42) logs a "modules that should be kept in
    float32: []" warning on every dtype cast, even for models that keep none in float32, as these do not.
    """
    return nn.Module.to(module, dtype=dtype)


# ---------------------------------------------------------------------------------------------- weight loading


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a checkpoint: safetensors when the file is one, else ``torch.load(weights_only=True)`` (memory-mapped)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        try:  # memory-map zip checkpoints (the default torch.save format); legacy pickles cannot be mapped
            state = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # unreadable, truncated or not a checkpoint
        raise WeightsError(f"could not read weights file {path}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path} is not a plain state_dict of tensors")
    return state


def load_strict(module: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load every key, or raise a WeightsError naming the source and the first offending keys. Never partial."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [f"{k} {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
                  for k in expected if k in state and state[k].shape != expected[k].shape]
    problems = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("shape mismatch", mismatched)):
        if keys:
            problems.append(f"{len(keys)} {label} (first: {', '.join(keys[:3])})")
    if problems:
        raise WeightsError(f"{source} does not fit {type(module).__name__}: " + "; ".join(problems))
    on_meta = any(p.is_meta for p in module.parameters())
    target = next(iter(expected.values()))
    if on_meta:  # assign the loaded tensors, cast to the model's dtype
        state = {k: v.to(dtype=target.dtype) for k, v in state.items()}
    module.load_state_dict(state, strict=True, assign=on_meta)


@dataclass(frozen=True)
class WeightPaths:
    unet: Path  # Animation/unet.pth
    face_encoder: Path  # Animation/face_encoder.pth
    pose_net: Path  # Animation/pose_net.pth
    svd: Path  # folder with vae/, image_encoder/, scheduler/
    antelopev2: Path | None  # folder with scrfd_10g_bnkps.onnx and glintr100.onnx, if found
    dwpose: Path | None = None  # folder with yolox_l.onnx and dw-ll_ucoco_384.onnx (body keypoints), if found


def resolve_weights(weights_dir: str | Path | None = None, download: bool = False,
                    cache_dir: str | Path | None = None) -> WeightPaths:
    """Find StableAnimator + SVD weights in a local folder (StableAnimator's ``checkpoints/`` layout) or the hub.

    Local layout: ``DIR/Animation/*.pth``, ``DIR/SVD/stable-video-diffusion-img2vid-xt/`` (or ``DIR/SVD/``), and
    ``DIR/antelopev2/`` or ``DIR/models/antelopev2/``. With ``download=True`` and no folder, only the needed files
    are fetched with huggingface_hub (cached); the SVD repo is gated, so a token with access must be configured.
    """
    if weights_dir is not None:
        root = Path(weights_dir).expanduser()
        if not root.is_dir():
            raise WeightsError(f"weights folder not found: {root}")
        svd = next((p for p in (root / "SVD" / "stable-video-diffusion-img2vid-xt", root / "SVD", root)
                    if (p / "vae").is_dir()), root / "SVD" / "stable-video-diffusion-img2vid-xt")
        antelope = next((p for p in (root / "antelopev2", root / "models" / "antelopev2", root.parent / "models" /
                                     "antelopev2") if p.is_dir()), None)
        dwpose = root / "DWPose" if (root / "DWPose").is_dir() else None
        paths = WeightPaths(*(root / CHECKPOINT_FILES[k] for k in ("unet", "face_encoder", "pose_net")), svd, antelope,
                            dwpose)
    elif download:
        paths = _download_weights(cache_dir)
    else:
        raise WeightsError("no weights folder given and downloading is off: pass --weights DIR or allow download")
    for path in (paths.unet, paths.face_encoder, paths.pose_net):
        if not path.is_file():
            raise WeightsError(f"weights file not found: {path}")
    for sub in ("vae", "image_encoder"):
        if not (paths.svd / sub).is_dir():
            raise WeightsError(f"SVD {sub} folder not found under {paths.svd}")
    return paths


def _download_weights(cache_dir: str | Path | None) -> WeightPaths:
    from huggingface_hub import hf_hub_download, snapshot_download

    try:
        files = {k: Path(hf_hub_download(STABLEANIMATOR_REPO, f, cache_dir=cache_dir))
                 for k, f in CHECKPOINT_FILES.items()}
        extras = Path(snapshot_download(STABLEANIMATOR_REPO, allow_patterns=["antelopev2/*.onnx", "DWPose/*.onnx"],
                                        cache_dir=cache_dir))
        svd = Path(snapshot_download(SVD_REPO, cache_dir=cache_dir, allow_patterns=[
            "scheduler/*", "vae/config.json", "vae/diffusion_pytorch_model.fp16.safetensors",
            "image_encoder/config.json", "image_encoder/model.fp16.safetensors"]))
    except Exception as exc:  # offline, gated repo without a token, ...
        raise WeightsError(f"could not download weights from the hub: {type(exc).__name__}: {exc}") from exc
    antelope, dwpose = extras / "antelopev2", extras / "DWPose"
    return WeightPaths(files["unet"], files["face_encoder"], files["pose_net"], svd,
                       antelope if antelope.is_dir() else None, dwpose if dwpose.is_dir() else None)


def load_stableanimator(paths: WeightPaths, device: str | torch.device = "cuda",
                        dtype: torch.dtype = torch.float16) -> DanceModels:
    """Build the "stableanimator" preset on the meta device and fill it strictly from the published files."""
    models = build("stableanimator", device="meta", with_vae=False, with_image_encoder=False)
    for name in ("unet", "face_encoder", "pose_net"):
        module = cast(getattr(models, name), dtype)
        load_strict(module, read_state_dict(getattr(paths, name)), str(getattr(paths, name)))
        module.to(device)
    variant = "fp16" if any(paths.svd.glob("vae/*.fp16.safetensors")) else None
    try:
        models.vae = AutoencoderKLTemporalDecoder.from_pretrained(paths.svd, subfolder="vae", variant=variant,
                                                                  torch_dtype=dtype).to(device)
        models.image_encoder = CLIPVisionModelWithProjection.from_pretrained(
            paths.svd / "image_encoder", variant=variant, dtype=dtype).to(device)
        if (paths.svd / "scheduler").is_dir():
            models.scheduler = EulerDiscreteScheduler.from_pretrained(paths.svd, subfolder="scheduler")
    except OSError as exc:
        raise WeightsError(f"could not load SVD weights from {paths.svd}: {exc}") from exc
    for module in models.modules().values():
        module.eval().requires_grad_(False)
    return replace(models, weights=f"StableAnimator ({paths.unet.parent.parent})")
