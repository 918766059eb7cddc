"""Test helper: serve the Gradio app in-process on a free localhost port."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

from dancegen import ui
from dancegen.studio import DanceStudio


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(studio: DanceStudio, config: ui.UIConfig) -> Iterator[str]:
    """Launch the page for ``studio`` without blocking; yield its URL; close it afterwards."""
    demo = ui.build_ui(studio, config)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **ui.launch_kwargs(studio, config))
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
