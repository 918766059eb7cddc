"""Identity fusion and the attention processors, on tiny random-weight models (CPU)."""

import numpy as np
import pytest
import torch
from diffusers import UNetSpatioTemporalConditionModel
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

from dancegen import models
from dancegen.models.identity import (ClipOnlyAttnProcessor, IdentityAttnProcessor, check_identity_processors, fuse,
                                      identity_parts, install_identity_processors, pack_conditioning,
                                      split_conditioning)


def reference_fuse(h, i, alpha, eps=1e-5):
    """Independent float64 numpy computation of the paper's fusion."""
    h, i = h.double().numpy(), i.double().numpy()
    out = np.empty_like(h)
    alphas = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (h.shape[0],))
    for b in range(h.shape[0]):
        n = h[b].size
        mh, mi = h[b].sum() / n, i[b].sum() / n
        sh = np.sqrt(((h[b] - mh) ** 2).sum() / (n - 1))  # unbiased, like torch.std's default
        si = np.sqrt(((i[b] - mi) ** 2).sum() / (n - 1))
        out[b] = h[b] + alphas[b] * ((i[b] - mi) * sh / (si + eps) + mh)
    return out


def test_fuse_matches_reference():
    g = torch.Generator().manual_seed(0)
    h = torch.randn(3, 17, 8, generator=g) * 2 + 1
    i = torch.randn(3, 17, 8, generator=g) * 0.1 - 3
    np.testing.assert_allclose(fuse(h, i, 0.7).double().numpy(), reference_fuse(h, i, 0.7), rtol=1e-5, atol=1e-5)


def test_fuse_alpha_tensor_is_per_sample():
    g = torch.Generator().manual_seed(1)
    h, i = torch.randn(3, 5, 4, generator=g), torch.randn(3, 5, 4, generator=g)
    alpha = torch.tensor([0.0, 1.0, 2.5])
    out = fuse(h, i, alpha)
    np.testing.assert_allclose(out.double().numpy(), reference_fuse(h, i, alpha.numpy()), rtol=1e-5, atol=1e-5)
    assert torch.equal(out[0], h[0])  # alpha 0: exactly h
    assert torch.allclose(out[1], fuse(h[1:2], i[1:2], 1.0)[0])


def test_fuse_matched_output_has_main_statistics():
    g = torch.Generator().manual_seed(2)
    h, i = torch.randn(2, 64, 16, generator=g) * 3 + 2, torch.randn(2, 64, 16, generator=g) * 0.5
    matched = fuse(h, i, 1.0) - h
    assert torch.allclose(matched.mean(dim=(1, 2)), h.mean(dim=(1, 2)), atol=1e-4)
    assert torch.allclose(matched.std(dim=(1, 2)), h.std(dim=(1, 2)), rtol=1e-3)


def test_fuse_constant_identity_output_stays_finite():
    h = torch.randn(2, 10, 6)
    i = torch.full((2, 10, 6), 4.0)  # std 0, e.g. all-zero face tokens in the unconditional pass
    out = fuse(h, i, 1.5)
    assert torch.isfinite(out).all()
    expected = h + 1.5 * h.mean(dim=(1, 2), keepdim=True)  # (i - mean_i) = 0 -> i' = mean_h
    assert torch.allclose(out, expected, atol=1e-6)


def test_pack_and_split_roundtrip():
    clip, ids = torch.randn(2, 1, 8), torch.randn(2, 3, 8)
    packed = pack_conditioning(clip, ids, torch.tensor([0.0, 0.5]))  # a tensor's values are not read: E = 1
    assert packed.shape == (2, 1 + 3, 8 + 1)
    c, i, a, start = split_conditioning(packed, 1, 8)
    assert torch.equal(c, clip) and torch.equal(i, ids) and torch.equal(a, torch.tensor([0.0, 0.5])) and start == 0
    assert pack_conditioning(clip, None) is clip
    assert split_conditioning(clip, 1, 8).id_tokens is None


def test_python_alphas_leave_the_leading_alpha_zero_samples_out_of_the_branch():
    clip, ids = torch.randn(4, 1, 8), torch.randn(4, 2, 8)
    packed = pack_conditioning(clip, ids, [0.0, 0.0, 0.0, 0.7])  # the pipeline's guided A/B batch
    assert packed.shape == (4, 1 + 2, 8 + 4)  # E = 4: the branch runs on the last quarter of the rows
    rows = packed.repeat_interleave(3, dim=0)  # as the UNet repeats it per frame: [B*F, L, C + E]
    c, i, a, start = split_conditioning(rows, 1, 8)
    assert start == 9 and torch.equal(c, clip.repeat_interleave(3, dim=0))
    assert torch.equal(i, ids[3:].repeat_interleave(3, dim=0)) and torch.allclose(a, torch.full((3,), 0.7))
    assert pack_conditioning(clip, ids, 0.0) is clip  # nothing for the identity tokens to reach
    assert pack_conditioning(clip, ids, [0.0] * 4) is clip


@pytest.mark.parametrize("alphas, parts", [
    ([1.0], 1), ([0.0, 1.0], 2), ([1.0, 0.0], 1), ([0.0, 0.0, 0.0, 2.0], 4), ([0.0, 0.0, 1.0, 1.0], 2),
    ([0.0, 1.0, 0.0, 1.0], 1), ([0.0, 0.0, 1.0], 3), ([0.0, 1.0, 1.0], 1), ([0.0, 0.0], 0),
])
def test_identity_parts(alphas, parts):
    assert identity_parts(alphas) == parts


@pytest.fixture(scope="module")
def tiny():
    return models.build("tiny", seed=0)


def unet_inputs(batch=2, frames=4, seed=0, n_tokens=4):
    g = torch.Generator().manual_seed(seed)
    sample = torch.randn(batch, frames, 8, 16, 16, generator=g)  # [B, F, 4 noisy + 4 reference, h, w]
    clip = torch.randn(batch, 1, 32, generator=g)
    ids = torch.randn(batch, n_tokens, 32, generator=g)
    added = torch.tensor([[6.0, 127.0, 0.02]]).repeat(batch, 1)
    return sample, clip, ids, added


def run(unet, sample, ehs, added):
    with torch.no_grad():
        return unet(sample, 10.0, encoder_hidden_states=ehs, added_time_ids=added).sample


def test_alpha_zero_equals_unet_without_identity(tiny):
    sample, clip, ids, added = unet_inputs()
    baseline = run(tiny.unet, sample, clip, added)  # no identity tokens at all
    assert torch.equal(run(tiny.unet, sample, pack_conditioning(clip, ids, torch.zeros(2)), added), baseline)
    # Per-sample alpha: the baseline sample of an A/B batch is bit-for-bit the no-identity output, whether it is
    # among the branch's rows (tensor alpha, E = 1) or left out of them (Python alphas, E = 2).
    for alpha in (torch.tensor([0.0, 1.0]), [0.0, 1.0]):
        ab = run(tiny.unet, sample, pack_conditioning(clip, ids, alpha), added)
        assert torch.equal(ab[0], baseline[0])
        assert not torch.allclose(ab[1], baseline[1], atol=1e-4)


def test_leaving_alpha_zero_samples_out_of_the_branch_changes_no_bit(tiny):
    """The branch on the identity sample's rows alone gives the numbers of the branch on every row (E = 4 vs 1). On
    one thread, as tests/test_same_frames.py runs: with more, a smaller GEMM may split its work differently."""
    sample, clip, ids, added = unet_inputs(batch=4, seed=7)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        every_row = run(tiny.unet, sample, pack_conditioning(clip, ids, torch.tensor([0.0, 0.0, 0.0, 1.0])), added)
        last_rows = run(tiny.unet, sample, pack_conditioning(clip, ids, [0.0, 0.0, 0.0, 1.0]), added)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(last_rows, every_row)


def test_only_the_identity_samples_rows_reach_the_identity_projections(tiny):
    """Samples with alpha 0 before the identity sample compute no identity attention at all."""
    sample, clip, ids, added = unet_inputs(batch=4, frames=3)
    rows = []
    hooks = [m.id_to_k.register_forward_hook(lambda mod, args, out: rows.append(args[0].shape[0]))
             for m in tiny.unet.modules() if isinstance(m, IdentityAttnProcessor)]
    try:
        run(tiny.unet, sample, pack_conditioning(clip, ids, [0.0, 0.0, 0.0, 1.0]), added)
        assert rows and set(rows) == {3}  # one sample's 3 frames, in every spatial cross-attention
        rows.clear()
        run(tiny.unet, sample, pack_conditioning(clip, ids, [0.0, 0.0, 1.0, 1.0]), added)
        assert set(rows) == {6}
        rows.clear()
        run(tiny.unet, sample, pack_conditioning(clip, ids, 0.0), added)
        assert rows == []
    finally:
        for hook in hooks:
            hook.remove()


def test_alpha_zero_equals_stock_diffusers_processors():
    """Same weights, diffusers' own processors everywhere and no identity tokens: identical output."""
    ours = models.build("tiny", seed=3)
    stock = models.build("tiny", seed=3)
    stock.unet.set_attn_processor(AttnProcessor2_0())
    stock_state = {k: v for k, v in ours.unet.state_dict().items() if ".processor." not in k}
    stock.unet.load_state_dict(stock_state, strict=True)
    sample, clip, ids, added = unet_inputs(seed=3)
    expected = run(stock.unet, sample, clip, added)
    assert torch.equal(run(ours.unet, sample, clip, added), expected)
    assert torch.equal(run(ours.unet, sample, pack_conditioning(clip, ids, torch.zeros(2)), added), expected)


def test_alpha_changes_output_and_scales(tiny):
    sample, clip, ids, added = unet_inputs()
    base = run(tiny.unet, sample, clip, added)
    one = run(tiny.unet, sample, pack_conditioning(clip, ids, 1.0), added)
    two = run(tiny.unet, sample, pack_conditioning(clip, ids, 2.0), added)
    d1, d2 = (one - base).abs().mean(), (two - base).abs().mean()
    assert d1 > 1e-4 and d2 > d1


def test_token_count_changes_output(tiny):
    sample, clip, ids, added = unet_inputs()
    n1 = run(tiny.unet, sample, pack_conditioning(clip, ids[:, :1], 1.0), added)
    n4 = run(tiny.unet, sample, pack_conditioning(clip, ids, 1.0), added)
    assert not torch.allclose(n1, n4, atol=1e-5)


def test_unconditional_pass_is_the_same_with_and_without_the_branch(tiny):
    """CFG's unconditional input zeroes the CLIP token and the face tokens. to_k / to_v have no bias, so the main
    output h is 0, mean_h and std_h are 0, and the branch adds alpha * mean_h = 0: at equal latents the
    identity sample's unconditional prediction is the baseline's, bit for bit (the A/B difference comes from the
    conditional pass alone). With a non-zero CLIP token the same zero face tokens do change the output."""
    sample, clip, ids, added = unet_inputs()
    zero_clip, zero_ids = torch.zeros_like(clip), torch.zeros_like(ids)
    without = run(tiny.unet, sample, zero_clip, added)
    assert torch.equal(run(tiny.unet, sample, pack_conditioning(zero_clip, zero_ids, 1.0), added), without)
    shifted = run(tiny.unet, sample, pack_conditioning(clip, zero_ids, 1.0), added)  # adds alpha * mean_h != 0
    assert not torch.allclose(shifted, run(tiny.unet, sample, clip, added), atol=1e-5)


def test_identity_tokens_with_alpha_zero_reach_nothing(tiny):
    sample, clip, ids, added = unet_inputs()
    a = run(tiny.unet, sample, pack_conditioning(clip, ids, torch.zeros(2)), added)
    b = run(tiny.unet, sample, pack_conditioning(clip, ids * 100 + 5, torch.zeros(2)), added)
    assert torch.equal(a, b)


def test_processors_installed_on_chosen_layers():
    meta = models.build("stableanimator", device="meta")
    procs = meta.unet.attn_processors
    spatial = [n for n in procs if ".transformer_blocks." in n and n.endswith("attn2.processor")]
    temporal = [n for n in procs if "temporal_transformer_blocks" in n and n.endswith("attn2.processor")]
    assert len(procs) == 64 and len(spatial) == 16 and len(temporal) == 16
    assert all(isinstance(procs[n], IdentityAttnProcessor) for n in spatial)
    assert all(isinstance(procs[n], ClipOnlyAttnProcessor) for n in temporal)
    with torch.device("meta"):
        fresh = UNetSpatioTemporalConditionModel(**models.get_preset("stableanimator").unet)
    assert sorted(install_identity_processors(fresh)) == sorted(spatial)  # it names the layers it changed
    others = [p for n, p in procs.items() if n.endswith("attn1.processor")]
    assert len(others) == 32 and not any(isinstance(p, (IdentityAttnProcessor, ClipOnlyAttnProcessor)) for p in others)


def test_temporal_attention_never_sees_identity_tokens(tiny):
    """Every temporal attn2 of the UNet gives the same output for packed and clip-only context."""
    g = torch.Generator().manual_seed(5)
    temporal = [m for n, m in tiny.unet.named_modules()
                if isinstance(m, Attention) and "temporal_transformer_blocks" in n and n.endswith("attn2")]
    assert temporal
    for attn in temporal:
        width = attn.to_q.in_features
        hidden = torch.randn(6, 4, width, generator=g)  # [B*H*W, frames, C]
        clip = torch.randn(6, 1, 32, generator=g)
        packed = pack_conditioning(clip, torch.randn(6, 4, 32, generator=g), 1.0)
        with torch.no_grad():
            assert torch.equal(attn(hidden, encoder_hidden_states=packed), attn(hidden, encoder_hidden_states=clip))


def test_identity_processor_matches_hand_written_attention():
    """The processor against an explicit computation of main + normalised identity attention."""
    torch.manual_seed(0)
    attn = Attention(query_dim=16, cross_attention_dim=8, heads=2, dim_head=8, out_bias=True)
    proc = IdentityAttnProcessor(16, 8)
    attn.set_processor(proc)
    x, clip, ids = torch.randn(2, 5, 16), torch.randn(2, 1, 8), torch.randn(2, 3, 8)

    def mha(q, k, v):  # [B, L, 16] with 2 heads of 8
        q, k, v = (t.reshape(t.shape[0], t.shape[1], 2, 8).transpose(1, 2) for t in (q, k, v))
        w = torch.softmax(q @ k.transpose(-1, -2) / 8**0.5, dim=-1)
        return (w @ v).transpose(1, 2).reshape(q.shape[0], -1, 16)

    with torch.no_grad():
        q = attn.to_q(x)
        h = mha(q, attn.to_k(clip), attn.to_v(clip))
        i = mha(q, proc.id_to_k(ids), proc.id_to_v(ids))
        expected = attn.to_out[0](torch.from_numpy(reference_fuse(h, i, 0.8)).float())
        got = attn(x, encoder_hidden_states=pack_conditioning(clip, ids, 0.8))
    assert torch.allclose(got, expected, atol=1e-5)


def test_identity_processor_on_the_last_rows_matches_hand_written_attention():
    """Python alphas [0, 0.8]: row 0 is the plain attention, row 1 the hand-written fusion."""
    torch.manual_seed(1)
    attn = Attention(query_dim=16, cross_attention_dim=8, heads=2, dim_head=8, out_bias=True)
    attn.set_processor(IdentityAttnProcessor(16, 8))
    plain = Attention(query_dim=16, cross_attention_dim=8, heads=2, dim_head=8, out_bias=True)
    plain.load_state_dict(attn.state_dict(), strict=False)
    plain.set_processor(AttnProcessor2_0())
    x, clip, ids = torch.randn(2, 5, 16), torch.randn(2, 1, 8), torch.randn(2, 3, 8)
    with torch.no_grad():
        got = attn(x, encoder_hidden_states=pack_conditioning(clip, ids, [0.0, 0.8]))
        assert torch.equal(got[0], plain(x, encoder_hidden_states=clip)[0])
        alone = attn(x[1:], encoder_hidden_states=pack_conditioning(clip[1:], ids[1:], 0.8))
    assert torch.allclose(got[1], alone[0], atol=1e-6)


def test_processors_read_no_tensor_values():
    """No host-device synchronisation: the processors of the full-size UNet run on the meta device, where a tensor
    has no values to read (``bool(t)`` or ``t.item()`` raise there), with an A/B batch of packed conditioning."""
    unet = models.build("stableanimator", device="meta", with_vae=False, with_image_encoder=False).unet
    with torch.device("meta"):
        clip, ids = torch.randn(4, 1, 1024), torch.randn(4, 4, 1024)
    frames = 2
    for alpha in ([0.0, 0.0, 0.0, 1.0], torch.tensor([0.0, 1.0, 0.0, 1.0], device="meta")):
        rows = pack_conditioning(clip, ids, alpha).repeat_interleave(frames, dim=0)  # [B*F, 5, 1024 + E]
        checked = 0
        for name, attn in unet.named_modules():
            if isinstance(attn, Attention) and name.endswith("attn2"):
                if "temporal_transformer_blocks" in name:  # [B*H*W, F, C] against the first frame's context
                    hidden, context = torch.empty(4 * 6, frames, attn.to_q.in_features, device="meta"), rows[::2]
                    context = context.repeat_interleave(6, dim=0)
                else:  # [B*F, H*W, C]
                    hidden, context = torch.empty(4 * frames, 6, attn.to_q.in_features, device="meta"), rows
                with torch.no_grad():
                    out = attn(hidden, encoder_hidden_states=context)
                assert out.shape == hidden.shape and out.device.type == "meta"
                checked += 1
        assert checked == 32


def test_a_stock_processor_refuses_packed_conditioning():
    """Handed to diffusers' own processor, a packed sequence fails on its width instead of being read as keys."""
    attn = Attention(query_dim=16, cross_attention_dim=8, heads=2, dim_head=8)
    packed = pack_conditioning(torch.randn(2, 1, 8), torch.randn(2, 3, 8), 1.0)
    with pytest.raises(RuntimeError):
        attn(torch.randn(2, 5, 16), encoder_hidden_states=packed)


def test_check_identity_processors_names_replaced_layers():
    unet = models.build("tiny", seed=0, with_vae=False, with_image_encoder=False).unet
    check_identity_processors(unet)  # as built
    with pytest.raises(ValueError):  # diffusers refuses to reset non-stock processors itself
        unet.set_default_attn_processor()
    check_identity_processors(unet)
    spatial = next(n for n in unet.attn_processors if ".transformer_blocks." in n and n.endswith("attn2.processor"))
    temporal = next(n for n in unet.attn_processors if "temporal_transformer_blocks" in n and "attn2" in n)
    for name in (spatial, temporal):
        unet.get_submodule(name.removesuffix(".processor")).set_processor(AttnProcessor2_0())
        with pytest.raises(ValueError, match="replaced.*AttnProcessor2_0.*install_identity_processors"):
            check_identity_processors(unet)
        install_identity_processors(unet)
        check_identity_processors(unet)
    unet.set_attn_processor(AttnProcessor2_0())
    with pytest.raises(ValueError, match=r"\(8 layers"):
        check_identity_processors(unet)
