"""dancegen web app: ``python app.py`` (tiny offline preset) or ``python app.py --preset stableanimator --weights DIR``.

Reads a few flags (or environment variables, for Hugging Face Spaces), loads the studio once, builds the page
(dancegen.ui) and serves it. Host and port default to Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys

from dancegen.cli import ArgumentParser, UsageError


def _env_number(name: str, kind: type):
    value = os.environ.get(name)
    if value in (None, ""):
        return None
    try:
        return kind(value)
    except ValueError:
        raise UsageError(f"the environment variable {name} must be a number, got {value!r}") from None


def _default(value, fallback):
    return fallback if value is None else value


def build_parser() -> ArgumentParser:
    env = os.environ.get
    p = ArgumentParser(prog="python app.py", description="photo + music -> dance video, as a web app")
    p.add_argument("--preset", default=env("DANCEGEN_PRESET") or "tiny", choices=["tiny", "stableanimator"],
                   help="model: tiny (offline, untrained) or stableanimator (trained weights) [DANCEGEN_PRESET]")
    p.add_argument("--weights", default=env("DANCEGEN_WEIGHTS") or None,
                   help="StableAnimator checkpoints folder [DANCEGEN_WEIGHTS]")
    p.add_argument("--download", action="store_true", default=env("DANCEGEN_DOWNLOAD", "") in ("1", "true", "yes"),
                   help="fetch the weights from the Hugging Face hub when no folder is given [DANCEGEN_DOWNLOAD=1]")
    p.add_argument("--device", default=env("DANCEGEN_DEVICE") or None, help="cuda or cpu (default: cuda if any)")
    p.add_argument("--dtype", default=env("DANCEGEN_DTYPE") or None, choices=["float16", "bfloat16", "float32"],
                   help="model precision (default: float16 on CUDA, float32 on the CPU) [DANCEGEN_DTYPE]")
    p.add_argument("--host", default=None, help="address to serve on (default: GRADIO_SERVER_NAME or 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default: GRADIO_SERVER_PORT or 7860)")
    p.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    p.add_argument("--concurrency", type=int, default=_default(_env_number("DANCEGEN_CONCURRENCY", int), 1),
                   help="generation jobs running at once; the rest queue [DANCEGEN_CONCURRENCY, default 1]")
    p.add_argument("--max-music-s", type=float, default=_default(_env_number("DANCEGEN_MAX_MUSIC_S", float), 60.0),
                   help="longest music used for one video, seconds; longer music is trimmed [DANCEGEN_MAX_MUSIC_S]")
    p.add_argument("--unet-batch", type=int, default=_env_number("DANCEGEN_UNET_BATCH", int),
                   help="samples per UNet call (default all 4 of an A/B step; 1 or 2 for small GPUs) "
                        "[DANCEGEN_UNET_BATCH]")
    p.add_argument("--cpu-offload", action="store_true",
                   default=env("DANCEGEN_CPU_OFFLOAD", "") in ("1", "true", "yes"),
                   help="keep models in CPU memory and move each to the GPU only while it runs (small GPUs) "
                        "[DANCEGEN_CPU_OFFLOAD=1]")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.concurrency < 1:
        print("error: --concurrency must be at least 1", file=sys.stderr)
        return 2
    if args.unet_batch is not None and args.unet_batch < 1:
        print("error: --unet-batch must be at least 1", file=sys.stderr)
        return 2
    if not args.max_music_s >= 2:
        print("error: --max-music-s must be at least 2 seconds", file=sys.stderr)
        return 2
    on_space = bool(os.environ.get("SPACE_ID"))
    if on_space and importlib.util.find_spec("spaces") is not None:
        import spaces  # noqa: F401  (ZeroGPU: must be imported before torch touches CUDA)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("dancegen").setLevel(logging.INFO)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # keep start-up output to our own lines

    from dancegen import ui
    from dancegen.studio import DanceStudio, StudioConfig

    # On a Space the trained weights come from the hub unless a folder was given.
    download = args.download or (on_space and args.preset == "stableanimator" and args.weights is None)
    config = StudioConfig(preset=args.preset, weights_dir=args.weights, download=download, device=args.device,
                          dtype=args.dtype, max_music_s=args.max_music_s, unet_batch_size=args.unet_batch,
                          cpu_offload=args.cpu_offload, progress_bar=False)
    try:
        studio = DanceStudio(config)
    except ValueError as exc:  # WeightsError, FaceModelError, no CUDA, bad settings
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # e.g. a failed download; one line, not a traceback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"error: could not load the {args.preset} model: {type(exc).__name__}: {first}", file=sys.stderr)
        return 2
    print(studio.banner(), file=sys.stderr)

    ui.start_warm_up()
    ui_config = ui.UIConfig(concurrency=args.concurrency)
    demo = ui.build_ui(studio, ui_config)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share,
                **ui.launch_kwargs(studio, ui_config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
