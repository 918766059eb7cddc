"""Training benchmark: seconds per optimiser step and peak memory of ``dancegen train``'s step, measured here.

Each configuration runs in a fresh process (so its peak memory is its own) through the trainer's own pieces
(Accelerate, the networks set up as ``dancegen train`` sets them up, :func:`dancegen.train.trainer.optimiser_step`)
on a synthetic batch (random frames, a standing skeleton, a face box), after warm-up steps:

1. tiny preset on the CPU: the tests' 64 x 64 x 4 frames and the preset's own 128 x 128 x 8 frames, float32;
2. with a CUDA GPU: the full-size model (StableAnimator's shapes, random weights) at 512 x 512 x 16 frames in bf16
   with gradient checkpointing (the default parts: face encoder + identity projections; and with the UNet's
   attention layers and the pose net too, as StableAnimator trains), peak VRAM from torch.cuda.

    python bench/train.py [--steps 3] [--out results.json]
    python bench/train.py --device cpu --preset tiny --size 64 64 --frames 4 --steps 1   # section 2's code, on the
                                                                                         # CPU (a check, no figure)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def synthetic_batches(frames: int, size: tuple[int, int], seed: int = 0):
    """Endless batches of one sample shaped as dancegen.train.data.ClipDataset gives them."""
    import numpy as np
    import torch

    from dancegen.pose.render import render_whole_body

    sys.path.insert(0, str(ROOT / "tests"))
    from support.clips import STANDING

    width, height = size
    pose = STANDING * np.array([width / 96, height / 96], np.float32)
    skeleton = torch.from_numpy(render_whole_body(pose, width, height)).permute(2, 0, 1).float() / 127.5 - 1
    generator = torch.Generator().manual_seed(seed)
    mask = torch.zeros((frames, 1, height, width))
    mask[:, :, height // 8 : height // 3, width // 3 : 2 * width // 3] = 1
    position = 0
    while True:
        yield {"pixels": torch.rand((1, frames, 3, height, width), generator=generator) * 2 - 1,
               "reference": torch.rand((1, 3, height, width), generator=generator) * 2 - 1,
               "poses": skeleton.expand(1, frames, -1, -1, -1).clone(), "face_mask": mask[None],
               "embedding": torch.randn((1, 512), generator=generator) * 20,
               "position": torch.tensor([position]), "seed": torch.tensor([position + 1])}
        position += 1


def measure(config: dict) -> dict:
    """One configuration, in this process: build, warm up, time ``steps`` optimiser steps."""
    import torch

    from dancegen.config import TrainSettings
    from dancegen.models import build, get_preset
    from dancegen.train.trainer import make_accelerator, optimiser_step, setup_networks

    settings = TrainSettings(preset=config["preset"], device=config["device"], frames=config["frames"],
                             size=tuple(config["size"]), mixed_precision=config["mixed_precision"],
                             gradient_checkpointing=config["gradient_checkpointing"],
                             train_unet_attention=config["attention"], train_pose_net=config["attention"], lr=1e-5)
    cuda = config["device"].startswith("cuda")
    with tempfile.TemporaryDirectory() as out:
        accelerator = make_accelerator(settings, Path(out))
        clock = time.perf_counter()
        models = build(get_preset(config["preset"]), accelerator.device, torch.float32, seed=0)
        trainable, dtype, denoiser = setup_networks(models, settings)
        optimizer = torch.optim.AdamW([p for _, p in trainable], lr=settings.lr)
        denoiser, optimizer = accelerator.prepare(denoiser, optimizer)
        built = time.perf_counter() - clock
        batches = synthetic_batches(config["frames"], tuple(config["size"]))

        def step() -> float:
            loss = optimiser_step(accelerator, denoiser, optimizer, models, batches, settings, trainable, dtype)
            if cuda:
                torch.cuda.synchronize()
            return loss

        for _ in range(config["warmup"]):
            step()
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        times = []
        for _ in range(config["steps"]):
            clock = time.perf_counter()
            step()
            times.append(time.perf_counter() - clock)
    result = {**config, "build_s": round(built, 2), "step_s": round(sorted(times)[len(times) // 2], 3),
              "trained_params_m": round(sum(p.numel() for _, p in trainable) / 1e6, 2),
              "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}
    if cuda:
        result["peak_vram_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        result["gpu"] = torch.cuda.get_device_name()
    return result


def run_fresh(config: dict) -> dict:
    """``measure(config)`` in a new Python process."""
    done = subprocess.run([sys.executable, __file__, "--config", json.dumps(config)], capture_output=True,
                          text=True, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {**config, "error": tail}
    return json.loads(lines[-1])


def show(result: dict) -> None:
    w, h = result["size"]
    what = (f"{result['preset']} on {result['device']}, {w}x{h}x{result['frames']}, {result['mixed_precision']}, "
            f"checkpointing {'on' if result['gradient_checkpointing'] else 'off'}, "
            f"{'attention + pose net too' if result['attention'] else 'face encoder + identity'}")
    if "error" in result:
        print(f"[train] {what}: failed: {result['error']}")
        return
    memory = (f"peak VRAM {result['peak_vram_gib']} GiB ({result['gpu']})" if "peak_vram_gib" in result
              else f"peak RSS {result['peak_rss_gib']} GiB")
    print(f"[train] {what}: {result['step_s']} s per step, {memory}, {result['trained_params_m']} M trained "
          f"parameters, built in {result['build_s']} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help=argparse.SUPPRESS)  # internal: one configuration, in this process
    parser.add_argument("--steps", type=int, default=3, help="timed steps per configuration (median reported)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--device", help="run only this device's section (cpu or cuda)")
    parser.add_argument("--preset", help="with --device: the preset of that section")
    parser.add_argument("--size", type=int, nargs=2, metavar=("W", "H"), help="with --device: the size")
    parser.add_argument("--frames", type=int, help="with --device: frames per clip")
    parser.add_argument("--out", help="also write the results as JSON here")
    args = parser.parse_args()
    if args.config:
        print(json.dumps(measure(json.loads(args.config))))
        return
    import torch

    common = dict(steps=args.steps, warmup=args.warmup)
    tiny = dict(preset="tiny", device="cpu", mixed_precision="no", gradient_checkpointing=False, attention=False)
    full = dict(preset="stableanimator", device="cuda", mixed_precision="bf16", gradient_checkpointing=True)
    if args.device:  # the GPU section's configurations on this device and preset (on the CPU: a check of its code)
        base = dict(full, device=args.device, preset=args.preset or full["preset"])
        size = args.size or ([512, 512] if base["preset"] == "stableanimator" else [64, 64])
        configs = [dict(base, size=size, frames=args.frames or 16, attention=a, **common) for a in (False, True)]
    else:
        configs = [dict(tiny, size=[64, 64], frames=4, **common), dict(tiny, size=[128, 128], frames=8, **common)]
        if torch.cuda.is_available():
            configs += [dict(full, size=[512, 512], frames=16, attention=a, **common) for a in (False, True)]
        else:
            print("[train] no CUDA GPU: the full-size section is skipped (python bench/train.py on a GPU host)")
    results = []
    for config in configs:
        results.append(run_fresh(config))
        show(results[-1])
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
