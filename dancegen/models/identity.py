"""The identity-attention branch: distribution-matched fusion and the attention processors that carry it.

In every spatial cross-attention (``attn2`` of the spatial transformer blocks) the identity tokens are split off
the conditioning sequence and attended to with the *same* query through their own key/value projections
(``id_to_k`` / ``id_to_v``). That output ``i`` is matched to the main output ``h`` in mean and std and added:

    h + alpha * ((i - mean_i) * std_h / (std_i + eps) + mean_h)

before the layer's output projection, with mean and std taken per sample and frame (the layer's rows are
[B*F, HW, C]: each frame is matched on its own statistics, over its HW tokens and C channels together). Temporal
transformer blocks never see identity tokens.

How per-call settings reach the processors
------------------------------------------
diffusers' ``UNetSpatioTemporalConditionModel.forward`` has no ``cross_attention_kwargs``, so the only per-call
channel into its attention layers is ``encoder_hidden_states`` itself. :func:`pack_conditioning` lays it out as

    tokens:   [clip tokens (n_clip) | identity tokens (N)]
    channels: [token channels (C) | alpha (E extra channels, E >= 1)]      # [B, n_clip + N, C + E]

What the processors need is either a shape, read on the host for free, or a tensor operand never read there:

- N = sequence length - n_clip, and E = width - C (C: the layer's ``cross_attention_dim``). The identity branch
  runs on the **last B / E samples** only; every sample before them has alpha 0 and gets the plain attention
  without any identity work. :func:`pack_conditioning` picks E from Python alphas (the pipeline orders its
  batches so the identity sample comes last); with a tensor of alphas it cannot look, and E = 1.
- alpha, in the extra channels (the same value in each), is the per-sample fusion weight. It only ever enters
  tensor arithmetic, so no layer synchronises with the device; a sample in the branch's rows with alpha 0 still
  gets exactly the plain attention (``torch.where``), bit for bit.

The UNet repeats the conditioning per frame, so the processors see [B*F, L, C + E] rows, sample-major: the last
B / E samples are the last rows / E rows. A plain ``[B, n_clip, C]`` sequence means "no identity"; nothing is
stored on the model between calls. A stock diffusers processor handed a packed sequence fails on its width
instead of reading the identity tokens and alpha as keys, and the pipeline checks the processors before each
call that packs (:func:`check_identity_processors`).
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from torch import nn

# Processor names (keys of ``unet.attn_processors``) of the layers that get each processor.
SPATIAL_CROSS_ATTN = re.compile(r"\.transformer_blocks\.\d+\.attn2\.processor$")
TEMPORAL_CROSS_ATTN = re.compile(r"\.temporal_transformer_blocks\.\d+\.attn2\.processor$")


def fuse(h: torch.Tensor, i: torch.Tensor, alpha: float | torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Add the identity output ``i`` to the main output ``h`` after matching its per-row mean and std.

    h, i: [R, L, C]. Statistics are per row over L and C together; inside the UNet a row is one frame of one sample
    ([B*F, HW, C]), so every frame is matched on its own statistics. std is torch.std's default (unbiased).
    alpha: a float, or a [R] tensor (per-row weight). eps is added to std_i only.
    Returns [R, L, C].
    """
    std_h, mean_h = torch.std_mean(h, dim=(1, 2), keepdim=True)  # [R, 1, 1] each: per sample and frame
    std_i, mean_i = torch.std_mean(i, dim=(1, 2), keepdim=True)
    scale = std_h / (std_i + eps)  # [R, 1, 1]
    if torch.is_tensor(alpha):
        alpha = alpha.to(h.dtype).reshape(-1, 1, 1)  # [R, 1, 1]
    # h + alpha * ((i - mean_i) * scale + mean_h), with the per-row factors folded first so the full-size
    # tensors are touched three times; i is centred before scaling (no cancellation when std_i is tiny).
    return torch.addcmul(h + alpha * mean_h, i - mean_i, alpha * scale)  # [R, L, C]


def identity_parts(alphas: Sequence[float]) -> int:
    """E for :func:`pack_conditioning`: the most equal parts the batch splits into with every non-zero alpha in the
    last part (1 when the first sample has one; 0 when every alpha is 0)."""
    batch = len(alphas)
    if not any(alphas):
        return 0
    return max(e for e in range(1, batch + 1) if batch % e == 0 and not any(alphas[: batch - batch // e]))


def pack_conditioning(
    clip_tokens: torch.Tensor, id_tokens: torch.Tensor | None = None,
    alpha: float | Sequence[float] | torch.Tensor = 1.0,
) -> torch.Tensor:
    """Lay out the UNet's ``encoder_hidden_states`` (see the module docstring).

    clip_tokens: [B, n_clip, C]; id_tokens: [B, N, C] or None.
    alpha: a float (every sample), B Python floats, or a [B] tensor (its values are not read: E = 1).
    Returns [B, n_clip, C] without identity tokens or when every (Python) alpha is 0, else [B, n_clip + N, C + E].
    """
    if id_tokens is None or id_tokens.shape[1] == 0:
        return clip_tokens
    batch, _, channels = clip_tokens.shape
    if torch.is_tensor(alpha):
        parts = 1
    else:
        alpha = [float(alpha)] * batch if isinstance(alpha, numbers.Real) else [float(a) for a in alpha]
        parts = identity_parts(alpha)
        if parts == 0:
            return clip_tokens  # alpha 0 everywhere: the identity tokens would reach nothing
    alpha = torch.as_tensor(alpha, dtype=clip_tokens.dtype, device=clip_tokens.device)
    tokens = torch.cat([clip_tokens, id_tokens.to(clip_tokens.dtype)], dim=1)  # [B, n_clip + N, C]
    alpha_channels = alpha.reshape(-1, 1, 1).expand(batch, tokens.shape[1], parts)  # [B, n_clip + N, E]
    return torch.cat([tokens, alpha_channels], dim=2)  # [B, n_clip + N, C + E]


class Packed(NamedTuple):
    """:func:`split_conditioning`'s parts. R rows (B, or B*F inside the UNet); the branch's rows are start..R-1."""

    context: torch.Tensor  # [R, n_clip, C]: what the main attention sees, for every row
    id_tokens: torch.Tensor | None  # [R - start, N, C], or None without identity tokens
    alpha: torch.Tensor | None  # [R - start]
    start: int  # first row of the identity branch (rows before it have alpha 0)


def clip_context(encoder_hidden_states: torch.Tensor, num_clip_tokens: int, channels: int) -> torch.Tensor:
    """The CLIP tokens alone: [R, n_clip, C] (the input itself when it is not packed)."""
    if encoder_hidden_states.shape[-1] == channels:
        return encoder_hidden_states
    # contiguous: the same GEMM path as an unpacked input, so alpha-0 rows match the plain attention bit for bit
    return encoder_hidden_states[:, :num_clip_tokens, :channels].contiguous()


def split_conditioning(encoder_hidden_states: torch.Tensor, num_clip_tokens: int, channels: int) -> Packed:
    """Inverse of :func:`pack_conditioning`; ``channels`` is C. Reads shapes only, never values."""
    rows, _, width = encoder_hidden_states.shape
    context = clip_context(encoder_hidden_states, num_clip_tokens, channels)
    if width == channels:
        return Packed(context, None, None, rows)
    parts = width - channels  # E
    if rows % parts:
        raise ValueError(f"packed conditioning of {rows} rows cannot hold {parts} equal parts")
    start = rows - rows // parts
    id_tokens = encoder_hidden_states[start:, num_clip_tokens:, :channels].contiguous()  # [R - start, N, C]
    alpha = encoder_hidden_states[start:, 0, channels]  # [R - start]
    return Packed(context, id_tokens if id_tokens.shape[1] > 0 else None, alpha, start)


def _attend(attn: Attention, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """Multi-head SDPA exactly as diffusers' AttnProcessor2_0 does it. [B, Lq, C] x [B, Lk, C] -> [B, Lq, C]."""
    batch = query.shape[0]
    head_dim = key.shape[-1] // attn.heads
    query = query.view(batch, -1, attn.heads, head_dim).transpose(1, 2)  # [B, heads, Lq, d]
    key = key.view(batch, -1, attn.heads, head_dim).transpose(1, 2)  # [B, heads, Lk, d]
    value = value.view(batch, -1, attn.heads, head_dim).transpose(1, 2)
    out = F.scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False)
    return out.transpose(1, 2).reshape(batch, -1, attn.heads * head_dim).to(query.dtype)  # [B, Lq, C]


class IdentityAttnProcessor(nn.Module):
    """Spatial cross-attention with the identity branch. Owns only ``id_to_k`` and ``id_to_v``.

    Weight names match StableAnimator's checkpoints (``...attn2.processor.id_to_k.weight``).
    """

    def __init__(self, hidden_size: int, cross_attention_dim: int, num_clip_tokens: int = 1, eps: float = 1e-5):
        super().__init__()
        self.num_clip_tokens = num_clip_tokens  # leading CLIP tokens in encoder_hidden_states
        self.eps = eps  # added to std_i in fuse()
        self.id_to_k = nn.Linear(cross_attention_dim, hidden_size, bias=False)
        self.id_to_v = nn.Linear(cross_attention_dim, hidden_size, bias=False)

    def forward(
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if attention_mask is not None or attn.group_norm is not None or attn.spatial_norm is not None:
            raise ValueError("IdentityAttnProcessor supports the SVD spatial cross-attention layout only")
        if encoder_hidden_states is None or hidden_states.ndim != 3:
            raise ValueError("IdentityAttnProcessor expects [B, L, C] hidden states and encoder_hidden_states")
        residual = hidden_states
        context, id_tokens, alpha, start = split_conditioning(encoder_hidden_states, self.num_clip_tokens,
                                                              self.id_to_k.in_features)
        if attn.norm_cross:
            context = attn.norm_encoder_hidden_states(context)

        query = attn.to_q(hidden_states)  # [B*F, HW, C]
        out = _attend(attn, query, attn.to_k(context), attn.to_v(context))  # h: [B*F, HW, C]
        if id_tokens is not None:
            # Only the branch's rows (the last (B / E) * F): the samples before them have alpha 0.
            h = out[start:]  # [R', HW, C]
            identity = _attend(attn, query[start:], self.id_to_k(id_tokens), self.id_to_v(id_tokens))  # i
            fused = fuse(h, identity, alpha, self.eps)
            # A sample with alpha 0 among them keeps the main output untouched, bit for bit.
            fused = torch.where((alpha == 0).reshape(-1, 1, 1), h, fused)
            out = fused if start == 0 else torch.cat([out[:start], fused])  # [B*F, HW, C]

        out = attn.to_out[0](out)
        out = attn.to_out[1](out)
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor


class ClipOnlyAttnProcessor:
    """Temporal cross-attention: drops identity tokens and alpha, then attends exactly as diffusers does.

    Has no weights (so adds no state_dict keys), exactly like the stock processor it wraps.
    """

    def __init__(self, num_clip_tokens: int = 1):
        self.num_clip_tokens = num_clip_tokens  # leading CLIP tokens in encoder_hidden_states
        self.inner = AttnProcessor2_0()

    def __call__(
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if encoder_hidden_states is not None:  # [B*H*W, L, C + E] -> [B*H*W, n_clip, C]
            encoder_hidden_states = clip_context(encoder_hidden_states, self.num_clip_tokens, attn.to_k.in_features)
        return self.inner(attn, hidden_states, encoder_hidden_states, attention_mask, temb)


def check_zero_context_gives_zero(attn: Attention, layer: str) -> None:
    """Raise ValueError unless all-zero conditioning tokens give this cross-attention a zero output before
    ``to_out``: no bias on ``to_v`` and no cross-attention norm (SVD's attn2 has neither).

    The unconditional pass feeds zero CLIP and face tokens, so the main output h is 0 and the branch adds
    alpha * mean_h = 0: the identity sample's unconditional prediction is the baseline's (the same as running it
    with alpha 0). A bias, or a norm with a bias, would make h non-zero there and break that equality."""
    if attn.to_v.bias is not None:
        raise ValueError(f"{layer}: to_v has a bias, so zero conditioning tokens no longer give a zero attention "
                         "output; the identity branch needs an SVD-style attn2 (to_v without bias)")
    if attn.norm_cross is not None:
        raise ValueError(f"{layer}: a cross-attention norm (norm_cross {type(attn.norm_cross).__name__}) maps zero "
                         "conditioning tokens to non-zero ones; the identity branch needs an SVD-style attn2 "
                         "(cross_attention_norm=None)")


def install_identity_processors(unet: nn.Module, num_clip_tokens: int = 1, init_from_main: bool = True) -> list[str]:
    """Put IdentityAttnProcessor on every spatial attn2 and ClipOnlyAttnProcessor on every temporal attn2.

    Self-attentions keep their processors. With ``init_from_main`` the identity projections start as copies of the
    layer's ``to_k`` / ``to_v`` (how StableAnimator initialised training); skipped on the meta device.
    Every spatial attn2 is checked first (:func:`check_zero_context_gives_zero`: ValueError naming the layer for a
    base whose attn2 has a ``to_v`` bias or a cross-attention norm); nothing is installed when one fails.
    Returns the names of the layers that got an identity branch.
    """
    processors = dict(unet.attn_processors)
    for name in processors:
        if SPATIAL_CROSS_ATTN.search(name):
            layer = name.removesuffix(".processor")
            check_zero_context_gives_zero(unet.get_submodule(layer), layer)
    identity_layers = []
    for name in processors:
        if SPATIAL_CROSS_ATTN.search(name):
            attn = unet.get_submodule(name.removesuffix(".processor"))
            weight = attn.to_k.weight  # [hidden, cross_dim]
            with torch.device(weight.device):
                processor = IdentityAttnProcessor(attn.to_q.weight.shape[0], weight.shape[1], num_clip_tokens)
            processor.to(dtype=weight.dtype)
            if init_from_main and weight.device.type != "meta":
                with torch.no_grad():
                    processor.id_to_k.weight.copy_(attn.to_k.weight)
                    processor.id_to_v.weight.copy_(attn.to_v.weight)
            processors[name] = processor
            identity_layers.append(name)
        elif TEMPORAL_CROSS_ATTN.search(name):
            processors[name] = ClipOnlyAttnProcessor(num_clip_tokens)
    unet.set_attn_processor(processors)
    return identity_layers


def check_identity_processors(unet: nn.Module) -> None:
    """Raise ValueError unless every cross-attention of the UNet can read packed conditioning.

    Spatial attn2 layers need an IdentityAttnProcessor and temporal ones a ClipOnlyAttnProcessor; anything else
    (after ``unet.set_attn_processor(AttnProcessor2_0())`` or ``enable_xformers_memory_efficient_attention()``)
    would take the packed identity tokens and alpha for keys. Checks Python objects only.
    """
    wrong = [name for name, proc in unet.attn_processors.items()
             if (SPATIAL_CROSS_ATTN.search(name) and not isinstance(proc, IdentityAttnProcessor))
             or (TEMPORAL_CROSS_ATTN.search(name) and not isinstance(proc, ClipOnlyAttnProcessor))]
    if wrong:
        kinds = sorted({type(unet.attn_processors[name]).__name__ for name in wrong})
        raise ValueError(
            f"the UNet's cross-attention processors were replaced ({len(wrong)} layers now use "
            f"{', '.join(kinds)}, e.g. {wrong[0].removesuffix('.processor')}): identity tokens cannot be packed for "
            "them. Call dancegen.models.identity.install_identity_processors(unet) again (and reload the identity "
            "weights, which the replacement dropped), or run without the identity branch (mode='baseline')")
