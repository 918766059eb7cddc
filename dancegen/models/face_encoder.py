"""Face encoder: a 512-d face embedding -> N identity tokens in CLIP space (a small perceiver).

Weight names match StableAnimator's ``face_encoder.pth`` (``FusionFaceId``): ``proj``/``norm`` turn the embedding
into ``num_tokens`` latents, which then attend (``fusion_model``) to the projected CLIP image embedding and to
themselves, as in IP-Adapter's resampler.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class FaceEncoderConfig:
    id_dim: int = 512  # face embedding size (ArcFace)
    clip_dim: int = 1024  # CLIP image embedding size (context)
    dim: int = 1024  # token width (= the UNet's cross_attention_dim)
    num_tokens: int = 4  # identity tokens produced
    depth: int = 4  # perceiver layers
    heads: int = 16  # attention heads per layer
    dim_head: int = 64  # channels per head
    ff_mult: int = 4  # feed-forward expansion


class PerceiverAttention(nn.Module):
    """Latents attend to [context, latents]. Logits are scaled by dim_head**-0.5 (split over q and k)."""

    def __init__(self, dim: int, heads: int, dim_head: int):
        super().__init__()
        self.heads, self.dim_head = heads, dim_head
        inner = heads * dim_head
        self.norm1 = nn.LayerNorm(dim)  # on the context
        self.norm2 = nn.LayerNorm(dim)  # on the latents
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, inner * 2, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def forward(self, context: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        context, latents = self.norm1(context), self.norm2(latents)  # [B, Lc, D], [B, N, D]
        batch, n_latents, _ = latents.shape
        q = self.to_q(latents)  # [B, N, inner]
        k, v = self.to_kv(torch.cat([context, latents], dim=1)).chunk(2, dim=-1)  # [B, Lc + N, inner] each

        def heads(x: torch.Tensor) -> torch.Tensor:  # [B, L, inner] -> [B, heads, L, dim_head]
            return x.reshape(batch, -1, self.heads, self.dim_head).transpose(1, 2)

        scale = self.dim_head**-0.25
        weight = (heads(q) * scale) @ (heads(k) * scale).transpose(-2, -1)  # [B, heads, N, Lc + N]
        weight = torch.softmax(weight.float(), dim=-1).to(weight.dtype)
        out = (weight @ heads(v)).transpose(1, 2).reshape(batch, n_latents, -1)  # [B, N, inner]
        return self.to_out(out)


def _feed_forward(dim: int, mult: int) -> nn.Sequential:
    return nn.Sequential(
        nn.LayerNorm(dim), nn.Linear(dim, dim * mult, bias=False), nn.GELU(), nn.Linear(dim * mult, dim, bias=False)
    )


class FacePerceiver(nn.Module):
    def __init__(self, cfg: FaceEncoderConfig):
        super().__init__()
        self.proj_in = nn.Linear(cfg.clip_dim, cfg.dim)
        self.layers = nn.ModuleList(
            nn.ModuleList([PerceiverAttention(cfg.dim, cfg.heads, cfg.dim_head), _feed_forward(cfg.dim, cfg.ff_mult)])
            for _ in range(cfg.depth)
        )
        self.proj_out = nn.Linear(cfg.dim, cfg.dim)
        self.norm_out = nn.LayerNorm(cfg.dim)

    def forward(self, latents: torch.Tensor, clip_embeds: torch.Tensor) -> torch.Tensor:
        context = self.proj_in(clip_embeds)  # [B, Lc, D]
        for attn, ff in self.layers:
            latents = attn(context, latents) + latents  # [B, N, D]
            latents = ff(latents) + latents
        return self.norm_out(self.proj_out(latents))


class FaceEncoder(nn.Module):
    """``forward(id_embeds [B, 512], clip_embeds [B, Lc, clip_dim]) -> [B, num_tokens, dim]``."""

    def __init__(self, cfg: FaceEncoderConfig = FaceEncoderConfig()):
        super().__init__()
        self.cfg = cfg
        self.proj = nn.Sequential(
            nn.Linear(cfg.id_dim, cfg.dim), nn.GELU(), nn.Linear(cfg.dim, cfg.dim * cfg.num_tokens)
        )
        self.norm = nn.LayerNorm(cfg.dim)
        self.fusion_model = FacePerceiver(cfg)

    @property
    def device(self) -> torch.device:  # diffusers pipelines ask every component for these
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def forward(self, id_embeds: torch.Tensor, clip_embeds: torch.Tensor) -> torch.Tensor:
        latents = self.proj(id_embeds).reshape(-1, self.cfg.num_tokens, self.cfg.dim)  # [B, N, D]
        return self.fusion_model(self.norm(latents), clip_embeds)  # [B, N, D]
