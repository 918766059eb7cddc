"""Cost of the identity branch in one UNet forward pass (CPU), measured side by side in one run.

Four variants share the same weights and inputs (a batch of 2 samples):
  stock     diffusers' own attention processors, CLIP token only (the plain SVD UNet)
  plain     our processors installed, CLIP token only (what alpha 0 packs: nothing)
  A/B       our processors, alphas [0, 1]: the identity branch on the second sample's rows only
  identity  our processors, alpha 1 on both (identity attention + fusion in all spatial cross-attentions)
Repetitions are interleaved (stock, plain, A/B, identity, stock, ...) so machine noise hits all alike; the
median per variant and the ratios to stock are printed. Goal: identity <= 1.10 x stock.

    python bench/identity_overhead.py [--reps 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import torch
from diffusers.models.attention_processor import AttnProcessor2_0

from dancegen import models
from dancegen.models.identity import pack_conditioning

# A mid-size config: three cross-attention levels like SVD, widths scaled down so one pass takes ~1 s on 2 cores.
MID = replace(models.PRESETS["tiny"], name="mid", unet=dict(
    sample_size=32, in_channels=8, out_channels=4, block_out_channels=[64, 128, 256, 256], layers_per_block=2,
    cross_attention_dim=256, num_attention_heads=[1, 2, 4, 4], transformer_layers_per_block=1,
    addition_time_embed_dim=64, projection_class_embeddings_input_dim=192, num_frames=8,
    down_block_types=["CrossAttnDownBlockSpatioTemporal"] * 3 + ["DownBlockSpatioTemporal"],
    up_block_types=["UpBlockSpatioTemporal"] + ["CrossAttnUpBlockSpatioTemporal"] * 3))

SETUPS = {"tiny": (models.PRESETS["tiny"], 2, 8, 16), "mid": (MID, 2, 8, 24)}  # preset, batch, frames, latent px


def bench(name: str, reps: int) -> dict[str, float]:
    preset, batch, frames, px = SETUPS[name]
    unet = models.build_unet(preset)
    unet.eval().requires_grad_(False)
    stock = models.build_unet(preset)
    stock.set_attn_processor(AttnProcessor2_0())
    stock.load_state_dict({k: v for k, v in unet.state_dict().items() if ".processor." not in k})
    stock.eval().requires_grad_(False)
    dim = preset.unet["cross_attention_dim"]
    g = torch.Generator().manual_seed(0)
    sample = torch.randn(batch, frames, 8, px, px, generator=g)
    clip, ids = torch.randn(batch, 1, dim, generator=g), torch.randn(batch, 4, dim, generator=g)
    added = torch.tensor([[6.0, 127.0, 0.02]]).repeat(batch, 1)
    variants = {
        "stock": (stock, clip),
        "plain": (unet, clip),
        "A/B": (unet, pack_conditioning(clip, ids, [0.0, 1.0])),
        "identity": (unet, pack_conditioning(clip, ids, 1.0)),
    }
    times: dict[str, list[float]] = {k: [] for k in variants}
    with torch.no_grad():
        for model, ehs in variants.values():  # warm-up
            model(sample, 10.0, ehs, added)
        for _ in range(reps):
            for key, (model, ehs) in variants.items():
                start = time.perf_counter()
                model(sample, 10.0, ehs, added)
                times[key].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    print(f"{'config':<6} {'stock s':>9} {'plain s':>9} {'A/B s':>9} {'ident s':>9} {'plain/stock':>12} "
          f"{'A/B/stock':>10} {'ident/stock':>12}")
    for name in SETUPS:
        m = bench(name, args.reps)
        print(f"{name:<6} {m['stock']:>9.4f} {m['plain']:>9.4f} {m['A/B']:>9.4f} {m['identity']:>9.4f} "
              f"{m['plain'] / m['stock']:>12.3f} {m['A/B'] / m['stock']:>10.3f} {m['identity'] / m['stock']:>12.3f}")


if __name__ == "__main__":
    main()
