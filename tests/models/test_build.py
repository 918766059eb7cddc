"""Building the presets: seeded tiny weights, the face encoder and pose net against explicit code, and the full-size
models end to end in bfloat16 on the CPU."""

import json

import torch

from dancegen import models
from dancegen.models.face_encoder import FaceEncoder, FaceEncoderConfig
from dancegen.models.pose_net import PoseConvIn, PoseNet


def test_tiny_preset_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = models.build("tiny", seed=1)
    after = torch.rand(1)
    b = models.build("tiny", seed=1)
    c = models.build("tiny", seed=2)
    assert torch.equal(before, after)
    sa, sb, sc = a.unet.state_dict(), b.unet.state_dict(), c.unet.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["conv_in.weight"], sc["conv_in.weight"])


def test_face_encoder_matches_explicit_perceiver():
    cfg = FaceEncoderConfig(clip_dim=24, dim=16, num_tokens=3, depth=2, heads=2, dim_head=8, ff_mult=2)
    torch.manual_seed(0)
    enc = FaceEncoder(cfg).eval()
    face, clip = torch.randn(2, 512) * 20, torch.randn(2, 1, 24)  # raw ArcFace norms are large
    out = enc(face, clip)
    assert out.shape == (2, 3, 16)

    with torch.no_grad():  # the same computation written out step by step
        lat = enc.norm(enc.proj(face).reshape(2, 3, 16))
        ctx = enc.fusion_model.proj_in(clip)
        for attn, ff in enc.fusion_model.layers:
            x, l_ = attn.norm1(ctx), attn.norm2(lat)
            q = attn.to_q(l_)
            kv = attn.to_kv(torch.cat([x, l_], 1))
            k, v = kv[..., :16], kv[..., 16:]
            outs = []
            for h in range(2):
                sl = slice(8 * h, 8 * h + 8)
                w = torch.softmax(q[..., sl] @ k[..., sl].transpose(1, 2) / 8**0.5, -1)
                outs.append(w @ v[..., sl])
            lat = attn.to_out(torch.cat(outs, -1)) + lat
            lat = ff(lat) + lat
        expected = enc.fusion_model.norm_out(enc.fusion_model.proj_out(lat))
    assert torch.allclose(out, expected, atol=1e-5)


def test_pose_net_shapes_and_conv_in_residual():
    net = PoseNet(out_channels=32)
    poses = torch.rand(2, 3, 3, 64, 48) * 2 - 1  # [B, F, 3, H, W]
    feats = net(poses)
    assert feats.shape == (6, 32, 8, 6)
    conv = torch.nn.Conv2d(8, 32, 3, padding=1)
    wrapped = PoseConvIn.replace(conv)
    assert wrapped.weight is conv.weight
    x = torch.randn(6, 8, 8, 6)
    with torch.no_grad():
        assert torch.equal(wrapped(x), conv(x))
        assert torch.allclose(wrapped(torch.cat([x, feats], 1)), conv(x) + feats)


FULL_SIZE_SCRIPT = """
import json, resource
import numpy as np, PIL.Image, torch
from dancegen import models
from dancegen.pipeline import DancePipeline
m = models.build("stableanimator", dtype=torch.bfloat16)
built_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
params = sum(p.numel() for mod in m.modules().values() for p in mod.parameters())
dtypes = sorted({str(p.dtype) for mod in m.modules().values() for p in mod.parameters()})
pipe = DancePipeline.from_models(m)
pipe.set_progress_bar_config(disable=True)
rng = np.random.default_rng(0)
ref = PIL.Image.fromarray(rng.integers(0, 255, (80, 64, 3), dtype=np.uint8))
poses = [rng.integers(0, 255, (64, 64, 3), dtype=np.uint8) for _ in range(2)]
face = rng.normal(size=512).astype(np.float32) * 20
out = pipe(ref, poses, face, num_inference_steps=1, tile_frames=2, tile_overlap=1, decode_chunk_size=2)
v = out.videos
print(json.dumps({"params": params, "dtypes": dtypes, "built_rss": built_rss,
                  "shapes": {k: list(x.shape) for k, x in v.items()}, "std": float(v["identity"].std()),
                  "diff": float(np.abs(v["baseline"].astype(int) - v["identity"]).mean())}))
"""


def test_full_size_random_weights_generate_in_bfloat16_on_the_cpu():
    """The real preset's sizes end to end (ViT-H CLIP -> 1024-d tokens, SVD-xt UNet, full VAE), 2.2 B random
    parameters in bf16, on a 64 x 64 canvas, two frames (one window: the windows are the tiny tests' business; a
    CPU without bf16 instructions, AVX2 only, decodes bf16 frames slowly, ~70 s a frame): what a GPU run does minus
    the kernels. Built one module at a time, so
    the float32 copies of all modules never coexist (peak well under their 8.9 GB)."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", FULL_SIZE_SCRIPT], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["params"] > 2.1e9 and report["dtypes"] == ["torch.bfloat16"]
    assert report["built_rss"] < 0.8 * report["params"] * 4
    assert report["shapes"] == {"baseline": [2, 64, 64, 3], "identity": [2, 64, 64, 3]}
    assert report["std"] > 1 and report["diff"] > 0.5  # real frames, and the identity branch changes them
