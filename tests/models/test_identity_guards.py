"""The identity processors refuse a base whose spatial cross-attention breaks "alpha 0 = running the branch on the
unconditional pass": a bias on attn2.to_v, or a cross-attention norm (tiny-preset UNet, CPU)."""

import pytest
import torch
from diffusers import UNetSpatioTemporalConditionModel
from torch import nn

from dancegen import models
from dancegen.models.identity import IdentityAttnProcessor, install_identity_processors


def stock_unet() -> UNetSpatioTemporalConditionModel:
    """The tiny preset's UNet as diffusers builds it: stock processors, SVD's attn2 (no to_v bias, no norm_cross)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return UNetSpatioTemporalConditionModel(**models.get_preset("tiny").unet)


def first_spatial_attn2(unet) -> tuple[str, nn.Module]:
    name = next(n for n in unet.attn_processors if ".transformer_blocks." in n and n.endswith("attn2.processor"))
    layer = name.removesuffix(".processor")
    return layer, unet.get_submodule(layer)


def no_identity_processor(unet) -> bool:
    return not any(isinstance(p, IdentityAttnProcessor) for p in unet.attn_processors.values())


def test_svd_attn2_passes_the_guard():
    unet = stock_unet()
    assert len(install_identity_processors(unet)) == 4  # the tiny UNet's spatial cross-attentions (mid block too)


def test_a_to_v_bias_is_refused_naming_the_layer():
    unet = stock_unet()
    layer, attn = first_spatial_attn2(unet)
    attn.to_v = nn.Linear(attn.to_v.in_features, attn.to_v.out_features, bias=True)
    with pytest.raises(ValueError, match=rf"^{layer.replace('.', '[.]')}: to_v has a bias") as caught:
        install_identity_processors(unet)
    assert "\n" not in str(caught.value)
    assert no_identity_processor(unet)  # nothing half-installed


def test_a_cross_attention_norm_is_refused_naming_the_layer():
    unet = stock_unet()
    layer, attn = first_spatial_attn2(unet)
    attn.norm_cross = nn.LayerNorm(attn.to_k.in_features)
    with pytest.raises(ValueError, match=rf"^{layer.replace('.', '[.]')}: a cross-attention norm \(norm_cross "
                                         r"LayerNorm\)") as caught:
        install_identity_processors(unet)
    assert "\n" not in str(caught.value)
    assert no_identity_processor(unet)

