"""``dancegen review DIR``: a web page for blind A/B judgements of a study's videos (no model is loaded).

The flags are parsed before gradio is imported, so ``--help`` and bad flags answer at once. Host and port default to
Gradio's own GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, as for the app.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence

from ..cli import ArgumentParser, run
from ..config import ServeConfig, add_arguments, from_arguments

SERVING = ("host", "port", "share")  # the serving settings that apply to the review page


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog="dancegen review", description="blind A/B review of a study folder (dancegen eval)")
    p.add_argument("folder", metavar="DIR", help="the study folder (dancegen eval --out DIR)")
    add_arguments(p, ServeConfig, skip=tuple(f.name for f in dataclasses.fields(ServeConfig)
                                             if f.name not in SERVING))
    return p


def _review(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    config = from_arguments(ServeConfig, args)
    from ..study.review import study_folder

    folder = study_folder(args.folder)  # before gradio loads: a wrong folder answers at once
    from .review_handlers import ReviewApp
    from .review_page import build_review_ui, review_launch_kwargs

    app = ReviewApp(folder)
    demo = build_review_ui(app)
    demo.launch(server_name=config.host, server_port=config.port, share=config.share, **review_launch_kwargs(app))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run(lambda: _review(sys.argv[1:] if argv is None else argv), "dancegen review")
