"""Serving the web app: ``python app.py`` / ``dancegen serve`` (tiny offline preset by default).

Reads the serving and studio settings (flags, or environment variables on Hugging Face Spaces), loads the studio
once, builds the page and serves it. Host and port default to Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT.
The flags are parsed before torch or gradio is imported, so ``--help`` and bad flags answer at once.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Sequence

from ..cli import ArgumentParser, run
from ..config import PresetName, ServeConfig, StudioConfig, add_arguments, from_arguments

logger = logging.getLogger(__name__)


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="python app.py", description="photo + music -> dance video, as a web app")
    add_arguments(p, StudioConfig)
    add_arguments(p, ServeConfig)
    return p


def start_warm_up(studio=None) -> threading.Thread:
    """Off the request path, in a background thread: compile the beat tracker (numba, ~25 s cold) and measure how
    fast this machine runs the studio's models, for the page's time estimates."""
    from ..music import warm_up

    def warm() -> None:
        try:
            logger.info("beat tracker warmed up in %.1f s", warm_up())
        except Exception:  # a failed warm-up only means the first music upload is slower
            logger.warning("beat tracker warm-up failed; the first music analysis will be slower", exc_info=True)
        if studio is not None:
            try:
                studio.calibrate()
            except Exception:  # the estimates then start from the defaults and learn from the first run
                logger.warning("timing calibration failed; time estimates start from defaults", exc_info=True)

    thread = threading.Thread(target=warm, name="dancegen-warm-up", daemon=True)
    thread.start()
    return thread


def _serve(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    on_space = bool(os.environ.get("SPACE_ID"))
    # On a Space the trained weights come from the hub unless a folder was given.
    download = args.download or (on_space and args.preset == PresetName.STABLEANIMATOR and args.weights_dir is None)
    studio_config = from_arguments(StudioConfig, args, download=download, progress_bar=False)
    serve_config = from_arguments(ServeConfig, args)
    if serve_config.review:
        from ..study.review import study_folder

        study_folder(serve_config.review)  # a wrong folder is one line now, not after the models load
    if on_space and importlib.util.find_spec("spaces") is not None:
        import spaces  # noqa: F401  (ZeroGPU: must be imported before torch touches CUDA)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("dancegen").setLevel(logging.INFO)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # keep start-up output to our own lines

    from ..studio import DanceStudio
    from .gpu_time import with_measured_rates
    from .layout import build_ui, launch_kwargs

    serve_config = with_measured_rates(serve_config)  # a bad benchmark file is one line, before the models load

    studio = DanceStudio(studio_config)
    print(studio.banner(), file=sys.stderr)
    start_warm_up(studio)
    demo = build_ui(studio, serve_config)
    demo.launch(server_name=serve_config.host, server_port=serve_config.port, share=serve_config.share,
                **launch_kwargs(studio, serve_config))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run(lambda: _serve(sys.argv[1:] if argv is None else argv), "starting the app")
