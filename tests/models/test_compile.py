"""torch.compile with the identity processors (CPU, tiny preset): one graph, no break in our code, eager's numbers.

Inductor needs minutes to compile the whole tiny UNet on two CPU cores, so the UNet is traced by dynamo (graph
breaks) and compiled with the ``aot_eager`` backend (dynamo + AOTAutograd, eager kernels), and inductor compiles
single cross-attention layers with our processors.
"""

from pathlib import Path

import pytest
import torch
from diffusers.models.attention_processor import Attention

from dancegen import models
from dancegen.models import identity
from dancegen.models.identity import ClipOnlyAttnProcessor, IdentityAttnProcessor, pack_conditioning

IDENTITY_PY = str(Path(identity.__file__).resolve())


@pytest.fixture(scope="module")
def tiny():
    return models.build("tiny", seed=0, with_vae=False, with_image_encoder=False)


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def unet_inputs(alpha, batch=2, frames=3):
    g = torch.Generator().manual_seed(0)
    sample = torch.randn(batch, frames, 8, 8, 8, generator=g)  # [B, F, 4 noisy + 4 reference, h, w]
    clip, ids = torch.randn(batch, 1, 32, generator=g), torch.randn(batch, 4, 32, generator=g)
    added = torch.tensor([[6.0, 127.0, 0.02]]).repeat(batch, 1)
    return sample, pack_conditioning(clip, ids, alpha), added


def test_the_unet_with_packed_conditioning_is_one_graph(tiny):
    """Alpha as a tensor (identity attention on every row); alpha as a list (the last rows only) is traced with
    fullgraph=True by test_the_compiled_unet_gives_eagers_output, which fails on any graph break."""
    sample, states, added = unet_inputs(torch.tensor([0.0, 1.0]))
    with torch.no_grad():
        explained = torch._dynamo.explain(tiny.unet)(sample, 10.0, encoder_hidden_states=states,
                                                     added_time_ids=added)
    ours = [b.reason for b in explained.break_reasons
            if any(Path(frame.filename).resolve() == Path(IDENTITY_PY) for frame in b.user_stack)]
    assert ours == []
    # With diffusers 0.42.1 and torch 2.13 nothing breaks the graph anywhere.
    assert explained.graph_break_count == 0, [b.reason for b in explained.break_reasons]
    assert explained.graph_count == 1


def test_the_compiled_unet_gives_eagers_output(tiny):
    sample, states, added = unet_inputs([0.0, 1.0])
    compiled = torch.compile(tiny.unet, backend="aot_eager", fullgraph=True, dynamic=False)
    with torch.no_grad():
        eager = tiny.unet(sample, 10.0, encoder_hidden_states=states, added_time_ids=added).sample
        got = compiled(sample, 10.0, encoder_hidden_states=states, added_time_ids=added).sample
        plain = tiny.unet(sample, 10.0, encoder_hidden_states=states[:, :1, :32], added_time_ids=added).sample
    torch.testing.assert_close(got, eager, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got[0], plain[0], rtol=1e-5, atol=1e-5)  # the baseline sample: the plain UNet's
    assert not torch.allclose(got[1], plain[1], atol=1e-4)  # the identity sample: changed by the branch


def test_inductor_compiles_our_cross_attention_processors(tiny):
    """Inductor (C++ codegen) on one spatial and one temporal cross-attention layer, fullgraph: eager's numbers."""
    layers = {name: m for name, m in tiny.unet.named_modules() if isinstance(m, Attention) and name.endswith("attn2")}
    spatial = next(m for n, m in layers.items() if isinstance(m.processor, IdentityAttnProcessor))
    temporal = next(m for n, m in layers.items() if isinstance(m.processor, ClipOnlyAttnProcessor))
    g = torch.Generator().manual_seed(1)
    states = pack_conditioning(torch.randn(2, 1, 32, generator=g), torch.randn(2, 4, 32, generator=g), [0.0, 1.0])
    frames, pixels = 3, 16
    cases = [  # (layer, hidden states, its context as the UNet hands it over)
        (spatial, torch.randn(2 * frames, pixels, spatial.to_q.in_features, generator=g),
         states.repeat_interleave(frames, dim=0)),  # [B*F, HW, C], [B*F, 5, 32 + 2]
        (temporal, torch.randn(2 * pixels, frames, temporal.to_q.in_features, generator=g),
         states.repeat_interleave(pixels, dim=0)),  # [B*HW, F, C], [B*HW, 5, 32 + 2]
    ]
    for layer, hidden, context in cases:
        compiled = torch.compile(layer, fullgraph=True, dynamic=False)
        with torch.no_grad():
            torch.testing.assert_close(compiled(hidden, encoder_hidden_states=context),
                                       layer(hidden, encoder_hidden_states=context), rtol=1e-5, atol=1e-5)
