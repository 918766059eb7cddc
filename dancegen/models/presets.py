"""Model presets: the sizes of every network, and the defaults of a generation with them.

- ``"stableanimator"``: the real sizes (SVD img2vid-xt UNet, 4 identity tokens). Its state_dict keys and shapes
  equal StableAnimator's published checkpoints (tests/fixtures/stableanimator_state_dicts.json).
- ``"tiny"``: the same architecture with small widths and random (seeded) weights, for tests and the offline demo.
  It is untrained: its videos are noise-like by design and say nothing about the method's quality.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import PresetName
from ..errors import SettingsError
from .face_encoder import FaceEncoderConfig

# SVD img2vid-xt's scheduler config (EulerDiscreteScheduler, v-prediction, Karras sigmas).
SVD_SCHEDULER = dict(
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", interpolation_type="linear",
    num_train_timesteps=1000, prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002, steps_offset=1,
    timestep_spacing="leading", timestep_type="continuous", use_karras_sigmas=True,
)


@dataclass(frozen=True)
class Preset:
    name: PresetName  # which preset
    label: str  # one line for banners and reports
    trained: bool  # True when published weights exist for these shapes
    unet: dict  # UNetSpatioTemporalConditionModel config
    face: FaceEncoderConfig  # face encoder sizes (num_tokens = identity tokens N at most)
    vae: dict  # AutoencoderKLTemporalDecoder config (must downsample by 8, like the pose net)
    clip: dict  # CLIPVisionConfig kwargs
    size: tuple[int, int]  # generation (width, height) for a near-square photo, and where no photo is known
    portrait: tuple[int, int]  # generation (width, height) for a portrait photo; landscape photos get it turned
    steps: int  # default denoising steps
    guidance: float  # default classifier-free guidance (min = max)
    tile_frames: int  # frames per temporal window
    tile_overlap: int  # frames shared by neighbouring windows
    decode_chunk: int  # frames per VAE decode call

    @property
    def num_id_tokens(self) -> int:
        return self.face.num_tokens

    def canvas(self, shape: str) -> tuple[int, int]:
        """Generation (width, height) for a photo of this shape: "portrait", "square" or "landscape"."""
        return {"portrait": self.portrait, "square": self.size, "landscape": self.portrait[::-1]}[shape]


_SVD_BLOCKS = dict(
    down_block_types=["CrossAttnDownBlockSpatioTemporal"] * 3 + ["DownBlockSpatioTemporal"],
    up_block_types=["UpBlockSpatioTemporal"] + ["CrossAttnUpBlockSpatioTemporal"] * 3,
)

PRESETS: dict[str, Preset] = {
    PresetName.STABLEANIMATOR: Preset(
        name=PresetName.STABLEANIMATOR,
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
        size=(512, 512), portrait=(576, 1024),  # StableAnimator's sizes (it was trained at 576 x 1024)
        steps=25, guidance=3.0, tile_frames=16, tile_overlap=4, decode_chunk=4,
    ),
    PresetName.TINY: Preset(
        name=PresetName.TINY,
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
        size=(128, 128), portrait=(144, 256),  # a quarter of the real sizes: same aspects, multiples of 16
        steps=4, guidance=3.0, tile_frames=8, tile_overlap=2, decode_chunk=8,
    ),
}



def get_preset(name: str) -> Preset:
    """The preset called ``name`` (SettingsError for an unknown name)."""
    if name not in PRESETS:
        raise SettingsError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]

