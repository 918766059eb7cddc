"""The fusion's mean and std are per sample AND frame: inside the UNet a spatial cross-attention sees rows
[B*F, HW, C], and each row (one frame of one sample) is matched on its own statistics, never on its whole sample's
(tiny preset, CPU)."""

import pytest
import torch
from diffusers.models.attention_processor import Attention

from dancegen import models
from dancegen.models.identity import IdentityAttnProcessor, pack_conditioning

FRAMES = 2


@pytest.fixture(scope="module")
def unet():
    return models.build("tiny", seed=0, with_vae=False, with_image_encoder=False).unet


def spatial_attn2(unet) -> list[Attention]:
    layers = [m for m in unet.modules() if isinstance(m, Attention) and isinstance(m.processor, IdentityAttnProcessor)]
    assert layers
    return layers


def conditioning(batch: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 1, 32, generator=g), torch.randn(batch, 4, 32, generator=g)  # CLIP [B,1,C], ids [B,4,C]


def per_frame(packed: torch.Tensor) -> torch.Tensor:
    """[B, L, C + E] -> [B*F, L, C + E], sample-major, as the UNet repeats the conditioning for every frame."""
    return packed.repeat_interleave(FRAMES, dim=0)


@pytest.mark.parametrize("batch", [1, 2])
def test_a_frames_identity_effect_does_not_depend_on_the_other_frames_scale(unet, batch):
    """[B*F, HW, C] rows where the second frame of every sample is 100x larger (and shifted): the identity branch's
    effect on the first frames is the same as with an ordinary second frame. With statistics over the whole sample
    (or batch) the large frame would set the first frame's mean and std."""
    g = torch.Generator().manual_seed(1)
    clip, ids = conditioning(batch)
    packed, plain = per_frame(pack_conditioning(clip, ids, 1.0)), per_frame(clip)
    for attn in spatial_attn2(unet):
        hidden = torch.randn(batch, FRAMES, 16, attn.to_q.in_features, generator=g)  # [B, F, HW, C]
        loud = hidden.clone()
        loud[:, 1] = loud[:, 1] * 100 + 30
        effects = []
        with torch.no_grad():
            for x in (hidden, loud):
                rows = x.reshape(batch * FRAMES, 16, -1)  # [B*F, HW, C], sample-major
                effect = attn(rows, encoder_hidden_states=packed) - attn(rows, encoder_hidden_states=plain)
                effects.append(effect.reshape(batch, FRAMES, 16, -1)[:, 0])  # the first frames' [B, HW, C]
        assert effects[0].abs().max() > 1e-3  # the branch does something
        torch.testing.assert_close(effects[1], effects[0], rtol=1e-5, atol=1e-6)


def test_inside_the_unet_every_frame_is_fused_on_its_own(unet):
    """A real UNet call with one sample of two frames whose latents differ 100x in scale: every spatial attn2 gets
    [B*F, HW, C] rows, and its output for each frame equals the layer run on that frame's row alone."""
    g = torch.Generator().manual_seed(2)
    sample = torch.randn(1, FRAMES, 8, 16, 16, generator=g)  # [B, F, 4 noisy + 4 reference, h, w]
    sample[:, 1, :4] *= 100
    clip, ids = conditioning(1, seed=3)
    calls = []

    def keep(module, args, kwargs, output):
        calls.append((module, args[0], kwargs["encoder_hidden_states"], output))

    hooks = [attn.register_forward_hook(keep, with_kwargs=True) for attn in spatial_attn2(unet)]
    try:
        with torch.no_grad():
            unet(sample, 10.0, encoder_hidden_states=pack_conditioning(clip, ids, 1.0),
                 added_time_ids=torch.tensor([[6.0, 127.0, 0.02]]))
    finally:
        for hook in hooks:
            hook.remove()
    assert len(calls) == len(spatial_attn2(unet))
    for attn, hidden, context, output in calls:
        assert hidden.shape[0] == context.shape[0] == FRAMES  # rows: B*F
        with torch.no_grad():
            alone = torch.cat([attn(hidden[f:f + 1], encoder_hidden_states=context[f:f + 1]) for f in range(FRAMES)])
        torch.testing.assert_close(output, alone, rtol=1e-5, atol=1e-6)
