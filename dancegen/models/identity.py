"""The identity-attention branch: distribution-matched fusion and the attention processors that carry it.

In every spatial cross-attention (``attn2`` of the spatial transformer blocks) the identity tokens are split off
the conditioning sequence and attended to with the *same* query through their own key/value projections
(``id_to_k`` / ``id_to_v``). That output ``i`` is matched to the main output ``h`` in mean and std and added:

    h + alpha * ((i - mean_i) * std_h / (std_i + eps) + mean_h)

before the layer's output projection. Temporal transformer blocks never see identity tokens.

How per-call settings reach the processors
------------------------------------------
diffusers' ``UNetSpatioTemporalConditionModel.forward`` has no ``cross_attention_kwargs``, so the only per-call
channel into its attention layers is ``encoder_hidden_states`` itself. :func:`pack_conditioning` therefore lays
the conditioning out as

    [clip tokens (n_clip) | identity tokens (N) | alpha row (1)]        # [B, n_clip + N + 1, C]

where the alpha row holds the per-sample fusion weight in every channel. The processors read N from the
sequence length and alpha from that row, so nothing is stored on the model between calls, one batch can hold a
baseline sample (alpha 0) beside an identity sample, and a plain ``[B, n_clip, C]`` sequence means "no identity".
"""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from torch import nn

# Processor names (keys of ``unet.attn_processors``) of the layers that get each processor.
SPATIAL_CROSS_ATTN = re.compile(r"\.transformer_blocks\.\d+\.attn2\.processor$")
TEMPORAL_CROSS_ATTN = re.compile(r"\.temporal_transformer_blocks\.\d+\.attn2\.processor$")


def fuse(h: torch.Tensor, i: torch.Tensor, alpha: float | torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Add the identity output ``i`` to the main output ``h`` after matching its per-sample mean and std.

    h, i: [B, L, C]. Statistics are per sample over L and C together; std is torch.std's default (unbiased).
    alpha: a float, or a [B] tensor (per-sample weight). eps is added to std_i only.
    """
    std_h, mean_h = torch.std_mean(h, dim=(1, 2), keepdim=True)  # [B, 1, 1] each
    std_i, mean_i = torch.std_mean(i, dim=(1, 2), keepdim=True)
    scale = std_h / (std_i + eps)  # [B, 1, 1]
    if torch.is_tensor(alpha):
        alpha = alpha.to(h.dtype).reshape(-1, 1, 1)  # [B, 1, 1]
    # h + alpha * ((i - mean_i) * scale + mean_h), with the per-sample factors folded first so the full-size
    # tensors are touched three times; i is centred before scaling (no cancellation when std_i is tiny).
    return torch.addcmul(h + alpha * mean_h, i - mean_i, alpha * scale)  # [B, L, C]


def pack_conditioning(
    clip_tokens: torch.Tensor, id_tokens: torch.Tensor | None = None, alpha: float | torch.Tensor = 1.0
) -> torch.Tensor:
    """Lay out the UNet's ``encoder_hidden_states`` (see the module docstring).

    clip_tokens: [B, n_clip, C]; id_tokens: [B, N, C] or None; alpha: float or [B].
    Returns [B, n_clip, C] without identity tokens, else [B, n_clip + N + 1, C].
    """
    if id_tokens is None or id_tokens.shape[1] == 0:
        return clip_tokens
    batch, _, channels = clip_tokens.shape
    alpha = torch.as_tensor(alpha, dtype=clip_tokens.dtype, device=clip_tokens.device)
    alpha_row = alpha.reshape(-1, 1, 1).expand(batch, 1, channels)  # [B, 1, C]
    return torch.cat([clip_tokens, id_tokens.to(clip_tokens.dtype), alpha_row], dim=1)


def split_conditioning(
    encoder_hidden_states: torch.Tensor, num_clip_tokens: int
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Inverse of :func:`pack_conditioning`: ([B, n_clip, C], [B, N, C] or None, alpha [B] or None)."""
    if encoder_hidden_states.shape[1] <= num_clip_tokens:
        return encoder_hidden_states, None, None
    clip = encoder_hidden_states[:, :num_clip_tokens].contiguous()  # contiguous: same GEMM path as unpacked input
    id_tokens = encoder_hidden_states[:, num_clip_tokens:-1].contiguous()
    alpha = encoder_hidden_states[:, -1, 0]
    return clip, (id_tokens if id_tokens.shape[1] > 0 else None), alpha


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
        context, id_tokens, alpha = split_conditioning(encoder_hidden_states, self.num_clip_tokens)
        if attn.norm_cross:
            context = attn.norm_encoder_hidden_states(context)

        query = attn.to_q(hidden_states)  # [B*F, HW, C]
        out = _attend(attn, query, attn.to_k(context), attn.to_v(context))  # h: [B*F, HW, C]
        if id_tokens is not None and bool((alpha != 0).any()):
            identity = _attend(attn, query, self.id_to_k(id_tokens), self.id_to_v(id_tokens))  # i: [B*F, HW, C]
            fused = fuse(out, identity, alpha, self.eps)
            # Samples with alpha 0 keep the main output untouched, bit for bit.
            out = torch.where((alpha == 0).reshape(-1, 1, 1), out, fused)

        out = attn.to_out[0](out)
        out = attn.to_out[1](out)
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor


class ClipOnlyAttnProcessor:
    """Temporal cross-attention: drops identity tokens and the alpha row, then attends as diffusers does.

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
        if encoder_hidden_states is not None and encoder_hidden_states.shape[1] > self.num_clip_tokens:
            encoder_hidden_states = encoder_hidden_states[:, : self.num_clip_tokens].contiguous()
        return self.inner(attn, hidden_states, encoder_hidden_states, attention_mask, temb)


def install_identity_processors(unet: nn.Module, num_clip_tokens: int = 1, init_from_main: bool = True) -> list[str]:
    """Put IdentityAttnProcessor on every spatial attn2 and ClipOnlyAttnProcessor on every temporal attn2.

    Self-attentions keep their processors. With ``init_from_main`` the identity projections start as copies of the
    layer's ``to_k`` / ``to_v`` (how StableAnimator initialised training); skipped on the meta device.
    Returns the names of the layers that got an identity branch.
    """
    processors = dict(unet.attn_processors)
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
