"""Pipeline benchmarks, each measured side by side in one run (ratios, not absolute goals).

1. A/B in one batch vs two separate runs (baseline-only + identity-only), repetitions interleaved.
   Goal: A/B <= 0.65 x the two runs.
2. Peak memory, 64 frames vs 16 frames, each in a fresh process (CPU: peak RSS; CUDA: peak allocated).
   Goal: <= 1.1 x.
3. Per-stage timings of one end-to-end studio run (face, music, choreography, encoding, denoising, decoding,
   muxing, metrics) from assets/astronaut.png and assets/sample_music.wav.
4. With a CUDA GPU only: full-size random-weight StableAnimator models, 512x512, 16 frames, 25 steps, fp16:
   seconds per A/B pair and peak VRAM, with the GPU's name.

    python bench/pipeline.py [--reps 3] [--skip-gpu]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import PIL.Image
import torch

from dancegen import models
from dancegen.pipeline import DancePipeline

ROOT = Path(__file__).resolve().parent.parent


def inputs(frames: int, size: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    reference = PIL.Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    poses = [rng.integers(0, 255, (size, size, 3), dtype=np.uint8) for _ in range(frames)]
    face = rng.normal(size=512).astype(np.float32) * 20
    return reference, poses, face


def bench_ab(reps: int) -> None:
    pipe = DancePipeline.from_models(models.build("tiny"))
    pipe.set_progress_bar_config(disable=True)
    reference, poses, face = inputs(16, 128)
    kw = dict(num_inference_steps=4, tile_frames=8, tile_overlap=2, decode_chunk_size=8, seed=1)

    def ab():
        pipe(reference, poses, face, mode="ab", **kw)

    def two_runs():
        pipe(reference, poses, face, mode="baseline", **kw)
        pipe(reference, poses, face, mode="identity", **kw)

    ab(), two_runs()  # warm-up
    times = {"ab": [], "two": []}
    for _ in range(reps):
        for name, fn in (("ab", ab), ("two", two_runs)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    a, t = statistics.median(times["ab"]), statistics.median(times["two"])
    print(f"[A/B] tiny, 16 frames 128x128, 4 steps: A/B {a:.2f} s, two runs {t:.2f} s, ratio {a / t:.3f} "
          f"(goal <= 0.65)")


MEMORY = textwrap.dedent("""
    import json, resource, sys
    import numpy as np, PIL.Image, torch
    from dancegen import models
    from dancegen.pipeline import DancePipeline
    frames, device = int(sys.argv[1]), sys.argv[2]
    preset, size = ("stableanimator", 512) if device == "cuda" else ("tiny", 128)
    dtype = torch.float16 if device == "cuda" else torch.float32
    pipe = DancePipeline.from_models(models.build(preset, device=device, dtype=dtype))
    pipe.set_progress_bar_config(disable=True)
    rng = np.random.default_rng(0)
    ref = PIL.Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    poses = [rng.integers(0, 255, (size, size, 3), dtype=np.uint8)] * frames
    face = rng.normal(size=512).astype(np.float32)
    p = models.get_preset(preset)
    kw = dict(num_inference_steps=2, tile_frames=p.tile_frames, tile_overlap=p.tile_overlap,
              decode_chunk_size=p.decode_chunk)
    pipe(ref, poses[:p.tile_frames], face, **kw)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    pipe(ref, poses, face, **kw)
    peak = (torch.cuda.max_memory_allocated() / 2**20 if device == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps({"peak_mib": peak}))
""")


def bench_memory(device: str) -> None:
    peaks = {}
    for frames in (16, 64):
        out = subprocess.run([sys.executable, "-c", MEMORY, str(frames), device], capture_output=True, text=True,
                             check=True)
        peaks[frames] = json.loads(out.stdout.strip().splitlines()[-1])["peak_mib"]
    kind = "peak allocated VRAM" if device == "cuda" else "peak RSS"
    print(f"[memory] {device} {kind}: 16 frames {peaks[16]:.0f} MiB, 64 frames {peaks[64]:.0f} MiB, "
          f"ratio {peaks[64] / peaks[16]:.3f} (goal <= 1.1)")


def bench_stages() -> None:
    from dancegen.studio import DanceStudio, GenerationSettings, StudioConfig
    from dancegen import music

    music.warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        studio = DanceStudio(StudioConfig(preset="tiny", output_root=tmp))
        studio.pipe.set_progress_bar_config(disable=True)
        settings = GenerationSettings(seconds=8.0, fps=8.0)
        # Warm-up on another photo and music segment, so the measured run hits no cache but no cold start either.
        studio.generate(ROOT / "assets" / "group.png", ROOT / "assets" / "sample_music.wav",
                        GenerationSettings(seconds=3.0, fps=8.0, music_offset_s=20.0))
        result = studio.generate(ROOT / "assets" / "astronaut.png", ROOT / "assets" / "sample_music.wav", settings)
    timings = result.report["timings_s"]
    total = sum(timings.values())
    print(f"[stages] tiny preset, CPU, 8 s of music at 8 fps (64 frames, 128x128, 4 steps, A/B): total {total:.2f} s")
    for stage, seconds in timings.items():
        print(f"    {stage:<13} {seconds:7.3f} s  {100 * seconds / total:5.1f} %")


def bench_gpu() -> None:
    name = torch.cuda.get_device_name(0)
    m = models.build("stableanimator", device="cuda", dtype=torch.float16)
    pipe = DancePipeline.from_models(m)
    pipe.set_progress_bar_config(disable=True)
    reference, poses, face = inputs(16, 512)
    kw = dict(num_inference_steps=25, tile_frames=16, tile_overlap=4, decode_chunk_size=4, seed=1)
    pipe(reference, poses[:16], face, **{**kw, "num_inference_steps": 1})  # warm-up
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    out = pipe(reference, poses, face, mode="ab", **kw)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**30
    print(f"[gpu] {name}: full-size random weights, 512x512, 16 frames, 25 steps, fp16, A/B pair: {seconds:.1f} s "
          f"({seconds / 2:.1f} s per video), peak VRAM {peak:.1f} GiB; stages {out.timings_s}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--skip-gpu", action="store_true")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"CUDA: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")
    bench_ab(args.reps)
    bench_memory("cpu")
    bench_stages()
    if torch.cuda.is_available() and not args.skip_gpu:
        bench_memory("cuda")
        bench_gpu()


if __name__ == "__main__":
    main()
