"""What --train-unet-attention trains, and that its help says so: every parameter of the UNet's spatio-temporal
transformers (attention, norms, feed-forwards, temporal blocks, time mixer), none of its ResNets."""

import pytest
from diffusers.models.transformers.transformer_temporal import TransformerSpatioTemporalModel

from dancegen import models
from dancegen.config import TrainSettings, spec
from dancegen.models.trained import part_keys


@pytest.mark.parametrize("preset", ["tiny", "stableanimator"])
def test_the_part_is_every_parameter_of_the_spatio_temporal_transformers(preset):
    built = models.build(preset, device="meta", with_vae=False, with_image_encoder=False)
    unet = built.unet
    transformers = [name for name, m in unet.named_modules() if isinstance(m, TransformerSpatioTemporalModel)]
    expected = {f"{name}.{key}" for name in transformers for key in unet.get_submodule(name).state_dict()}
    chosen = part_keys(built, ["unet_attention"])["unet"]
    assert set(chosen) == expected
    for piece in (".norm.", ".proj_in.", ".ff.", ".ff_in.", ".temporal_transformer_blocks.", ".time_mixer.",
                  ".time_pos_embed.", ".attn1.", ".attn2."):
        assert any(piece in k for k in chosen), piece
    assert not any(".resnets." in k or k.startswith(("conv_in", "conv_out", "time_embedding")) for k in chosen)
    if preset == "stableanimator":  # "half the UNet", as the help says
        sizes = unet.state_dict()
        share = sum(sizes[k].numel() for k in chosen) / sum(v.numel() for v in sizes.values())
        assert 0.45 < share < 0.55


def test_the_help_names_what_it_trains():
    text = spec(TrainSettings, "train_unet_attention").help
    for words in ("every parameter", "spatio-temporal transformers", "norms", "feed-forwards", "temporal blocks",
                  "half the UNet", "not its ResNets"):
        assert words in text, words
