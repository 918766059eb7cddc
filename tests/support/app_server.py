"""Test helper: serve the Gradio app in-process on a free localhost port."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

from dancegen.app.layout import build_ui, launch_kwargs
from dancegen.config import ServeConfig
from dancegen.studio import DanceStudio


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(studio: DanceStudio, config: ServeConfig) -> Iterator[str]:
    """Launch the page for ``studio`` without blocking; yield its URL; close it afterwards."""
    demo = build_ui(studio, config)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **launch_kwargs(studio, config))
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
