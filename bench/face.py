"""Benchmark of the face stage: detection + alignment + embedding per ~1024 px photo on CPU.

Prints, from one run:
  * cold: the first call of a fresh analyser (imports insightface, opens the ONNX sessions, first inference),
  * warm uncached: steady-state analysis of a photo file (decode, detect, align, embed, preview) with the cache off,
    and its per-step split, plus embed() on an in-memory frame (what identity metrics use per video frame),
  * cached: repeated analyse() of the same file (file-bytes index) and of the same in-memory picture (pixel hash),
  * the cached/uncached ratio.

Goal: under 150 ms per 1024 px photo on 2 CPU cores; cached lookups under 1 ms.

    python bench/face.py [--source offline|antelopev2] [--model-dir DIR] [--threads N] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dancegen.face.analyser import FaceAnalyser, FaceAnalyserConfig  # noqa: E402


def _median_ms(fn, repeats: int) -> tuple[float, float, float]:
    """(median wall, minimum wall, median process CPU) time of fn() in ms over `repeats` runs.

    CPU time (all threads together) is less disturbed than wall time when other jobs share the cores.
    """
    walls, cpus = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        walls.append((time.perf_counter() - t0) * 1000.0)
        cpus.append((time.process_time() - c0) * 1000.0)
    return statistics.median(walls), min(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", choices=("offline", "antelopev2"), default="offline")
    p.add_argument("--model-dir", default=None, help="antelopev2 folder")
    p.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads (0: onnxruntime's choice)")
    p.add_argument("--spin", action="store_true", help="let onnxruntime threads busy-wait (spin_wait=True)")
    p.add_argument("--repeats", type=int, default=20, help="runs per uncached measurement")
    p.add_argument("--size", type=int, default=1024, help="side of the test photo, px")
    args = p.parse_args(argv)

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with Image.open(ROOT / "assets" / "astronaut.png") as im:
        photo = im.convert("RGB").resize((args.size, args.size), Image.Resampling.LANCZOS)
    config = FaceAnalyserConfig(
        source=args.source, model_dir=args.model_dir, threads=args.threads, spin_wait=args.spin
    )

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "photo.jpg"
        photo.save(path, quality=92)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"photo: {photo.width}x{photo.height} JPEG ({path.stat().st_size / 1024:.0f} KiB), source {args.source}, "
              f"{cpus} CPUs available (1-min load {load:.1f}), onnxruntime threads {args.threads or 'default'}"
              f"{', spinning' if args.spin else ''}")

        # cold: a fresh analyser's first call
        t0 = time.perf_counter()
        cold = FaceAnalyser(config, cache_size=0)
        t1 = time.perf_counter()
        cold.analyse(path)
        t2 = time.perf_counter()
        print(f"cold:   construct {1000 * (t1 - t0):7.1f} ms, first analyse {1000 * (t2 - t1):7.1f} ms "
              f"(imports insightface, opens sessions, first inference); providers {list(cold.providers)}")

        # warm, uncached
        results = []
        uncached, uncached_min, uncached_cpu = _median_ms(lambda: results.append(cold.analyse(path)), args.repeats)
        steps = {k: statistics.median(r.timings_ms[k] for r in results) for k in results[0].timings_ms}
        split = ", ".join(f"{k} {v:.1f}" for k, v in steps.items())
        print(f"warm:   analyse(file) uncached  median {uncached:7.1f} ms (min {uncached_min:.1f}, "
              f"CPU {uncached_cpu:.1f})  [{split} ms]")
        frame = np.asarray(photo)
        embed_med, embed_min, embed_cpu = _median_ms(lambda: cold.embed(frame), args.repeats)
        print(f"warm:   embed(frame array)      median {embed_med:7.1f} ms (min {embed_min:.1f}, CPU {embed_cpu:.1f})  "
              "[no decode, no cache, no preview]")

        # cached
        cached_an = FaceAnalyser(config)
        cached_an.analyse(path)
        runs_before = cached_an.cache_info().detector_runs
        hit_file, hit_file_min, _ = _median_ms(lambda: cached_an.analyse(path), 200)
        with Image.open(path) as im:
            decoded = im.convert("RGB")  # the JPEG's pixels, which differ from `photo` (lossy)
        hit_pil, hit_pil_min, _ = _median_ms(lambda: cached_an.analyse(decoded), 200)
        assert cached_an.cache_info().detector_runs == runs_before, "a cached lookup ran the detector"
        print(f"cached: analyse(file) hit       median {hit_file:7.3f} ms (min {hit_file_min:.3f})  "
              "[read + SHA-256 of the file bytes]")
        print(f"cached: analyse(PIL image) hit  median {hit_pil:7.3f} ms (min {hit_pil_min:.3f})  "
              "[SHA-256 of the decoded pixels]")
        print(f"ratio:  cached/uncached = {hit_file / uncached:.4f} (file), {hit_pil / uncached:.4f} (PIL); "
              f"uncached is {uncached / hit_file:.0f}x the file hit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
